#!/usr/bin/env node
// Runs the built CLI over every capture under fixtures/ (and, when present,
// ../shared/peer-captures/) with the report-making commands, and writes each
// run's standard output, standard error and exit code to one file in OUTDIR.
// Two runs compared with `diff -r` show whether a change kept every output
// byte for byte:
//
//   node scripts/gate.mjs /tmp/before [CLI] # on the old build (or a copy of it)
//   node scripts/gate.mjs /tmp/after    # on the new one
//   diff -r /tmp/before /tmp/after
//
// COLUMNS is fixed, so the text tables are the same on any terminal.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism, tmpdir } from 'node:os';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2];
/** The CLI to run: the build's, or a copy of it given as the second argument (so that a rebuild cannot change it mid-run). */
const cli = resolve(process.argv[3] ?? join(root, 'dist/src/cli.js'));
if (out === undefined) {
  process.stderr.write('usage: node scripts/gate.mjs OUTDIR\n');
  process.exit(2);
}
if (!existsSync(cli)) {
  process.stderr.write('gate: build first (npm run build)\n');
  process.exit(2);
}

function captures(dir) {
  if (!existsSync(dir)) return [];
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...captures(path));
    else if (/\.(pcap|pcapng|cap)$/.test(name)) found.push(path);
  }
  return found;
}

const peers = resolve(root, '../shared/peer-captures');
const files = [
  ...captures(join(root, 'fixtures')).map((path) => ({ path, name: relative(root, path) })),
  ...captures(peers).map((path) => ({ path, name: 'peer/' + relative(peers, path) })),
];

/** Stands for a file the run writes: its bytes follow the run's output. */
const WRITTEN = Symbol('written');

/** Each run: a name for its output file and the CLI's arguments after the capture's path. */
const RUNS = [
  ['stats', ['stats']],
  ['stats-json', ['stats', '--json']],
  ['stats-wide', ['stats', '--wide']],
  ['stats-flow', ['stats', '--by', 'flow', '--top', '0', '--wide']],
  ['stats-vni', ['stats', '--by', 'vni', '--wide']],
  ['stats-csv-flow', ['stats', '--by', 'flow', '--csv']],
  ['stats-threads2-json', ['stats', '--json', '--threads', '2']],
  ['stats-maxflows2-json', ['stats', '--json', '--max-flows', '2']],
  ['stats-maxflows2-threads2-json', ['stats', '--json', '--max-flows', '2', '--threads', '2']],
  ['stats-noverify-json', ['stats', '--json', '--no-verify']],
  ['decap', ['decap', '-o', WRITTEN]],
  ['read-w-vxlan', ['read', '-w', WRITTEN, 'vxlan']],
  ['read-json', ['read', '--json']],
];

function run(template, scratch) {
  const args = template.map((arg) => (arg === WRITTEN ? scratch : arg));
  const writes = template.includes(WRITTEN);
  if (writes) rmSync(scratch, { force: true });
  return new Promise((done) => {
    execFile(process.execPath, [cli, ...args], {
      encoding: 'buffer', maxBuffer: 1 << 30, env: { ...process.env, COLUMNS: '120', FORCE_COLOR: '0' },
    }, (error, stdout, stderr) => {
      const code = error === null ? 0 : (error.code ?? 'signal ' + error.signal);
      done(Buffer.concat([
        Buffer.from(`exit ${code}\n--- stdout\n`), stdout, Buffer.from('\n--- stderr\n'), Buffer.from(stderr.toString().split(scratch).join('OUT')),
        ...(writes ? [Buffer.from('\n--- written\n'), existsSync(scratch) ? readFileSync(scratch) : Buffer.from('(none)')] : []),
      ]));
    });
  });
}

const jobs = [];
for (const file of files) {
  for (const [name, args] of RUNS) {
    const [command, ...rest] = args;
    jobs.push({ file: join(out, file.name.replace(/\//g, '__') + '.' + name), args: [command, file.path, ...rest] });
  }
}
mkdirSync(out, { recursive: true });
let next = 0;
const scratchDir = mkdtempSync(join(tmpdir(), 'tunscope-gate-'));
async function worker(w) {
  const scratch = join(scratchDir, `written-${w}`);
  while (next < jobs.length) {
    const job = jobs[next++];
    writeFileSync(job.file, await run(job.args, scratch));
  }
}
await Promise.all(Array.from({ length: Math.max(1, Math.min(4, availableParallelism())) }, (_, w) => worker(w)));
rmSync(scratchDir, { recursive: true, force: true });
process.stdout.write(`gate: ${jobs.length} outputs of ${files.length} captures in ${basename(out)}\n`);
