// From the aggregator's counters to the `stats --json` shape: rows sorted by
// bytes, indices that point between them, timestamps as JSON numbers, and
// the findings.

import { linktypeName } from '../../decoders/registry.js';
import {
  CHECKSUM_STATUSES, ETHERTYPE_BASE, KIND_ARP, KIND_OTHER, KIND_OVERFLOW, LATER_FRAGMENT, STATUS_COUNT, learnedIpText,
  type Seen, type TunnelEntry, type VniEntry,
} from './entries.js';
import { findingsOf } from './findings.js';
import { FlowRow } from './flow-store.js';
import type { AggregateView } from './view.js';
import { isoTimestamp, secondsText } from '../output/timestamp.js';
import type { DepthChecksums, FlowStats, LearnedAddress, StatsReport, TunnelStats, VniStats } from './report.js';

const IP_PROTOCOL_NAMES: Record<number, string> = {
  1: 'icmp', 4: 'ipv4', 6: 'tcp', 17: 'udp', 41: 'ipv6', 47: 'gre', 58: 'icmpv6',
};

/** Seconds since the epoch as a JSON number with the capture's digits, e.g. 1700000000.000123. */
export function timestampNumber(sec: number, nsec: number, digits: 6 | 9): number {
  return Number(secondsText(sec, nsec, digits));
}

/**
 * The same instant exactly, as ISO 8601 UTC text with the capture's digits:
 * 2023-11-14T22:13:20.000000001Z; beyond the years 0000-9999, which ISO 8601
 * writes in four digits, the seconds since 1970 as text.
 */
export function timestampText(sec: number, nsec: number, digits: 6 | 9): string {
  if (!Number.isFinite(sec)) return '';
  return isoTimestamp(sec, nsec, digits) ?? secondsText(sec, nsec, digits);
}

function duration(seen: Seen): number {
  return (seen.lastSec - seen.firstSec) + (seen.lastNsec - seen.firstNsec) / 1e9;
}

function rounded(value: number, places: number): number {
  const scale = 10 ** places;
  return Math.round(value * scale) / scale;
}

function depthChecksums(counts: readonly number[]): DepthChecksums[] {
  const out: DepthChecksums[] = [];
  for (let d = 0; d * STATUS_COUNT < counts.length; d++) {
    const row: DepthChecksums = { depth: d, good: 0, bad: 0, offload: 0, zero: 0, unverified: 0 };
    for (let s = 0; s < STATUS_COUNT; s++) row[CHECKSUM_STATUSES[s]] = counts[d * STATUS_COUNT + s];
    out.push(row);
  }
  return out;
}

interface Ranked {
  bytes: number;
  packets: number;
  order: number;
}

function byBytes(a: Ranked, b: Ranked): number {
  return b.bytes - a.bytes || b.packets - a.packets || a.order - b.order;
}

function tunnelStats(entry: TunnelEntry, digits: 6 | 9): TunnelStats {
  const seconds = duration(entry);
  const byDepth = depthChecksums(entry.checksums);
  let bad = 0;
  let offload = 0;
  for (const row of byDepth) {
    bad += row.bad;
    offload += row.offload;
  }
  return {
    type: entry.type,
    src: entry.src,
    dst: entry.dst,
    id: entry.id,
    packets: entry.packets,
    bytes: entry.bytes,
    innerBytes: entry.innerBytes,
    overheadBytes: entry.overheadBytes,
    overheadPercent: entry.bytes === 0 ? 0 : rounded((100 * entry.overheadBytes) / entry.bytes, 2),
    flows: entry.flowCount + (entry.overflowFlow < 0 ? 0 : 1),
    firstTs: timestampNumber(entry.firstSec, entry.firstNsec, digits),
    lastTs: timestampNumber(entry.lastSec, entry.lastNsec, digits),
    firstTime: timestampText(entry.firstSec, entry.firstNsec, digits),
    lastTime: timestampText(entry.lastSec, entry.lastNsec, digits),
    bitsPerSecond: seconds > 0 ? rounded((entry.bytes * 8) / seconds, 1) : null,
    packetsPerSecond: seconds > 0 ? rounded(entry.packets / seconds, 3) : null,
    checksums: { bad, offload },
    checksumsByDepth: byDepth,
    fragments: { outer: entry.outerFragments, inner: entry.innerFragments },
    maxOuterLength: entry.maxOuterLength,
    df: { set: entry.dfSet, clear: entry.dfClear },
    encapsulation: entry.encapsulation < 0 ? null : entry.encapsulation,
    largestInnerPacket: entry.largestInnerPacket,
  };
}

function flowStats(flow: FlowRow, tunnel: number, digits: 6 | 9): FlowStats {
  const kind = flow.kind;
  const ip = kind < KIND_ARP;
  const protocol = kind >= LATER_FRAGMENT ? kind - LATER_FRAGMENT : kind;
  let proto = 'other';
  if (ip) proto = IP_PROTOCOL_NAMES[protocol] ?? 'ip';
  else if (kind === KIND_ARP) proto = 'arp';
  else if (kind < KIND_OTHER) proto = 'eth';
  else if (kind === KIND_OVERFLOW) proto = 'overflow';
  const firstTs = timestampNumber(flow.firstSec, flow.firstNsec, digits);
  const lastTs = timestampNumber(flow.lastSec, flow.lastNsec, digits);
  const firstTime = timestampText(flow.firstSec, flow.firstNsec, digits);
  const lastTime = timestampText(flow.lastSec, flow.lastNsec, digits);
  const { src, dst, packets, bytes, fragments } = flow;
  // Keys in the order the JSON shows them; TCP and UDP flows, nearly all of them, in one literal.
  if (kind === 6 || kind === 17) {
    const stats: FlowStats = {
      tunnel, proto, src, srcPort: flow.srcPort, dst, dstPort: flow.dstPort, packets, bytes,
      firstTs, lastTs, firstTime, lastTime, ipProtocol: protocol, fragments,
    };
    if (kind === 6) {
      stats.tcp = { syn: flow.syn, fin: flow.fin, rst: flow.rst };
      if (flow.mss >= 0) stats.tcp.mss = flow.mss;
    }
    return stats;
  }
  // `fragments` is added below, in its place among the keys that depend on the kind.
  const stats = { tunnel, proto, src, dst, packets, bytes, firstTs, lastTs, firstTime, lastTime } as FlowStats;
  if (ip) stats.ipProtocol = protocol;
  if (proto === 'eth') stats.ethertype = kind - ETHERTYPE_BASE;
  stats.fragments = fragments;
  if (ip && kind >= LATER_FRAGMENT) stats.laterFragments = true;
  return stats;
}

/** The flow kind a flow row was named from: the inverse of flowStats()'s naming. */
export function flowKindOf(row: FlowStats): number {
  switch (row.proto) {
    case 'arp': return KIND_ARP;
    case 'eth': return ETHERTYPE_BASE + (row.ethertype ?? 0);
    case 'other': return KIND_OTHER;
    case 'overflow': return KIND_OVERFLOW;
    default: return (row.ipProtocol ?? 0) + (row.laterFragments === true ? LATER_FRAGMENT : 0);
  }
}

/** A VNI's learned MAC addresses, by packets (ties by address). */
function learnedAddresses(vni: VniEntry): LearnedAddress[] {
  return [...vni.macs]
    .sort((a, b) => b.packets - a.packets || (a.mac < b.mac ? -1 : 1))
    .map((mac) => {
      const learned: LearnedAddress = { mac: mac.mac, vtep: mac.vtep, ips: mac.ips.map(learnedIpText), packets: mac.packets };
      if (mac.movedTo !== null) learned.movedTo = mac.movedTo;
      return learned;
    });
}

export function buildReport(agg: AggregateView): StatsReport {
  const digits = agg.tsDigits;
  const entries: TunnelEntry[] = [...agg.tunnels];
  if (agg.overflowTunnel !== null) entries.push(agg.overflowTunnel);
  if (agg.none !== null) entries.push(agg.none);
  entries.sort(byBytes);
  const tunnelIndex = new Map<TunnelEntry, number>();
  entries.forEach((entry, i) => tunnelIndex.set(entry, i));
  const tunnels = entries.map((entry) => tunnelStats(entry, digits));

  // The flows stay in the store's columns until a row is read.
  const store = agg.flows;
  let sorted: FlowRow[] | null = null;
  const sortedFlows = (): FlowRow[] => {
    sorted ??= Array.from(store.sorted(), (f) => new FlowRow(store, f, agg.tunnelByTableId[store.c.tunnel[f]]));
    return sorted;
  };
  let flows: FlowStats[] | null = null;

  const vnis: (Ranked & { row: VniStats })[] = [];
  for (const vni of agg.vnis.values()) {
    const indices = vni.tunnels.map((entry) => tunnelIndex.get(entry) as number).sort((a, b) => a - b);
    let packets = 0;
    let bytes = 0;
    let flowCount = 0;
    for (const i of indices) {
      packets += tunnels[i].packets;
      bytes += tunnels[i].bytes;
      flowCount += tunnels[i].flows;
    }
    // Made when first read, as the flow rows are: only the VNI table and JSON show them.
    let macs: LearnedAddress[] | null = null;
    const row: VniStats = {
      type: vni.type, id: vni.id, tunnels: indices, packets, bytes, flows: flowCount,
      get macs(): LearnedAddress[] {
        return (macs ??= learnedAddresses(vni));
      },
      arp: { requests: vni.arpRequests, replies: vni.arpReplies },
    };
    vnis.push({ row, packets, bytes, order: Math.min(...indices) });
  }
  vnis.sort(byBytes);

  const linktypes: Record<string, number> = {};
  for (const [linktype, count] of agg.linktypes) linktypes[linktypeName(linktype)] = count;
  const issues: Record<string, number> = {};
  for (const [kind, count] of agg.issueCounts) issues[kind] = count;

  const findings = findingsOf(agg, { entries, tunnels, tunnelIndex, anyMssOverLimit: () => store.anyMssOverLimit(), sortedFlows });
  return {
    packets: agg.packets,
    bytes: agg.bytes,
    linktypes,
    firstTs: agg.packets === 0 ? null : timestampNumber(agg.seen.firstSec, agg.seen.firstNsec, digits),
    lastTs: agg.packets === 0 ? null : timestampNumber(agg.seen.lastSec, agg.seen.lastNsec, digits),
    firstTime: agg.packets === 0 ? null : timestampText(agg.seen.firstSec, agg.seen.firstNsec, digits),
    lastTime: agg.packets === 0 ? null : timestampText(agg.seen.lastSec, agg.seen.lastNsec, digits),
    tunnels,
    // Made (and sorted) when first read: the tables show a few flows or none,
    // and sorting and making tens of thousands of rows took most of the time
    // of a report that prints none.
    get flows(): FlowStats[] {
      return (flows ??= sortedFlows().map((flow) => flowStats(flow, tunnelIndex.get(flow.tunnel) as number, digits)));
    },
    vnis: vnis.map((vni) => vni.row),
    checksums: depthChecksums(agg.checksums),
    issues,
    superPackets: agg.superPackets,
    reassembly: null,
    findings,
  };
}
