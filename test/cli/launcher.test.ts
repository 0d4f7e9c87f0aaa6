// The bin file's first two lines are a shell script that starts node on the
// file itself, with the heap setting only a node command line can give. Run
// as its bin is run (the kernel hands it to /bin/sh), it must reach node with
// that setting, every argument and standard input as given, and node's exit
// code.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/tools.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope launcher '));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function runBin(args: string[], options: { input?: Uint8Array; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync('/bin/sh', [CLI, ...args], {
    input: options.input,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the bin file, run as a program', () => {
  it('starts node with its V8 settings', () => {
    const preload = path.join(dir, 'argv.cjs');
    fs.writeFileSync(preload, "process.stderr.write('execArgv ' + JSON.stringify(process.execArgv) + '\\n');\n");
    const result = runBin(['--version'], { env: { NODE_OPTIONS: `--require "${preload}"` } });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('execArgv ["--max-semi-space-size=4","--no-parallel-scavenge"]');
  });

  it('is executable as built (`npm run build`), and the kernel runs it through /bin/sh', () => {
    const result = spawnSync(CLI, ['--version'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('passes arguments with spaces, standard input and the exit code through, and says nothing of its own', () => {
    const file = path.join(dir, 'a capture.pcap');
    fs.copyFileSync(path.join(FIXTURES, 'vxlan-lab.pcap'), file);
    const direct = runCli(['stats', '--json', file]);
    const bin = runBin(['stats', '--json', file]);
    expect(bin.status).toBe(0);
    expect(bin.stdout).toBe(direct.stdout);
    expect(bin.stderr).toBe('');

    const piped = runBin(['read', '-'], { input: fs.readFileSync(file) });
    expect(piped.stdout).toBe(runCli(['read', file]).stdout);

    const missing = runBin(['stats', path.join(dir, 'no such file.pcap')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(runCli(['stats', path.join(dir, 'no such file.pcap')]).stderr);
    expect(runBin(['stats', '--no-such-option']).status).toBe(2);
  });
});
