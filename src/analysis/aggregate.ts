// Per-tunnel and per-flow counters over a stream of decoded packets. `add`
// runs once per packet and only counts: tunnels are found in the tunnel table,
// flows in the flow store by ids of their addresses' header bytes, MAC
// addresses by their bytes. `report` turns the counters into the
// `stats --json` shape, as often as a live view wants it.

import { ipLayerAddress } from '../../decoders/address.js';
import { layerChecksum, type ArpLayer, type EthLayer, type IpLayer } from '../../decoders/layers.js';
import type { Layer, Packet, TunnelType } from '../../decoders/types.js';
import type { CaptureRecord } from '../sources/record.js';
import {
  ETHERTYPE_BASE, countVerdicts, KIND_ARP, KIND_OTHER, KIND_OVERFLOW, LATER_FRAGMENT, Seen, STATUS_COUNT,
  type TunnelEntry,
} from './entries.js';
import { AddressLearning } from './address-learning.js';
import { buildReport } from './build-report.js';
import { FlowRow, FlowStore } from './flow-store.js';
import { FragmentOwners } from './fragments.js';
import { absorbParts, exportPart, type Orphan, type PartState } from './merge-parts.js';
import {
  FIRST_FRAGMENT, LATER_FRAGMENT_STATE, NOT_FRAGMENT, fragmentState, innerLayerOf, isIp, macText, wordAt,
} from './packet-layers.js';
import type { FlowStats, StatsReport, TunnelStats } from './report.js';
import { findFlowRow } from './row-lookup.js';
import { CauseObserver } from './causes.js';
import { SuperPacketJudge } from './super-packets.js';
import { TooBigTable } from './too-big.js';
import { checkInnerPacket, countInnerBad, countVxlan } from './tunnel-counts.js';
import { Orders, TunnelTable } from './tunnel-table.js';
import type { AggregateView } from './view.js';

export type { PartState } from './merge-parts.js';

/**
 * Told, for each packet added, every row it was counted in: each tunnel row
 * with the flow row of that tunnel level (null for a later fragment of an
 * outer packet, which belongs to its first fragment's tunnel and to none of
 * its flows). A row's `order` is its id, unique within one aggregator.
 */
export interface CountObserver {
  counted(n: number, tunnel: TunnelEntry, flow: FlowRow | null): void;
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
  /** Which part of a file cut into parts this aggregator counts (see absorbParts()); a whole file without. */
  part?: PartOptions;
}

export interface PartOptions {
  /** 0 for the part at the start of the file, 1 for the next, ... */
  index: number;
}

/** Flows counted before further ones go to a tunnel's overflow row (`--max-flows`). */
export const DEFAULT_MAX_FLOWS = 1_000_000;

const STATUS_INDEX = { good: 0, bad: 1, offload: 2, zero: 3, unverified: 4 } as const;
/** Deeper layers are counted at the last depth; the engine stops at 8 tunnels by default. */
const MAX_DEPTH = 33;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;

const ICMP_DESTINATION_UNREACHABLE = 3;
const ICMP_FRAGMENTATION_NEEDED = 4;
const ICMPV6_PACKET_TOO_BIG = 2;
const ARP_REQUEST = 1;
const ARP_REPLY = 2;

export class StatsAggregator implements AggregateView {
  readonly maxFlows: number;
  readonly maxAddresses: number;
  readonly mtu: number;

  packets = 0;
  bytes = 0;
  readonly seen = new Seen();
  tsDigits: 6 | 9 = 6;
  readonly linktypes = new Map<number, number>();
  readonly issueCounts = new Map<string, number>();
  readonly checksums: number[] = [];
  flowCount = 0;
  /** Packets of flows that found the flow store full. */
  overflowFlowPackets = 0;
  /** Segmentation-offload super-packets: the capture point sat above the NIC. */
  superPackets = 0;
  private readonly superPacketJudge = new SuperPacketJudge();
  /** ICMP errors, unanswered requests and the like, for the findings that name a cause. */
  readonly causes = new CauseObserver();

  /** Every flow of every tunnel row. */
  readonly flows: FlowStore;
  readonly orders = new Orders();
  readonly table: TunnelTable;
  readonly learning: AddressLearning;
  readonly fragments = new FragmentOwners();
  readonly tooBigTable = new TooBigTable();
  /** In a part after the first: later fragments whose first fragment may be in an earlier part. */
  readonly orphans: Orphan[] | null;
  /**
   * The checksum verdicts of the packet being counted: for each checksum, the
   * index of its counter in `checksums`, depth * STATUS_COUNT + status. At
   * most one per layer (32 by default), grown for a packet of more.
   */
  verdicts = new Int32Array(32);
  verdictCount = 0;
  private innerLayers = new Int32Array(16);
  private readonly observer: CountObserver | null;

  constructor(options: AggregatorOptions = {}) {
    this.maxFlows = options.maxFlows ?? DEFAULT_MAX_FLOWS;
    this.maxAddresses = options.maxAddresses ?? 100_000;
    this.mtu = options.mtu ?? 1500;
    this.observer = options.observer ?? null;
    this.orphans = (options.part?.index ?? 0) > 0 ? [] : null;
    this.flows = new FlowStore(this.maxFlows);
    this.table = new TunnelTable(options.maxTunnels ?? 100_000, this.orders);
    this.learning = new AddressLearning(this.maxAddresses);
  }

  get maxTunnels(): number { return this.table.maxTunnels; }
  get tunnels(): readonly TunnelEntry[] { return this.table.tunnels; }
  get none(): TunnelEntry | null { return this.table.none; }
  get overflowTunnel(): TunnelEntry | null { return this.table.overflowTunnel; }
  get vnis(): ReadonlyMap<number, import('./entries.js').VniEntry> { return this.table.vnis; }
  get tunnelByTableId(): readonly TunnelEntry[] { return this.table.byTableId; }
  get macCount(): number { return this.learning.macCount; }
  get overflowMacPackets(): number { return this.learning.overflowMacPackets; }
  get tooBig(): ReadonlyMap<number, ReadonlyMap<string, import('./entries.js').TooBigEntry>> { return this.tooBigTable.rows; }
  get tooBigCount(): number { return this.tooBigTable.count; }

  add(n: number, record: CaptureRecord, packet: Packet): void {
    // A datagram made whole from fragments is no frame: its fragments were counted.
    if (packet.reassembled !== undefined) return;
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
    if (!superPacket && this.superPacketJudge.judge(record.bytes, packet, this.mtu)) superPacket = true;
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
    let outer: IpLayer | null = null;
    for (let i = 0; i < shownEnd; i++) {
      const layer = layers[i];
      if (isIp(layer)) {
        outerIp = i;
        outer = layer;
        break;
      }
    }

    if (tunnels.length === 0) {
      if (outer !== null && fragmentState(outer) === LATER_FRAGMENT_STATE) {
        const owner = this.fragments.ownerOf(record.bytes, outer);
        if (owner !== null) {
          this.addFragmentTail(owner, record, outer);
          if (this.observer !== null) this.observer.counted(n, owner, null);
          return;
        }
        if (this.orphans !== null) {
          this.orphans.push({
            record: { ...record, bytes: record.bytes.slice() }, layers, shownEnd, outerIp, superPacket,
            verdicts: Array.from(this.verdicts.subarray(0, this.verdictCount)), order: this.orders.value,
            keyedInPart: this.fragments.keyed(record.bytes, outer),
          });
          this.orders.value += 2;
          return;
        }
      }
      const entry = this.table.noneRow();
      const flow = this.countUntunnelled(entry, record, layers, shownEnd, outerIp, superPacket);
      if (this.observer !== null) this.observer.counted(n, entry, this.rowOf(entry, flow));
      return;
    }

    for (let k = 0; k < tunnels.length; k++) {
      const tunnel = tunnels[k];
      let carrier = -1;
      let carrierLayer: IpLayer | null = null;
      for (let i = tunnel.layer - 1; i >= 0; i--) {
        const layer = layers[i];
        if (isIp(layer)) {
          carrier = i;
          carrierLayer = layer;
          break;
        }
      }
      const entry = this.table.entry(tunnel, record.bytes, carrierLayer);
      const inner = this.innerLayers[k];
      let innerStart = inner < layers.length
        ? layers[inner].offset
        : layers[inner - 1].offset + layers[inner - 1].length;
      if (innerStart > len) innerStart = len;
      entry.countFrame(len, innerStart, record.sec, record.nsec);
      entry.addChecksums(this.verdicts, this.verdictCount);
      if (anyBad) countInnerBad(entry, layers, inner, shownEnd);

      if (carrierLayer !== null) this.countCarrier(entry, record.bytes, carrierLayer, true);

      if (tunnel.type === 'vxlan') countVxlan(entry, layers, tunnel);
      const segmentEnd = k + 1 < tunnels.length ? tunnels[k + 1].layer : shownEnd;
      const flow = this.scanSegment(entry, record, layers, inner, segmentEnd, outerIp, carrier, superPacket);
      if (this.observer !== null) this.observer.counted(n, entry, this.rowOf(entry, flow));
    }
  }

  /** A packet outside any tunnel, and not the tail of a tunnelled one: the untunnelled row and its flow. */
  countUntunnelled(
    entry: TunnelEntry, record: CaptureRecord, layers: Layer[], shownEnd: number, outerIp: number, superPacket: boolean,
  ): number {
    const len = record.len;
    entry.packets++;
    entry.bytes += len;
    entry.innerBytes += len;
    entry.touch(record.sec, record.nsec);
    if (len > entry.maxOuterLength) entry.maxOuterLength = len;
    entry.addChecksums(this.verdicts, this.verdictCount);
    const outer = outerIp >= 0 ? layers[outerIp] : null;
    if (outer !== null && isIp(outer)) this.countCarrier(entry, record.bytes, outer, false);
    return this.scanSegment(entry, record, layers, 0, shownEnd, -1, -1, superPacket);
  }

  report(): StatsReport {
    return buildReport(this);
  }

  /** This part's counters and rows, for absorbParts() (`moved`: in another thread); the aggregator is of no use after. */
  exportPart(moved = false): PartState {
    return exportPart(this, moved);
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
    return absorbParts(this, parts);
  }

  /** Whether a table reached its cap, or the fragment owners were forgotten: rows then depend on order. */
  capped(): boolean {
    return this.table.overflowTunnel !== null || this.overflowFlowPackets > 0 || this.learning.overflowMacPackets > 0
      || this.tooBigTable.full() || this.fragments.resets > 0;
  }

  /** The tunnel row with exactly this type, direction and id, if one was seen. */
  findTunnel(type: TunnelType, src: string, dst: string, id: number | null): TunnelEntry | null {
    return this.table.find(type, src, dst, id);
  }

  /** The entry behind a tunnel row of a report from this aggregator, if it still has it. */
  findTunnelRow(row: Pick<TunnelStats, 'type' | 'src' | 'dst' | 'id'>): TunnelEntry | null {
    if (row.type === 'none') return this.table.none;
    if (row.type === 'overflow') return this.table.overflowTunnel;
    return this.table.find(row.type, row.src, row.dst, row.id);
  }

  /** The flow behind a flow row of the tunnel entry `tunnel`, if it has it. */
  findFlow(tunnel: TunnelEntry, row: FlowStats): FlowRow | null {
    return findFlowRow(this.flows, tunnel, row);
  }

  hasReverse(entry: TunnelEntry): boolean {
    return this.table.hasReverse(entry);
  }

  private rowOf(entry: TunnelEntry, f: number): FlowRow | null {
    return f < 0 ? null : new FlowRow(this.flows, f, entry);
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
      const checksum = layerChecksum(layers[i]);
      if (checksum === undefined) continue;
      const d = depth < MAX_DEPTH ? depth : MAX_DEPTH - 1;
      verdicts[count++] = d * STATUS_COUNT + STATUS_INDEX[checksum.status];
      if (checksum.status === 'bad') anyBad = true;
    }
    this.verdictCount = count;
    return anyBad;
  }

  /** DF and fragment counts of the IP header that carries a tunnel (or of untunnelled traffic). */
  private countCarrier(entry: TunnelEntry, bytes: Uint8Array, ip: IpLayer, remember: boolean): void {
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
    if (remember && state === FIRST_FRAGMENT) this.fragments.remember(bytes, ip, entry);
  }

  /** A later fragment of an outer packet whose first fragment carried a tunnel: all of it belongs to that tunnel. */
  addFragmentTail(entry: TunnelEntry, record: CaptureRecord, ip: IpLayer): void {
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
   * carrier the IP layer that carries this tunnel. Returns the flow counted.
   */
  private scanSegment(
    entry: TunnelEntry, record: CaptureRecord, layers: Layer[], start: number, end: number,
    outerIp: number, carrier: number, superPacket: boolean,
  ): number {
    let eth: EthLayer | null = null;
    let arp: ArpLayer | null = null;
    let ip = -1;
    let ipLayer: IpLayer | null = null;
    for (let i = start; i < end; i++) {
      const layer = layers[i];
      if (layer.proto === 'ipv4' || layer.proto === 'ipv6') {
        ip = i;
        ipLayer = layer;
        break;
      }
      if (layer.proto === 'arp') {
        arp = layer;
        break;
      }
      if (layer.proto === 'eth' && eth === null) eth = layer;
    }
    const bytes = record.bytes;
    const addresses = this.flows.addresses;
    const full = this.flowCount >= this.maxFlows;

    let kind = KIND_OTHER;
    let src = -1;
    let dst = -1;
    let srcPort = 0;
    let dstPort = 0;
    let fragment = NOT_FRAGMENT;
    let l4: Layer | null = null;
    let mssLimit = Infinity;
    if (ipLayer !== null) {
      // A whole header: its addresses are found by their bytes, their text made only for a report row.
      if (ipLayer.dst === undefined) {
        src = addresses.text(ipLayerAddress(bytes, ipLayer, 'src'), !full);
        dst = addresses.text(ipLayerAddress(bytes, ipLayer, 'dst'), !full);
      } else if (ipLayer.proto === 'ipv4') {
        src = addresses.ipv4(wordAt(bytes, ipLayer.offset + 12), !full);
        dst = addresses.ipv4(wordAt(bytes, ipLayer.offset + 16), !full);
      } else {
        src = addresses.ipv6(bytes, ipLayer.offset + 8, !full);
        dst = addresses.ipv6(bytes, ipLayer.offset + 24, !full);
      }
      const protocol = ipLayer.protocol ?? 0;
      fragment = fragmentState(ipLayer);
      kind = fragment === LATER_FRAGMENT_STATE ? LATER_FRAGMENT + protocol : protocol;
      if (ip + 1 < end && fragment !== LATER_FRAGMENT_STATE) {
        l4 = layers[ip + 1];
        // The decoders set srcPort before dstPort.
        if ((l4.proto === 'tcp' || l4.proto === 'udp') && l4.dstPort !== undefined) {
          srcPort = l4.srcPort ?? 0;
          dstPort = l4.dstPort;
        }
      }
      if (outerIp >= 0) mssLimit = checkInnerPacket(entry, layers, ipLayer, outerIp, carrier, fragment, superPacket, this.mtu);
    } else if (arp !== null) {
      kind = KIND_ARP;
      src = addresses.text(arp.senderIp ?? (eth !== null ? macText(bytes, eth, 6) : ''), !full);
      dst = addresses.text(arp.targetIp ?? '', !full);
      if (entry.vni !== null) {
        if (arp.opcode === ARP_REQUEST) entry.vni.arpRequests++;
        else if (arp.opcode === ARP_REPLY) entry.vni.arpReplies++;
      }
    } else if (eth !== null) {
      kind = ETHERTYPE_BASE + (eth.type ?? 0);
      src = addresses.text(macText(bytes, eth, 6), !full);
      dst = addresses.text(macText(bytes, eth, 0), !full);
    } else {
      src = dst = addresses.text('', !full);
    }

    const f = this.flowOf(entry, kind, src, dst, srcPort, dstPort);
    const store = this.flows;
    store.count1(f, record.len, record.sec, record.nsec);
    if (fragment !== NOT_FRAGMENT) store.c.fragments[f]++;
    if (l4 !== null) {
      if (l4.proto === 'tcp' && l4.flags !== undefined) {
        const flags = l4.flags;
        if (flags & TCP_FIN) store.c.fin[f]++;
        if (flags & TCP_RST) store.c.rst[f]++;
        if (flags & TCP_SYN) store.syn(f, l4.mss, mssLimit);
      } else if (l4.proto === 'icmp') {
        if (l4.type === ICMP_DESTINATION_UNREACHABLE && l4.code === ICMP_FRAGMENTATION_NEEDED && l4.mtu !== undefined && ipLayer !== null) {
          this.tooBigTable.record(4, l4.mtu, bytes, ipLayer, layers, end);
        }
      } else if (l4.proto === 'icmpv6') {
        if (l4.type === ICMPV6_PACKET_TOO_BIG && l4.mtu !== undefined && ipLayer !== null) {
          this.tooBigTable.record(6, l4.mtu, bytes, ipLayer, layers, end);
        }
      }
    }
    if (entry.vni !== null && eth !== null) {
      this.learning.learn(entry, store, f, bytes, eth, arp ?? ipLayer);
    }
    return f;
  }

  /**
   * The flow of a key (address ids, -1 for an address the store does not
   * have), made when new; the tunnel's overflow flow once the store is full.
   */
  flowOf(entry: TunnelEntry, kind: number, src: number, dst: number, srcPort: number, dstPort: number): number {
    const store = this.flows;
    if (src >= 0 && dst >= 0) {
      const found = store.find(entry.tableId, kind, src, dst, srcPort, dstPort);
      if (found >= 0) return found;
      if (this.flowCount < this.maxFlows) {
        entry.flowCount++;
        this.flowCount++;
        return store.add(entry.tableId, kind, src, dst, srcPort, dstPort, this.orders.next());
      }
    }
    this.overflowFlowPackets++;
    if (entry.overflowFlow < 0) {
      entry.overflowFlow = store.addOverflow(entry.tableId, KIND_OVERFLOW, store.addresses.text('', true), this.orders.next());
    }
    return entry.overflowFlow;
  }
}
