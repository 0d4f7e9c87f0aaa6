// formatMac, formatIPv4 and formatIPv6 remember the text of recent addresses
// in fixed tables; whatever was evicted or collided before, each call must
// still give the text of the bytes it is handed.

import { describe, expect, it } from 'vitest';
import { formatIPv4, formatIPv4Word, formatIPv6, formatMac } from '../../decoders/address.js';

function pseudoRandom(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 16;
  };
}

/** More distinct addresses than the tables hold, each asked for several times in a shuffled order. */
function addressBytes(count: number, width: number, seed: number): Uint8Array[] {
  const next = pseudoRandom(seed);
  const distinct = Array.from({ length: count }, () => Uint8Array.from({ length: width }, () => next() & 0xff));
  const asked: Uint8Array[] = [];
  for (let round = 0; round < 3; round++) for (let i = 0; i < count; i++) asked.push(distinct[(i * 7919 + round * 104729) % count]);
  return asked;
}

/** RFC 5952 text through the WHATWG URL serialiser, which compresses IPv6 hosts the same way. */
function urlIpv6Text(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** The first few addresses whose text differs from the expected one, as [got, expected]. */
function mismatches(
  asked: Uint8Array[], format: (b: Uint8Array, offset: number) => string, expected: (b: Uint8Array) => string,
): [string, string][] {
  const wrong: [string, string][] = [];
  for (const b of asked) {
    const got = format(b, 0);
    const want = expected(b);
    if (got !== want && wrong.push([got, want]) >= 5) break;
  }
  return wrong;
}

describe('address text through the caches', () => {
  it('gives the dotted quad of every IPv4 address, among 200,000 distinct ones', () => {
    expect(mismatches(addressBytes(200_000, 4, 1), formatIPv4, (b) => Array.from(b).join('.'))).toEqual([]);
  });

  it('gives the same dotted quad from an IPv4 address\'s 32-bit word, among 200,000', () => {
    const fromWord = (b: Uint8Array) => formatIPv4Word(new DataView(b.buffer, b.byteOffset).getUint32(0));
    expect(mismatches(addressBytes(200_000, 4, 4), fromWord, (b) => Array.from(b).join('.'))).toEqual([]);
  });

  it('gives the colon-separated lower-case hex of every MAC address, among 200,000 distinct ones', () => {
    const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
    expect(mismatches(addressBytes(200_000, 6, 2), formatMac, hex)).toEqual([]);
  });

  it('gives the RFC 5952 text of every IPv6 address, among 100,000 distinct ones with runs of zeros', () => {
    const asked = addressBytes(100_000, 16, 3);
    asked.forEach((b, i) => {
      // Zero a run of groups in most of them, so that "::" compression is exercised.
      if (i % 4 !== 0) b.fill(0, 2 * (i % 6), 2 * (i % 6) + 2 * (1 + (i % 3)));
      b[10] = 0x12; // never ::ffff:0:0/96, whose dotted form the URL serialiser does not write
    });
    expect(mismatches(asked, formatIPv6, urlIpv6Text)).toEqual([]);
  });

  it('gives the all-zeros addresses their text, which every table entry starts with', () => {
    expect(formatIPv4(new Uint8Array(4), 0)).toBe('0.0.0.0');
    expect(formatMac(new Uint8Array(6), 0)).toBe('00:00:00:00:00:00');
    expect(formatIPv6(new Uint8Array(16), 0)).toBe('::');
  });

  it('reads the address at the offset it is given', () => {
    const frame = Uint8Array.from([9, 9, 10, 0, 0, 1, 2, 0x42, 0xac, 0x11, 0, 2, 9]);
    expect(formatIPv4(frame, 2)).toBe('10.0.0.1');
    expect(formatMac(frame, 6)).toBe('02:42:ac:11:00:02');
  });

  it('hands back the same string object for an address seen a moment ago', () => {
    const b = Uint8Array.from([192, 0, 2, 77]);
    expect(Object.is(formatIPv4(b, 0), formatIPv4(Uint8Array.from(b), 0))).toBe(true);
  });
});
