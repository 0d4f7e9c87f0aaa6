// The command-line tests run dist/src/cli.js. test/global-setup.ts builds it
// before a run; a test file run another way builds it here when any source
// is newer than the built CLI.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/tools.js';
import { CLI } from '../helpers/cli.js';

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (/\.tsx?$/.test(entry.name)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

export function buildCliIfStale(): void {
  const built = fs.existsSync(CLI) ? fs.statSync(CLI).mtimeMs : 0;
  const newest = Math.max(newestSource(path.join(PROJECT_ROOT, 'src')), newestSource(path.join(PROJECT_ROOT, 'decoders')));
  if (newest <= built) return;
  // tsc writes the JavaScript even when it reports type errors; the build itself reports those.
  spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', PROJECT_ROOT], { stdio: 'ignore' });
  if (!fs.existsSync(CLI)) throw new Error(`building ${CLI} failed: run npm run build`);
}
