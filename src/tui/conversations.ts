// Conversations: the two directions of a tunnel, and of a flow inside it,
// on one row, the way `tshark -z conv` counts them. The report keeps a
// tunnel (and each flow) per direction; here the rows whose endpoints are the
// same pair are joined. Side A is the one that sent first.

import type { FlowStats, StatsReport, TunnelStats } from '../analysis/report.js';
import type { TunnelIdentity } from './packet-lines.js';
import type { PacketListRef, SortKey } from './store.js';

/** What names a tunnel conversation: its type and id, and its two ends in order A, B. */
export interface ConversationRef {
  type: TunnelStats['type'];
  id: number | null;
  a: string;
  b: string;
}

/** Packets and bytes each way. */
interface TwoWays {
  packetsAB: number;
  bytesAB: number;
  packetsBA: number;
  bytesBA: number;
  bad: number;
}

export interface ConversationRow extends TwoWays {
  key: string;
  ref: ConversationRef;
  /** The tunnel rows of the conversation (one per direction that carried packets). */
  tunnels: TunnelIdentity[];
  /** Flow conversations inside. */
  flows: number;
  firstTs: number;
}

export interface FlowConversationRow extends TwoWays {
  key: string;
  proto: string;
  a: string;
  b: string;
  /** Both directions' packets, in capture order. */
  packets: PacketListRef;
  firstTs: number;
}

function pairKey(type: string, id: number | null, x: string, y: string): string {
  return `${type} ${id ?? '-'} ${x < y ? x : y} ${x < y ? y : x}`;
}

function endpointText(address: string, port: number | undefined): string {
  if (port === undefined) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function sortValue(row: TwoWays, sort: SortKey): number {
  if (sort === 'bytes') return row.bytesAB + row.bytesBA;
  if (sort === 'packets') return row.packetsAB + row.packetsBA;
  return row.bad;
}

/** The tunnel rows of the report that make one conversation, oldest first. */
function groupTunnels(report: StatsReport): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  report.tunnels.forEach((tunnel, index) => {
    const key = pairKey(tunnel.type, tunnel.id, tunnel.src, tunnel.dst);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [index]);
    else group.push(index);
  });
  for (const group of groups.values()) group.sort((x, y) => report.tunnels[x].firstTs - report.tunnels[y].firstTs || x - y);
  return groups;
}

function flowPairKey(flow: FlowStats): string {
  const kind = `${flow.proto} ${flow.ipProtocol ?? flow.ethertype ?? ''}${flow.laterFragments === true ? ' fragments' : ''}`;
  return pairKey(kind, null, endpointText(flow.src, flow.srcPort), endpointText(flow.dst, flow.dstPort));
}

/** The tunnel conversations, sorted. */
export function tunnelConversations(report: StatsReport, sort: SortKey): ConversationRow[] {
  const rows: ConversationRow[] = [];
  const flowKeys = new Map<number, Set<string>>();
  for (const flow of report.flows) {
    let keys = flowKeys.get(flow.tunnel);
    if (keys === undefined) flowKeys.set(flow.tunnel, (keys = new Set()));
    keys.add(flowPairKey(flow));
  }
  for (const [key, group] of groupTunnels(report)) {
    const first = report.tunnels[group[0]];
    const row: ConversationRow = {
      key, ref: { type: first.type, id: first.id, a: first.src, b: first.dst }, tunnels: [],
      packetsAB: 0, bytesAB: 0, packetsBA: 0, bytesBA: 0, bad: 0, flows: 0, firstTs: first.firstTs,
    };
    const flows = new Set<string>();
    for (const index of group) {
      const tunnel: TunnelStats = report.tunnels[index];
      row.tunnels.push({ type: tunnel.type, id: tunnel.id, src: tunnel.src, dst: tunnel.dst });
      // An untunnelled row (no ends) or one whose ends are the same address counts as A to B.
      const forward = tunnel.src === first.src;
      if (forward) {
        row.packetsAB += tunnel.packets;
        row.bytesAB += tunnel.bytes;
      } else {
        row.packetsBA += tunnel.packets;
        row.bytesBA += tunnel.bytes;
      }
      row.bad += tunnel.checksums.bad;
      for (const flowKey of flowKeys.get(index) ?? []) flows.add(flowKey);
    }
    row.flows = flows.size;
    rows.push(row);
  }
  return rows.sort((x, y) => sortValue(y, sort) - sortValue(x, sort) || x.firstTs - y.firstTs);
}

/** The tunnel rows of one conversation, by index into the report. */
function conversationTunnels(report: StatsReport, ref: ConversationRef): number[] {
  return groupTunnels(report).get(pairKey(ref.type, ref.id, ref.a, ref.b)) ?? [];
}

/**
 * The flow conversations inside a tunnel conversation, sorted. `badOf` gives
 * a flow row's packets with a bad checksum.
 */
export function flowConversations(
  report: StatsReport, ref: ConversationRef, sort: SortKey, badOf: (tunnel: TunnelIdentity, flow: FlowStats) => number,
): FlowConversationRow[] {
  const tunnels = conversationTunnels(report, ref);
  const identities = tunnels.map((index) => {
    const t = report.tunnels[index];
    return { type: t.type, id: t.id, src: t.src, dst: t.dst };
  });
  const members = new Map<string, FlowStats[]>();
  for (const flow of report.flows) {
    if (!tunnels.includes(flow.tunnel)) continue;
    const key = flowPairKey(flow);
    const list = members.get(key);
    if (list === undefined) members.set(key, [flow]);
    else list.push(flow);
  }
  const rows: FlowConversationRow[] = [];
  for (const [key, flows] of members) {
    flows.sort((x, y) => x.firstTs - y.firstTs);
    const first = flows[0];
    const a = endpointText(first.src, first.srcPort);
    const b = endpointText(first.dst, first.dstPort);
    const row: FlowConversationRow = {
      key, proto: first.proto, a, b, packetsAB: 0, bytesAB: 0, packetsBA: 0, bytesBA: 0, bad: 0, firstTs: first.firstTs,
      packets: {
        joined: flows.map((flow) => ({ tunnel: identities[tunnels.indexOf(flow.tunnel)], flow })),
        tunnels: identities,
      },
    };
    for (const flow of flows) {
      if (endpointText(flow.src, flow.srcPort) === a) {
        row.packetsAB += flow.packets;
        row.bytesAB += flow.bytes;
      } else {
        row.packetsBA += flow.packets;
        row.bytesBA += flow.bytes;
      }
      row.bad += badOf(identities[tunnels.indexOf(flow.tunnel)], flow);
    }
    rows.push(row);
  }
  return rows.sort((x, y) => sortValue(y, sort) - sortValue(x, sort) || x.firstTs - y.firstTs);
}

/** Every packet of a tunnel conversation, both directions, in capture order. */
export function conversationPackets(row: ConversationRow): PacketListRef {
  return { joined: row.tunnels.map((tunnel) => ({ tunnel })), tunnels: row.tunnels };
}

/** How a conversation is named in titles. */
export function conversationTitle(ref: ConversationRef): string {
  if (ref.type === 'none') return 'untunnelled traffic';
  if (ref.type === 'overflow') return 'other tunnels';
  return `${ref.type}${ref.id === null ? '' : ` ${ref.id}`} ${ref.a} ↔ ${ref.b}`;
}
