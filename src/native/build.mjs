#!/usr/bin/env node
// Builds the libpcap binding (pcap.c) with node-gyp.
//
//   node src/native/build.mjs             build; fail with the compiler's output
//   node src/native/build.mjs --optional  the install step: where the build fails
//                                         (no libpcap headers, no compiler), say so
//                                         in one line and succeed, so that installing
//                                         tunscope never needs libpcap
//
// Everything but live capture works without the binding.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NATIVE_DIR = path.dirname(fileURLToPath(import.meta.url));
const optional = process.argv.includes('--optional');

/** node-gyp as npm runs it for install scripts, else the one that comes with npm beside this node. */
function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && fs.existsSync(fromNpm)) return fromNpm;
  return path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}

/** Node's headers: npm's nodedir setting, else those installed beside this node (no download). */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.dirname(path.dirname(process.execPath));
  return fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi')) ? prefix : null;
}

const args = [nodeGyp(), 'rebuild', `--directory=${NATIVE_DIR}`];
const headers = nodeDir();
if (headers !== null) args.push(`--nodedir=${headers}`);
const result = spawnSync(process.execPath, args, {
  encoding: 'utf8',
  stdio: optional ? 'pipe' : 'inherit',
});
if (result.status === 0) process.exit(0);
if (!optional) process.exit(result.status ?? 1);
const missingHeaders = /pcap\/pcap\.h|pcap\.h: No such file/.test(`${result.stdout}${result.stderr}`);
process.stderr.write(`tunscope: live capture is not available (${missingHeaders ? 'no libpcap headers' : 'the libpcap binding did not build'}); ` +
  'everything else works. For live capture: apt-get install libpcap-dev && npm run native\n');
