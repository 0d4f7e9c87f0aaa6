// Progress on standard error while a file is read: only on a terminal, not
// with -q, at most ten redraws a second, erased at the end so that the
// command's output is what it would be without it.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Progress } from '../../src/output/progress.js';
import { PROJECT_ROOT, hasCommand, requireOrSkip } from '../helpers/tools.js';

const CLI = path.join(PROJECT_ROOT, 'dist/src/cli.js');
const ERASE = '\r\x1b[K';

function fakeStream(isTTY: boolean): { isTTY: boolean; written: string[]; write(text: string): boolean } {
  return { isTTY, written: [], write(text: string) { this.written.push(text); return true; } };
}

describe('Progress', () => {
  it('shows percent of bytes, packets per second and time left, at most ten times a second, and erases its line', () => {
    const stream = fakeStream(true);
    let now = 0;
    // 24 header bytes and 10,000 records of 84 + 16 bytes.
    const progress = new Progress(stream, 24 + 10_000 * 100, () => now);
    for (let i = 0; i < 5000; i++) {
      now = i; // a millisecond a packet: 1,000 packets a second
      progress.record(84);
    }
    // 5 s of records, looked at every 256 packets: a redraw each 100 ms at most, so no more than 50.
    expect(stream.written.length).toBeGreaterThan(10);
    expect(stream.written.length).toBeLessThanOrEqual(50);
    const last = stream.written[stream.written.length - 1];
    expect(last.startsWith(ERASE)).toBe(true);
    expect(progress.text(5000)).toBe('50% · 5,000 packets · 1,000 packets/s · 0:05 left');
    progress.end();
    expect(stream.written[stream.written.length - 1]).toBe(ERASE);
  });

  it('is not made when standard error is not a terminal, with -q, or for standard input', () => {
    const file = path.join(PROJECT_ROOT, 'fixtures/vxlan-lab.pcap');
    expect(Progress.forFile(file, false, fakeStream(false))).toBeNull();
    expect(Progress.forFile(file, true, fakeStream(true))).toBeNull();
    expect(Progress.forFile('-', false, fakeStream(true))).toBeNull();
    expect(Progress.forFile(file, false, fakeStream(true))).not.toBeNull();
  });
});

/** Runs the CLI with standard error on a terminal (a pty), standard output to a file; returns what the terminal got. */
const PTY_RUNNER = `
import os, pty, subprocess, sys
out = open(sys.argv[1], 'wb')
master, slave = pty.openpty()
child = subprocess.Popen(sys.argv[2:], stdout=out, stderr=slave, stdin=subprocess.DEVNULL)
os.close(slave)
data = b''
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
code = child.wait()
sys.stdout.buffer.write(data)
sys.exit(code)
`;

describe('progress of the commands that read a file', () => {
  let dir = '';
  let capture = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-progress-'));
    capture = path.join(dir, 'flows.pcap');
    // Enough packets that reading takes several tenths of a second on any machine.
    const made = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bench/generate-flows.mjs'), '--packets', '150000', '--out', capture]);
    expect(made.status).toBe(0);
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function onTerminal(args: string[]): { terminal: string; stdout: Buffer; status: number | null } {
    const outFile = path.join(dir, 'stdout');
    const run = spawnSync('python3', ['-c', PTY_RUNNER, outFile, process.execPath, CLI, ...args], { encoding: 'utf8' });
    return { terminal: run.stdout, stdout: fs.readFileSync(outFile), status: run.status };
  }

  function plain(args: string[]): { stderr: string; stdout: Buffer } {
    const run = spawnSync(process.execPath, [CLI, ...args]);
    return { stderr: run.stderr.toString(), stdout: run.stdout };
  }

  const commands: [string, (file: string, out: string) => string[]][] = [
    ['stats', (file) => ['stats', '--threads', '1', file]],
    ['decap', (file, out) => ['decap', file, '-o', out]],
    ['read -w', (file, out) => ['read', file, '-w', out]],
  ];
  for (const [name, argsOf] of commands) {
    it(`${name}: on a terminal, percent, packets per second and time left, erased at the end; nothing when not a terminal`, () => {
      if (!requireOrSkip(hasCommand('python3'), 'python3')) return;
      const written = path.join(dir, 'written.pcap');
      const shown = onTerminal(argsOf(capture, written));
      expect(shown.status).toBe(0);
      expect(shown.terminal).toMatch(/\d+% · [\d,]+ packets · [\d,]+ packets\/s · \d+:\d\d left/);
      // Erased: the last thing on the line is the erase, and what follows (read -w's summary) starts on a clear line.
      const lastDraw = shown.terminal.lastIndexOf('packets/s');
      expect(shown.terminal.indexOf(ERASE, lastDraw)).toBeGreaterThan(lastDraw);
      const quiet = plain(argsOf(capture, written));
      expect(quiet.stderr).not.toMatch(/packets\/s/);
      expect(shown.stdout.equals(quiet.stdout)).toBe(true);
    }, 120_000);
  }

  for (const [name, argsOf] of commands) {
    it(`${name} -q: no progress even on a terminal`, () => {
      if (!requireOrSkip(hasCommand('python3'), 'python3')) return;
      const shown = onTerminal([...argsOf(capture, path.join(dir, 'quiet.pcap')), '-q']);
      expect(shown.status).toBe(0);
      expect(shown.terminal).not.toMatch(/packets\/s/);
    }, 120_000);
  }
});
