// The command-line tests run the built CLI (dist/), as a user would: build it
// once before any test file runs, so they never test stale output. Type errors
// are reported by the build itself (`npm run build`, and `npm ci` through
// `prepare`); tsc still writes the JavaScript, so the tests run either way.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
}
