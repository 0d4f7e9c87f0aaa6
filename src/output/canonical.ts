// The canonical text of a decoding, one line per packet, that `tunscope test`
// keeps beside a capture and compares; and the unified diff it prints when
// the two differ. The text line is `read`'s line with the packet number in
// front; the JSON line is `read --json`'s, which carries the number itself.

import type { Packet } from '../../decoders/types.js';
import type { CaptureRecord } from '../sources/record.js';
import { packetJson } from './json.js';
import { packetLine } from './line.js';

export type CanonicalFormat = 'text' | 'json';

export function canonicalLine(format: CanonicalFormat, n: number, record: CaptureRecord, packet: Packet): string {
  return format === 'json' ? packetJson(n, record, packet) : `${n} ${packetLine(record, packet)}`;
}

/** The format of existing canonical lines: JSON lines start with `{`. */
export function canonicalFormatOf(lines: readonly string[]): CanonicalFormat | null {
  if (lines.length === 0) return null;
  return lines[0].startsWith('{') ? 'json' : 'text';
}

/** Lines of a canonical file: no final empty line, and no carriage returns a checkout may have added. */
export function splitCanonical(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
  }
  return lines;
}

export function joinCanonical(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** 1-based numbers of the lines (packets) that differ, or exist on one side only. */
export function differingLines(expected: readonly string[], actual: readonly string[]): number[] {
  const numbers: number[] = [];
  const longest = Math.max(expected.length, actual.length);
  for (let i = 0; i < longest; i++) {
    if (expected[i] !== actual[i]) numbers.push(i + 1);
  }
  return numbers;
}

/** "3, 7-9, 12": runs of consecutive numbers joined. */
export function numberRanges(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length;) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}-${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

function hunkRange(start: number, count: number): string {
  // A unified diff names an empty range by the line before it (GNU diffutils).
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}

/**
 * A unified diff of two canonical texts. Line n of each describes packet n
 * and carries its number, so a packet added or removed changes every later
 * line: comparing line by line is as short as any diff, and needs no search
 * for a longest common subsequence.
 */
export function unifiedDiff(
  expected: readonly string[], actual: readonly string[], expectedName: string, actualName: string, context = 1,
): string[] {
  const changed = differingLines(expected, actual);
  if (changed.length === 0) return [];
  const out = [`--- ${expectedName}`, `+++ ${actualName}`];
  let i = 0;
  while (i < changed.length) {
    // Changes closer than twice the context share a hunk.
    let j = i;
    while (j + 1 < changed.length && changed[j + 1] - changed[j] <= 2 * context + 1) j++;
    const from = Math.max(1, changed[i] - context);
    const to = changed[j] + context;
    const expectedEnd = Math.min(to, expected.length);
    const actualEnd = Math.min(to, actual.length);
    const body: string[] = [];
    let line = from;
    while (line <= Math.max(expectedEnd, actualEnd)) {
      if (expected[line - 1] === actual[line - 1]) {
        body.push(` ${expected[line - 1]}`);
        line++;
        continue;
      }
      // A run of differing lines: the expected ones, then the ones decoded now.
      let runEnd = line;
      while (runEnd + 1 <= Math.max(expectedEnd, actualEnd) && expected[runEnd] !== actual[runEnd]) runEnd++;
      for (let k = line; k <= Math.min(runEnd, expectedEnd); k++) body.push(`-${expected[k - 1]}`);
      for (let k = line; k <= Math.min(runEnd, actualEnd); k++) body.push(`+${actual[k - 1]}`);
      line = runEnd + 1;
    }
    const expectedCount = Math.max(0, expectedEnd - from + 1);
    const actualCount = Math.max(0, actualEnd - from + 1);
    out.push(`@@ -${hunkRange(from, expectedCount)} +${hunkRange(from, actualCount)} @@`, ...body);
    i = j + 1;
  }
  return out;
}
