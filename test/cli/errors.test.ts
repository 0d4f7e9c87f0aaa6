// Wrong command lines and unreadable inputs, through the built CLI: one or
// two clear lines on stderr (a bad filter adds the expression and a caret),
// the exit code of DESIGN.md ("Errors and exit codes": 1 the work failed, 2
// the command line was wrong), nothing on stdout, and no stack trace unless
// --debug. A reader that goes away (`| head -1`) ends the output quietly.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, type CliResult } from '../helpers/cli.js';
import { FIXTURES, PROJECT_ROOT, requireOrSkip } from '../helpers/tools.js';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const FIXTURE = path.join(FIXTURES, 'vxlan-lab.pcap');
/** A stack trace line, as V8 writes them. */
const STACK_LINE = /^ {4}at /m;

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-errors-'));
  fs.chmodSync(dir, 0o755);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function expectFailure(result: CliResult, status: number, stderr: string): void {
  expect(result.stderr).toBe(stderr);
  expect(result.status).toBe(status);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(STACK_LINE);
}

describe('inputs that cannot be read: exit 1', () => {
  it('a missing file', () => {
    const file = path.join(dir, 'missing.pcap');
    expectFailure(runCli(['read', file]), EXIT_FAILED, `tunscope: cannot read ${file}: no such file\n`);
  });

  it('a directory', () => {
    expectFailure(runCli(['read', dir]), EXIT_FAILED, `tunscope: ${dir} is a directory\n`);
  });

  it('an empty file', () => {
    const file = path.join(dir, 'empty.pcap');
    fs.writeFileSync(file, '');
    expectFailure(runCli(['read', file]), EXIT_FAILED, `tunscope: ${file}: empty file (0 bytes)\n`);
  });

  it('a text file', () => {
    const file = path.join(dir, 'notes.pcap');
    fs.writeFileSync(file, 'hello, this is not a capture\n');
    expectFailure(runCli(['read', file]), EXIT_FAILED,
      `tunscope: ${file} is not a pcap or pcapng capture file: it starts with text ("hell")\n`);
  });

  it('a file the user may not read', () => {
    const file = path.join(dir, 'secret.pcap');
    fs.copyFileSync(FIXTURE, file);
    fs.chmodSync(file, 0o000);
    // root reads any file: run as nobody then, who can still reach node, the project and the directory.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const result = spawnSync(process.execPath, [CLI, 'read', file], { cwd: PROJECT_ROOT, encoding: 'utf8', ...asNobody });
    expectFailure({ status: result.status, stdout: result.stdout, stderr: result.stderr }, EXIT_FAILED,
      `tunscope: cannot read ${file}: permission denied\n`);
  });

  it('shows the stack trace only with --debug', () => {
    const file = path.join(dir, 'missing.pcap');
    const result = runCli(['--debug', 'read', file]);
    expect(result.status).toBe(EXIT_FAILED);
    expect(result.stderr).toMatch(STACK_LINE);
    expect(result.stderr.endsWith(`tunscope: cannot read ${file}: no such file\n`)).toBe(true);
  });
});

describe('wrong command lines: exit 2', () => {
  it('an unknown option', () => {
    expectFailure(runCli(['read', FIXTURE, '--bogus']), EXIT_USAGE,
      "tunscope: unknown option '--bogus'\n(run with --help for usage)\n");
  });

  it('an unknown command', () => {
    expectFailure(runCli(['bogus', FIXTURE]), EXIT_USAGE, "tunscope: unknown command 'bogus'\n(run with --help for usage)\n");
  });

  it('a misspelt command: the nearest is suggested, from every command (only the one run is loaded otherwise)', () => {
    expectFailure(runCli(['stat', FIXTURE]), EXIT_USAGE,
      "tunscope: unknown command 'stat'; did you mean stats?\n(run with --help for usage)\n");
    expectFailure(runCli(['--debug', 'decpa', FIXTURE]), EXIT_USAGE,
      "tunscope: unknown command 'decpa'; did you mean decap?\n(run with --help for usage)\n");
  });

  it('--help lists every command, in order; a command after the program\'s own option still runs', () => {
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    const names = help.stdout.split('Commands:')[1].split('\n').map((line) => /^ {2}(\w+)/.exec(line)?.[1]).filter(Boolean);
    expect(names).toEqual(['read', 'tui', 'stats', 'capture', 'interfaces', 'trace', 'decap', 'test', 'help']);
    expect(runCli(['help', 'stats']).stdout).toMatch(/^Usage: tunscope stats \[options\] <file>/);
    const debug = runCli(['--debug', 'stats', FIXTURE, '--json']);
    expect(debug.status).toBe(0);
    expect(debug.stdout).toBe(runCli(['stats', FIXTURE, '--json']).stdout);
  });

  it('a missing file argument', () => {
    expectFailure(runCli(['read']), EXIT_USAGE, "tunscope: missing required argument 'file'\n(run with --help for usage)\n");
  });

  it('a filter with an unknown word: its column, and a caret under it', () => {
    // "udp port 53 and inner " is 22 characters: the word starts in column 23.
    expectFailure(runCli(['read', FIXTURE, '-f', 'udp port 53 and inner bogus']), EXIT_USAGE,
      'tunscope: bad filter: unknown word "bogus" (column 23)\n' +
      '  udp port 53 and inner bogus\n' +
      `  ${' '.repeat(22)}^\n`);
  });

  it('a filter that ends too soon: the column after its end', () => {
    // A VNI is 24 bits (RFC 7348 section 5).
    expectFailure(runCli(['read', FIXTURE, '--filter', 'vxlan vni']), EXIT_USAGE,
      'tunscope: bad filter: expected a number from 0 to 16777215 after "vni" (column 10)\n' +
      '  vxlan vni\n' +
      `  ${' '.repeat(9)}^\n`);
  });

  it('a --decode-as value out of range', () => {
    expectFailure(runCli(['read', FIXTURE, '--decode-as', 'udp:99999=vxlan']), EXIT_USAGE,
      'tunscope: --decode-as value 99999 is out of range for udp\n');
  });

  it('a --decode-as that is not TABLE:VALUE=PROTOCOL', () => {
    expectFailure(runCli(['read', FIXTURE, '--decode-as', 'vxlan']), EXIT_USAGE,
      'tunscope: --decode-as expects TABLE:VALUE=PROTOCOL, such as udp:9999=vxlan; got "vxlan"\n');
  });

  it('a -c value that is not a whole number of 1 or more', () => {
    for (const value of ['0', 'abc', '-3', '1.5']) {
      expectFailure(runCli(['read', FIXTURE, '-c', value]), EXIT_USAGE,
        `tunscope: option '-c, --count <n>' argument '${value}' is invalid. expected a whole number of 1 or more.\n` +
        '(run with --help for usage)\n');
    }
  });

  it('a capture --snaplen or --buffer beyond what libpcap takes, before opening anything', () => {
    expectFailure(runCli(['capture', 'lo', '--snaplen', '262145']), EXIT_USAGE,
      "tunscope: option '--snaplen <n>' argument '262145' is invalid. expected at most 262144.\n(run with --help for usage)\n");
    expectFailure(runCli(['capture', 'lo', '--buffer', '2048']), EXIT_USAGE,
      "tunscope: option '--buffer <MB>' argument '2048' is invalid. expected at most 2047.\n(run with --help for usage)\n");
  });
});

describe('pipes', () => {
  /** The fixture's packets 400 times over: several megabytes of output, far more than a pipe holds. */
  function bigCapture(): string {
    const file = path.join(dir, 'big.pcap');
    const fixture = fs.readFileSync(FIXTURE);
    const body = fixture.subarray(24);
    fs.writeFileSync(file, Buffer.concat([fixture.subarray(0, 24), ...new Array(400).fill(body)]));
    return file;
  }

  it('read big-capture | head -1: one line out, exit 0, nothing on stderr', () => {
    const file = bigCapture();
    const stderrFile = path.join(dir, 'stderr.txt');
    const first = runCli(['read', FIXTURE, '-c', '1']).stdout;
    for (const flags of ['', '--json', '-v', '-x']) {
      const result = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" read "${file}" ${flags} 2>"${stderrFile}" | head -1; ` +
        'echo "exit ${PIPESTATUS[0]}"'], { encoding: 'utf8' });
      const [line, exit] = result.stdout.split('\n');
      if (flags === '') expect(`${line}\n`).toBe(first);
      expect(exit, `read ${flags} | head -1`).toBe('exit 0');
      expect(fs.readFileSync(stderrFile, 'utf8'), `read ${flags} | head -1`).toBe('');
    }
  });

  it('cat capture | tunscope read -: the same output as reading the file', () => {
    const fromFile = runCli(['read', FIXTURE, '--json']);
    expect(fromFile.stderr).toBe('');
    const result = spawnSync('bash', ['-c', `cat "${FIXTURE}" | "${process.execPath}" "${CLI}" read - --json`], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(fromFile.stdout);
    expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(28);
  });

  it('an output that cannot be written (a full disk): exit 1 with the reason', () => {
    if (!requireOrSkip(fs.existsSync('/dev/full'), '/dev/full (Linux)')) return;
    const result = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" read "${FIXTURE}" > /dev/full`], { encoding: 'utf8' });
    expectFailure({ status: result.status, stdout: result.stdout, stderr: result.stderr }, EXIT_FAILED,
      'tunscope: cannot write the output: ENOSPC: no space left on device, write\n');
  });

  it('text on stdin is refused like a text file', () => {
    const result = runCli(['read', '-'], { input: 'hello, this is not a capture\n' });
    expectFailure(result, EXIT_FAILED, 'tunscope: stdin is not a pcap or pcapng capture file: it starts with text ("hell")\n');
  });
});

describe('commands that write captures', () => {
  const missingDir = () => path.join(dir, 'no-such-dir', 'out.pcap');

  it('decap -o into a directory that does not exist', () => {
    expectFailure(runCli(['decap', FIXTURE, '-o', missingDir()]), EXIT_FAILED,
      `tunscope: cannot write ${missingDir()}: no such directory\n`);
  });

  it('decap -o onto a directory', () => {
    expectFailure(runCli(['decap', FIXTURE, '-o', dir]), EXIT_FAILED, `tunscope: cannot write ${dir}: it is a directory\n`);
  });

  /** Live capture needs libpcap through tunscope's libpcap binding, and root or CAP_NET_RAW. */
  function canCapture(): boolean {
    const probe = runCli(['capture', 'lo', '-c', '1', '--duration', '0.1']);
    return requireOrSkip(probe.status === 0, 'live capture (the libpcap binding and root)');
  }

  it('capture on an interface that does not exist', () => {
    if (!canCapture()) return;
    const result = runCli(['capture', 'nosuchif0', '-c', '1']);
    expect(result.status).toBe(EXIT_FAILED);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^tunscope: no interface named "nosuchif0"; libpcap can capture on: .*\blo\b.*\n$/);
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('capture -w into a directory that does not exist', () => {
    if (!canCapture()) return;
    expectFailure(runCli(['capture', 'lo', '-c', '1', '--duration', '0.1', '-w', missingDir()]), EXIT_FAILED,
      `tunscope: cannot write ${missingDir()}: no such directory\n`);
  });
});
