// What the terminal UI shows, kept outside React: the statistics aggregator,
// the packets behind every tunnel and flow, and the source they come from (a
// capture file read in one indexing pass, or a live capture whose recent
// packets sit in a ring buffer). Views ask for snapshots, at most as often as
// they redraw; packets are decoded again only when a view shows them.

import { dissect } from '../../decoders/dissect.js';
import type { Packet } from '../../decoders/types.js';
import type { StatsAggregator } from '../analysis/aggregate.js';
import type { FlowStats, StatsReport, TunnelStats } from '../analysis/report.js';
import { FilterError, parseFilter } from '../filter/parse.js';
import { decodeRecords, type PreparedDecode, type RecordSource } from '../pipeline.js';
import type { CaptureRecord, ReadSummary, RecordSink } from '../sources/record.js';
import type { IndexedCaptureFile, PacketStorage } from './capture-index.js';
import {
  flowConversations, tunnelConversations, type ConversationRef, type ConversationRow, type FlowConversationRow,
} from './conversations.js';
import { PacketLines, joinedNumbers, tunnelKey, type PacketLine, type TunnelIdentity } from './packet-lines.js';
import { RowPackets } from './row-packets.js';
import type {
  FlowRow, LiveFeed, OpenedPacket, PacketListRef, SortKey, SourceState, StoreOptions, StoreSnapshot, StoreStatus, TunnelRow,
} from './store-types.js';

export * from './store-types.js';
export { tunnelKey, type PacketLine, type TunnelIdentity } from './packet-lines.js';

function flowKey(tunnel: string, row: FlowStats): string {
  return `${tunnel}|${row.proto} ${row.ipProtocol ?? row.ethertype ?? ''}|${row.src} ${row.srcPort ?? ''}|${row.dst} ${row.dstPort ?? ''}`;
}

interface Session {
  prepared: PreparedDecode;
  filterText: string;
  aggregator: StatsAggregator;
  /** The packet numbers behind each row of the report. */
  rows: RowPackets;
  /** Packet number = base + the pass's own record count. */
  base: number;
  matched: number;
  /** Replaced by a newer session: its pass stops at the next record. */
  stale: boolean;
}

/**
 * While packets stream in, rebuild the report at most twice a second, and at
 * most once per twenty times its own cost: the tables then take at most a
 * twentieth of the time and reading the rest.
 */
const REPORT_MIN_INTERVAL_MS = 500;
const REPORT_COST_SHARE = 20;
const EMPTY_LIST = new Uint32Array(0);
/** Datagrams made whole kept for the packet view; a long capture keeps the latest. */
const MAX_WHOLES = 10000;
const LIVE_SESSION_ENDED: ReadSummary = { format: 'live', records: 0, warning: null, stopped: true };

export class TuiStore {
  /** Bumped for every record and every state change: views redraw when it moves. */
  version = 0;
  private session: Session;
  private state: SourceState;
  /** When the pass over the file began (performance.now()). */
  private passStarted = 0;
  private message: string | null = null;
  private seen = 0;
  private snapshotCache: StoreSnapshot | null = null;
  private tunnelRowsCache: { report: StatsReport; sort: SortKey; rows: TunnelRow[] } | null = null;
  private conversationsCache: { report: StatsReport; sort: SortKey; rows: ConversationRow[] } | null = null;
  private flowConversationsCache: { report: StatsReport; sort: SortKey; key: string; rows: FlowConversationRow[] } | null = null;
  /** When the report may be rebuilt; 0 forces it (a pass ended, a new filter). */
  private reportDueAt = 0;
  private readonly lines = new PacketLines((n) => this.openFrame(n));
  /** Datagrams made whole, by the number of the frame that completed each. */
  private readonly wholes = new Map<number, { record: CaptureRecord; packet: Packet }>();
  /** Joined lists, kept while the lists they join do not grow. */
  private joinedCache = new WeakMap<PacketListRef, { sizes: string; numbers: Uint32Array }>();
  private rateSamples: [time: number, seen: number][] = [];
  private firstTs: number | null = null;
  private lastTs: number | null = null;
  private liveSink: RecordSink | null = null;
  private liveEnded: ((summary: ReadSummary) => void) | null = null;
  private prunedAt = 0;
  private closed = false;
  private readonly maxFlows: number | undefined;
  private readonly mtu: number | undefined;

  private constructor(
    private readonly storage: PacketStorage,
    private readonly file: IndexedCaptureFile | null,
    private readonly liveFeed: LiveFeed | null,
    options: StoreOptions,
  ) {
    this.maxFlows = options.maxFlows;
    this.mtu = options.mtu;
    this.state = file !== null ? 'reading' : 'live';
    this.session = this.newSession(options.prepared, options.filterText, 0);
  }

  /** A store over a capture file: starts its indexing pass at once. */
  static forFile(file: IndexedCaptureFile, options: StoreOptions): TuiStore {
    const store = new TuiStore(file, file, null, options);
    store.startFilePass();
    return store;
  }

  /** A store over a live capture: starts capturing at once. */
  static forLive(feed: LiveFeed, options: StoreOptions): TuiStore {
    const store = new TuiStore(feed.ring, null, feed, options);
    store.startLiveSession();
    store.startCapture();
    return store;
  }

  /** A live capture, not a file. */
  get live(): boolean {
    return this.liveFeed !== null;
  }

  /** A pass over a file is in progress. */
  get reading(): boolean {
    return this.state === 'reading';
  }

  get source(): string {
    return this.file?.path ?? this.liveFeed?.name ?? '';
  }

  /** Parse and apply a new filter; the statistics start over with it. Returns the error when it does not parse. */
  applyFilter(text: string): FilterError | null {
    let filter = null;
    if (text.trim() !== '') {
      try {
        filter = parseFilter(text);
      } catch (err) {
        if (err instanceof FilterError) return err;
        throw err;
      }
    }
    const prepared: PreparedDecode = { ...this.session.prepared, filter };
    this.session.stale = true;
    this.lines.clear();
    this.joinedCache = new WeakMap();
    this.message = null;
    if (this.file !== null) {
      this.session = this.newSession(prepared, text.trim(), 0);
      this.state = 'reading';
      this.startFilePass();
    } else if (this.liveFeed !== null) {
      this.session = this.newSession(prepared, text.trim(), this.liveFeed.ring.oldest - 1);
      this.startLiveSession();
    }
    this.changed();
    return null;
  }

  /**
   * The report and status as of now; the same object until something
   * changes. A report of many flows takes a while to build, so while packets
   * stream in it is rebuilt only when that cost stays a small share of the
   * time; the status (counts, progress) is always fresh.
   */
  snapshot(): StoreSnapshot {
    const cached = this.snapshotCache;
    if (cached !== null && cached.version === this.version) return cached;
    const now = performance.now();
    let report: StatsReport;
    if (cached !== null && now < this.reportDueAt) {
      report = cached.report;
    } else {
      report = this.session.aggregator.report();
      const cost = performance.now() - now;
      this.reportDueAt = now + Math.max(REPORT_MIN_INTERVAL_MS, cost * REPORT_COST_SHARE);
    }
    this.snapshotCache = { version: this.version, status: this.status(), report };
    return this.snapshotCache;
  }

  /** The report's tunnels with their keys, sorted; the same array for the same report and order. */
  tunnelRows(report: StatsReport, sort: SortKey): TunnelRow[] {
    const cached = this.tunnelRowsCache;
    if (cached !== null && cached.report === report && cached.sort === sort) return cached.rows;
    const rows = this.buildTunnelRows(report, sort);
    this.tunnelRowsCache = { report, sort, rows };
    return rows;
  }

  private buildTunnelRows(report: StatsReport, sort: SortKey): TunnelRow[] {
    const findings = new Map<number, number>();
    for (const finding of report.findings) {
      if (finding.tunnel !== undefined) findings.set(finding.tunnel, (findings.get(finding.tunnel) ?? 0) + 1);
    }
    const rows = report.tunnels.map((tunnel, index): TunnelRow => ({
      ...tunnel, key: tunnelKey(tunnel), index, findings: findings.get(index) ?? 0,
    }));
    return rows.sort((a, b) => sortValue(b, sort) - sortValue(a, sort) || a.index - b.index);
  }

  /** Both directions of each tunnel on one row, sorted; the same array for the same report and order. */
  conversationRows(report: StatsReport, sort: SortKey): ConversationRow[] {
    const cached = this.conversationsCache;
    if (cached !== null && cached.report === report && cached.sort === sort) return cached.rows;
    const rows = tunnelConversations(report, sort);
    this.conversationsCache = { report, sort, rows };
    return rows;
  }

  /** Both directions of each flow of a tunnel conversation on one row, sorted. */
  flowConversationRows(report: StatsReport, ref: ConversationRef, sort: SortKey): FlowConversationRow[] {
    const key = `${ref.type} ${ref.id} ${ref.a} ${ref.b}`;
    const cached = this.flowConversationsCache;
    if (cached !== null && cached.report === report && cached.sort === sort && cached.key === key) return cached.rows;
    const rows = flowConversations(report, ref, sort, (tunnel, flow) => this.session.rows.flow(tunnel, flow)?.badChecksums ?? 0);
    this.flowConversationsCache = { report, sort, key, rows };
    return rows;
  }

  /** The flows of one tunnel, sorted. */
  flowRows(report: StatsReport, tunnel: TunnelIdentity, sort: SortKey): FlowRow[] {
    const key = tunnelKey(tunnel);
    const index = report.tunnels.findIndex((row) => tunnelKey(row) === key);
    if (index < 0) return [];
    const rows: FlowRow[] = [];
    for (const flow of report.flows) {
      if (flow.tunnel !== index) continue;
      const list = this.session.rows.flow(tunnel, flow);
      rows.push({ ...flow, key: flowKey(key, flow), badChecksums: list?.badChecksums ?? 0 });
    }
    return rows.sort((a, b) => flowSortValue(b, sort) - flowSortValue(a, sort));
  }

  /** Numbers of the packets held for a list, oldest first. */
  packetNumbers(ref: PacketListRef): Uint32Array {
    if ('joined' in ref) {
      const parts = ref.joined.map((part) => this.packetNumbers(part));
      const sizes = parts.map((part) => `${part.length}:${part[0] ?? 0}`).join(' ');
      const cached = this.joinedCache.get(ref);
      if (cached !== undefined && cached.sizes === sizes) return cached.numbers;
      const numbers = joinedNumbers(parts);
      this.joinedCache.set(ref, { sizes, numbers });
      return numbers;
    }
    const rows = this.session.rows;
    const list = 'all' in ref ? rows.all : ref.flow === undefined ? rows.tunnel(ref.tunnel) : rows.flow(ref.tunnel, ref.flow);
    if (list === undefined) return EMPTY_LIST;
    if (this.liveFeed !== null) list.dropBelow(this.liveFeed.ring.oldest);
    return list.view();
  }

  /**
   * One line of a packet list, decoded on first use, then cached. Under one
   * of `tunnels`, the summary starts inside it (the view's title says it).
   */
  packetLine(n: number, tunnels: TunnelIdentity | readonly TunnelIdentity[]): PacketLine | null {
    return this.lines.line(n, Array.isArray(tunnels) ? tunnels : [tunnels as TunnelIdentity]);
  }

  /** Packet n, read again from the file or the ring and decoded; null when it is no longer held. */
  openPacket(n: number): OpenedPacket | null {
    // The frame that completed a datagram opens on the datagram made whole, as in tshark.
    const whole = this.wholes.get(n);
    if (whole !== undefined) return { n, record: whole.record, packet: whole.packet };
    return this.openFrame(n);
  }

  /** Frame n as captured, read again from the file or the ring and decoded; null when it is no longer held. */
  private openFrame(n: number): OpenedPacket | null {
    const record = this.storage.record(n);
    if (record === null) return null;
    const { registry, verify } = this.session.prepared;
    return { n, record, packet: dissect(record.bytes, record.linktype, record.len, { registry, verify }) };
  }

  /** A datagram made whole, kept for its last frame's packet view; the oldest go past MAX_WHOLES. */
  private holdWhole(n: number, record: CaptureRecord, packet: Packet): void {
    if (this.wholes.size >= MAX_WHOLES) this.wholes.delete(this.wholes.keys().next().value as number);
    this.wholes.set(n, { record, packet });
  }

  /** Stop reading or capturing; close the file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.session.stale = true;
    this.liveEnded?.(LIVE_SESSION_ENDED);
    this.file?.close();
  }

  private newSession(prepared: PreparedDecode, filterText: string, base: number): Session {
    const rows = new RowPackets({ maxFlows: this.maxFlows, mtu: this.mtu });
    return { prepared, filterText, aggregator: rows.aggregator, rows, base, matched: 0, stale: false };
  }

  /** A change the next snapshot must show in full, report included. */
  private changed(): void {
    this.version++;
    this.reportDueAt = 0;
  }

  /** The pipeline's sink for one session: statistics, and the packet lists of its tunnels and flows. */
  private sessionSink(session: Session): (n: number, record: CaptureRecord, packet: Packet) => boolean {
    return (n, record, packet) => {
      if (session.stale) return false;
      const number = session.base + n;
      if (packet.reassembled !== undefined) {
        this.holdWhole(number, record, packet);
        return true;
      }
      session.matched++;
      session.rows.add(number, record, packet);
      this.version++;
      return true;
    };
  }

  private startFilePass(): void {
    this.passStarted = performance.now();
    const file = this.file as IndexedCaptureFile;
    const session = this.session;
    const sink = this.sessionSink(session);
    const source: RecordSource = file.source();
    decodeRecords((recordSink) => source((record) => {
      if (session.stale) return false;
      this.noteTimestamp(record);
      this.version++;
      return recordSink(record);
    }), session.prepared, sink).then((summary) => {
      if (session.stale) return;
      this.state = 'done';
      this.message = summary.warning;
      this.changed();
    }, (err: unknown) => {
      if (session.stale) return;
      this.state = 'failed';
      this.message = err instanceof Error ? err.message : String(err);
      this.changed();
    });
  }

  private noteTimestamp(record: CaptureRecord): void {
    const ts = record.sec + record.nsec / 1e9;
    if (this.firstTs === null) this.firstTs = ts;
    this.lastTs = ts;
  }

  /** A live session first replays what the ring holds, then takes packets as they arrive. */
  private startLiveSession(): void {
    const live = this.liveFeed as LiveFeed;
    const session = this.session;
    this.liveEnded?.(LIVE_SESSION_ENDED);
    const replay: RecordSource = (sink) => {
      for (let n = live.ring.oldest; n <= live.ring.newest; n++) {
        const record = live.ring.record(n);
        if (record !== null && sink(record) === false) break;
      }
      this.liveSink = sink;
      return new Promise((resolve) => {
        this.liveEnded = resolve;
      });
    };
    void decodeRecords(replay, session.prepared, this.sessionSink(session));
  }

  private startCapture(): void {
    const live = this.liveFeed as LiveFeed;
    live.source((record) => {
      if (this.closed) return false;
      this.seen++;
      live.ring.put(this.seen, record);
      this.noteTimestamp(record);
      this.version++;
      if (this.seen - this.prunedAt >= live.ring.capacity) this.pruneLists();
      // A session's sink never stops the capture: only closing the store does.
      this.liveSink?.(record);
      return true;
    }).then((summary) => {
      this.state = 'ended';
      this.message = summary.warning;
      this.changed();
    }, (err: unknown) => {
      this.state = 'failed';
      this.message = err instanceof Error ? err.message : String(err);
      this.changed();
    });
  }

  /** Live: forget the numbers of packets that have left the ring, in every list. */
  private pruneLists(): void {
    const oldest = (this.liveFeed as LiveFeed).ring.oldest;
    for (const list of this.session.rows.lists) list.dropBelow(oldest);
    this.prunedAt = this.seen;
  }

  private status(): StoreStatus {
    const file = this.file;
    const seen = file !== null ? file.index.count : this.seen;
    const progress = file !== null && file.size > 0 ? Math.min(1, file.bytesRead / file.size) : null;
    const elapsed = (performance.now() - this.passStarted) / 1000;
    const reading = this.state === 'reading' && progress !== null && progress > 0 && elapsed > 0;
    return {
      source: this.source,
      kind: file !== null ? 'file' : 'live',
      state: this.state,
      seen,
      matched: this.session.matched,
      rate: file !== null ? this.captureRate(seen) : this.arrivalRate(),
      drops: this.liveFeed?.drops?.() ?? null,
      progress,
      readRate: reading ? seen / elapsed : null,
      secondsLeft: reading ? (elapsed / (progress as number)) * (1 - (progress as number)) : null,
      filter: this.session.filterText,
      message: this.message,
      interfaces: this.liveFeed?.interfaces?.() ?? null,
    };
  }

  /** A file's packets a second over its own time span. */
  private captureRate(seen: number): number {
    if (this.firstTs === null || this.lastTs === null || this.lastTs <= this.firstTs) return 0;
    return seen / (this.lastTs - this.firstTs);
  }

  /** Live packets a second over the last few seconds of wall-clock time. */
  private arrivalRate(): number {
    const now = performance.now();
    const samples = this.rateSamples;
    samples.push([now, this.seen]);
    while (samples.length > 2 && now - samples[1][0] >= 2000) samples.shift();
    const [then, before] = samples[0];
    return now - then < 250 ? 0 : ((this.seen - before) * 1000) / (now - then);
  }
}

function sortValue(row: TunnelStats, sort: SortKey): number {
  return sort === 'bytes' ? row.bytes : sort === 'packets' ? row.packets : row.checksums.bad;
}

function flowSortValue(row: FlowRow, sort: SortKey): number {
  return sort === 'bytes' ? row.bytes : sort === 'packets' ? row.packets : row.badChecksums;
}
