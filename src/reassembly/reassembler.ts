// IPv4 and IPv6 reassembly (RFC 791 section 3.2, RFC 8200 section 4.5), of
// outer packets and of packets inside tunnels, as a receiver would: a
// datagram is whole when its first and last fragments and every byte between
// are in. Like the Linux kernel, it is bounded: a datagram whose fragments
// stop coming is dropped after 30 seconds of capture time (ipfrag_time), and
// the data held never exceeds 4 MiB (ipfrag_high_thresh) nor 4096 datagrams,
// the oldest going first, so a flood of first fragments costs a bounded
// amount of memory. Overlapping fragments drop their datagram (RFC 5722, and
// Linux since 4.19 for IPv4 too); an exact duplicate (same place, same bytes)
// is ignored. Every
// datagram dropped is counted by why.

import type { DissectOptions } from '../../decoders/dissect.js';
import type { Packet } from '../../decoders/types.js';
import type { CaptureRecord } from '../sources/record.js';
import { MAX_DATAGRAM, decodeWhole, fragmentPiece, type FirstFragment, type FragmentPiece } from './datagram.js';

export interface ReassemblyLimits {
  /** Seconds of capture time from a datagram's first fragment seen to its drop. */
  timeout: number;
  /** Bytes of fragment data held at most, over every datagram. */
  maxBytes: number;
  /** Datagrams held at most. */
  maxDatagrams: number;
}

export const DEFAULT_LIMITS: ReassemblyLimits = { timeout: 30, maxBytes: 4 * 1024 * 1024, maxDatagrams: 4096 };

/** What reassembly did; every datagram begun is reassembled, dropped, or still incomplete. */
export interface ReassemblyCounts {
  /** Datagrams made whole. */
  reassembled: number;
  /** Fragments that went into them. */
  fragments: number;
  /** Dropped: no fragment completed them within the timeout. */
  timedOut: number;
  /** Dropped, oldest first, to keep within the memory bound. */
  overflowed: number;
  /** Dropped: fragments overlapped with other bytes. */
  overlapping: number;
  /** Dropped: past 65535 bytes, a non-last fragment not a multiple of 8 bytes, or two different ends. */
  invalid: number;
  /** Still waiting for fragments when the capture ended. */
  incomplete: number;
}

export function noReassembly(): ReassemblyCounts {
  return { reassembled: 0, fragments: 0, timedOut: 0, overflowed: 0, overlapping: 0, invalid: 0, incomplete: 0 };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Held {
  start: number;
  data: Uint8Array;
  frames: number[];
}

interface Pending {
  pieces: Held[];
  /** Bytes of data and first-fragment frame held. */
  held: number;
  /** The datagram's length once its last fragment is in, else -1. */
  total: number;
  first: FirstFragment | null;
  began: number;
}

/** A datagram made whole, to be handed on right after the frame that completed it. */
export interface Reassembled {
  record: CaptureRecord;
  packet: Packet;
}

export class Reassembler {
  readonly counts = noReassembly();
  private readonly pending = new Map<string, Pending>();
  private held = 0;

  constructor(private readonly options: DissectOptions, private readonly limits: ReassemblyLimits = DEFAULT_LIMITS) {}

  /** Datagrams still waiting: what the counts call incomplete once the capture has ended. */
  finish(): ReassemblyCounts {
    this.counts.incomplete = this.pending.size;
    return this.counts;
  }

  /**
   * Takes frame `n` in; returns the datagrams it completed (a whole outer
   * datagram, and a whole inner one that its last piece completed), in order.
   */
  add(n: number, record: CaptureRecord, packet: Packet, from = 0): Reassembled[] {
    const now = record.sec + record.nsec / 1e9;
    if (from === 0) this.expire(now);
    const piece = fragmentPiece(record, packet, from);
    if (piece === null) return [];
    const frames = packet.reassembled?.frames ?? [n];
    let datagram = this.pending.get(piece.key);
    if (datagram === undefined) {
      datagram = { pieces: [], held: 0, total: -1, first: null, began: now };
      this.pending.set(piece.key, datagram);
    }
    const verdict = this.place(datagram, piece, frames);
    if (verdict === 'duplicate') return [];
    if (verdict !== null) {
      this.drop(piece.key, datagram);
      this.counts[verdict]++;
      return [];
    }
    if (piece.offset === 0 && datagram.first === null) {
      // The frame is kept for the headers before the data: a copy, as the reader reuses its buffer.
      datagram.first = { record: { ...record, bytes: record.bytes.slice(0, piece.headerEnd) }, packet, piece };
      datagram.held += piece.headerEnd;
      this.held += piece.headerEnd;
    }
    this.bound(piece.key);
    const data = this.whole(datagram);
    if (data === null) return [];
    this.drop(piece.key, datagram);
    const all = [...new Set(datagram.pieces.flatMap((held) => held.frames))].sort((a, b) => a - b);
    this.counts.reassembled++;
    this.counts.fragments += datagram.pieces.length;
    const done = decodeWhole(datagram.first as FirstFragment, data, all, record, this.options);
    // The whole datagram may carry a fragment of an inner one (fragments inside a tunnel).
    return [done, ...this.add(n, done.record, done.packet, piece.layer + 1)];
  }

  /** Adds the piece, or names why its datagram is to be dropped. */
  private place(datagram: Pending, piece: FragmentPiece, frames: number[]): Exclude<keyof ReassemblyCounts, 'incomplete'> | 'duplicate' | null {
    const start = piece.offset;
    const end = start + piece.data.length;
    if (end > MAX_DATAGRAM) return 'invalid';
    if (piece.more && piece.data.length % 8 !== 0) return 'invalid';
    if (!piece.more) {
      if (datagram.total >= 0 && datagram.total !== end) return 'invalid';
      datagram.total = end;
    }
    for (const held of datagram.pieces) {
      const heldEnd = held.start + held.data.length;
      if (held.start === start && heldEnd === end && sameBytes(held.data, piece.data)) return 'duplicate';
      if (held.start < end && start < heldEnd) return 'overlapping';
      if (datagram.total >= 0 && heldEnd > datagram.total) return 'invalid';
    }
    datagram.pieces.push({ start, data: piece.data, frames });
    datagram.held += piece.data.length;
    this.held += piece.data.length;
    return null;
  }

  /** The datagram's data when every byte from 0 to its end is in and its first fragment too. */
  private whole(datagram: Pending): Uint8Array | null {
    if (datagram.total < 0 || datagram.first === null) return null;
    const pieces = [...datagram.pieces].sort((a, b) => a.start - b.start);
    let covered = 0;
    for (const held of pieces) {
      if (held.start > covered) return null;
      covered = Math.max(covered, held.start + held.data.length);
    }
    if (covered < datagram.total) return null;
    const data = new Uint8Array(datagram.total);
    for (const held of pieces) data.set(held.data, held.start);
    return data;
  }

  private drop(key: string, datagram: Pending): void {
    this.pending.delete(key);
    this.held -= datagram.held;
  }

  /** Datagrams begun longer ago than the timeout are dropped (the map keeps the order they began in). */
  private expire(now: number): void {
    for (const [key, datagram] of this.pending) {
      if (now - datagram.began <= this.limits.timeout) break;
      this.drop(key, datagram);
      this.counts.timedOut++;
    }
  }

  /** Oldest datagrams other than `keep` go until the data held and the count are within the limits. */
  private bound(keep: string): void {
    for (const [key, datagram] of this.pending) {
      if (this.held <= this.limits.maxBytes && this.pending.size <= this.limits.maxDatagrams) return;
      if (key === keep) continue;
      this.drop(key, datagram);
      this.counts.overflowed++;
    }
  }
}
