// What a report is made from: the counters of an aggregator, read only. The
// report and its findings read this, never the aggregator that fills it.

import type { Seen, TooBigEntry, TunnelEntry, VniEntry } from './entries.js';
import type { TunnelType } from '../../decoders/types.js';
import type { CauseObserver } from './causes.js';
import type { FlowStore } from './flow-store.js';

export interface AggregateView {
  readonly maxFlows: number;
  readonly maxTunnels: number;
  readonly maxAddresses: number;
  readonly mtu: number;
  readonly packets: number;
  readonly bytes: number;
  readonly seen: Seen;
  readonly tsDigits: 6 | 9;
  readonly linktypes: ReadonlyMap<number, number>;
  readonly issueCounts: ReadonlyMap<string, number>;
  /** Checksum verdict counts, index depth * STATUS_COUNT + status. */
  readonly checksums: readonly number[];
  readonly tunnels: readonly TunnelEntry[];
  readonly none: TunnelEntry | null;
  readonly overflowTunnel: TunnelEntry | null;
  readonly vnis: ReadonlyMap<number, VniEntry>;
  /** Every flow, each tunnel row's overflow flow too. */
  readonly flows: Pick<FlowStore, 'count' | 'c' | 'addresses' | 'sorted' | 'anyMssOverLimit' | 'mssLimitOf'>;
  /** A tunnel row by its tableId (a flow's `tunnel` column). */
  readonly tunnelByTableId: readonly TunnelEntry[];
  readonly overflowFlowPackets: number;
  readonly overflowMacPackets: number;
  readonly tooBig: ReadonlyMap<number, ReadonlyMap<string, TooBigEntry>>;
  readonly superPackets: number;
  /** ICMP errors, unanswered requests and the like, for the findings that name a cause. */
  readonly causes: CauseObserver;
  findTunnel(type: TunnelType, src: string, dst: string, id: number | null): TunnelEntry | null;
  hasReverse(entry: TunnelEntry): boolean;
}
