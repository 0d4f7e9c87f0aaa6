// The lines of the packet lists, decoded when a list first shows them and
// kept in a small cache: a list of a million packets costs what the screen
// shows, and scrolling back does not decode again.

import type { Packet } from '../../decoders/types.js';
import type { TunnelStats } from '../analysis/report.js';
import { packetSummary } from '../output/line.js';
import { timeOfDayText } from '../output/timestamp.js';
import type { CaptureRecord } from '../sources/record.js';
import { hasBadChecksum } from './row-packets.js';

/** What names a tunnel row: one direction of one tunnel. */
export type TunnelIdentity = Pick<TunnelStats, 'type' | 'id' | 'src' | 'dst'>;

/** A tunnel row's identity as a string, to keep a selection on its row while the table re-sorts. */
export function tunnelKey(row: TunnelIdentity): string {
  return `${row.type} ${row.id ?? '-'} ${row.src} ${row.dst}`;
}

/** One line of the packet list, decoded on demand. */
export interface PacketLine {
  n: number;
  time: string;
  len: number;
  summary: string;
  badChecksum: boolean;
  issues: number;
}

interface DecodedLine {
  n: number;
  time: string;
  len: number;
  /** The summary's parts: one per tunnel level, then the innermost traffic. */
  parts: string[];
  tunnelKeys: string[];
  /** Each tunnel's type and id, for a line that names them briefly. */
  tunnelTags: string[];
  badChecksum: boolean;
  issues: number;
}

/** How packetSummary() joins the parts of the tunnel levels. */
const SUMMARY_SEPARATOR = ' | ';
const LINE_CACHE_SIZE = 512;

export class PacketLines {
  private cache = new Map<number, DecodedLine>();

  constructor(private readonly open: (n: number) => { record: CaptureRecord; packet: Packet } | null) {}

  clear(): void {
    this.cache.clear();
  }

  /**
   * Packet n's line. Under one of `tunnels`, the summary starts inside it:
   * the tunnel's own part is the same on every line and the view's title
   * already says it. With no tunnels given (the whole capture), each tunnel
   * is named by its type and id only, so that the inner packet stays in view.
   */
  line(n: number, tunnels: readonly TunnelIdentity[]): PacketLine | null {
    let decoded = this.cache.get(n);
    if (decoded === undefined) {
      const opened = this.open(n);
      if (opened === null) return null;
      const { record, packet } = opened;
      decoded = {
        n, time: timeOfDayText(record), len: record.len, parts: packetSummary(packet).split(SUMMARY_SEPARATOR),
        tunnelKeys: packet.tunnels.map(tunnelKey),
        tunnelTags: packet.tunnels.map((tunnel) => (tunnel.id === null ? tunnel.type : `${tunnel.type} ${tunnel.id}`)),
        badChecksum: hasBadChecksum(packet), issues: packet.issues.length,
      };
      if (this.cache.size >= LINE_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as number);
      this.cache.set(n, decoded);
    }
    const { parts, tunnelKeys } = decoded;
    let level = -1;
    for (const tunnel of tunnels) {
      level = tunnelKeys.indexOf(tunnelKey(tunnel));
      if (level >= 0) break;
    }
    const whole = parts.length === tunnelKeys.length + 1;
    let summary: string;
    if (level >= 0 && whole) summary = parts.slice(level + 1).join(SUMMARY_SEPARATOR);
    else if (tunnels.length === 0 && whole && tunnelKeys.length > 0) summary = [...decoded.tunnelTags, parts[parts.length - 1]].join(SUMMARY_SEPARATOR);
    else summary = parts.join(SUMMARY_SEPARATOR);
    return { n, time: decoded.time, len: decoded.len, badChecksum: decoded.badChecksum, issues: decoded.issues, summary };
  }
}

/** Numbers from lists that each ascend, joined in one ascending list. */
export function joinedNumbers(lists: Uint32Array[]): Uint32Array {
  const nonEmpty = lists.filter((list) => list.length > 0);
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? new Uint32Array(0);
  const out = new Uint32Array(nonEmpty.reduce((sum, list) => sum + list.length, 0));
  const at = nonEmpty.map(() => 0);
  let filled = 0;
  let last = -1;
  for (;;) {
    let pick = -1;
    for (let i = 0; i < nonEmpty.length; i++) {
      if (at[i] < nonEmpty[i].length && (pick < 0 || nonEmpty[i][at[i]] < nonEmpty[pick][at[pick]])) pick = i;
    }
    if (pick < 0) break;
    const n = nonEmpty[pick][at[pick]++];
    // A packet in nested tunnels may sit in two of the lists: it is listed once.
    if (n !== last) out[filled++] = n;
    last = n;
  }
  return out.subarray(0, filled);
}
