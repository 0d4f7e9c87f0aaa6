// The documentation holds together: every relative link in README.md and
// docs/*.md leads to a file that exists (and, with a #fragment into a
// markdown page, to a heading of that page), every command has its page, and
// README.md stays a front door of at most 250 lines.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/tools.js';

const README_MAX_LINES = 250;
const DOCS = path.join(PROJECT_ROOT, 'docs');

/** Pages written alongside others: a link to one of them is not checked while it is missing. */
const PENDING_PAGES = ['docs/trace.md', 'docs/habits.md', 'docs/reliability.md'];

/** One page per command, each linked from README.md. */
const COMMAND_PAGES = ['read', 'stats', 'capture', 'interfaces', 'tui', 'decap', 'test', 'trace'];

/** The text outside fenced code blocks, with inline code spans blanked: what markdown renders as prose. */
function prose(markdown: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      lines.push('');
      continue;
    }
    lines.push(fenced ? '' : line.replace(/`[^`]*`/g, (span) => (span.includes('](') ? '' : span)));
  }
  return lines;
}

/** Link targets `[text](target)` and `![alt](target)`, with their line numbers. */
function linksOf(markdown: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  prose(markdown).forEach((text, index) => {
    for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push({ line: index + 1, target: match[1] });
  });
  return links;
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) continue;
    const text = heading[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    const slug = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

interface Broken {
  file: string;
  line: number;
  target: string;
  why: string;
}

/**
 * The links of one markdown file under `root` that do not resolve. Links to
 * `pending` pages that are missing are returned apart, not as broken.
 */
function checkLinks(root: string, file: string, pending: string[]): { broken: Broken[]; pendingMissing: string[] } {
  const markdown = fs.readFileSync(path.join(root, file), 'utf8');
  const broken: Broken[] = [];
  const pendingMissing: string[] = [];
  for (const { line, target } of linksOf(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
    const [pathPart, fragment] = target.split('#', 2) as [string, string | undefined];
    const resolved = pathPart === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(pathPart)));
    const absolute = path.join(root, resolved);
    if (resolved.startsWith('..')) {
      broken.push({ file, line, target, why: 'leads outside the project' });
    } else if (!fs.existsSync(absolute)) {
      if (pending.includes(resolved)) pendingMissing.push(resolved);
      else broken.push({ file, line, target, why: `${resolved} does not exist` });
    } else if (fragment !== undefined && resolved.endsWith('.md') && !anchorsOf(fs.readFileSync(absolute, 'utf8')).has(fragment)) {
      broken.push({ file, line, target, why: `${resolved} has no heading #${fragment}` });
    }
  }
  return { broken, pendingMissing };
}

function documentationFiles(): string[] {
  const pages = fs.existsSync(DOCS) ? fs.readdirSync(DOCS).filter((name) => name.endsWith('.md')).sort() : [];
  return ['README.md', ...pages.map((name) => `docs/${name}`)];
}

describe('the link checker', () => {
  it('finds a missing file, a missing heading and a link out of the project, and passes good links and code', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-links-'));
    try {
      fs.mkdirSync(path.join(root, 'docs'));
      fs.writeFileSync(path.join(root, 'docs', 'good.md'), '# A page: `tunscope read`\n\n## Where it looks\n\n## Where it looks\n');
      fs.writeFileSync(path.join(root, 'README.md'), [
        '# Front',
        '[ok](docs/good.md) [ok](docs/good.md#a-page-tunscope-read) [ok](docs/good.md#where-it-looks-1) [self](#front)',
        '[gone](docs/gone.md) and [no heading](docs/good.md#nowhere) and [out](../elsewhere.md)',
        '[later](docs/later.md) [web](https://example.org/x.md) `[code](docs/code.md)`',
        '```',
        '[fenced](docs/fenced.md)',
        '```',
      ].join('\n'));
      const { broken, pendingMissing } = checkLinks(root, 'README.md', ['docs/later.md']);
      expect(broken.map((b) => [b.line, b.target])).toEqual([
        [3, 'docs/gone.md'], [3, 'docs/good.md#nowhere'], [3, '../elsewhere.md'],
      ]);
      expect(pendingMissing).toEqual(['docs/later.md']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('README.md and docs/', () => {
  it('link only to files and headings that exist', () => {
    const broken: Broken[] = [];
    const pendingMissing = new Set<string>();
    for (const file of documentationFiles()) {
      const result = checkLinks(PROJECT_ROOT, file, PENDING_PAGES);
      broken.push(...result.broken);
      for (const page of result.pendingMissing) pendingMissing.add(page);
    }
    for (const page of pendingMissing) console.warn(`SKIPPED: links to ${page}: the page is not here yet`);
    expect(broken.map((b) => `${b.file}:${b.line}: ${b.target}: ${b.why}`)).toEqual([]);
  });

  it(`keep README.md to at most ${README_MAX_LINES} lines`, () => {
    const lines = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('have a page for every command, linked from README.md', () => {
    const readmeLinks = new Set(linksOf(fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8')).map((l) => l.target.split('#')[0]));
    for (const command of COMMAND_PAGES) {
      const page = `docs/${command}.md`;
      expect(readmeLinks.has(page), `README.md links ${page}`).toBe(true);
      if (PENDING_PAGES.includes(page) && !fs.existsSync(path.join(PROJECT_ROOT, page))) continue;
      expect(fs.existsSync(path.join(PROJECT_ROOT, page)), page).toBe(true);
    }
  });
});
