// internetSum reads long ranges 32 bits at a time; the sum must still be the
// exact, unfolded sum of RFC 1071's 16-bit big-endian words, whatever the
// alignment of the range in its buffer and however long it is.

import { describe, expect, it } from 'vitest';
import { internetSum } from '../../decoders/checksum.js';

/** RFC 1071 section 1, word by word: the definition, with the odd last byte padded on the right. */
function wordByWordSum(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += bytes[i] * 256 + (i + 1 < end ? bytes[i + 1] : 0);
  return sum;
}

function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

describe('internetSum over long ranges', () => {
  it('equals the word-by-word sum at every alignment and length up to 3 KiB', () => {
    const backing = pseudoRandomBytes(4096, 7);
    for (let shift = 0; shift < 8; shift++) {
      const bytes = backing.subarray(shift);
      for (let length = 0; length <= 3000; length += 37) {
        for (const start of [0, 1, 2, 3, 5]) {
          expect(internetSum(bytes, start, start + length)).toBe(wordByWordSum(bytes, start, start + length));
        }
      }
    }
  });

  it('keeps every carry of 64 KiB of 0xff bytes, the largest sum of an IP packet', () => {
    const bytes = new Uint8Array(65535).fill(0xff);
    expect(internetSum(bytes, 0, 65535)).toBe(32767 * 0xffff + 0xff00);
    expect(internetSum(bytes, 1, 65535, 17)).toBe(17 + 32767 * 0xffff);
  });

  it('reads views of different buffers one after another', () => {
    const a = pseudoRandomBytes(1500, 1);
    const b = pseudoRandomBytes(1500, 2);
    expect(internetSum(a.subarray(10), 0, 1400)).toBe(wordByWordSum(a, 10, 1410));
    expect(internetSum(b.subarray(3), 0, 1400)).toBe(wordByWordSum(b, 3, 1403));
    expect(internetSum(a, 1, 1499)).toBe(wordByWordSum(a, 1, 1499));
  });
});
