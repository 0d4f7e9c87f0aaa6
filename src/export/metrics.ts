// Prometheus metrics of a report (the `stats --json` shape) and of the
// interfaces, with prom-client: per tunnel direction (labels type, id, src,
// dst) and per interface. Cardinality is bounded: the top N tunnels by bytes
// have series of their own, the others are summed in one series with
// type="other"; inner flows are never labels.

import { Counter, Gauge, Registry } from 'prom-client';
import type { StatsReport, TunnelStats } from '../analysis/report.js';
import type { ExporterCounts } from './ipfix-exporter.js';
import { DEFAULT_METRICS_TUNNELS } from './options.js';

export { DEFAULT_METRICS_TUNNELS };


export interface InterfaceFigures {
  name: string;
  packets: number;
  bytes: number;
  /** Live capture only: what the kernel filter passed and what the kernel and the interface dropped. */
  received?: number;
  droppedByKernel?: number | null;
  droppedByInterface?: number | null;
}

const TUNNEL_LABELS = ['type', 'id', 'src', 'dst'] as const;
type TunnelLabels = Record<(typeof TUNNEL_LABELS)[number], string>;

/** What a series of one tunnel direction (or of the `other` tunnels summed) counts. */
interface TunnelFigures {
  labels: TunnelLabels;
  packets: number;
  bytes: number;
  innerBytes: number;
  overheadBytes: number;
  /** `status/depth` → count. */
  checksums: Map<string, number>;
  fragments: { outer: number; inner: number };
}

const STATUSES = ['good', 'bad', 'offload', 'zero', 'unverified'] as const;

function figuresOf(row: TunnelStats, labels: TunnelLabels): TunnelFigures {
  const figures: TunnelFigures = {
    labels, packets: 0, bytes: 0, innerBytes: 0, overheadBytes: 0, checksums: new Map(), fragments: { outer: 0, inner: 0 },
  };
  addRow(figures, row);
  return figures;
}

function addRow(figures: TunnelFigures, row: TunnelStats): void {
  figures.packets += row.packets;
  figures.bytes += row.bytes;
  figures.innerBytes += row.innerBytes;
  figures.overheadBytes += row.overheadBytes;
  figures.fragments.outer += row.fragments.outer;
  figures.fragments.inner += row.fragments.inner;
  for (const depth of row.checksumsByDepth) {
    for (const status of STATUSES) {
      if (depth[status] === 0) continue;
      const key = `${status}/${depth.depth}`;
      figures.checksums.set(key, (figures.checksums.get(key) ?? 0) + depth[status]);
    }
  }
}

/**
 * The series of a report's tunnels: each of the `limit` tunnels with the most
 * bytes on its own, untunnelled traffic as type="none", every other tunnel
 * (and the aggregator's own overflow row) summed as type="other".
 */
export function tunnelSeries(tunnels: TunnelStats[], limit: number): TunnelFigures[] {
  const series: TunnelFigures[] = [];
  let other: TunnelFigures | null = null;
  const ranked = tunnels.filter((row) => row.type !== 'none' && row.type !== 'overflow').sort((a, b) => b.bytes - a.bytes);
  ranked.forEach((row, i) => {
    if (i < limit) {
      series.push(figuresOf(row, { type: row.type, id: row.id === null ? '' : String(row.id), src: row.src, dst: row.dst }));
    } else if (other === null) other = figuresOf(row, { type: 'other', id: '', src: '', dst: '' });
    else addRow(other, row);
  });
  for (const row of tunnels) {
    if (row.type === 'none') series.push(figuresOf(row, { type: 'none', id: '', src: '', dst: '' }));
    else if (row.type === 'overflow') {
      if (other === null) other = figuresOf(row, { type: 'other', id: '', src: '', dst: '' });
      else addRow(other, row);
    }
  }
  if (other !== null) series.push(other);
  return series;
}

/** The metrics registry of one tunscope process; `update` replaces every value. */
export class TunscopeMetrics {
  readonly registry = new Registry();
  private readonly counters: Record<string, Counter<string>>;
  private readonly findings: Gauge<string>;
  private readonly tunnelSeriesGauge: Gauge<string>;

  constructor(readonly tunnelLimit = DEFAULT_METRICS_TUNNELS) {
    const registers = [this.registry];
    const counter = (name: string, help: string, labelNames: readonly string[]) => new Counter({ name, help, labelNames, registers });
    this.counters = {
      packets: counter('tunscope_tunnel_packets_total', 'Packets carried by a tunnel direction (type="none": outside every tunnel; type="other": the tunnels beyond the top N by bytes, summed)', TUNNEL_LABELS),
      bytes: counter('tunscope_tunnel_bytes_total', 'Bytes of the frames carried by a tunnel direction, link header included', TUNNEL_LABELS),
      inner: counter('tunscope_tunnel_inner_bytes_total', 'Bytes from the start of the tunnel payload to the end of each frame', TUNNEL_LABELS),
      overhead: counter('tunscope_tunnel_overhead_bytes_total', 'Bytes in front of the tunnel payload (bytes minus inner bytes)', TUNNEL_LABELS),
      checksums: counter('tunscope_tunnel_checksums_total', 'Checksum verdicts in a tunnel direction, by status (good, bad, offload, zero, unverified) and tunnel depth (0 outside every tunnel)', [...TUNNEL_LABELS, 'status', 'depth']),
      fragments: counter('tunscope_tunnel_fragments_total', 'IP fragments in a tunnel direction: outer (the IP header carrying the tunnel) or inner (the first IP header inside)', [...TUNNEL_LABELS, 'layer']),
      ifPackets: counter('tunscope_interface_packets_total', 'Packets decoded from an interface (those that matched the filter)', ['interface']),
      ifBytes: counter('tunscope_interface_bytes_total', 'Bytes of the frames decoded from an interface (those that matched the filter)', ['interface']),
      ifReceived: counter('tunscope_interface_received_packets_total', 'Packets the kernel filter passed on an interface (live capture)', ['interface']),
      ifDrops: counter('tunscope_interface_dropped_packets_total', 'Packets dropped on an interface, by="kernel" (the capture ring was full) or by="interface" (live capture)', ['interface', 'by']),
      ipfixDatagrams: counter('tunscope_ipfix_datagrams_total', 'IPFIX datagrams to the collector, by result: sent, or dropped (refused or not sendable)', ['result']),
      ipfixRecords: counter('tunscope_ipfix_records_total', 'IPFIX flow records exported', []),
    };
    this.findings = new Gauge({ name: 'tunscope_findings', help: 'Findings in the traffic so far, by kind and severity (see the findings documentation)', labelNames: ['kind', 'severity'], registers });
    this.tunnelSeriesGauge = new Gauge({ name: 'tunscope_tunnel_series_limit', help: 'Most tunnel directions with series of their own (--metrics-tunnels); the others are summed in type="other"', registers });
  }

  update(report: StatsReport, interfaces: InterfaceFigures[], ipfix: ExporterCounts | null = null): void {
    for (const c of Object.values(this.counters)) c.reset();
    this.findings.reset();
    this.tunnelSeriesGauge.set(this.tunnelLimit);
    const c = this.counters;
    for (const s of tunnelSeries(report.tunnels, this.tunnelLimit)) {
      c.packets.inc(s.labels, s.packets);
      c.bytes.inc(s.labels, s.bytes);
      c.inner.inc(s.labels, s.innerBytes);
      c.overhead.inc(s.labels, s.overheadBytes);
      for (const [key, n] of s.checksums) {
        const [status, depth] = key.split('/');
        c.checksums.inc({ ...s.labels, status, depth }, n);
      }
      c.fragments.inc({ ...s.labels, layer: 'outer' }, s.fragments.outer);
      c.fragments.inc({ ...s.labels, layer: 'inner' }, s.fragments.inner);
    }
    const kinds = new Map<string, number>();
    for (const f of report.findings) kinds.set(`${f.kind}/${f.severity}`, (kinds.get(`${f.kind}/${f.severity}`) ?? 0) + 1);
    for (const [key, n] of kinds) {
      const [kind, severity] = key.split('/');
      this.findings.set({ kind, severity }, n);
    }
    for (const i of interfaces) {
      c.ifPackets.inc({ interface: i.name }, i.packets);
      c.ifBytes.inc({ interface: i.name }, i.bytes);
      if (i.received !== undefined) c.ifReceived.inc({ interface: i.name }, i.received);
      if (i.droppedByKernel !== undefined && i.droppedByKernel !== null) c.ifDrops.inc({ interface: i.name, by: 'kernel' }, i.droppedByKernel);
      if (i.droppedByInterface !== undefined && i.droppedByInterface !== null) c.ifDrops.inc({ interface: i.name, by: 'interface' }, i.droppedByInterface);
    }
    if (ipfix !== null) {
      c.ipfixDatagrams.inc({ result: 'sent' }, ipfix.datagramsSent);
      c.ipfixDatagrams.inc({ result: 'dropped' }, ipfix.datagramsDropped);
      c.ipfixRecords.inc(ipfix.records);
    }
  }

  /** The text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Packets and bytes per interface id, as each decoded packet passes. */
export class InterfaceTally {
  readonly packets: number[] = [];
  readonly bytes: number[] = [];

  add(interfaceId: number, len: number): void {
    this.packets[interfaceId] = (this.packets[interfaceId] ?? 0) + 1;
    this.bytes[interfaceId] = (this.bytes[interfaceId] ?? 0) + len;
  }

  /** Figures per interface; `names[id]` when given, else the id. */
  figures(names: string[] = []): InterfaceFigures[] {
    const count = Math.max(names.length, this.packets.length);
    const out: InterfaceFigures[] = [];
    for (let id = 0; id < count; id++) {
      if (names[id] === undefined && this.packets[id] === undefined) continue;
      out.push({ name: names[id] ?? String(id), packets: this.packets[id] ?? 0, bytes: this.bytes[id] ?? 0 });
    }
    return out;
  }
}
