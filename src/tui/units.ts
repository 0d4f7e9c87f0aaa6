// Numbers as the narrow columns of the terminal UI show them.

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** 512 B, 1.5 kB, 23.4 MB: decimal units, three significant digits at most. */
export function bytesText(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** A count that fits a narrow column: 999, 12.3k, 4.56M. */
export function countText(count: number): string {
  if (count < 100_000) return String(count);
  if (count < 1e6) return `${(count / 1e3).toFixed(1)}k`;
  if (count < 1e9) return `${(count / 1e6).toFixed(2)}M`;
  return `${(count / 1e9).toFixed(2)}G`;
}

/** Packets a second, rounded to what a person reads. */
export function rateText(perSecond: number): string {
  if (perSecond < 10) return `${perSecond.toFixed(1)} pkt/s`;
  return `${countText(Math.round(perSecond))} pkt/s`;
}

/** Cut `text` to `width` columns, marking the cut with an ellipsis. */
export function fitText(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
}

/** Pad or cut to exactly `width` columns. */
export function cellText(text: string, width: number, alignRight = false): string {
  const fitted = fitText(text, width);
  return alignRight ? fitted.padStart(width) : fitted.padEnd(width);
}
