import { describe, expect, it } from 'vitest';
import { hexRowWidth, hexRows } from '../../src/tui/hex-rows.js';

describe('hexRows', () => {
  const bytes = Uint8Array.from({ length: 20 }, (_, i) => i);

  it('draws offsets, bytes and ASCII, with the selected bytes as runs of their own', () => {
    const rows = hexRows(bytes, 8, 0, 3, 5, 10);
    expect(rows.map((row) => row.offset)).toEqual(['0000', '0008', '0010']);
    expect(rows[0].hex).toEqual([
      { text: '00 01 02 03 04 ', highlighted: false },
      { text: '05 06 07', highlighted: true },
      { text: ' ', highlighted: false },
    ]);
    expect(rows[1].hex).toEqual([
      { text: '08 09', highlighted: true },
      { text: ' 0a 0b 0c 0d 0e 0f ', highlighted: false },
    ]);
    expect(rows[1].ascii).toEqual([{ text: '..', highlighted: true }, { text: '......', highlighted: false }]);
    // The last row is padded so the ASCII column stays in line.
    expect(rows[2].hex.map((span) => span.text).join('')).toBe(`10 11 12 13 ${' '.repeat(12)}`);
  });

  it('prints printable ASCII and dots for the rest, as tcpdump -X does', () => {
    const text = new TextEncoder().encode('GET / HTTP\r\n');
    expect(hexRows(text, 16, 0, 1, 0, 0)[0].ascii.map((span) => span.text).join('')).toBe('GET./.HTTP..');
  });

  it('starts at the row asked for', () => {
    expect(hexRows(bytes, 8, 2, 10, 0, 0).map((row) => row.offset)).toEqual(['0010']);
    expect(hexRowWidth(8)).toBe(6 + 8 * 3 + 1 + 8);
  });
});
