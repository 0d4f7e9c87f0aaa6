// The shapes the terminal UI's store hands to the views: sort keys, packet
// list references, table rows, the source's status, and how a store is made.

import type { Packet } from '../../decoders/types.js';
import type { FlowStats, StatsReport, TunnelStats } from '../analysis/report.js';
import type { PreparedDecode, RecordSource } from '../pipeline.js';
import type { CaptureRecord } from '../sources/record.js';
import type { PacketRing } from './packet-ring.js';
import type { TunnelIdentity } from './packet-lines.js';

export type SortKey = 'bytes' | 'packets' | 'bad';

export const SORT_KEYS: readonly SortKey[] = ['bytes', 'packets', 'bad'];

/**
 * A packet list: every packet that matched, a tunnel's, one of its flows', or
 * several lists joined in capture order (both directions of a conversation).
 */
export type PacketListRef =
  | { all: true }
  | { tunnel: TunnelIdentity; flow?: FlowStats }
  | { joined: PacketListRef[]; tunnels: TunnelIdentity[] };

/** The tunnels whose own part a packet list's summaries leave out (the title says it). */
export function listTunnels(ref: PacketListRef): TunnelIdentity[] {
  if ('all' in ref) return [];
  return 'joined' in ref ? ref.tunnels : [ref.tunnel];
}


export interface TunnelRow extends TunnelStats {
  key: string;
  /** Index into the report's tunnels. */
  index: number;
  /** Findings about this tunnel. */
  findings: number;
}

export interface FlowRow extends FlowStats {
  key: string;
  badChecksums: number;
}

/** A packet opened in the packet view. */
export interface OpenedPacket {
  n: number;
  record: CaptureRecord;
  packet: Packet;
}

export type SourceState = 'reading' | 'done' | 'live' | 'ended' | 'failed';

export interface StoreStatus {
  /** The file path or interface name. */
  source: string;
  kind: 'file' | 'live';
  state: SourceState;
  /** Records read from the source. */
  seen: number;
  /** Records that passed the filter. */
  matched: number;
  /** Packets a second: arriving (live), or over the capture's time span (file). */
  rate: number;
  /** Packets the kernel dropped (live), when the source knows. */
  drops: number | null;
  /** How much of the file the pass in progress has read, 0..1 (file). */
  progress: number | null;
  /** While a file is read: packets read a second, and the seconds left at that pace (null until known). */
  readRate: number | null;
  secondsLeft: number | null;
  filter: string;
  /** A warning or error from the source (a cut-off file, an interface gone). */
  message: string | null;
  /** Live, on several interfaces: each one's counts, in the order given; null otherwise. */
  interfaces: LiveInterfaceCounts[] | null;
}

/** What a live capture counts on one of its interfaces. */
export interface LiveInterfaceCounts {
  /** As given: bk1/vx42. */
  name: string;
  /** Packets read from its rings. */
  received: number;
  /** Dropped by the kernel (ring full); null when libpcap cannot tell. */
  droppedByKernel: number | null;
  /** Why it stopped before the end (it disappeared), or null. */
  gone: string | null;
}

export interface StoreSnapshot {
  version: number;
  status: StoreStatus;
  report: StatsReport;
}

export interface LiveFeed {
  /** The interface name. */
  name: string;
  /** The live capture: runs until the interface goes away or a sink returns false. */
  source: RecordSource;
  ring: PacketRing;
  /** Kernel drop count, when the capture can tell. */
  drops?: () => number | null;
  /** Each interface's counts, when there are several. */
  interfaces?: () => LiveInterfaceCounts[];
}

export interface StoreOptions {
  prepared: PreparedDecode;
  /** The filter's text as the user typed it ('' for none). */
  filterText: string;
  /** Most flows the aggregator keeps (and the store lists packets for); the aggregator's default otherwise. */
  maxFlows?: number;
  /** The underlay MTU the findings measure against; the aggregator's default otherwise. */
  mtu?: number;
}
