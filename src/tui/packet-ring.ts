// The most recent packets of a live capture, with copies of their bytes, so
// the packet views can decode them on demand. Older packets fall out; the
// statistics still count them.

import type { CaptureRecord } from '../sources/record.js';
import type { PacketStorage } from './capture-index.js';

/** Packets a live terminal UI keeps for its packet views unless told otherwise. */
export const DEFAULT_RING_PACKETS = 10_000;

export class PacketRing implements PacketStorage {
  private readonly slots: (CaptureRecord | undefined)[];
  /** Number of the newest packet held (0 before the first). */
  newest = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, not ${capacity}`);
    this.slots = new Array<CaptureRecord | undefined>(capacity);
  }

  /**
   * Keeps packet n. The bytes are copied, since the source reuses its buffer
   * (and `new Uint8Array(view)` copies where a Buffer's slice() would not).
   */
  put(n: number, record: CaptureRecord): void {
    this.slots[(n - 1) % this.capacity] = { ...record, bytes: new Uint8Array(record.bytes) };
    this.newest = n;
  }

  /** Number of the oldest packet still held. */
  get oldest(): number {
    return Math.max(1, this.newest - this.capacity + 1);
  }

  record(n: number): CaptureRecord | null {
    if (!Number.isInteger(n) || n < this.oldest || n > this.newest) return null;
    const kept = this.slots[(n - 1) % this.capacity];
    return kept === undefined ? null : { ...kept, bytes: new Uint8Array(kept.bytes) };
  }
}
