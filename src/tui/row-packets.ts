// The packets behind each row of the statistics report. The aggregator
// decides which tunnel and flow rows a packet counts in and tells this
// observer; packet numbers are filed under the rows' ids, so a list always
// holds exactly the packets its row counts. Overflow rows (past the
// aggregator's caps) get no list.

import type { Packet } from '../../decoders/types.js';
import { StatsAggregator, type AggregatorOptions, type CountObserver } from '../analysis/aggregate.js';
import type { TunnelEntry } from '../analysis/entries.js';
import type { FlowRow } from '../analysis/flow-store.js';
import type { FlowStats, TunnelStats } from '../analysis/report.js';
import type { CaptureRecord } from '../sources/record.js';
import { PacketList } from './packet-list.js';

export function hasBadChecksum(packet: Packet): boolean {
  const issues = packet.issues;
  for (let i = 0; i < issues.length; i++) if (issues[i].kind === 'bad-checksum') return true;
  return false;
}

export class RowPackets implements CountObserver {
  readonly aggregator: StatsAggregator;
  /** Every packet counted, in capture order. */
  readonly all = new PacketList();
  /** Every list, for pruning a live capture's. */
  readonly lists: PacketList[] = [this.all];
  /** Lists by row id. */
  private readonly byRow: (PacketList | undefined)[] = [];
  /** Whether the packet being counted has a bad checksum. */
  private badChecksum = false;

  constructor(options: Omit<AggregatorOptions, 'observer'>) {
    this.aggregator = new StatsAggregator({ ...options, observer: this });
  }

  /** Counts packet n in the statistics and files it under every row it counts in. */
  add(n: number, record: CaptureRecord, packet: Packet): void {
    this.badChecksum = hasBadChecksum(packet);
    this.all.push(n, this.badChecksum);
    this.aggregator.add(n, record, packet);
  }

  counted(n: number, tunnel: TunnelEntry, flow: FlowRow | null): void {
    if (tunnel.type === 'overflow') return;
    this.listOf(tunnel.order).push(n, this.badChecksum);
    if (flow !== null && flow.id !== tunnel.overflowFlow) this.listOf(flow.order).push(n, this.badChecksum);
  }

  /** The packets of a tunnel row; undefined for rows without a list. */
  tunnel(row: Pick<TunnelStats, 'type' | 'id' | 'src' | 'dst'>): PacketList | undefined {
    const entry = this.aggregator.findTunnelRow(row);
    return entry === null ? undefined : this.byRow[entry.order];
  }

  /** The packets of a flow row of the tunnel row `tunnel`. */
  flow(tunnel: Pick<TunnelStats, 'type' | 'id' | 'src' | 'dst'>, row: FlowStats): PacketList | undefined {
    const entry = this.aggregator.findTunnelRow(tunnel);
    const flow = entry === null ? null : this.aggregator.findFlow(entry, row);
    return flow === null ? undefined : this.byRow[flow.order];
  }

  private listOf(id: number): PacketList {
    let list = this.byRow[id];
    if (list === undefined) {
      list = new PacketList();
      this.byRow[id] = list;
      this.lists.push(list);
    }
    return list;
  }
}
