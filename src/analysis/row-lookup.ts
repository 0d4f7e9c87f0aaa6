// From a row of a report back to the flow the store holds for it: the row
// shows addresses as text, the store knows them by number.

import { parseIPv6 } from '../../decoders/address.js';
import { flowKindOf } from './build-report.js';
import { KIND_ARP, KIND_OVERFLOW, ipv4Word, type TunnelEntry } from './entries.js';
import { FlowRow, type FlowStore } from './flow-store.js';
import type { FlowStats } from './report.js';

/** The flow behind a flow row of the tunnel entry `tunnel`, if `flows` has it. */
export function findFlowRow(flows: FlowStore, tunnel: TunnelEntry, row: FlowStats): FlowRow | null {
  const kind = flowKindOf(row);
  if (kind === KIND_OVERFLOW) return tunnel.overflowFlow < 0 ? null : new FlowRow(flows, tunnel.overflowFlow, tunnel);
  const addresses = flows.addresses;
  const idOf = (text: string): number => {
    if (kind < KIND_ARP) {
      const word = ipv4Word(text);
      if (word >= 0) {
        const id = addresses.ipv4(word, false);
        if (id >= 0) return id;
      }
    }
    return addresses.text(text, false);
  };
  let f = flows.find(tunnel.tableId, kind, idOf(row.src), idOf(row.dst), row.srcPort ?? 0, row.dstPort ?? 0);
  if (f < 0 && kind < KIND_ARP && row.src.includes(':')) {
    // An IPv6 flow: its addresses are known by their bytes, whose text the row shows.
    const ipv6IdOf = (text: string): number => {
      const bytes = parseIPv6(text);
      return bytes === null ? -1 : addresses.ipv6(bytes, 0, false);
    };
    f = flows.find(tunnel.tableId, kind, ipv6IdOf(row.src), ipv6IdOf(row.dst), row.srcPort ?? 0, row.dstPort ?? 0);
  }
  return f < 0 ? null : new FlowRow(flows, f, tunnel);
}
