// WordIndex numbers keys of a few 32-bit words in the order they were added.
// Whatever happens (the keys and the index growing, keys that differ in one
// word only, a clear), each key must keep its number until cleared and be
// found by all of its words only.

import { describe, expect, it } from 'vitest';
import { WordIndex } from '../../src/analysis/word-index.js';

function numberOf(index: WordIndex, words: number[], add: boolean): number {
  index.key.set(words);
  return add ? index.findOrAdd() : index.find();
}

describe('WordIndex', () => {
  it('numbers keys 0, 1, 2, ... in the order added, and finds each by all of its words', () => {
    const index = new WordIndex(3);
    expect(numberOf(index, [1, 2, 3], false)).toBe(-1);
    expect(numberOf(index, [1, 2, 3], true)).toBe(0);
    expect(numberOf(index, [1, 2, 4], true)).toBe(1);
    expect(numberOf(index, [0xffffffff, 2, 3], true)).toBe(2);
    expect(index.count).toBe(3);
    expect(numberOf(index, [1, 2, 3], true)).toBe(0);
    expect(numberOf(index, [1, 2, 4], false)).toBe(1);
    expect(numberOf(index, [2, 1, 3], false)).toBe(-1);
    expect(index.count).toBe(3);
  });

  it('keeps every number through the growth of its tables, for keys longer than one mix of words', () => {
    const index = new WordIndex(11);
    const keyOf = (n: number): number[] => [n & 3, 4, n, 0, 0, 0, n >>> 3, 0, 0, 0, 443];
    for (let n = 0; n < 20_000; n++) expect(numberOf(index, keyOf(n), true)).toBe(n);
    for (let n = 0; n < 20_000; n++) expect(numberOf(index, keyOf(n), false)).toBe(n);
    expect(numberOf(index, [...keyOf(7).slice(0, 10), 80], false)).toBe(-1);
  });

  it('forgets every key when cleared, and numbers from 0 again', () => {
    const index = new WordIndex(2);
    for (let n = 0; n < 1000; n++) numberOf(index, [n, n], true);
    index.clear();
    expect(index.count).toBe(0);
    expect(numberOf(index, [5, 5], false)).toBe(-1);
    expect(numberOf(index, [999, 999], true)).toBe(0);
    expect(numberOf(index, [5, 5], false)).toBe(-1);
  });
});
