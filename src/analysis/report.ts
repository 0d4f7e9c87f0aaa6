// The shape of `tunscope stats --json` (README, "JSON output"): what the
// aggregator produces and what the tables, the CSV and the terminal UI show.

import type { TunnelType } from '../../decoders/types.js';

export interface ChecksumCounts {
  bad: number;
  offload: number;
}

export interface TunnelStats {
  /** `none` is the row that sums untunnelled traffic. */
  type: TunnelType | 'none';
  src: string;
  dst: string;
  id: number | null;
  packets: number;
  bytes: number;
  innerBytes: number;
  overheadBytes: number;
  flows: number;
  firstTs: number;
  lastTs: number;
  checksums: ChecksumCounts;
  fragments: { outer: number; inner: number };
  maxOuterLength: number;
}

export interface FlowStats {
  /** Index into StatsReport.tunnels. */
  tunnel: number;
  proto: string;
  src: string;
  srcPort?: number;
  dst: string;
  dstPort?: number;
  packets: number;
  bytes: number;
}

export interface Finding {
  severity: 'info' | 'warning' | 'error';
  /** Index into StatsReport.tunnels, when the finding is about one tunnel. */
  tunnel?: number;
  message: string;
}

export interface StatsReport {
  packets: number;
  bytes: number;
  linktypes: Record<string, number>;
  tunnels: TunnelStats[];
  flows: FlowStats[];
  findings: Finding[];
}
