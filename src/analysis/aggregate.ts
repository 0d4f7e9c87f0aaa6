// Per-tunnel and per-flow counters over a stream of decoded packets. `add`
// runs once per packet and only counts: rows are found through tables keyed
// by numbers (IPv4 flows and tunnels by their header's address words, MAC
// addresses by their bytes) and otherwise by address strings, the decoders'
// or, for packets decoded without detail, made from the bytes. `report` turns
// the counters into the `stats --json` shape, as often as a live view wants it.

import { formatIPv4, formatMac, ipLayerAddress } from '../../decoders/address.js';
import type { Layer, Packet, Tunnel, TunnelType } from '../../decoders/types.js';
import type { CaptureRecord } from '../sources/record.js';
import {
  ETHERTYPE_BASE, FlowEntry, addCounts, countVerdicts, Ipv4FlowTable, KIND_ARP, KIND_OTHER, KIND_OVERFLOW, LATER_FRAGMENT, MacEntry, Seen, STATUS_COUNT,
  TooBigEntry, TunnelEntry, VniEntry, flowKey, ipv4TunnelBucket, ipv4Word, macBucket,
} from './entries.js';
import { buildReport, flowKindOf } from './build-report.js';
import { CauseObserver, type CauseState } from './causes.js';
import type { FlowStats, StatsReport, TunnelStats } from './report.js';

/**
 * Told, for each packet added, every row it was counted in: each tunnel row
 * with the flow row of that tunnel level (null for a later fragment of an
 * outer packet, which belongs to its first fragment's tunnel and to none of
 * its flows). A row's `order` is its id, unique within one aggregator.
 */
export interface CountObserver {
  counted(n: number, tunnel: TunnelEntry, flow: FlowEntry | null): void;
}

export interface AggregatorOptions {
  /** Most flows kept (default 1,000,000); packets of further flows are summed in each tunnel's overflow row. */
  maxFlows?: number;
  /** Most tunnel rows kept (default 100,000); further tunnels are summed in one overflow row. */
  maxTunnels?: number;
  /** Most inner MAC addresses kept across all VNIs (default 100,000). */
  maxAddresses?: number;
  /** The underlay's MTU the findings measure against (default 1500, RFC 894 Ethernet). */
  mtu?: number;
  /** Told what each packet was counted in; without one, counting calls nothing more. */
  observer?: CountObserver;
  /** Which part of a file cut into parts this aggregator counts (see merge()); a whole file without. */
  part?: PartOptions;
}

export interface PartOptions {
  /** 0 for the part at the start of the file, 1 for the next, ... */
  index: number;
}

/**
 * A later fragment met in a part after the first, with no first fragment in
 * the part to tell its tunnel: the first fragment may be in an earlier part,
 * so the packet is kept for merge() to count where it belongs.
 */
interface Orphan {
  record: CaptureRecord;
  layers: Layer[];
  shownEnd: number;
  outerIp: number;
  superPacket: boolean;
  /** The packet's checksum verdicts, as countChecksums() left them. */
  verdicts: number[];
  /** Two creation orders kept free for it: for the untunnelled row and its flow, should it make them. */
  order: number;
  /** The part had a first fragment under the same key, from other addresses: no owner before it counts. */
  keyedInPart: boolean;
}

/**
 * What an aggregator of one part hands to merge(): its counters and rows, as
 * they are or as a worker thread's message copied them (without prototypes).
 */
export interface PartState {
  packets: number;
  bytes: number;
  seen: Seen;
  tsDigits: 6 | 9;
  linktypes: Map<number, number>;
  issueCounts: Map<string, number>;
  checksums: number[];
  superPackets: number;
  tunnels: TunnelEntry[];
  none: TunnelEntry | null;
  /**
   * The tunnels' IPv4 flows (their flows4 arrays are emptied), FLOW_FIELDS
   * numbers each: a worker's message copies one array of numbers much faster
   * than tens of thousands of objects, and the merge reads it as fast.
   */
  flows4: Float64Array;
  /** Anything that reached a table's cap: the parts cannot be merged exactly. */
  capped: boolean;
  vnis: Map<number, VniEntry>;
  tooBig: Map<number, Map<string, TooBigEntry>>;
  fragmentOwners4: Map<number, FragmentOwner>;
  fragmentOwners6: Map<number, FragmentOwner>;
  orphans: Orphan[];
  causes: CauseState;
}

/** Flows counted before further ones go to a tunnel's overflow row (`--max-flows`). */
export const DEFAULT_MAX_FLOWS = 1_000_000;

/** Creation orders of one part: a part's rows sort after every earlier part's, in their own order. */
const PART_ORDER_SPAN = 0x100000000;

const TUNNEL_TYPE_CODES: Record<TunnelType, number> = {
  vxlan: 0, 'vxlan-gpe': 1, geneve: 2, gre: 3, gretap: 4, erspan: 5, ipip: 6, sit: 7, ip4in6: 8, ip6in6: 9,
};
/** Above every 32-bit id: the key part for tunnels without one. */
const NO_ID = 0x100000000;

const STATUS_INDEX = { good: 0, bad: 1, offload: 2, zero: 3, unverified: 4 } as const;
/** Deeper layers are counted at the last depth; the engine stops at 8 tunnels by default. */
const MAX_DEPTH = 33;

/** Fragment owners remembered at once; the table is emptied when it fills. */
const MAX_FRAGMENT_OWNERS = 1 << 16;
const MAX_TOO_BIG_ENTRIES = 1024;
const IPS_PER_MAC = 16;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const IPV4_FIXED_HEADER = 20;
const IPV6_FIXED_HEADER = 40;
const TCP_FIXED_HEADER = 20;

const ICMP_DESTINATION_UNREACHABLE = 3;
const ICMP_FRAGMENTATION_NEEDED = 4;
const ICMPV6_PACKET_TOO_BIG = 2;
const ARP_REQUEST = 1;
const ARP_REPLY = 2;
const VXLAN_LINUX_PORT = 8472;

const NOT_FRAGMENT = 0;
const FIRST_FRAGMENT = 1;
const LATER_FRAGMENT_STATE = 2;

/** The tunnel that the first fragment of an outer packet belonged to, for its later fragments. */
interface FragmentOwner {
  tunnel: TunnelEntry;
  src: string;
  dst: string;
}

interface Ipv6Extension {
  type: string;
  fragmentOffset?: number;
  mf?: boolean;
  id?: number;
}

function isIp(layer: Layer): boolean {
  return layer.proto === 'ipv4' || layer.proto === 'ipv6';
}

function ipv6FragmentHeader(layer: Layer): Ipv6Extension | null {
  const extensions = layer.extensions as Ipv6Extension[] | undefined;
  if (extensions === undefined) return null;
  for (let i = 0; i < extensions.length; i++) if (extensions[i].type === 'fragment') return extensions[i];
  return null;
}

function fragmentState(layer: Layer): number {
  if (layer.proto === 'ipv4') {
    if ((layer.fragmentOffset as number) > 0) return LATER_FRAGMENT_STATE;
    return layer.mf === true ? FIRST_FRAGMENT : NOT_FRAGMENT;
  }
  const fragment = ipv6FragmentHeader(layer);
  if (fragment === null) return NOT_FRAGMENT;
  if ((fragment.fragmentOffset as number) > 0) return LATER_FRAGMENT_STATE;
  return fragment.mf === true ? FIRST_FRAGMENT : NOT_FRAGMENT;
}

/** The IP packet's length by its own header: total length, or the fixed header plus the payload length. */
function ipPacketLength(layer: Layer): number {
  if (layer.proto === 'ipv4') return typeof layer.totalLength === 'number' ? layer.totalLength : 0;
  return typeof layer.payloadLength === 'number' ? IPV6_FIXED_HEADER + layer.payloadLength : 0;
}

/** For the last fragment: the length of the whole datagram it ends. */
function datagramLengthOfLastFragment(layer: Layer): number {
  if (layer.proto === 'ipv4') return (layer.fragmentOffset as number) + (layer.totalLength as number);
  const fragment = ipv6FragmentHeader(layer) as Ipv6Extension;
  const fragmentData = IPV6_FIXED_HEADER + (layer.payloadLength as number) - layer.length;
  return IPV6_FIXED_HEADER + (fragment.fragmentOffset as number) + fragmentData;
}

/** Index of the first layer of the tunnel's payload: past the header, and past an ERSPAN header under GRE. */
function innerLayerOf(layers: Layer[], tunnel: Tunnel): number {
  const type = tunnel.type;
  if (type === 'ipip' || type === 'sit' || type === 'ip4in6' || type === 'ip6in6') return tunnel.layer;
  let j = tunnel.layer + 1;
  while (j < layers.length && layers[j].proto === 'erspan') j++;
  return j;
}

export class StatsAggregator {
  readonly maxFlows: number;
  readonly maxTunnels: number;
  readonly maxAddresses: number;
  readonly mtu: number;

  packets = 0;
  bytes = 0;
  readonly seen = new Seen();
  tsDigits: 6 | 9 = 6;
  readonly linktypes = new Map<number, number>();
  readonly issueCounts = new Map<string, number>();
  readonly checksums: number[] = [];

  readonly tunnels: TunnelEntry[] = [];
  none: TunnelEntry | null = null;
  overflowTunnel: TunnelEntry | null = null;
  readonly vnis = new Map<number, VniEntry>();
  flowCount = 0;
  /** Packets of flows that found the flow table full. */
  overflowFlowPackets = 0;
  macCount = 0;
  /** Packets whose source MAC found the address table full. */
  overflowMacPackets = 0;
  readonly tooBig = new Map<number, Map<string, TooBigEntry>>();
  tooBigCount = 0;
  /** Segmentation-offload super-packets: the capture point sat above the NIC. */
  superPackets = 0;
  /** ICMP errors, unanswered requests and the like, for the findings that name a cause. */
  readonly causes = new CauseObserver();

  /** The IPv4 flows of every tunnel. */
  private readonly flows4 = new Ipv4FlowTable();
  private readonly tunnelIndex = new Map<string, Map<string, Map<number, TunnelEntry>>>();
  /** Tunnels carried by IPv4, by ipv4TunnelBucket(): each also in tunnelIndex. */
  private readonly tunnels4 = new Map<number, TunnelEntry>();
  private readonly fragmentOwners4 = new Map<number, FragmentOwner>();
  private readonly fragmentOwners6 = new Map<number, FragmentOwner>();
  /** How often a fragment owner table was emptied for being full. */
  private fragmentOwnerResets = 0;
  /** In a part after the first: later fragments whose first fragment may be in an earlier part. */
  private readonly orphans: Orphan[] | null;
  private order = 0;
  private tunnelsMade = 0;
  /**
   * The checksum verdicts of the packet being counted: for each checksum, the
   * index of its counter in `checksums`, depth * STATUS_COUNT + status. At
   * most one per layer (32 by default), grown for a packet of more.
   */
  private verdicts = new Int32Array(32);
  private verdictCount = 0;
  private innerLayers = new Int32Array(16);
  private readonly observer: CountObserver | null;

  constructor(options: AggregatorOptions = {}) {
    this.maxFlows = options.maxFlows ?? DEFAULT_MAX_FLOWS;
    this.maxTunnels = options.maxTunnels ?? 100_000;
    this.maxAddresses = options.maxAddresses ?? 100_000;
    this.mtu = options.mtu ?? 1500;
    this.observer = options.observer ?? null;
    this.orphans = (options.part?.index ?? 0) > 0 ? [] : null;
  }

  add(n: number, record: CaptureRecord, packet: Packet): void {
    const len = record.len;
    this.packets++;
    this.bytes += len;
    this.seen.touch(record.sec, record.nsec);
    if (record.tsDigits > this.tsDigits) this.tsDigits = record.tsDigits;
    this.linktypes.set(record.linktype, (this.linktypes.get(record.linktype) ?? 0) + 1);

    let superPacket = false;
    const issues = packet.issues;
    for (let i = 0; i < issues.length; i++) {
      const kind = issues[i].kind;
      this.issueCounts.set(kind, (this.issueCounts.get(kind) ?? 0) + 1);
      if (kind === 'segmentation-offload') superPacket = true;
    }
    if (superPacket) this.superPackets++;
    this.causes.see(record.bytes, packet);

    const layers = packet.layers;
    const shownEnd = packet.quotedFrom ?? layers.length;
    const tunnels = packet.tunnels;
    if (this.innerLayers.length < tunnels.length) this.innerLayers = new Int32Array(tunnels.length * 2);
    for (let k = 0; k < tunnels.length; k++) this.innerLayers[k] = innerLayerOf(layers, tunnels[k]);
    const anyBad = this.countChecksums(layers, shownEnd, tunnels.length);
    countVerdicts(this.checksums, this.verdicts, this.verdictCount);

    let outerIp = -1;
    for (let i = 0; i < shownEnd; i++) {
      if (isIp(layers[i])) {
        outerIp = i;
        break;
      }
    }

    if (tunnels.length === 0) {
      if (outerIp >= 0 && fragmentState(layers[outerIp]) === LATER_FRAGMENT_STATE) {
        const owner = this.fragmentOwnerOf(record.bytes, layers[outerIp]);
        if (owner !== null) {
          this.addFragmentTail(owner, record, layers[outerIp]);
          if (this.observer !== null) this.observer.counted(n, owner, null);
          return;
        }
        if (this.orphans !== null) {
          this.orphans.push({
            record: { ...record, bytes: record.bytes.slice() }, layers, shownEnd, outerIp, superPacket,
            verdicts: Array.from(this.verdicts.subarray(0, this.verdictCount)), order: this.order,
            keyedInPart: this.fragmentOwnerKeyed(record.bytes, layers[outerIp]),
          });
          this.order += 2;
          return;
        }
      }
      const flow = this.countUntunnelled(record, layers, shownEnd, outerIp, superPacket);
      if (this.observer !== null) this.observer.counted(n, (flow as FlowEntry).tunnel, flow);
      return;
    }

    for (let k = 0; k < tunnels.length; k++) {
      const tunnel = tunnels[k];
      let carrier = -1;
      for (let i = tunnel.layer - 1; i >= 0; i--) {
        if (isIp(layers[i])) {
          carrier = i;
          break;
        }
      }
      const entry = this.tunnelEntry(tunnel, record.bytes, carrier < 0 ? null : layers[carrier]);
      const inner = this.innerLayers[k];
      let innerStart = inner < layers.length
        ? layers[inner].offset
        : layers[inner - 1].offset + layers[inner - 1].length;
      if (innerStart > len) innerStart = len;
      entry.countFrame(len, innerStart, record.sec, record.nsec);
      entry.addChecksums(this.verdicts, this.verdictCount);
      if (anyBad) this.countInnerBad(entry, layers, inner, shownEnd);

      if (carrier >= 0) this.countCarrier(entry, record.bytes, layers[carrier], true);

      if (tunnel.type === 'vxlan') {
        if (layers[tunnel.layer].vniValid === false) entry.vniFlagClear++;
        const udp = tunnel.layer > 0 ? layers[tunnel.layer - 1] : null;
        if (udp !== null && udp.proto === 'udp' && (udp.dstPort === VXLAN_LINUX_PORT || udp.srcPort === VXLAN_LINUX_PORT)) {
          entry.port8472++;
        }
      }
      const segmentEnd = k + 1 < tunnels.length ? tunnels[k + 1].layer : shownEnd;
      const flow = this.scanSegment(entry, record, layers, inner, segmentEnd, outerIp, carrier, superPacket);
      if (this.observer !== null) this.observer.counted(n, entry, flow);
    }
  }

  /** A packet outside any tunnel, and not the tail of a tunnelled one: the untunnelled row and its flow. */
  private countUntunnelled(
    record: CaptureRecord, layers: Layer[], shownEnd: number, outerIp: number, superPacket: boolean,
  ): FlowEntry | null {
    const len = record.len;
    const entry = this.none ?? (this.none = this.newTunnel('none', '', '', null));
    entry.packets++;
    entry.bytes += len;
    entry.innerBytes += len;
    entry.touch(record.sec, record.nsec);
    if (len > entry.maxOuterLength) entry.maxOuterLength = len;
    entry.addChecksums(this.verdicts, this.verdictCount);
    if (outerIp >= 0) this.countCarrier(entry, record.bytes, layers[outerIp], false);
    return this.scanSegment(entry, record, layers, 0, shownEnd, -1, -1, superPacket);
  }

  report(): StatsReport {
    this.flows4.settle();
    return buildReport(this);
  }

  /** This part's counters and rows, for absorbParts(); the aggregator is of no use after. */
  exportPart(): PartState {
    this.flows4.settle();
    const flows4 = encodeIpv4Flows(this.none, this.tunnels);
    return {
      packets: this.packets, bytes: this.bytes, seen: this.seen, tsDigits: this.tsDigits, linktypes: this.linktypes,
      issueCounts: this.issueCounts, checksums: this.checksums, superPackets: this.superPackets,
      tunnels: this.tunnels, none: this.none, flows4, vnis: this.vnis, tooBig: this.tooBig,
      capped: this.capped(),
      fragmentOwners4: this.fragmentOwners4, fragmentOwners6: this.fragmentOwners6, orphans: this.orphans ?? [],
      causes: this.causes.exportState(),
    };
  }

  /**
   * Makes this aggregator, which counted the first part of a file, hold what
   * one reading the whole file would: `parts` are the following parts, in
   * file order, each counted by an aggregator given `part: { index }` (1, 2,
   * ...). False when that cannot be told exactly (a table reached its cap,
   * where the rows kept depend on which packet came first across parts): this
   * aggregator is then of no use.
   */
  absorbParts(parts: PartState[]): boolean {
    if (this.orphans !== null) throw new Error('parts are absorbed into the aggregator of the first part');
    if (this.capped()) return false;
    for (let p = 0; p < parts.length; p++) {
      if (!this.absorb(parts[p], (p + 1) * PART_ORDER_SPAN)) return false;
    }
    return true;
  }

  /** Whether a table reached its cap, or the fragment owners were forgotten: rows then depend on order. */
  private capped(): boolean {
    return this.overflowTunnel !== null || this.overflowFlowPackets > 0 || this.overflowMacPackets > 0
      || this.tooBigCount >= MAX_TOO_BIG_ENTRIES || this.fragmentOwnerResets > 0;
  }

  /**
   * Adds the next part, whose creation orders are offset by `base`; false
   * where the result would not be exact. A row new to this aggregator takes
   * the part's order for it; a row it had keeps the smaller order.
   */
  private absorb(part: PartState, base: number): boolean {
    if (part.capped) return false;
    // A part's orphans come first: an owner of theirs can only be in the parts before.
    for (const orphan of part.orphans) this.countOrphan(orphan, base);

    this.packets += part.packets;
    this.bytes += part.bytes;
    this.seen.absorbSeen(part.seen);
    if (part.tsDigits > this.tsDigits) this.tsDigits = part.tsDigits;
    for (const [linktype, count] of part.linktypes) this.linktypes.set(linktype, (this.linktypes.get(linktype) ?? 0) + count);
    for (const [kind, count] of part.issueCounts) this.issueCounts.set(kind, (this.issueCounts.get(kind) ?? 0) + count);
    addCounts(this.checksums, part.checksums);
    this.superPackets += part.superPackets;
    this.causes.absorb(part.causes);

    // The part's rows are copies (from a worker thread): each is told by its key and mapped to this aggregator's.
    const rows = new Map<TunnelEntry, TunnelEntry>();
    if (part.none !== null) {
      this.order = base + part.none.order;
      rows.set(part.none, this.none ?? (this.none = this.newTunnel('none', '', '', null)));
    }
    for (const theirs of part.tunnels) {
      const type = theirs.type as TunnelType;
      const found = this.findTunnel(type, theirs.src, theirs.dst, theirs.id);
      if (found === null && this.tunnels.length >= this.maxTunnels) return false;
      this.order = base + theirs.order;
      const mine = found ?? this.addTunnel(type, theirs.src, theirs.dst, theirs.id);
      if (theirs.src4 >= 0 && mine.src4 < 0) {
        this.addIpv4Tunnel(mine, theirs.src4, theirs.dst4, ipv4TunnelBucket(theirs.src4, theirs.dst4, theirs.id));
      }
      rows.set(theirs, mine);
    }
    for (const [theirs, mine] of rows) {
      mine.order = Math.min(mine.order, base + theirs.order);
      absorbTunnelCounts(mine, theirs);
      if (!this.absorbFlows(mine, theirs, base)) return false;
    }
    if (!this.absorbIpv4Flows(part, rows, base)) return false;

    for (const [key, theirs] of part.vnis) {
      const mine = this.vnis.get(key) as VniEntry;
      mine.arpRequests += theirs.arpRequests;
      mine.arpReplies += theirs.arpReplies;
      for (const mac of theirs.macs) if (!this.absorbMac(mine, mac)) return false;
    }
    for (const [key, byReporter] of part.tooBig) {
      for (const [reporter, theirs] of byReporter) {
        let mine = this.tooBig.get(key)?.get(reporter);
        if (mine === undefined) {
          if (this.tooBigCount >= MAX_TOO_BIG_ENTRIES) return false;
          mine = this.addTooBig(key, Object.assign(new TooBigEntry(theirs.version, theirs.mtu, reporter, theirs.to), theirs, { count: 0 }));
        }
        mine.count += theirs.count;
      }
    }
    // The owners the next parts' orphans look up, as one reading would have left them.
    for (const [owners, theirs] of [[this.fragmentOwners4, part.fragmentOwners4], [this.fragmentOwners6, part.fragmentOwners6]]) {
      for (const [key, owner] of theirs) {
        if (!owners.has(key) && owners.size >= MAX_FRAGMENT_OWNERS) return false;
        owners.set(key, { tunnel: rows.get(owner.tunnel) as TunnelEntry, src: owner.src, dst: owner.dst });
      }
    }
    return this.overflowFlowPackets === 0 && this.overflowMacPackets === 0;
  }

  /** A part's orphan counted where one reading would have: in the tunnel of its first fragment, or untunnelled. */
  private countOrphan(orphan: Orphan, base: number): void {
    const { record, layers, outerIp, verdicts } = orphan;
    const ip = layers[outerIp];
    this.verdicts.set(verdicts);
    this.verdictCount = verdicts.length;
    const owner = orphan.keyedInPart ? null : this.fragmentOwnerOf(record.bytes, ip);
    if (owner !== null) {
      this.addFragmentTail(owner, record, ip);
      return;
    }
    // The rows it makes take the orders kept for it in its part; rows made later in the part sort after them.
    this.order = base + orphan.order;
    this.countUntunnelled(record, layers, orphan.shownEnd, outerIp, orphan.superPacket);
  }

  /** The flows of a part's tunnel row `theirs` into `mine`, but for its IPv4 flows (absorbIpv4Flows). */
  private absorbFlows(mine: TunnelEntry, theirs: TunnelEntry, base: number): boolean {
    if (theirs.overflowFlow !== null) return false;
    for (const byDst of theirs.flows.values()) {
      for (const byKey of byDst.values()) {
        for (const flow of byKey.values()) {
          this.order = base + flow.order;
          const into = this.flowOf(mine, flow.kind, flow.src, flow.dst, flow.srcPort, flow.dstPort);
          absorbFlowCounts(into, flow, base);
        }
      }
    }
    return this.overflowFlowPackets === 0;
  }

  /** The IPv4 flows of a part, as encodeIpv4Flows() wrote them, into the rows `rows` maps the part's tunnels to. */
  private absorbIpv4Flows(part: PartState, rows: Map<TunnelEntry, TunnelEntry>, base: number): boolean {
    const encoded = part.flows4;
    const flow = newEncodedFlow();
    for (let i = 0; i < encoded.length; i += FLOW_FIELDS) {
      const ref = encoded[i];
      const mine = rows.get(ref < 0 ? part.none as TunnelEntry : part.tunnels[ref]) as TunnelEntry;
      decodeFlow(encoded, i, flow);
      let at = this.flows4.find(mine.tableId, flow.src4, flow.dst4, flow.kind, flow.srcPort, flow.dstPort);
      if (at < 0) {
        this.order = base + flow.order;
        at = this.ipv4FlowSlot(mine, flow.kind, flow.src4, flow.dst4, flow.srcPort, flow.dstPort);
        if (at < 0) return false;
      }
      // Into the FlowEntry: the counts still pending in the slot add to it when the table is settled.
      const into = this.flows4.flowAt(at);
      absorbFlowCounts(into, flow, base);
    }
    return true;
  }

  /** A part's learned MAC address into this aggregator's VNI; false when the address table is full. */
  private absorbMac(vni: VniEntry, theirs: MacEntry): boolean {
    const bucket = macBucket(theirs.high, theirs.low);
    let mine = vni.macIndex.get(bucket) ?? null;
    while (mine !== null && (mine.low !== theirs.low || mine.high !== theirs.high)) mine = mine.nextInBucket;
    if (mine === null) {
      if (this.macCount >= this.maxAddresses) return false;
      mine = this.addMac(vni, theirs.mac, theirs.vtep, theirs.high, theirs.low, bucket);
      mine.movedTo = theirs.movedTo;
    } else if (mine.movedTo === null) {
      // The first VTEP other than the first one: the part's first, else the first after it.
      mine.movedTo = theirs.vtep !== mine.vtep ? theirs.vtep : theirs.movedTo;
    }
    mine.packets += theirs.packets;
    for (const ip of theirs.ips) {
      if (mine.ips.length >= IPS_PER_MAC) break;
      if (!mine.ips.includes(ip)) mine.ips = mine.ips.concat(ip);
    }
    return true;
  }

  /** The tunnel row with exactly this type, direction and id, if one was seen. */
  findTunnel(type: TunnelType, src: string, dst: string, id: number | null): TunnelEntry | null {
    const key = TUNNEL_TYPE_CODES[type] * 2 * NO_ID + (id === null ? NO_ID : id);
    return this.tunnelIndex.get(src)?.get(dst)?.get(key) ?? null;
  }

  /** The entry behind a tunnel row of a report from this aggregator, if it still has it. */
  findTunnelRow(row: Pick<TunnelStats, 'type' | 'src' | 'dst' | 'id'>): TunnelEntry | null {
    if (row.type === 'none') return this.none;
    if (row.type === 'overflow') return this.overflowTunnel;
    return this.findTunnel(row.type, row.src, row.dst, row.id);
  }

  /** The entry behind a flow row of the tunnel entry `tunnel`, if it has it. */
  findFlow(tunnel: TunnelEntry, row: FlowStats): FlowEntry | null {
    const kind = flowKindOf(row);
    if (kind === KIND_OVERFLOW) return tunnel.overflowFlow;
    const srcPort = row.srcPort ?? 0;
    const dstPort = row.dstPort ?? 0;
    const src4 = kind < KIND_ARP ? ipv4Word(row.src) : -1;
    const dst4 = kind < KIND_ARP ? ipv4Word(row.dst) : -1;
    if (src4 >= 0 && dst4 >= 0) {
      const at = this.flows4.find(tunnel.tableId, src4, dst4, kind, srcPort, dstPort);
      return at < 0 ? null : this.flows4.flowAt(at);
    }
    return tunnel.flows.get(row.src)?.get(row.dst)?.get(flowKey(kind, srcPort, dstPort)) ?? null;
  }

  /**
   * True when a tunnel of the same type runs the other way between the same
   * endpoints: with the same VNI for VXLAN and Geneve, with any key for GRE,
   * whose two directions often use different keys (ikey and okey).
   */
  hasReverse(entry: TunnelEntry): boolean {
    const back = this.tunnelIndex.get(entry.dst)?.get(entry.src);
    if (back === undefined) return false;
    const sameId = entry.type === 'vxlan' || entry.type === 'vxlan-gpe' || entry.type === 'geneve';
    for (const other of back.values()) {
      if (other.type === entry.type && (!sameId || other.id === entry.id)) return true;
    }
    return false;
  }

  /** The packet's checksum verdicts into `verdicts`; true when any is bad. */
  private countChecksums(layers: Layer[], shownEnd: number, tunnelCount: number): boolean {
    if (this.verdicts.length < shownEnd) this.verdicts = new Int32Array(shownEnd);
    const verdicts = this.verdicts;
    let count = 0;
    let depth = 0;
    let next = 0;
    let anyBad = false;
    for (let i = 0; i < shownEnd; i++) {
      while (next < tunnelCount && this.innerLayers[next] <= i) {
        depth++;
        next++;
      }
      const checksum = layers[i].checksum;
      if (checksum === undefined) continue;
      const d = depth < MAX_DEPTH ? depth : MAX_DEPTH - 1;
      verdicts[count++] = d * STATUS_COUNT + STATUS_INDEX[checksum.status];
      if (checksum.status === 'bad') anyBad = true;
    }
    this.verdictCount = count;
    return anyBad;
  }

  private countInnerBad(entry: TunnelEntry, layers: Layer[], inner: number, shownEnd: number): void {
    for (let i = inner; i < shownEnd; i++) {
      const checksum = layers[i].checksum;
      if (checksum === undefined || checksum.status !== 'bad') continue;
      const byProto = entry.innerBadByProto ?? (entry.innerBadByProto = new Map());
      byProto.set(layers[i].proto, (byProto.get(layers[i].proto) ?? 0) + 1);
    }
  }

  /**
   * The row of a tunnel; `carrier` is the IP layer that carries it, the header
   * whose addresses the engine gave the tunnel (as '' without detail). When
   * that is IPv4, the row is found by its address words in tunnels4;
   * otherwise, and the first time, through the address strings of tunnelIndex.
   */
  private tunnelEntry(tunnel: Tunnel, bytes: Uint8Array, carrier: Layer | null): TunnelEntry {
    let src4 = -1;
    let dst4 = -1;
    let bucket = 0;
    if (carrier !== null && carrier.proto === 'ipv4') {
      const a = carrier.offset + 12;
      src4 = ((bytes[a] << 24) | (bytes[a + 1] << 16) | (bytes[a + 2] << 8) | bytes[a + 3]) >>> 0;
      dst4 = ((bytes[a + 4] << 24) | (bytes[a + 5] << 16) | (bytes[a + 6] << 8) | bytes[a + 7]) >>> 0;
      bucket = ipv4TunnelBucket(src4, dst4, tunnel.id);
      let entry = this.tunnels4.get(bucket) ?? null;
      while (entry !== null) {
        if (entry.src4 === src4 && entry.dst4 === dst4 && entry.id === tunnel.id && entry.type === tunnel.type) return entry;
        entry = entry.nextInBucket;
      }
    }
    const key = TUNNEL_TYPE_CODES[tunnel.type] * 2 * NO_ID + (tunnel.id === null ? NO_ID : tunnel.id);
    const src = carrier === null ? tunnel.src : ipLayerAddress(bytes, carrier, 'src') as string;
    const dst = carrier === null ? tunnel.dst : ipLayerAddress(bytes, carrier, 'dst') as string;
    const bySrc = this.tunnelIndex.get(src);
    const byDst = bySrc === undefined ? undefined : bySrc.get(dst);
    const found = byDst === undefined ? undefined : byDst.get(key);
    if (found !== undefined) {
      // A row first found through a header that did not name it, now through one that does.
      if (src4 >= 0 && found.src4 < 0) this.addIpv4Tunnel(found, src4, dst4, bucket);
      return found;
    }
    if (this.tunnels.length >= this.maxTunnels) {
      return this.overflowTunnel ?? (this.overflowTunnel = this.newTunnel('overflow', '', '', null));
    }
    const entry = this.addTunnel(tunnel.type, src, dst, tunnel.id);
    if (src4 >= 0) this.addIpv4Tunnel(entry, src4, dst4, bucket);
    return entry;
  }

  private newTunnel(type: TunnelEntry['type'], src: string, dst: string, id: number | null): TunnelEntry {
    const entry = new TunnelEntry(type, src, dst, id, this.order++);
    entry.tableId = this.tunnelsMade++;
    return entry;
  }

  /** A new tunnel row, in the index by addresses and in its VNI. */
  private addTunnel(type: TunnelType, src: string, dst: string, id: number | null): TunnelEntry {
    const entry = this.newTunnel(type, src, dst, id);
    this.tunnels.push(entry);
    let srcMap = this.tunnelIndex.get(src);
    if (srcMap === undefined) {
      srcMap = new Map();
      this.tunnelIndex.set(src, srcMap);
    }
    let dstMap = srcMap.get(dst);
    if (dstMap === undefined) {
      dstMap = new Map();
      srcMap.set(dst, dstMap);
    }
    dstMap.set(TUNNEL_TYPE_CODES[type] * 2 * NO_ID + (id === null ? NO_ID : id), entry);
    if (id !== null) {
      const vniKey = TUNNEL_TYPE_CODES[type] * NO_ID + id;
      let vni = this.vnis.get(vniKey);
      if (vni === undefined) {
        vni = new VniEntry(type, id);
        this.vnis.set(vniKey, vni);
      }
      vni.tunnels.push(entry);
      entry.vni = vni;
    }
    return entry;
  }

  private addIpv4Tunnel(entry: TunnelEntry, src4: number, dst4: number, bucket: number): void {
    entry.src4 = src4;
    entry.dst4 = dst4;
    entry.nextInBucket = this.tunnels4.get(bucket) ?? null;
    this.tunnels4.set(bucket, entry);
  }

  /** DF and fragment counts of the IP header that carries a tunnel (or of untunnelled traffic). */
  private countCarrier(entry: TunnelEntry, bytes: Uint8Array, ip: Layer, remember: boolean): void {
    if (ip.proto === 'ipv4') {
      if (entry.outerIpVersion === 0) entry.outerIpVersion = 4;
      if (ip.df === true) entry.dfSet++;
      else entry.dfClear++;
    } else if (entry.outerIpVersion === 0) {
      entry.outerIpVersion = 6;
    }
    const state = fragmentState(ip);
    if (state === NOT_FRAGMENT) return;
    entry.outerFragments++;
    if (remember && state === FIRST_FRAGMENT) this.rememberFragmentOwner(bytes, ip, entry);
  }

  /**
   * Fragments are matched on source, destination and identification (RFC 791
   * section 3.2, RFC 8200 section 4.5). The number key holds the
   * identification and part of the source; the addresses are compared in full.
   */
  private fragmentKey(bytes: Uint8Array, ip: Layer): number {
    if (ip.proto === 'ipv4') {
      const s = ip.offset + 12;
      const src = ((bytes[s] << 24) | (bytes[s + 1] << 16) | (bytes[s + 2] << 8) | bytes[s + 3]) >>> 0;
      return src * 0x10000 + (ip.id as number);
    }
    const fragment = ipv6FragmentHeader(ip) as Ipv6Extension;
    const s = ip.offset + 22;
    return (fragment.id as number) * 0x10000 + ((bytes[s] << 8) | bytes[s + 1]);
  }

  private rememberFragmentOwner(bytes: Uint8Array, ip: Layer, tunnel: TunnelEntry): void {
    const owners = ip.proto === 'ipv4' ? this.fragmentOwners4 : this.fragmentOwners6;
    if (owners.size >= MAX_FRAGMENT_OWNERS) {
      owners.clear();
      this.fragmentOwnerResets++;
    }
    owners.set(this.fragmentKey(bytes, ip), {
      tunnel, src: ipLayerAddress(bytes, ip, 'src') as string, dst: ipLayerAddress(bytes, ip, 'dst') as string,
    });
  }

  /** Whether a first fragment left an owner under this fragment's key, whatever its addresses. */
  private fragmentOwnerKeyed(bytes: Uint8Array, ip: Layer): boolean {
    return (ip.proto === 'ipv4' ? this.fragmentOwners4 : this.fragmentOwners6).has(this.fragmentKey(bytes, ip));
  }

  private fragmentOwnerOf(bytes: Uint8Array, ip: Layer): TunnelEntry | null {
    const owners = ip.proto === 'ipv4' ? this.fragmentOwners4 : this.fragmentOwners6;
    if (owners.size === 0) return null;
    const owner = owners.get(this.fragmentKey(bytes, ip));
    if (owner === undefined) return null;
    if (owner.src !== ipLayerAddress(bytes, ip, 'src') || owner.dst !== ipLayerAddress(bytes, ip, 'dst')) return null;
    return owner.tunnel;
  }

  /** A later fragment of an outer packet whose first fragment carried a tunnel: all of it belongs to that tunnel. */
  private addFragmentTail(entry: TunnelEntry, record: CaptureRecord, ip: Layer): void {
    const len = record.len;
    let headerEnd = ip.offset + ip.length;
    if (headerEnd > len) headerEnd = len;
    entry.countFrame(len, headerEnd, record.sec, record.nsec);
    entry.addChecksums(this.verdicts, this.verdictCount);
    this.countCarrier(entry, record.bytes, ip, false);
  }

  /**
   * The traffic of one tunnel level, layers [start, end): its flow, its inner
   * IP packet against the MTU, its ARP and MAC addresses, ICMP too-big
   * messages. outerIp is the outermost IP layer (-1 for untunnelled traffic),
   * carrier the IP layer that carries this tunnel.
   */
  private scanSegment(
    entry: TunnelEntry, record: CaptureRecord, layers: Layer[], start: number, end: number,
    outerIp: number, carrier: number, superPacket: boolean,
  ): FlowEntry | null {
    let eth = -1;
    let arp = -1;
    let ip = -1;
    for (let i = start; i < end; i++) {
      const proto = layers[i].proto;
      if (proto === 'ipv4' || proto === 'ipv6') {
        ip = i;
        break;
      }
      if (proto === 'arp') {
        arp = i;
        break;
      }
      if (proto === 'eth' && eth < 0) eth = i;
    }
    const tunnelled = outerIp >= 0;

    let kind = KIND_OTHER;
    let src = '';
    let dst = '';
    let srcPort = 0;
    let dstPort = 0;
    let src4 = -1;
    let dst4 = -1;
    let fragment = NOT_FRAGMENT;
    let l4: Layer | null = null;
    let mssLimit = Infinity;
    if (ip >= 0) {
      const ipLayer = layers[ip];
      const bytes = record.bytes;
      if (ipLayer.proto === 'ipv4' && typeof ipLayer.dst === 'string') {
        // A whole header: its flow is found by the address words, and its text made only for a new flow.
        const a = ipLayer.offset + 12;
        src4 = ((bytes[a] << 24) | (bytes[a + 1] << 16) | (bytes[a + 2] << 8) | bytes[a + 3]) >>> 0;
        dst4 = ((bytes[a + 4] << 24) | (bytes[a + 5] << 16) | (bytes[a + 6] << 8) | bytes[a + 7]) >>> 0;
      } else {
        src = ipLayerAddress(bytes, ipLayer, 'src') as string;
        dst = ipLayerAddress(bytes, ipLayer, 'dst') as string;
      }
      const protocol = typeof ipLayer.protocol === 'number' ? ipLayer.protocol : 0;
      fragment = fragmentState(ipLayer);
      kind = fragment === LATER_FRAGMENT_STATE ? LATER_FRAGMENT + protocol : protocol;
      if (ip + 1 < end && fragment !== LATER_FRAGMENT_STATE) {
        l4 = layers[ip + 1];
        if ((l4.proto === 'tcp' || l4.proto === 'udp') && typeof l4.dstPort === 'number') {
          srcPort = l4.srcPort as number;
          dstPort = l4.dstPort;
        }
      }
      if (tunnelled) mssLimit = this.checkInnerPacket(entry, layers, ipLayer, outerIp, carrier, fragment, superPacket);
    } else if (arp >= 0) {
      const arpLayer = layers[arp];
      kind = KIND_ARP;
      src = typeof arpLayer.senderIp === 'string' ? arpLayer.senderIp : eth >= 0 ? macText(record.bytes, layers[eth], 6) : '';
      dst = typeof arpLayer.targetIp === 'string' ? arpLayer.targetIp : '';
      if (entry.vni !== null) {
        if (arpLayer.opcode === ARP_REQUEST) entry.vni.arpRequests++;
        else if (arpLayer.opcode === ARP_REPLY) entry.vni.arpReplies++;
      }
    } else if (eth >= 0) {
      const ethLayer = layers[eth];
      kind = ETHERTYPE_BASE + (typeof ethLayer.type === 'number' ? ethLayer.type : 0);
      src = macText(record.bytes, ethLayer, 6);
      dst = macText(record.bytes, ethLayer, 0);
    }

    // An IPv4 flow is counted in its slot of flows4, and its FlowEntry looked
    // up only for what the slot does not hold (a fragment, a SYN, FIN or RST,
    // a MAC address other than the last): most packets need none of it, and
    // the lookup was one more cache miss each. Any other flow is counted in
    // its FlowEntry.
    const at = src4 >= 0 ? this.ipv4FlowSlot(entry, kind, src4, dst4, srcPort, dstPort) : -1;
    let flow: FlowEntry | null = null;
    if (at >= 0) {
      this.flows4.count(at, record.len, record.sec, record.nsec);
    } else {
      flow = src4 >= 0 ? this.overflowFlowOf(entry) : this.flowOf(entry, kind, src, dst, srcPort, dstPort);
      flow.packets++;
      flow.bytes += record.len;
      flow.touch(record.sec, record.nsec);
    }
    if (fragment !== NOT_FRAGMENT) (flow ??= this.flows4.flowAt(at)).fragments++;
    if (l4 !== null) {
      if (l4.proto === 'tcp' && typeof l4.flags === 'number') {
        const flags = l4.flags;
        if ((flags & (TCP_FIN | TCP_RST | TCP_SYN)) !== 0) {
          flow ??= this.flows4.flowAt(at);
          if (flags & TCP_FIN) flow.fin++;
          if (flags & TCP_RST) flow.rst++;
          if (flags & TCP_SYN) {
            flow.syn++;
            if (typeof l4.mss === 'number' && l4.mss > flow.mss) flow.mss = l4.mss;
            if (mssLimit < flow.mssLimit) flow.mssLimit = mssLimit;
          }
        }
      } else if (l4.proto === 'icmp') {
        if (l4.type === ICMP_DESTINATION_UNREACHABLE && l4.code === ICMP_FRAGMENTATION_NEEDED && typeof l4.mtu === 'number') {
          this.recordTooBig(4, l4.mtu, record.bytes, layers[ip], layers, end);
        }
      } else if (l4.proto === 'icmpv6') {
        if (l4.type === ICMPV6_PACKET_TOO_BIG && typeof l4.mtu === 'number') {
          this.recordTooBig(6, l4.mtu, record.bytes, layers[ip], layers, end);
        }
      }
    }

    if (entry.vni !== null && eth >= 0) {
      this.learnAddress(entry, flow, at, record.bytes, layers[eth], arp >= 0 ? layers[arp] : ip >= 0 ? layers[ip] : null);
    }
    // Only an observer is handed the flow.
    return flow ?? (this.observer === null ? null : this.flows4.flowAt(at));
  }

  /** Inner fragments, inner size against the path MTU; returns the largest MSS the path fits. */
  private checkInnerPacket(
    entry: TunnelEntry, layers: Layer[], ipLayer: Layer, outerIp: number, carrier: number, fragment: number,
    superPacket: boolean,
  ): number {
    const size = ipPacketLength(ipLayer);
    if (fragment !== NOT_FRAGMENT) {
      entry.innerFragments++;
      if (size > entry.largestInnerFragment) entry.largestInnerFragment = size;
      const more = ipLayer.proto === 'ipv4' ? ipLayer.mf === true : ipv6FragmentHeader(ipLayer)?.mf === true;
      if (fragment === LATER_FRAGMENT_STATE && !more) {
        const datagram = datagramLengthOfLastFragment(ipLayer);
        if (datagram > entry.largestFragmentedDatagram) entry.largestFragmentedDatagram = datagram;
      }
    }
    if (superPacket) return Infinity;
    if (size > entry.largestInnerPacket) entry.largestInnerPacket = size;
    const encapsulation = ipLayer.offset - layers[outerIp].offset;
    if (encapsulation <= 0) return Infinity;
    if (encapsulation > entry.encapsulation) entry.encapsulation = encapsulation;
    if (size + encapsulation > this.mtu) {
      entry.overMtu++;
      if (size > entry.overMtuLargest) entry.overMtuLargest = size;
      if (carrier >= 0) {
        const carrierLayer = layers[carrier];
        if (fragmentState(carrierLayer) !== NOT_FRAGMENT) entry.overMtuOuterFragmented++;
        else if (carrierLayer.df === true) entry.overMtuDf++;
      }
    }
    // RFC 879: the MSS is the MTU less the fixed IP and TCP headers.
    const fixed = (ipLayer.proto === 'ipv4' ? IPV4_FIXED_HEADER : IPV6_FIXED_HEADER) + TCP_FIXED_HEADER;
    return this.mtu - encapsulation - fixed;
  }

  /**
   * The slot in flows4 of the flow of an IPv4 inner packet, the same row as
   * flowOf() would make, found by one number-keyed lookup; -1 when the flow
   * table is full (the packet then counts in the tunnel's overflow flow).
   */
  private ipv4FlowSlot(entry: TunnelEntry, kind: number, src4: number, dst4: number, srcPort: number, dstPort: number): number {
    const found = this.flows4.find(entry.tableId, src4, dst4, kind, srcPort, dstPort);
    if (found >= 0) return found;
    if (this.flowCount >= this.maxFlows) return -1;
    const flow = new FlowEntry(entry, kind, ipv4Text(src4), ipv4Text(dst4), srcPort, dstPort, this.order++);
    flow.src4 = src4;
    flow.dst4 = dst4;
    entry.flows4.push(flow);
    entry.flowCount++;
    this.flowCount++;
    return this.flows4.add(flow);
  }

  /** The flow every packet of the tunnel counts in once the flow table is full. */
  private overflowFlowOf(entry: TunnelEntry): FlowEntry {
    this.overflowFlowPackets++;
    return entry.overflowFlow ?? (entry.overflowFlow = new FlowEntry(entry, KIND_OVERFLOW, '', '', 0, 0, this.order++));
  }

  private flowOf(entry: TunnelEntry, kind: number, src: string, dst: string, srcPort: number, dstPort: number): FlowEntry {
    const key = flowKey(kind, srcPort, dstPort);
    const byDst = entry.flows.get(src);
    const byKey = byDst === undefined ? undefined : byDst.get(dst);
    const found = byKey === undefined ? undefined : byKey.get(key);
    if (found !== undefined) return found;
    if (this.flowCount >= this.maxFlows) return this.overflowFlowOf(entry);
    const flow = new FlowEntry(entry, kind, src, dst, srcPort, dstPort, this.order++);
    let dstMap = byDst;
    if (dstMap === undefined) {
      dstMap = new Map();
      entry.flows.set(src, dstMap);
    }
    let keyMap = byKey;
    if (keyMap === undefined) {
      keyMap = new Map();
      dstMap.set(dst, keyMap);
    }
    keyMap.set(key, flow);
    entry.flowCount++;
    this.flowCount++;
    return flow;
  }

  /**
   * Counts the source MAC address of an Ethernet layer (and the IP address it
   * sent from, read from `from`, the frame's ARP or IP layer) in the tunnel's
   * VNI. `at` is the flow's slot in flows4, or -1; `found` is the flow, or
   * null for an IPv4 flow not looked up yet (the one in slot `at`).
   */
  private learnAddress(
    entry: TunnelEntry, found: FlowEntry | null, at: number, bytes: Uint8Array, eth: Layer, from: Layer | null,
  ): void {
    if (eth.length < MAC_TEXT_END) return;
    const s = eth.offset + 6;
    const high = (bytes[s] << 8) | bytes[s + 1];
    const low = (bytes[s + 2] << 24) | (bytes[s + 3] << 16) | (bytes[s + 4] << 8) | bytes[s + 5];
    // A flow's packets nearly always come from one address: the one its last
    // packet came from. The flow's source IP address is the same every time,
    // and the address's VTEP was compared with this tunnel's the first time:
    // nothing but the count can change, and the slot keeps that.
    if (at >= 0 && this.flows4.sameMac(at, high, low)) return;
    const flow = found ?? this.flows4.flowAt(at);
    let learned = flow.mac;
    if (learned === null || learned.low !== low || learned.high !== high) {
      const vni = entry.vni as VniEntry;
      const bucket = macBucket(high, low);
      learned = vni.macIndex.get(bucket) ?? null;
      while (learned !== null && (learned.low !== low || learned.high !== high)) learned = learned.nextInBucket;
      if (learned === null) {
        if (this.macCount >= this.maxAddresses) {
          this.overflowMacPackets++;
          return;
        }
        learned = this.addMac(vni, macText(bytes, eth, 6), entry.src, high, low, bucket);
      }
      if (at >= 0) this.flows4.rememberMac(at, flow.mac, learned);
      flow.mac = learned;
    }
    if (learned.vtep !== entry.src && learned.movedTo === null) learned.movedTo = entry.src;
    learned.packets++;
    if (from === null) return;
    const ip = from.proto === 'arp' ? from.senderIp : ipLayerAddress(bytes, from, 'src');
    if (typeof ip === 'string' && ip !== learned.lastIp && learned.ips.length < IPS_PER_MAC) {
      if (!learned.ips.includes(ip)) learned.ips = learned.ips.concat(ip);
      learned.lastIp = ip;
    }
  }


  private addMac(vni: VniEntry, mac: string, vtep: string, high: number, low: number, bucket: number): MacEntry {
    const learned = new MacEntry(mac, vtep, high, low);
    learned.nextInBucket = vni.macIndex.get(bucket) ?? null;
    vni.macIndex.set(bucket, learned);
    vni.macs.push(learned);
    this.macCount++;
    return learned;
  }

  private recordTooBig(version: 4 | 6, mtu: number, bytes: Uint8Array, ipLayer: Layer, layers: Layer[], quotedFrom: number): void {
    const key = mtu * 8 + version;
    const reporter = ipLayerAddress(bytes, ipLayer, 'src') as string;
    let entry = this.tooBig.get(key)?.get(reporter);
    if (entry === undefined) {
      if (this.tooBigCount >= MAX_TOO_BIG_ENTRIES) return;
      entry = new TooBigEntry(version, mtu, reporter, ipLayerAddress(bytes, ipLayer, 'dst') as string);
      describeQuotedPacket(entry, bytes, layers, quotedFrom);
      this.addTooBig(key, entry);
    }
    entry.count++;
  }

  /** A new row of too-big messages, under its MTU-and-version key and its reporter. */
  private addTooBig(key: number, entry: TooBigEntry): TooBigEntry {
    let byReporter = this.tooBig.get(key);
    if (byReporter === undefined) {
      byReporter = new Map();
      this.tooBig.set(key, byReporter);
    }
    byReporter.set(entry.reporter, entry);
    this.tooBigCount++;
    return entry;
  }
}

/** Bytes an Ethernet layer needs to hold its source MAC address (the destination is bytes 0-5, the source 6-11). */
const MAC_TEXT_END = 12;

/**
 * The destination (at 0) or source (at 6) MAC address of an Ethernet layer as
 * the decoder writes it, from the layer or, when it was decoded without detail,
 * from the frame; '' when the capture cut it off.
 */
function macText(bytes: Uint8Array, eth: Layer, at: 0 | 6): string {
  const text = at === 0 ? eth.dst : eth.src;
  if (typeof text === 'string') return text;
  return eth.length >= at + 6 ? formatMac(bytes, eth.offset + at) : '';
}

/** A part's counters of one tunnel row into the same row of the whole. */
function absorbTunnelCounts(mine: TunnelEntry, theirs: TunnelEntry): void {
  mine.packets += theirs.packets;
  mine.bytes += theirs.bytes;
  mine.innerBytes += theirs.innerBytes;
  mine.overheadBytes += theirs.overheadBytes;
  mine.absorbSeen(theirs);
  addCounts(mine.checksums, theirs.checksums);
  if (theirs.innerBadByProto !== null) {
    const byProto = mine.innerBadByProto ?? (mine.innerBadByProto = new Map());
    for (const [proto, count] of theirs.innerBadByProto) byProto.set(proto, (byProto.get(proto) ?? 0) + count);
  }
  mine.outerFragments += theirs.outerFragments;
  mine.innerFragments += theirs.innerFragments;
  mine.largestInnerFragment = Math.max(mine.largestInnerFragment, theirs.largestInnerFragment);
  mine.largestFragmentedDatagram = Math.max(mine.largestFragmentedDatagram, theirs.largestFragmentedDatagram);
  mine.maxOuterLength = Math.max(mine.maxOuterLength, theirs.maxOuterLength);
  mine.dfSet += theirs.dfSet;
  mine.dfClear += theirs.dfClear;
  if (mine.outerIpVersion === 0) mine.outerIpVersion = theirs.outerIpVersion;
  mine.encapsulation = Math.max(mine.encapsulation, theirs.encapsulation);
  mine.largestInnerPacket = Math.max(mine.largestInnerPacket, theirs.largestInnerPacket);
  mine.overMtu += theirs.overMtu;
  mine.overMtuLargest = Math.max(mine.overMtuLargest, theirs.overMtuLargest);
  mine.overMtuOuterFragmented += theirs.overMtuOuterFragmented;
  mine.overMtuDf += theirs.overMtuDf;
  mine.port8472 += theirs.port8472;
  mine.vniFlagClear += theirs.vniFlagClear;
}

/** A flow's key and what it adds to another: a FlowEntry, or one read back from a part's flows4. */
type FlowCounts = {
  -readonly [K in 'kind' | 'src4' | 'dst4' | 'srcPort' | 'dstPort' | 'order' | 'packets' | 'bytes' | 'seenAny' | 'firstSec'
    | 'firstNsec' | 'lastSec' | 'lastNsec' | 'fragments' | 'syn' | 'fin' | 'rst' | 'mss' | 'mssLimit']: FlowEntry[K];
};

/**
 * Numbers per flow in PartState.flows4: its tunnel's index in
 * PartState.tunnels (-1: the untunnelled row), then the FlowCounts in the
 * order encodeIpv4Flows() writes them.
 */
const FLOW_FIELDS = 20;

/** The IPv4 flows of the untunnelled row and the tunnel rows, FLOW_FIELDS numbers each; the rows' flows4 are emptied. */
function encodeIpv4Flows(none: TunnelEntry | null, tunnels: TunnelEntry[]): Float64Array {
  let count = none === null ? 0 : none.flows4.length;
  for (const entry of tunnels) count += entry.flows4.length;
  const e = new Float64Array(count * FLOW_FIELDS);
  let i = 0;
  const encode = (entry: TunnelEntry, ref: number) => {
    for (const f of entry.flows4) {
      e[i] = ref;
      e[i + 1] = f.kind;
      e[i + 2] = f.src4;
      e[i + 3] = f.dst4;
      e[i + 4] = f.srcPort;
      e[i + 5] = f.dstPort;
      e[i + 6] = f.order;
      e[i + 7] = f.packets;
      e[i + 8] = f.bytes;
      e[i + 9] = f.seenAny ? 1 : 0;
      e[i + 10] = f.firstSec;
      e[i + 11] = f.firstNsec;
      e[i + 12] = f.lastSec;
      e[i + 13] = f.lastNsec;
      e[i + 14] = f.fragments;
      e[i + 15] = f.syn;
      e[i + 16] = f.fin;
      e[i + 17] = f.rst;
      e[i + 18] = f.mss;
      e[i + 19] = f.mssLimit;
      i += FLOW_FIELDS;
    }
    entry.flows4.length = 0;
  };
  if (none !== null) encode(none, -1);
  tunnels.forEach(encode);
  return e;
}

function newEncodedFlow(): FlowCounts {
  return {
    kind: 0, src4: 0, dst4: 0, srcPort: 0, dstPort: 0, order: 0, packets: 0, bytes: 0, seenAny: false, firstSec: 0,
    firstNsec: 0, lastSec: 0, lastNsec: 0, fragments: 0, syn: 0, fin: 0, rst: 0, mss: -1, mssLimit: Infinity,
  };
}

/**
 * A number read from a Float64Array as V8 holds an integer: a double read
 * there is boxed even when whole, and storing a boxed number into a field that
 * held only small integers changes that field's representation in every
 * FlowEntry (each moved to the new layout the next time it is touched).
 */
function whole(value: number): number {
  return (value | 0) === value ? value | 0 : value;
}

/** The flow at `i` of a part's flows4 into `f`. */
function decodeFlow(e: Float64Array, i: number, f: FlowCounts): void {
  f.kind = whole(e[i + 1]);
  f.src4 = whole(e[i + 2]);
  f.dst4 = whole(e[i + 3]);
  f.srcPort = whole(e[i + 4]);
  f.dstPort = whole(e[i + 5]);
  f.order = whole(e[i + 6]);
  f.packets = whole(e[i + 7]);
  f.bytes = whole(e[i + 8]);
  f.seenAny = e[i + 9] !== 0;
  f.firstSec = whole(e[i + 10]);
  f.firstNsec = whole(e[i + 11]);
  f.lastSec = whole(e[i + 12]);
  f.lastNsec = whole(e[i + 13]);
  f.fragments = whole(e[i + 14]);
  f.syn = whole(e[i + 15]);
  f.fin = whole(e[i + 16]);
  f.rst = whole(e[i + 17]);
  f.mss = whole(e[i + 18]);
  f.mssLimit = e[i + 19];
}

const ipv4Bytes = new Uint8Array(4);

/** The text the IPv4 decoder gives the address whose 32-bit word is `word`. */
function ipv4Text(word: number): string {
  ipv4Bytes[0] = word >>> 24;
  ipv4Bytes[1] = (word >>> 16) & 0xff;
  ipv4Bytes[2] = (word >>> 8) & 0xff;
  ipv4Bytes[3] = word & 0xff;
  return formatIPv4(ipv4Bytes, 0);
}

/** A part's flow, whose creation order is offset by `base`, into the same flow of the whole. */
function absorbFlowCounts(mine: FlowEntry, theirs: FlowCounts, base: number): void {
  mine.order = Math.min(mine.order, base + theirs.order);
  mine.packets += theirs.packets;
  mine.bytes += theirs.bytes;
  mine.absorbSeen(theirs);
  mine.fragments += theirs.fragments;
  mine.syn += theirs.syn;
  mine.fin += theirs.fin;
  mine.rst += theirs.rst;
  mine.mss = Math.max(mine.mss, theirs.mss);
  mine.mssLimit = Math.min(mine.mssLimit, theirs.mssLimit);
}

/** What the packet an ICMP error quotes was: its addresses, length, and the tunnel it carried. */
function describeQuotedPacket(entry: TooBigEntry, bytes: Uint8Array, layers: Layer[], quotedFrom: number): void {
  if (quotedFrom >= layers.length || !isIp(layers[quotedFrom])) return;
  const quoted = layers[quotedFrom];
  entry.quotedSrc = ipLayerAddress(bytes, quoted, 'src') as string;
  entry.quotedDst = ipLayerAddress(bytes, quoted, 'dst') as string;
  entry.quotedLength = ipPacketLength(quoted);
  for (let i = quotedFrom + 1; i < layers.length; i++) {
    const proto = layers[i].proto;
    if (entry.quotedTunnel === null && (proto === 'vxlan' || proto === 'vxlan-gpe' || proto === 'geneve' || proto === 'gre')) {
      entry.quotedTunnel = proto;
      const id = proto === 'gre' ? layers[i].key : layers[i].vni;
      entry.quotedTunnelId = typeof id === 'number' ? id : null;
    } else if (entry.quotedTunnel !== null && isIp(layers[i])) {
      entry.quotedEncapsulation = layers[i].offset - quoted.offset;
      return;
    }
  }
}
