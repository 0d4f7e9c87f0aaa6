// The interfaces of a live capture on several at once, shown under the view:
// what each has received and what the kernel dropped on it (the header line
// has the totals). A capture on one interface has no panel. Plain text, so
// that the layout (model.ts) counts its lines without drawing it.

import type { StoreStatus } from './store-types.js';
import { countText, fitText } from './units.js';

/** Rows of interfaces shown at most; the others are summed up in one line. */
const MAX_ROWS = 6;

/** The panel's lines for this width: none unless the capture is live on several interfaces. */
export function interfacePanelLines(status: StoreStatus, width: number): string[] {
  const each = status.interfaces;
  if (each === null || each.length < 2) return [];
  const shown = each.length > MAX_ROWS ? each.slice(0, MAX_ROWS - 1) : each;
  const header = ['interface', 'received', 'kernel drops'];
  const rows = shown.map((c) => [c.name + (c.gone === null ? '' : ' (stopped)'), countText(c.received),
    c.droppedByKernel === null ? '?' : countText(c.droppedByKernel)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => fitText(
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '), width);
  const lines = [line(header), ...rows.map(line)];
  if (shown.length < each.length) {
    const rest = each.slice(shown.length);
    const drops = rest.some((c) => c.droppedByKernel === null) ? '?' : countText(rest.reduce((a, c) => a + (c.droppedByKernel ?? 0), 0));
    lines.push(fitText(`and ${rest.length} more: ${countText(rest.reduce((a, c) => a + c.received, 0))} received, ${drops} kernel drops`, width));
  }
  return lines;
}
