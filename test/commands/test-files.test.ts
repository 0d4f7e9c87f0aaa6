// `tunscope test` on folders that hold more than captures: expectation files
// that are links to a device or named pipes (read forever, or wait forever),
// one larger than an expectation file may be, and a folder tree deeper than
// the system's path limit. Each is a message, never a hang or an internal error.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_EXPECTED_BYTES } from '../../src/regress/expectations.js';
import { CLI } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/tools.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-test-files-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** `tunscope test ARGS`, stopped after 20 s: a run that reads forever fails here instead of hanging. */
function runTest(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, 'test', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function suite(name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(FIXTURES, 'vxlan-lab.pcap'), path.join(dir, 'vxlan-lab.pcap'));
  return dir;
}

describe('tunscope test: expectation files that are not regular files', () => {
  it('skips a NAME.expected that links to /dev/zero, with a message, and --update does not write through it', () => {
    const dir = suite('zero');
    fs.symlinkSync('/dev/zero', path.join(dir, 'vxlan-lab.expected'));
    for (const args of [[dir], ['--update', dir]]) {
      const result = runTest(args);
      expect(result.status, args.join(' ')).toBe(0);
      expect(result.stdout).toBe(`SKIP ${dir}/vxlan-lab.pcap: ${dir}/vxlan-lab.expected is a character device, not a regular file; skipped\n` +
        '0 passed, 0 failed, 1 skipped\n');
    }
    expect(fs.readlinkSync(path.join(dir, 'vxlan-lab.expected'))).toBe('/dev/zero');
  });

  it('skips a NAME.expect.json that is a named pipe without waiting for a writer', () => {
    const dir = suite('fifo');
    expect(spawnSync('mkfifo', [path.join(dir, 'vxlan-lab.expect.json')]).status).toBe(0);
    const result = runTest([dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`SKIP ${dir}/vxlan-lab.pcap: ${dir}/vxlan-lab.expect.json is a named pipe (FIFO), not a regular file; skipped`);
  });

  it('skips a NAME.expected larger than the limit, unread', () => {
    const dir = suite('large');
    const expected = path.join(dir, 'vxlan-lab.expected');
    // Sparse: the size is there, the bytes are not.
    fs.closeSync(fs.openSync(expected, 'w'));
    fs.truncateSync(expected, MAX_EXPECTED_BYTES + 1);
    const result = runTest([dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`${expected} is larger than the 256 MiB an expectation file may hold; skipped`);
  });

  it('fails a capture named on the command line that is a named pipe, without opening it', () => {
    const fifo = path.join(work, 'named.pcap');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const result = runTest([fifo]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe(`FAIL ${fifo}: a named pipe (FIFO), not a capture file\n0 passed, 1 failed\n`);
  });
});

describe('tunscope test: a folder tree deeper than the path limit', () => {
  it('is one line naming the folder, exit 1', () => {
    const root = path.join(work, 'deep');
    fs.mkdirSync(root);
    // 25 levels of 200-character names: 5,000 characters, past PATH_MAX (4096); made level by level from inside.
    const made = spawnSync(process.execPath, ['-e',
      `process.chdir(${JSON.stringify(root)}); for (let i = 0; i < 25; i++) { require('fs').mkdirSync('${'d'.repeat(200)}'); process.chdir('${'d'.repeat(200)}'); }`]);
    expect(made.status).toBe(0);
    const result = runTest([root]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^tunscope: cannot read the folder ${root}/d+\\.\\.\\.d+ \\(\\d+ characters\\): the path is longer than the system allows\\n$`));
    // GNU rm walks a tree of any depth (by file descriptors, not paths).
    spawnSync('rm', ['-rf', root]);
  });
});
