// Fitting text to a width: elision in the middle, word wrap, and tables that
// shrink their columns and split into parts that repeat the key columns.

import { describe, expect, it } from 'vitest';
import { elideMiddle, fitLines, fitTable, terminalWidth, wrapText, type Column } from '../../src/output/fit.js';

/** The longest line, in characters (the box-drawing characters are one column each). */
function widest(text: string): number {
  return Math.max(...text.split('\n').map((line) => line.length));
}

describe('elideMiddle', () => {
  it('keeps both ends of a long address and puts … in the middle', () => {
    expect(elideMiddle('2001:db8:aaaa:bbbb:cccc:dddd:eeee:1', 13)).toBe('2001:d…eeee:1');
    expect(elideMiddle('2001:db8:aaaa:bbbb:cccc:dddd:eeee:1', 13)).toHaveLength(13);
    expect(elideMiddle('10.0.0.1', 8)).toBe('10.0.0.1');
    expect(elideMiddle('10.0.0.1', 4)).toBe('10…1');
  });
});

describe('wrapText and fitLines', () => {
  it('breaks at spaces, indents continuation lines, and cuts a word longer than a line', () => {
    expect(wrapText('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(wrapText('one two three four', 9, '  ')).toEqual(['one two', '  three', '  four']);
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(fitLines(['  note: one two three', 'short'], 12)).toEqual(['  note: one', '  two three', 'short']);
    expect(fitLines(['  note: one two three'], null)).toEqual(['  note: one two three']);
  });
});

describe('fitTable', () => {
  const columns: Column[] = [
    { head: 'name' }, { head: 'address', elide: true }, { head: 'packets', align: 'right' }, { head: 'bytes seen on the wire', align: 'right' },
  ];
  const rows = [
    ['a', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1', 1234567, 9876543210],
    ['b', '10.0.0.1', 1, 2],
  ];

  it('as wide as the content without a width', () => {
    const text = fitTable(columns, rows, { width: null, key: 1 });
    expect(text).toContain('2001:db8:aaaa:bbbb:cccc:dddd:eeee:1');
    expect(text.split('\n')).toHaveLength(6);
  });

  it('wraps headers at their spaces before eliding anything', () => {
    const full = widest(fitTable(columns, rows, { width: null, key: 1 }));
    const text = fitTable(columns, rows, { width: full - 2, key: 1 });
    expect(widest(text)).toBeLessThanOrEqual(full - 2);
    expect(text).toContain('2001:db8:aaaa:bbbb:cccc:dddd:eeee:1');
    // The header takes two lines: between the top border and the rule under the header.
    const lines = text.split('\n');
    expect(lines.findIndex((line) => line.startsWith('├'))).toBe(3);
    expect(lines[1]).toMatch(/ bytes seen on the │$/);
  });

  it('splits into parts that repeat the key column, and never cuts a number', () => {
    const text = fitTable(columns, rows, { width: 50, key: 1 });
    expect(widest(text)).toBeLessThanOrEqual(50);
    expect(text.split('\n').filter((line) => /^│ name/.test(line))).toHaveLength(2);
    expect(text).toContain('9876543210');
    expect(text).toContain('1234567');
    expect(text).toContain('2001:db8:aaaa:bbbb:cccc:dddd:eeee:1');
  });

  it('elides an address in the middle when its column alone is too wide', () => {
    const text = fitTable(columns, rows, { width: 30, key: 1 });
    expect(widest(text)).toBeLessThanOrEqual(30);
    expect(text).toMatch(/2001:db8:[^│]*…[^│]*eeee:1/);
    expect(text).toContain('10.0.0.1');
  });
});

describe('terminalWidth', () => {
  it('takes COLUMNS when it is a whole number, and 80 off a terminal otherwise', () => {
    const saved = process.env.COLUMNS;
    try {
      process.env.COLUMNS = '132';
      expect(terminalWidth()).toBe(132);
      process.env.COLUMNS = 'wide';
      expect(terminalWidth()).toBe(process.stdout.isTTY ? process.stdout.columns : 80);
      delete process.env.COLUMNS;
      expect(terminalWidth()).toBe(process.stdout.isTTY ? process.stdout.columns : 80);
    } finally {
      if (saved === undefined) delete process.env.COLUMNS;
      else process.env.COLUMNS = saved;
    }
  });
});
