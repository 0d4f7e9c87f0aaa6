import { describe, expect, it } from 'vitest';
import { PacketRing } from '../../src/tui/packet-ring.js';
import type { CaptureRecord } from '../../src/sources/record.js';

function record(bytes: Uint8Array): CaptureRecord {
  return { linktype: 1, interfaceId: 0, sec: 1, nsec: 0, tsDigits: 6, caplen: bytes.length, len: bytes.length, bytes };
}

describe('PacketRing', () => {
  it('keeps the most recent packets and forgets older ones', () => {
    const ring = new PacketRing(3);
    for (let n = 1; n <= 5; n++) ring.put(n, record(Uint8Array.of(n)));
    expect(ring.oldest).toBe(3);
    expect(ring.newest).toBe(5);
    expect(ring.record(2)).toBeNull();
    expect([3, 4, 5].map((n) => ring.record(n)?.bytes[0])).toEqual([3, 4, 5]);
    expect(ring.record(6)).toBeNull();
  });

  it('copies the bytes, since a live source reuses one Buffer for every packet', () => {
    const shared = Buffer.alloc(4);
    const ring = new PacketRing(2);
    shared.set([1, 2, 3, 4]);
    ring.put(1, record(shared.subarray(0, 4)));
    shared.set([9, 9, 9, 9]);
    ring.put(2, record(shared.subarray(0, 2)));
    expect(Array.from(ring.record(1)?.bytes ?? [])).toEqual([1, 2, 3, 4]);
    expect(Array.from(ring.record(2)?.bytes ?? [])).toEqual([9, 9]);
  });
});
