// The header while a file is read: how far (percent of its bytes), how fast
// it is read, and the time left at that pace; none of it once read.

import { describe, expect, it } from 'vitest';
import { headerLines } from '../../src/tui/chrome.js';
import type { StoreStatus } from '../../src/tui/store-types.js';

function status(overrides: Partial<StoreStatus>): StoreStatus {
  return {
    source: 'big.pcap', kind: 'file', state: 'reading', seen: 50_000, matched: 50_000, rate: 2000, drops: null,
    progress: 0.25, readRate: null, secondsLeft: null, filter: '', message: null, ...overrides,
  };
}

describe('the header of a file being read', () => {
  it('shows percent read, packets read a second and the time left', () => {
    const [line] = headerLines(status({ readRate: 25_000, secondsLeft: 65 }), 'bytes', false);
    expect(line).toBe('tunscope · big.pcap · 50000 packets · 2000 pkt/s · reading 25%, 25000 pkt/s read, 1:05 left');
  });

  it('shows the percent alone until the pace is known, and neither once the file is read', () => {
    expect(headerLines(status({}), 'bytes', false)[0]).toMatch(/ · reading 25%$/);
    expect(headerLines(status({ state: 'done', progress: 1 }), 'bytes', false)[0]).toMatch(/ · done$/);
  });
});
