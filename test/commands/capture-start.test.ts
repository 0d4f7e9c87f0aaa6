// The start of a capture: its words read without commander exactly as
// commander reads them, and nothing but what opening needs loaded before
// `listening on` (commander, ink and react after it).

import { spawn } from 'node:child_process';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { defineCaptureCommand } from '../../src/commands/capture.js';
import { readCaptureWords } from '../../src/commands/capture-start.js';
import { settleFilter } from '../../src/commands/options.js';
import { CLI } from '../helpers/cli.js';
import { PROJECT_ROOT, isRoot, liveCaptureAvailable, requireOrSkip } from '../helpers/tools.js';

/** What commander makes of capture's words: its arguments and options, or the error it says. */
function commanderReads(words: string[]): { interfaces: string[]; flags: Record<string, unknown> } | { error: string } {
  const program = new Command();
  defineCaptureCommand(program);
  const command = program.commands[0];
  let read: { interfaces: string[]; flags: Record<string, unknown> } | null = null;
  command.action((interfaces: string[]) => {
    read = { interfaces, flags: { ...command.opts() } };
  });
  let error = '';
  for (const c of [program, command]) c.exitOverride().configureOutput({ writeErr: (text) => (error += text), writeOut: () => undefined });
  program.hook('preAction', (_program, c) => settleFilter(c));
  try {
    program.parse(['capture', ...words], { from: 'user' });
  } catch (err) {
    return { error: error || (err as Error).message };
  }
  return read!;
}

/** Drops the keys whose value is undefined: commander keeps some, the reader does not set them. */
function defined(flags: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
}

describe('capture words read without commander', () => {
  const same: string[][] = [
    ['lo'],
    ['lo', 'eth0', '-i', 'bk1/vx42', '--interface', 'pid:1/eth0'],
    ['lo', '-w', 'out.pcapng', '--pcapng', '-c', '10', '--duration', '2.5'],
    ['-i', 'lo', '--filter', 'vxlan vni 42', '--decode-as', 'udp:9999=vxlan', '--decode-as=udp:8888=geneve'],
    ['lo', '-Y', 'udp port 53', '--no-verify', '-n', '--no-promisc', '--snaplen', '128', '--buffer', '4'],
    ['lo', '--stats', '--json', '-v', '-x', '--bpf', '', '--tui', '--tui-buffer', '500'],
    ['lo', '--bpf', 'udp', '-c', '3', '-c', '4', '--write=-'],
    ['lo', '-w', '--json'],
  ];
  for (const words of same) {
    it(`reads ${JSON.stringify(words)} as commander does`, () => {
      const quick = readCaptureWords(words);
      const slow = commanderReads(words);
      expect(quick).not.toBeNull();
      expect('error' in slow).toBe(false);
      if (quick === null || 'error' in slow) return;
      expect(quick.interfaces).toEqual(slow.interfaces);
      expect(defined(quick.flags as unknown as Record<string, unknown>)).toEqual(defined(slow.flags));
    });
  }

  const commanders: string[][] = [
    ['lo', '--help'], ['lo', '-c', '0'], ['lo', '-c'], ['lo', '--snaplen', '300000'], ['lo', '--buffer', '4096'],
    ['lo', '--unknown'], ['lo', '-vx'], ['lo', '--json=yes'], ['--', 'lo'], ['lo', '--version'], ['lo', '--duration', '-1'],
  ];
  for (const words of commanders) {
    it(`leaves ${JSON.stringify(words)} to commander`, () => {
      expect(readCaptureWords(words)).toBeNull();
    });
  }

  it('says a filter given twice as commander does', () => {
    expect(() => readCaptureWords(['lo', '-f', 'udp', '-Y', 'tcp'])).toThrow(/the filter is given twice \(--filter and -Y\); give it once/);
    expect(commanderReads(['lo', '-f', 'udp', '-Y', 'tcp'])).toEqual({ error: expect.stringMatching(/the filter is given twice/) as unknown as string });
  });
});

describe('what a capture loads before `listening on`', () => {
  it('opens the interface and says so before commander, ink, react or the decoders are loaded', async () => {
    if (!requireOrSkip(isRoot && liveCaptureAvailable(), 'root and the libpcap binding')) return;
    const child = spawn(process.execPath, ['--import', path.join(PROJECT_ROOT, 'test/helpers/import-log.mjs'), CLI, 'capture', 'lo',
      '--duration', '0.2', '-w', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(status).toBe(0);
    const lines = stderr.split('\n');
    const listening = lines.findIndex((line) => line.startsWith('tunscope: listening on lo'));
    expect(listening).toBeGreaterThan(0);
    const before = lines.slice(0, listening).filter((line) => line.startsWith('import '));
    const after = lines.slice(listening).filter((line) => line.startsWith('import '));
    expect(before.some((line) => line.endsWith('/sources/live.js'))).toBe(true);
    for (const heavy of [/\/node_modules\/(commander|ink|react)\//, /\/decoders\/(dissect|registry)\.js$/, /\/src\/pipeline\.js$/]) {
      expect(before.filter((line) => heavy.test(line))).toEqual([]);
    }
    // The decoders come after it: the test sees the whole import log.
    expect(after.some((line) => line.endsWith('/decoders/dissect.js'))).toBe(true);
  });
});
