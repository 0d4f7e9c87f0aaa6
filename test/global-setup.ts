// The command-line tests run the built CLI (dist/), as a user would: build it
// once before any test file runs, and again before each rerun in watch mode,
// so they never test stale output. Type errors are reported by the build
// itself (`npm run build`, and `npm ci` through `prepare`); tsc still writes
// the JavaScript, so the tests run either way.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { PROJECT_ROOT } from './helpers/tools.js';

function buildDist(): void {
  spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', PROJECT_ROOT], { stdio: 'inherit' });
}

export default function setup(project: TestProject): void {
  buildDist();
  project.onTestsRerun(buildDist);
}
