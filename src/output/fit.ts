// Text that fits the terminal: tables whose columns shrink (headers wrap at
// their spaces, addresses are elided in the middle with '…') and that split
// into parts, each repeating the leading key columns, when even that is too
// wide; and lines wrapped at spaces. A width of null means "as wide as the
// content" (--wide): nothing is shrunk, elided, split or wrapped.

import Table from 'cli-table3';

export interface Column {
  head: string;
  align?: 'left' | 'right';
  /** The cells may be elided in the middle (addresses, names); numbers never are. */
  elide?: boolean;
}

export interface FitOptions {
  /** Most columns a line may take; null for no limit. */
  width: number | null;
  /** Leading columns that name a row, repeated in every part of a split table. */
  key: number;
}

const PLAIN_STYLE = { head: [] as string[], border: [] as string[], compact: true };
/** An elided cell keeps at least this many characters: enough to tell addresses apart. */
const ELIDE_MIN = 12;
/** Each cell has a space either side; each column one border, and the table one more. */
const PADDING = 2;

/**
 * The width the output may take: a COLUMNS variable holding a whole number
 * wins, then the terminal's width, then 80 when standard output is not a terminal.
 */
export function terminalWidth(): number {
  const columns = process.env.COLUMNS;
  if (columns !== undefined && /^\d+$/.test(columns) && Number(columns) > 0) return Number(columns);
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  return 80;
}

/** "2001:db8:…:2" : the text cut to `width` characters, the middle replaced by '…'. */
export function elideMiddle(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return '…'.slice(0, width);
  const head = Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

/** Words of `text` in lines of at most `width` characters, later lines after `indent`; a word longer than a line is cut. */
export function wrapText(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  const started = () => line !== '' && line !== indent;
  for (const word of text.split(' ').filter((w) => w !== '')) {
    let rest = word;
    while (rest !== '') {
      const sep = started() ? ' ' : '';
      if (line.length + sep.length + rest.length <= width) {
        line += sep + rest;
        rest = '';
      } else if (started()) {
        lines.push(line);
        line = indent;
      } else {
        const room = Math.max(1, width - line.length);
        lines.push(line + rest.slice(0, room));
        rest = rest.slice(room);
        line = indent;
      }
    }
  }
  if (started()) lines.push(line);
  return lines;
}

/** Lines longer than `width` wrapped at spaces, continuation lines indented like the line's first word. */
export function fitLines(lines: string[], width: number | null): string[] {
  if (width === null) return lines;
  const out: string[] = [];
  for (const line of lines) {
    // A table's lines are as wide as its parts already.
    if (line.length <= width || /^[┌│├└]/.test(line)) {
      out.push(line);
      continue;
    }
    const lead = /^\s*/.exec(line)![0];
    out.push(...wrapText(line.slice(lead.length), width - lead.length).map((part) => lead + part));
  }
  return out;
}

function tableWidth(widths: number[]): number {
  return widths.reduce((sum, w) => sum + w + PADDING, 0) + widths.length + 1;
}

function render(columns: Column[], rows: string[][], widths: number[] | null): string {
  const head = columns.map((c, i) => (widths === null ? c.head : wrapText(c.head, widths[i]).join('\n')));
  const table = new Table({
    head,
    colAligns: columns.map((c) => c.align ?? 'left'),
    style: PLAIN_STYLE,
    ...(widths === null ? {} : { colWidths: widths.map((w) => w + PADDING) }),
  });
  for (const row of rows) {
    table.push(widths === null ? row : row.map((cell, i) => (columns[i].elide ? elideMiddle(cell, widths[i]) : cell)));
  }
  return table.toString();
}

/** Move each width toward its target, one character at a time round the columns, at most `budget` in all. */
function adjust(widths: number[], targets: number[], budget: number): number {
  let left = budget;
  let moved = true;
  while (left > 0 && moved) {
    moved = false;
    for (let i = 0; i < widths.length && left > 0; i++) {
      if (widths[i] !== targets[i]) {
        widths[i] += widths[i] < targets[i] ? 1 : -1;
        left--;
        moved = true;
      }
    }
  }
  return left;
}

/** A table that fits `options.width`, split into parts if it must be; rows of strings, one per column. */
export function fitTable(columns: Column[], rows: (string | number)[][], options: FitOptions): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)));
  if (options.width === null) return render(columns, cells, null);
  const width = options.width;
  const longestCell = columns.map((_, i) => cells.reduce((max, row) => Math.max(max, row[i].length), 0));
  const longestWord = columns.map((c) => Math.max(...c.head.split(' ').map((w) => w.length)));
  const natural = columns.map((c, i) => Math.max(c.head.length, longestCell[i]));
  const least = columns.map((c, i) => Math.max(longestWord[i], c.elide ? Math.min(longestCell[i], ELIDE_MIN) : longestCell[i]));
  // Every cell whole, headers on as many lines as their words.
  const whole = columns.map((_, i) => Math.max(longestWord[i], longestCell[i]));

  // Parts: the key columns, then as many further columns, in order, as fit with whole cells.
  const keys = Array.from({ length: Math.min(options.key, columns.length) }, (_, i) => i);
  const parts: number[][] = [];
  let part = [...keys];
  for (let i = keys.length; i < columns.length; i++) {
    if (part.length > keys.length && tableWidth([...part, i].map((c) => whole[c])) > width) {
      parts.push(part);
      part = [...keys];
    }
    part.push(i);
  }
  parts.push(part);

  return parts.map((indexes) => {
    const widths = indexes.map((c) => whole[c]);
    const room = width - tableWidth(widths);
    // Too wide even alone: elide cells in the middle, down to their least width.
    if (room < 0) adjust(widths, indexes.map((c) => least[c]), -room);
    // Room left puts headers on fewer lines.
    else adjust(widths, indexes.map((c) => natural[c]), room);
    return render(indexes.map((c) => columns[c]), cells.map((row) => indexes.map((c) => row[c])), widths);
  }).join('\n');
}
