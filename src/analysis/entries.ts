// The aggregator's mutable rows: counters only, keyed by numbers (IPv4 flows
// and tunnels by their header's address words, MAC addresses by their bytes)
// and otherwise by address strings, so that counting a packet builds nothing
// but a new row. Report objects are made from these on demand.

import type { TunnelType } from '../../decoders/types.js';
import { parseIPv4 } from '../../decoders/address.js';

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

/**
 * 32-bit words per slot of Ipv4FlowTable: 64 bytes, the key and the counters
 * a packet adds to. The words at these offsets:
 */
const SLOT_WORDS = 16;
const TUNNEL = 0;
const SRC = 1;
const DST = 2;
const PORTS = 3;
const KIND = 4;
/** The flow's index in `flows` plus one; 0: the slot is empty. */
const INDEX = 5;
/** Packets and bytes since the counters were last settled. */
const PACKETS = 6;
const BYTES = 7;
/** SEEN and MAC_KNOWN, and the cached MAC address's first two bytes in the upper half. */
const STATE = 8;
/** The cached MAC address's last four bytes. */
const MAC_LOW = 9;
/** Packets from the cached MAC address since they were last added to its MacEntry. */
const MAC_PACKETS = 10;
const FIRST_SEC = 11;
const FIRST_NSEC = 12;
const LAST_SEC = 13;
const LAST_NSEC = 14;
// Word 15 is not used.
/** STATE: the slot's timestamps hold something since the counters were last settled. */
const SEEN = 1;
/** STATE: flow.mac is the learned entry of the MAC address cached in the slot. */
const MAC_KNOWN = 2;
/**
 * A pending count goes into its entry before it would pass this: it stays a
 * small integer, which is what the entry's field holds (a field V8 has seen
 * hold only small integers changes its representation for every entry the
 * first time a larger number arrives).
 */
const PENDING_LIMIT = 0x3fffffff;
const MAX_SLOT_SECONDS = 0xffffffff;
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
 * probing, at most three quarters full). A slot holds a flow's whole key
 * (tunnel tableId, both address words, both ports, kind), its index in
 * `flows`, and what most packets add to it: packets, bytes, first and last
 * timestamp, and the count of packets from the MAC address the flow's last
 * packet came from. So counting a packet of a known flow touches its 64-byte
 * slot and neither the FlowEntry nor the MacEntry, wherever they are in the
 * heap.
 *
 * The slot's counts are pending: settle() adds them to the FlowEntry and the
 * MacEntry and clears them, and must run before either is read.
 */
export class Ipv4FlowTable {
  private readonly flows: FlowEntry[] = [];
  private slots = new Uint32Array(FLOW_TABLE_MIN_SLOTS * SLOT_WORDS);
  private mask = FLOW_TABLE_MIN_SLOTS - 1;

  /** The slot of a flow (a word offset), or -1. */
  find(tunnel: number, src4: number, dst4: number, kind: number, srcPort: number, dstPort: number): number {
    const slots = this.slots;
    const ports = ((srcPort << 16) | dstPort) >>> 0;
    for (let i = mixWords(src4, dst4, ports, kind, tunnel) & this.mask; ; i = (i + 1) & this.mask) {
      const at = i * SLOT_WORDS;
      if (slots[at + INDEX] === 0) return -1;
      if (slots[at + SRC] === src4 && slots[at + DST] === dst4 && slots[at + PORTS] === ports
        && slots[at + KIND] === kind && slots[at + TUNNEL] === tunnel) {
        return at;
      }
    }
  }

  /** Adds a flow whose src4 and dst4 are set and that find() does not have; returns its slot. */
  add(flow: FlowEntry): number {
    this.flows.push(flow);
    if (this.flows.length * 4 > (this.mask + 1) * 3) this.grow();
    const ports = ((flow.srcPort << 16) | flow.dstPort) >>> 0;
    const tunnel = flow.tunnel.tableId;
    const at = this.freeSlot(mixWords(flow.src4, flow.dst4, ports, flow.kind, tunnel));
    const slots = this.slots;
    slots[at + TUNNEL] = tunnel;
    slots[at + SRC] = flow.src4;
    slots[at + DST] = flow.dst4;
    slots[at + PORTS] = ports;
    slots[at + KIND] = flow.kind;
    slots[at + INDEX] = this.flows.length;
    return at;
  }

  flowAt(at: number): FlowEntry {
    return this.flows[this.slots[at + INDEX] - 1];
  }

  /** Counts a packet of `len` bytes at sec.nsec in the flow of slot `at`. */
  count(at: number, len: number, sec: number, nsec: number): void {
    const slots = this.slots;
    const packets = slots[at + PACKETS] + 1;
    const bytes = slots[at + BYTES] + len;
    if (packets > PENDING_LIMIT || bytes > PENDING_LIMIT) {
      const flow = this.flowAt(at);
      flow.packets += packets;
      flow.bytes += bytes;
      slots[at + PACKETS] = slots[at + BYTES] = 0;
    } else {
      slots[at + PACKETS] = packets;
      slots[at + BYTES] = bytes;
    }
    // Beyond the year 2106: the FlowEntry keeps the timestamp.
    if (sec > MAX_SLOT_SECONDS) {
      this.flowAt(at).touch(sec, nsec);
      return;
    }
    // Seen.touch() on the slot's words: the first time since settling, and then the span.
    const state = slots[at + STATE];
    if ((state & SEEN) === 0) {
      slots[at + STATE] = state | SEEN;
      slots[at + FIRST_SEC] = slots[at + LAST_SEC] = sec;
      slots[at + FIRST_NSEC] = slots[at + LAST_NSEC] = nsec;
      return;
    }
    const lastSec = slots[at + LAST_SEC];
    if (sec > lastSec || (sec === lastSec && nsec > slots[at + LAST_NSEC])) {
      slots[at + LAST_SEC] = sec;
      slots[at + LAST_NSEC] = nsec;
    }
    const firstSec = slots[at + FIRST_SEC];
    if (sec < firstSec || (sec === firstSec && nsec < slots[at + FIRST_NSEC])) {
      slots[at + FIRST_SEC] = sec;
      slots[at + FIRST_NSEC] = nsec;
    }
  }

  /**
   * Whether the flow's packet came from the MAC address its last one did
   * (`high`, `low` as in MacEntry); if so it is counted for that address.
   */
  sameMac(at: number, high: number, low: number): boolean {
    const slots = this.slots;
    const state = slots[at + STATE];
    if ((state & MAC_KNOWN) === 0 || state >>> 16 !== high || slots[at + MAC_LOW] !== low >>> 0) return false;
    if (slots[at + MAC_PACKETS] === PENDING_LIMIT) this.settleMac(at);
    slots[at + MAC_PACKETS]++;
    return true;
  }

  /**
   * From now on the flow's packets come from the MAC address of `flow.mac`, whose
   * count the caller has already taken this packet into; the previous
   * address's pending packets are added to it first.
   */
  rememberMac(at: number, previous: MacEntry | null, mac: MacEntry): void {
    const slots = this.slots;
    if (previous !== null) previous.packets += slots[at + MAC_PACKETS];
    slots[at + MAC_PACKETS] = 0;
    slots[at + STATE] = (slots[at + STATE] & SEEN) | MAC_KNOWN | (mac.high << 16);
    slots[at + MAC_LOW] = mac.low;
  }

  /** Adds every slot's pending counts to its FlowEntry and MacEntry. */
  settle(): void {
    const slots = this.slots;
    for (let at = 0; at < slots.length; at += SLOT_WORDS) {
      if (slots[at + INDEX] === 0) continue;
      const flow = this.flowAt(at);
      if ((slots[at + STATE] & SEEN) !== 0) {
        flow.touch(slots[at + FIRST_SEC], slots[at + FIRST_NSEC]);
        flow.touch(slots[at + LAST_SEC], slots[at + LAST_NSEC]);
        slots[at + STATE] &= ~SEEN;
      }
      flow.packets += slots[at + PACKETS];
      flow.bytes += slots[at + BYTES];
      slots[at + PACKETS] = slots[at + BYTES] = 0;
      this.settleMac(at);
    }
  }

  /** The packets from the flow's MAC address so far into its MacEntry. */
  private settleMac(at: number): void {
    const mac = this.flowAt(at).mac;
    if (mac !== null) mac.packets += this.slots[at + MAC_PACKETS];
    this.slots[at + MAC_PACKETS] = 0;
  }

  /** The first free slot from the one `hash` picks. */
  private freeSlot(hash: number): number {
    let i = hash & this.mask;
    while (this.slots[i * SLOT_WORDS + INDEX] !== 0) i = (i + 1) & this.mask;
    return i * SLOT_WORDS;
  }

  /** Twice the slots: every slot moves whole, pending counts and all. */
  private grow(): void {
    const old = this.slots;
    const size = (this.mask + 1) * 2;
    this.slots = new Uint32Array(size * SLOT_WORDS);
    this.mask = size - 1;
    for (let from = 0; from < old.length; from += SLOT_WORDS) {
      if (old[from + INDEX] === 0) continue;
      const at = this.freeSlot(mixWords(old[from + SRC], old[from + DST], old[from + PORTS], old[from + KIND], old[from + TUNNEL]));
      this.slots.set(old.subarray(from, from + SLOT_WORDS), at);
    }
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
  /**
   * IP addresses it sent from, each once, in the order first seen. Replaced by
   * a longer copy on each new one (rare): an array of exactly its length takes
   * a fifth of the memory of a Set, for each of tens of thousands of addresses.
   */
  ips: readonly string[] = [];
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

  addChecksums(verdicts: ArrayLike<number>, count: number): void {
    countVerdicts(this.checksums, verdicts, count);
  }
}
