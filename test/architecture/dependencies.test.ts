// The dependency rule (docs/architecture.md): the decoders import nothing
// outside decoders/ and use no Node API, so they run wherever ECMAScript runs;
// the sources of records import nothing from what consumes records.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/tools.js';

/** Every module specifier a TypeScript file names: static imports, re-exports, dynamic imports. */
export function specifiersOf(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]);
  return found;
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.tsx?$/.test(name))
    .map((name) => path.join(dir, name));
}

describe('the dependency rule', () => {
  it('finds the imports of a file (the check below reads every kind)', () => {
    expect(specifiersOf("import a from './a.js';\nimport type { B } from \"../b.js\";\nexport { c } from './c.js';\nimport './d.js';\nconst e = await import('node:e');"))
      .toEqual(['./a.js', '../b.js', './c.js', './d.js', 'node:e']);
  });

  it('decoders/ imports nothing outside itself: no other folder, no package, no Node module', () => {
    const dir = path.join(PROJECT_ROOT, 'decoders');
    const files = filesUnder(dir);
    expect(files.length).toBeGreaterThan(10);
    const outside: string[] = [];
    for (const file of files) {
      for (const specifier of specifiersOf(fs.readFileSync(file, 'utf8'))) {
        const inside = specifier.startsWith('.') && path.resolve(path.dirname(file), specifier).startsWith(dir + path.sep);
        if (!inside) outside.push(`${path.relative(PROJECT_ROOT, file)}: ${specifier}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('decoders/ type-checks on its own, with no Node types (decoders/tsconfig.json)', () => {
    const result = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(PROJECT_ROOT, 'decoders')],
      { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('src/sources/ imports nothing from what reads its records (the pipeline, the commands, the outputs)', () => {
    const dir = path.join(PROJECT_ROOT, 'src', 'sources');
    const allowed = new Set([path.join(PROJECT_ROOT, 'src', 'errors.ts')]);
    const upward: string[] = [];
    for (const file of filesUnder(dir)) {
      for (const specifier of specifiersOf(fs.readFileSync(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts');
        if (!target.startsWith(dir + path.sep) && !allowed.has(target) && !target.startsWith(path.join(PROJECT_ROOT, 'decoders') + path.sep)) {
          upward.push(`${path.relative(PROJECT_ROOT, file)}: ${specifier}`);
        }
      }
    }
    expect(upward).toEqual([]);
  });
});

describe('the terminal UI\'s keys and layout', () => {
  it('run without Ink or React: the key reducer (keys.ts), the layout (model.ts) and the state (state.ts)', () => {
    const load = "await import('./dist/src/tui/keys.js'); await import('./dist/src/tui/model.js'); await import('./dist/src/tui/state.js');";
    const result = spawnSync(process.execPath, ['--import', path.join(PROJECT_ROOT, 'test/helpers/import-log.mjs'), '--input-type=module', '-e', load],
      { encoding: 'utf8', cwd: PROJECT_ROOT });
    expect(result.status).toBe(0);
    const imported = result.stderr.split('\n').filter((line) => line.startsWith('import '));
    expect(imported.some((line) => line.endsWith('/tui/keys.js'))).toBe(true);
    expect(imported.filter((line) => /\/node_modules\/(ink|react)\//.test(line))).toEqual([]);
  });
});
