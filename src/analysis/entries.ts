// The aggregator's mutable rows: counters only, keyed by numbers (IPv4 flows
// and tunnels by their header's address words, MAC addresses by their bytes)
// and otherwise by the address strings the decoders already made, so that
// counting a packet builds nothing. Report objects are made from these on
// demand.

import type { TunnelType } from '../../decoders/types.js';
import { parseIPv4 } from '../filter/parse.js';

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

/** Adds the first `used` of `counts` to `into`, element by element, growing `into` as needed. */
export function addCounts(into: number[], counts: ArrayLike<number>, used = counts.length): void {
  while (into.length < used) into.push(0);
  for (let i = 0; i < used; i++) into[i] += counts[i];
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

/** 32-bit words per slot of Ipv4FlowTable: the five of the key, the flow's index plus one (0: empty), two unused. */
const FLOW_SLOT_WORDS = 8;
const FLOW_TABLE_MIN_SLOTS = 1024;

/** A 32-bit mix of five 32-bit words: the hash of the number-keyed tables. */
function mixWords(a: number, b: number, c: number, d: number, e: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ c, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16) ^ d, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15) ^ e, 0x9e3779b1);
  return h ^ (h >>> 16);
}

/**
 * The IPv4 flows of every tunnel in one open-addressing table (linear
 * probing, at most half full). A slot holds a flow's whole key (tunnel tableId,
 * both address words, both ports, kind) and its index in `flows` in 32
 * aligned bytes, so that finding a flow reads one cache line before the flow
 * itself.
 */
export class Ipv4FlowTable {
  private readonly flows: FlowEntry[] = [];
  private slots = new Int32Array(FLOW_TABLE_MIN_SLOTS * FLOW_SLOT_WORDS);
  private mask = FLOW_TABLE_MIN_SLOTS - 1;

  find(tunnel: number, src4: number, dst4: number, kind: number, srcPort: number, dstPort: number): FlowEntry | null {
    const slots = this.slots;
    const ports = (srcPort << 16) | dstPort;
    for (let i = mixWords(src4, dst4, ports, kind, tunnel) & this.mask; ; i = (i + 1) & this.mask) {
      const at = i * FLOW_SLOT_WORDS;
      const index = slots[at + 5];
      if (index === 0) return null;
      if (slots[at + 1] === (src4 | 0) && slots[at + 2] === (dst4 | 0) && slots[at + 3] === ports
        && slots[at + 4] === kind && slots[at] === tunnel) {
        return this.flows[index - 1];
      }
    }
  }

  /** Adds a flow whose src4 and dst4 are set and that find() does not have. */
  add(flow: FlowEntry): void {
    this.flows.push(flow);
    if (this.flows.length * 2 > this.mask + 1) this.grow();
    else this.place(flow, this.flows.length);
  }

  private place(flow: FlowEntry, index: number): void {
    const slots = this.slots;
    const ports = (flow.srcPort << 16) | flow.dstPort;
    const tunnel = flow.tunnel.tableId;
    let i = mixWords(flow.src4, flow.dst4, ports, flow.kind, tunnel) & this.mask;
    while (slots[i * FLOW_SLOT_WORDS + 5] !== 0) i = (i + 1) & this.mask;
    const at = i * FLOW_SLOT_WORDS;
    slots[at] = tunnel;
    slots[at + 1] = flow.src4;
    slots[at + 2] = flow.dst4;
    slots[at + 3] = ports;
    slots[at + 4] = flow.kind;
    slots[at + 5] = index;
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    this.slots = new Int32Array(size * FLOW_SLOT_WORDS);
    this.mask = size - 1;
    for (let i = 0; i < this.flows.length; i++) this.place(this.flows[i], i + 1);
  }
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

export class FlowEntry extends Seen {
  packets = 0;
  bytes = 0;
  fragments = 0;
  syn = 0;
  fin = 0;
  rst = 0;
  /** Largest MSS on a SYN, -1 when none was seen. */
  mss = -1;
  /** Largest MSS the tunnel's path fits for this flow, or Infinity outside tunnels. */
  mssLimit = Infinity;
  /** For a flow in the aggregator's Ipv4FlowTable: both addresses as 32-bit words. */
  src4 = 0;
  dst4 = 0;
  /** In a VNI: the learned MAC address its last packet came from. */
  mac: MacEntry | null = null;

  constructor(
    readonly tunnel: TunnelEntry,
    readonly kind: number,
    readonly src: string,
    readonly dst: string,
    readonly srcPort: number,
    readonly dstPort: number,
    /** Creation order, to sort ties the same way every time (set again when parts are merged). */
    public order: number,
  ) {
    super();
  }
}

/** Bucket of a MAC address in VniEntry.macIndex, from its first two bytes and its last four as a 32-bit word. */
export function macBucket(high: number, low: number): number {
  return mixWords(high, low, 0, 0, 0) & 0x3fffffff;
}

export class MacEntry {
  packets = 0;
  movedTo: string | null = null;
  readonly ips = new Set<string>();
  /** The IP address added to `ips` last: seeing it again needs no look into the set. */
  lastIp: string | null = null;
  /** The next address of its bucket in VniEntry.macIndex. */
  nextInBucket: MacEntry | null = null;

  /** `high` and `low` are the address's first two bytes and last four (as a 32-bit word). */
  constructor(readonly mac: string, readonly vtep: string, readonly high: number, readonly low: number) {}
}

/** A virtual network: every tunnel with one type and id, and the inner addresses seen in it. */
export class VniEntry {
  readonly tunnels: TunnelEntry[] = [];
  /** Learned MAC addresses in the order they were first seen. */
  readonly macs: MacEntry[] = [];
  /** The same addresses by macBucket(); addresses that share a bucket are chained. */
  readonly macIndex = new Map<number, MacEntry>();
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
  /** Flows whose addresses came from an IPv4 header; the aggregator's Ipv4FlowTable finds them. */
  readonly flows4: FlowEntry[] = [];
  /** Every other flow, by source and destination text and flowKey(). */
  readonly flows = new Map<string, Map<string, Map<number, FlowEntry>>>();
  flowCount = 0;
  overflowFlow: FlowEntry | null = null;
  vni: VniEntry | null = null;
  /** For a tunnel in the aggregator's tunnels4: both carrier addresses as unsigned 32-bit words (else -1), and the next tunnel of its bucket. */
  src4 = -1;
  dst4 = -1;
  nextInBucket: TunnelEntry | null = null;
  /** A small number unique within the aggregator: the tunnel's part of a key in its Ipv4FlowTable. */
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

  addChecksums(counts: ArrayLike<number>, used: number): void {
    addCounts(this.checksums, counts, used);
  }
}
