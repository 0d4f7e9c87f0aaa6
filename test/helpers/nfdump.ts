// What nfdump prints, read back.

/**
 * The records of `nfdump -o json`. nfcapd starts a new file every five
 * minutes, so a run that spans the turn leaves one without flows, for which
 * nfdump prints `[`, `No matching flows`, `]`: not JSON.
 */
export function nfdumpJson(text: string): Record<string, unknown>[] {
  if (text.trim() === '' || /^No matching flows$/m.test(text)) return [];
  return JSON.parse(text) as Record<string, unknown>[];
}
