// The packet view's hex dump as rows of spans, so the bytes of the selected
// layer can be drawn highlighted: offset, hex bytes, then their ASCII.

export interface HexSpan {
  text: string;
  highlighted: boolean;
}

export interface HexRow {
  offset: string;
  hex: HexSpan[];
  ascii: HexSpan[];
}

function pushSpan(spans: HexSpan[], text: string, highlighted: boolean): void {
  const last = spans[spans.length - 1];
  if (last !== undefined && last.highlighted === highlighted) last.text += text;
  else spans.push({ text, highlighted });
}

/** Columns a row of `perRow` bytes takes. */
export function hexRowWidth(perRow: number): number {
  return 6 + perRow * 3 + 1 + perRow;
}

/** Rows `first` up to `first + count` of the dump, with bytes [start, end) highlighted. */
export function hexRows(bytes: Uint8Array, perRow: number, first: number, count: number, start: number, end: number): HexRow[] {
  const rows: HexRow[] = [];
  const total = Math.ceil(bytes.length / perRow);
  for (let r = first; r < Math.min(total, first + count); r++) {
    const at = r * perRow;
    const hex: HexSpan[] = [];
    const ascii: HexSpan[] = [];
    for (let i = 0; i < perRow; i++) {
      const o = at + i;
      const lit = o >= start && o < end;
      if (o < bytes.length) {
        const b = bytes[o];
        // The space after the last highlighted byte stays plain, so runs read as runs.
        pushSpan(hex, b.toString(16).padStart(2, '0'), lit);
        pushSpan(hex, ' ', lit && o + 1 < end && i + 1 < perRow);
        pushSpan(ascii, b > 0x20 && b < 0x7f ? String.fromCharCode(b) : '.', lit);
      } else {
        pushSpan(hex, '   ', false);
      }
    }
    rows.push({ offset: at.toString(16).padStart(4, '0'), hex, ascii });
  }
  return rows;
}

/** The tree keeps at least this many columns; the hex dump shows 16 bytes a row only when that leaves them. */
const TREE_MIN_WIDE = 60;

/** Bytes a hex row shows in a terminal `width` wide. */
export function hexBytesPerRow(width: number): 8 | 16 {
  return width - hexRowWidth(16) - 3 >= TREE_MIN_WIDE ? 16 : 8;
}
