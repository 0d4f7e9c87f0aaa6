// What `capture` and `stats` export beyond their own output: Prometheus
// metrics (--metrics HOST:PORT served while capturing, --metrics-file F
// written for a file), IPFIX flow records (--ipfix HOST:PORT) and, for
// capture, one stats object per interval (--interval SECONDS --json).

import fs from 'node:fs';
import path from 'node:path';
import type { Packet } from '../../decoders/types.js';
import type { StatsReport } from '../analysis/report.js';
import { UsageError, WorkError } from '../errors.js';
import type { CaptureRecord } from '../sources/record.js';
import { FlowCache } from './flow-cache.js';
import { parseHostPort } from './host-port.js';
import type { FlowRecord } from './ipfix.js';
import { IpfixExporter } from './ipfix-exporter.js';
import { InterfaceTally, TunscopeMetrics, type InterfaceFigures } from './metrics.js';
import { MetricsServer } from './metrics-server.js';
import type { ExportFlags } from './options.js';

/** How often the flow cache looks for ended flows. */
const EXPIRE_TICK_MS = 1000;

/** What a capture tells its exports as it goes. */
export interface LiveSources {
  report: () => StatsReport;
  /** The capture's per-interface counts (capture-report's interfaceCounts). */
  interfaces: () => { name: string; received: number | null; matched: number; droppedByKernel: number | null; droppedByInterface: number | null }[];
  /** Prints one line on standard output. */
  line: (text: string) => void;
}

/** The exports of one command: started before the packets, told each packet, stopped after. */
export class Exports {
  private readonly tally = new InterfaceTally();
  private readonly ended: FlowRecord[] = [];
  private readonly cache: FlowCache | null;
  private metrics: TunscopeMetrics | null = null;
  private server: MetricsServer | null = null;
  private exporter: IpfixExporter | null = null;
  private timers: NodeJS.Timeout[] = [];
  private sources: LiveSources | null = null;

  private constructor(private readonly flags: ExportFlags, live: boolean) {
    this.cache = flags.ipfix === undefined ? null
      : new FlowCache((flow) => this.ended.push(flow), live ? {} : { activeMs: Infinity, idleMs: Infinity });
  }

  /**
   * Checks the options and opens what they name: a UsageError (exit 2) for a
   * bad HOST:PORT or option, a WorkError (exit 1) for a port in use.
   */
  static async open(flags: ExportFlags, live: boolean, warn: (message: string) => void): Promise<Exports> {
    const metricsAt = flags.metrics === undefined ? null : parseHostPort('--metrics', flags.metrics);
    const ipfixAt = flags.ipfix === undefined ? null : parseHostPort('--ipfix', flags.ipfix);
    if (flags.interval !== undefined && !flags.json) throw new UsageError('--interval prints stats objects: give --json too');
    const self = new Exports(flags, live);
    if (metricsAt !== null || flags.metricsFile !== undefined) self.metrics = new TunscopeMetrics(flags.metricsTunnels);
    try {
      if (ipfixAt !== null) self.exporter = await IpfixExporter.open(ipfixAt, warn);
      if (metricsAt !== null) self.server = await MetricsServer.listen(metricsAt, self.metrics!, () => self.refreshMetrics());
    } catch (err) {
      await self.close();
      throw err;
    }
    return self;
  }

  get active(): boolean {
    return this.cache !== null || this.metrics !== null || this.flags.interval !== undefined;
  }

  /** Counts one decoded packet. */
  add(record: CaptureRecord, packet: Packet): void {
    this.tally.add(record.interfaceId, record.len);
    if (this.cache !== null) this.cache.add(record, packet);
  }

  private liveInterfaces(): InterfaceFigures[] {
    if (this.sources === null) return this.tally.figures();
    return this.sources.interfaces().map((i, id) => ({
      name: i.name, packets: i.matched, bytes: this.tally.bytes[id] ?? 0,
      received: i.received ?? undefined, droppedByKernel: i.droppedByKernel, droppedByInterface: i.droppedByInterface,
    }));
  }

  private refreshMetrics(): void {
    if (this.metrics === null || this.sources === null) return;
    this.metrics.update(this.sources.report(), this.liveInterfaces(), this.exporter);
  }

  private exportEnded(nowMs = Date.now()): void {
    if (this.exporter === null) return;
    this.exporter.export(this.ended.splice(0), nowMs);
  }

  /** A capture's packets start: templates go out, timers start. */
  startLive(sources: LiveSources): void {
    this.sources = sources;
    if (this.exporter !== null) {
      this.exportEnded();
      this.timers.push(setInterval(() => {
        this.cache!.expire(Date.now());
        this.exportEnded();
      }, EXPIRE_TICK_MS).unref());
    }
    if (this.flags.interval !== undefined) {
      this.timers.push(setInterval(() => sources.line(this.intervalLine()), this.flags.interval * 1000).unref());
    }
  }

  private intervalLine(): string {
    return JSON.stringify({ time: new Date().toISOString(), ...this.sources!.report(), interfaces: this.sources!.interfaces() });
  }

  /**
   * The capture or the file is over: every flow still open is exported,
   * --metrics-file is written (from `report`), and what was opened is closed.
   * Returns lines for the summary on standard error.
   */
  async finish(report: (() => StatsReport) | null, interfaceNames: string[] = []): Promise<string[]> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    if (this.flags.interval !== undefined && this.sources !== null) this.sources.line(this.intervalLine());
    if (this.cache !== null) {
      this.cache.flush();
      this.exportEnded();
    }
    if (this.flags.metricsFile !== undefined && this.metrics !== null && report !== null) {
      this.metrics.update(report(), this.sources === null ? this.tally.figures(interfaceNames) : this.liveInterfaces(), this.exporter);
      await writeAtomically(this.flags.metricsFile, await this.metrics.text());
    }
    const exporter = this.exporter;
    await this.close();
    if (exporter === null) return [];
    return [`${exporter.records} IPFIX flow record${exporter.records === 1 ? '' : 's'} exported to ${exporter.target.text} `
      + `in ${exporter.datagramsSent} datagram${exporter.datagramsSent === 1 ? '' : 's'}`
      + (exporter.datagramsDropped > 0 ? `, ${exporter.datagramsDropped} dropped (the collector did not take them)` : '')];
  }

  /** Closes the server and the exporter; quietly, as it also cleans up after a failed start. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    const server = this.server;
    const exporter = this.exporter;
    this.server = null;
    this.exporter = null;
    await Promise.all([server?.close(), exporter?.close()]);
  }
}

/** Writes FILE whole or not at all (a textfile collector must never read half a file). */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await fs.promises.writeFile(temp, text);
    await fs.promises.rename(temp, file);
  } catch (err) {
    await fs.promises.rm(temp, { force: true });
    throw new WorkError(`--metrics-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
