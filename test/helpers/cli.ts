// Run the built command line as a user would: `node dist/src/cli.js ARGS`.
// test/global-setup.ts builds dist/ before any test runs.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from './tools.js';

export const CLI = path.join(PROJECT_ROOT, 'dist/src/cli.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[], options: { input?: Uint8Array | string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    input: options.input,
    env: options.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
