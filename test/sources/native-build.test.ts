// src/native/build.mjs, the install step of the libpcap binding, run on a
// copy of src/native so that the project's own build is left alone.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, hasCommand, requireOrSkip } from '../helpers/tools.js';

const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-native-'));
for (const name of fs.readdirSync(path.join(PROJECT_ROOT, 'src', 'native')).filter((n) => /\.(c|h|gyp|mjs)$/.test(n))) {
  fs.copyFileSync(path.join(PROJECT_ROOT, 'src', 'native', name), path.join(copy, name));
}
afterAll(() => fs.rmSync(copy, { recursive: true, force: true }));

function build(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [path.join(copy, 'build.mjs'), ...args], {
    encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000,
  });
}

const haveHeaders = fs.existsSync('/usr/include/pcap/pcap.h');

describe('the libpcap binding\'s build', () => {
  it('as the install step, a failed build is one line on stderr and success: installing never needs libpcap', () => {
    const result = build(['--optional'], { CC: '/bin/false' });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('tunscope: live capture is not available (the libpcap binding did not build); ' +
      'everything else works. For live capture: apt-get install libpcap-dev && npm run native\n');
  });

  it('run by hand (npm run native), a failed build fails', () => {
    const result = build([], { CC: '/bin/false' });
    expect(result.status).not.toBe(0);
  });

  it('builds a binding that loads and names the libpcap it runs on', () => {
    if (!requireOrSkip(haveHeaders && hasCommand('g++'), 'libpcap headers and a compiler')) return;
    const result = build([]);
    expect(result.status).toBe(0);
    const binding = createRequire(import.meta.url)(path.join(copy, 'build', 'Release', 'tunscope_pcap.node')) as { version(): string };
    expect(binding.version()).toMatch(/^libpcap version \d+\.\d+/);
  });
});
