// The aggregator's mutable rows but for flows (which live in FlowStore):
// counters only, keyed by numbers (tunnels carried by IPv4 by their header's
// address words, MAC addresses by their bytes) and otherwise by address
// strings, so that counting a packet builds nothing but a new row. Report
// objects are made from these on demand.

import type { TunnelType } from '../../decoders/types.js';
import { formatIPv4Word, parseIPv4 } from '../../decoders/address.js';

/** Checksum verdicts in the order of the per-depth counter arrays. */
export const CHECKSUM_STATUSES = ['good', 'bad', 'offload', 'zero', 'unverified'] as const;
export const STATUS_COUNT = CHECKSUM_STATUSES.length;

/**
 * First and last timestamp of something seen more than once, exact to the
 * nanosecond. Every field starts as a small integer, never Infinity: V8 keeps
 * a field that ever held a non-integer in a box of its own, one more memory
 * access each time a packet touches the row.
 */
export class Seen {
  /** Whether any timestamp was seen; until then the others mean nothing. */
  seenAny = false;
  firstSec = 0;
  firstNsec = 0;
  lastSec = 0;
  lastNsec = 0;

  touch(sec: number, nsec: number): void {
    if (!this.seenAny) {
      this.seenAny = true;
      this.firstSec = this.lastSec = sec;
      this.firstNsec = this.lastNsec = nsec;
      return;
    }
    if (sec < this.firstSec || (sec === this.firstSec && nsec < this.firstNsec)) {
      this.firstSec = sec;
      this.firstNsec = nsec;
    }
    if (sec > this.lastSec || (sec === this.lastSec && nsec > this.lastNsec)) {
      this.lastSec = sec;
      this.lastNsec = nsec;
    }
  }

  /** Widens the span to cover another's (a plain copy will do: a part counted on another thread). */
  absorbSeen(other: Pick<Seen, 'seenAny' | 'firstSec' | 'firstNsec' | 'lastSec' | 'lastNsec'>): void {
    if (!other.seenAny) return;
    this.touch(other.firstSec, other.firstNsec);
    this.touch(other.lastSec, other.lastNsec);
  }
}

/** Adds `counts` to `into`, element by element, growing `into` as needed. */
export function addCounts(into: number[], counts: ArrayLike<number>): void {
  while (into.length < counts.length) into.push(0);
  for (let i = 0; i < counts.length; i++) into[i] += counts[i];
}

/**
 * Counts the first `count` of `verdicts` into `into`, counters by depth and
 * checksum status: each verdict is the index of its counter, depth *
 * STATUS_COUNT + status. A packet has a few checksums: a counter it does not
 * touch is not visited. `into` grows by whole depths, and holds depth 0 once
 * any packet was counted, with checksums or not.
 */
export function countVerdicts(into: number[], verdicts: ArrayLike<number>, count: number): void {
  while (into.length < STATUS_COUNT) into.push(0);
  for (let i = 0; i < count; i++) {
    const at = verdicts[i];
    if (at >= into.length) {
      const depthEnd = at - (at % STATUS_COUNT) + STATUS_COUNT;
      while (into.length < depthEnd) into.push(0);
    }
    into[at]++;
  }
}

/**
 * Flow kinds: an IP protocol number (0-255); the same plus LATER_FRAGMENT
 * for non-first fragments, whose ports are not in the packet; ARP; an
 * ethertype plus ETHERTYPE_BASE for other Ethernet payloads; anything else.
 */
export const LATER_FRAGMENT = 256;
export const KIND_ARP = 512;
export const ETHERTYPE_BASE = 1024;
export const KIND_OTHER = ETHERTYPE_BASE + 0x10000;
export const KIND_OVERFLOW = KIND_OTHER + 1;

/** Flow key within one tunnel and one address pair: kind and both ports in 48 bits, exact in a double. */
export function flowKey(kind: number, srcPort: number, dstPort: number): number {
  return kind * 0x100000000 + srcPort * 0x10000 + dstPort;
}

/** A 32-bit mix of five 32-bit words: the hash of the number-keyed tables. */
export function mixWords(a: number, b: number, c: number, d: number, e: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ c, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16) ^ d, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15) ^ e, 0x9e3779b1);
  return h ^ (h >>> 16);
}

/** Bucket of a tunnel carried by IPv4 in the aggregator's tunnels4: a mix of both address words and the id. */
export function ipv4TunnelBucket(src4: number, dst4: number, id: number | null): number {
  return mixWords(src4, dst4, id === null ? -1 : id, 0, 0) & 0x3fffffff;
}

/** The 32-bit word of a dotted-quad IPv4 address as the decoders write it, or -1 for any other text. */
export function ipv4Word(text: string | undefined): number {
  const bytes = typeof text === 'string' ? parseIPv4(text) : null;
  return bytes === null ? -1 : ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

/** The text of an address of MacEntry.ips. */
export function learnedIpText(ip: number | string): string {
  return typeof ip === 'string' ? ip : formatIPv4Word(ip);
}

export class MacEntry {
  packets = 0;
  movedTo: string | null = null;
  /**
   * IP addresses it sent from, each once, in the order first seen: an IPv4
   * address as its 32-bit word, any other as its text (learnedIpText() makes
   * the text of either). A scan sends from a new address in each packet:
   * none of them is text until a report shows it.
   */
  ips: (number | string)[] = [];
  /** The IP address added to `ips` last: seeing it again needs no look into them. */
  lastIp: number | string | null = null;
  /** Its number in the aggregator's address learning, by which flows remember it. */
  id = -1;

  /** `high` and `low` are the address's first two bytes and last four (as a 32-bit word). */
  constructor(readonly mac: string, readonly vtep: string, readonly high: number, readonly low: number) {}
}

/** A virtual network: every tunnel with one type and id, and the inner addresses seen in it. */
export class VniEntry {
  readonly tunnels: TunnelEntry[] = [];
  /** Learned MAC addresses in the order they were first seen. */
  readonly macs: MacEntry[] = [];
  /** Its number in the aggregator's address learning, which finds addresses by it; -1 until it learns one. */
  learningId = -1;
  arpRequests = 0;
  arpReplies = 0;

  constructor(readonly type: TunnelType, readonly id: number) {}
}

/** ICMP fragmentation-needed / ICMPv6 packet-too-big messages with one reported MTU from one router. */
export class TooBigEntry {
  count = 0;
  /** From the first message: what it quotes. */
  quotedSrc = '';
  quotedDst = '';
  quotedLength = -1;
  /** The tunnel header found in the quoted packet, if any, and the bytes from its IP header to the inner IP header. */
  quotedTunnel: string | null = null;
  quotedTunnelId: number | null = null;
  quotedEncapsulation = -1;

  constructor(readonly version: 4 | 6, readonly mtu: number, readonly reporter: string, readonly to: string) {}
}

export type TunnelRowType = TunnelType | 'none' | 'overflow';

export class TunnelEntry extends Seen {
  packets = 0;
  bytes = 0;
  innerBytes = 0;
  overheadBytes = 0;
  /** Verdict counts, index depth * STATUS_COUNT + status. */
  checksums: number[] = [];
  /** Bad checksums inside the tunnel (depth 1 and more) by protocol. */
  innerBadByProto: Map<string, number> | null = null;
  outerFragments = 0;
  innerFragments = 0;
  largestInnerFragment = 0;
  /** Largest original datagram a last inner fragment shows (offset + length). */
  largestFragmentedDatagram = 0;
  maxOuterLength = 0;
  dfSet = 0;
  dfClear = 0;
  /** IP version of the header that carries the tunnel (0 until seen). */
  outerIpVersion = 0;
  /** Largest distance from the outermost IP header to the inner IP header, -1 when no inner IP was seen. */
  encapsulation = -1;
  largestInnerPacket = 0;
  /** Inner IP packets that, with the encapsulation, exceed the path MTU. */
  overMtu = 0;
  overMtuLargest = 0;
  overMtuOuterFragmented = 0;
  overMtuDf = 0;
  port8472 = 0;
  vniFlagClear = 0;
  /** Flows of the tunnel in the aggregator's FlowStore, but for its overflow flow. */
  flowCount = 0;
  /** The flow, in the aggregator's FlowStore, its packets count in once the store is full; -1 until then. */
  overflowFlow = -1;
  vni: VniEntry | null = null;
  /** For a tunnel in the aggregator's tunnels4: both carrier addresses as unsigned 32-bit words (else -1), and the next tunnel of its bucket. */
  src4 = -1;
  dst4 = -1;
  nextInBucket: TunnelEntry | null = null;
  /** A small number unique within the aggregator: the tunnel's part of a flow's key in its FlowStore. */
  tableId = 0;

  constructor(
    readonly type: TunnelRowType,
    readonly src: string,
    readonly dst: string,
    readonly id: number | null,
    /** Creation order, to sort ties the same way every time (set again when parts are merged). */
    public order: number,
  ) {
    super();
  }

  /** One frame of `len` bytes whose first `overhead` bytes are encapsulation, seen at sec.nsec. */
  countFrame(len: number, overhead: number, sec: number, nsec: number): void {
    this.packets++;
    this.bytes += len;
    this.innerBytes += len - overhead;
    this.overheadBytes += overhead;
    this.touch(sec, nsec);
    if (len > this.maxOuterLength) this.maxOuterLength = len;
  }

  addChecksums(verdicts: ArrayLike<number>, count: number): void {
    countVerdicts(this.checksums, verdicts, count);
  }
}
