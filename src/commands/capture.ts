// `tunscope capture IFACE [IFACE...]`: live packets through libpcap, on one
// interface or several at once, in any network namespace (NETNS/IFACE),
// merged in timestamp order, filtered with the tunnel-aware filter language,
// printed as `read` prints them (with interface and direction) and/or written
// to a capture file. The kernel runs a BPF prefilter derived from the filter
// (or --bpf); the whole filter is evaluated on every decoded packet.
//
// capture-start.ts opens the interfaces and says `listening on` as soon as
// every handle is active: from then on the kernel keeps every packet in the
// rings. Only then is this module loaded, with the decoders, the printers,
// the stats tables and the terminal UI, which take a while to load.

import type { Command } from 'commander';
import type { Packet } from '../../decoders/types.js';
import { decodeRecords, prepareDecode, type PacketSink } from '../pipeline.js';
import type { PcapngWriter } from '../output/capture-writer.js';
import { OutputWriter } from '../output/writer.js';
import type { CaptureRecord } from '../sources/record.js';
import { CAPTURE_OPTIONS, startCapture, type CaptureFlags, type StartedCapture } from './capture-start.js';
import { countLine, interfaceCounts, interfaceTable, openLiveWriter, PcapWriter, summary } from './capture-report.js';
import { addDecodeOptions, decodeOptionsOf, warn } from './options.js';
import { addOptions } from './option-values.js';
import { addCaptureExportOptions, exportsGiven, exportsNeedReport, openExports, type ExportFlags } from '../export/options.js';
import type { Exports } from '../export/exports.js';

type Flags = CaptureFlags & ExportFlags;

const WRITER_FLUSH_MS = 1000;
const STATS_REFRESH_MS = 1000;
/** Cursor home, then erase the screen. */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

async function runCapture(positional: string[], flags: Flags): Promise<void> {
  // A bad HOST:PORT or a port in use ends the command before the capture starts.
  const exports = await openExports(flags, true, warn);
  let started: StartedCapture;
  try {
    started = await startCapture(positional, flags);
  } catch (err) {
    await exports?.close();
    throw err;
  }
  await captureFrom(started, flags, exports);
}

/** The capture, once it is listening: printed, written, counted, or shown in the terminal UI. */
export async function captureFrom(started: StartedCapture, flags: Flags, exports: Exports | null): Promise<void> {
  const { live, names, format, unlisten } = started;
  let writer: PcapWriter | PcapngWriter | null = started.writer;
  // Packets are printed unless they go to a file or into the stats tables, or a print mode asks for them.
  // Exports (--metrics, --ipfix, --interval) count as --stats does.
  const counting = flags.stats || exportsGiven(flags);
  const printing = (flags.write === undefined && !counting) || flags.verbose || flags.hex || (flags.json && !flags.stats && flags.interval === undefined);
  // What only counts or writes needs no more from the decoders than `stats` does.
  const prepared = prepareDecode({ ...decodeOptionsOf(flags), detail: printing || flags.tui === true });
  if (flags.tui) {
    await exports?.close();
    try {
      const { runLiveTui } = await import('./tui.js');
      await runLiveTui({
        name: names.join(', '), source: live.source, prepared, filterText: flags.filter ?? '', ringPackets: flags.tuiBuffer,
        drops: () => live.stats().droppedByKernel, interfaces: () => interfaceCounts(live, []),
      });
    } finally {
      live.stop();
      unlisten();
    }
    return;
  }
  try {
    // pcapng describes each interface with what iproute2 says of it: read after `listening on`.
    if (flags.write !== undefined && format === 'pcapng') writer = openLiveWriter(live, flags.write, format, flags.snaplen);
  } catch (err) {
    live.stop();
    unlisten();
    await exports?.close();
    throw err;
  }

  const out = new OutputWriter();
  const sinks: PacketSink[] = [];
  let flushScheduled = false;
  const flushOutput = (): void => {
    flushScheduled = false;
    out.flush();
  };
  if (printing) {
    const print = (await import('./read.js')).packetPrinter(flags, out, names);
    // Records come in batches: print them, then flush once.
    sinks.push((n: number, record: CaptureRecord, packet: Packet) => {
      const more = print(n, record, packet);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushOutput);
      }
      return more;
    });
  }
  const fileWriter = writer;
  const matchedBy = names.map(() => 0);
  sinks.push((_n, record, packet) => {
    // A datagram made whole from fragments is no packet of the interface.
    if (packet.reassembled === undefined) matchedBy[record.interfaceId]++;
  });
  const needReport = flags.stats || exportsNeedReport(flags);
  const { StatsAggregator } = needReport ? await import('../analysis/aggregate.js') : { StatsAggregator: null };
  const aggregator = StatsAggregator === null ? null : new StatsAggregator();
  if (aggregator !== null) sinks.push((n, record, packet) => aggregator.add(n, record, packet));
  const { statsText } = flags.stats ? await import('../output/tables.js') : { statsText: null };
  const { DEFAULT_TOP } = flags.stats ? await import('./stats.js') : { DEFAULT_TOP: 0 };
  const source = names.join(', ');
  if (exports !== null) {
    sinks.push((_n, record, packet) => exports.add(record, packet));
    exports.startLive({
      report: () => aggregator!.report(), interfaces: () => interfaceCounts(live, matchedBy), line: (text) => (out.line(text), out.flush()),
    });
  }

  // On a terminal, --stats tables are redrawn in place while the capture runs
  // (unless packets are printed there too); files and pipes get them once, at the end.
  const statsOptions = { by: 'tunnel', top: DEFAULT_TOP, source } as const;
  const refresher = aggregator === null || statsText === null || printing || flags.json || !process.stdout.isTTY ? null : setInterval(() => {
    out.line(`${CLEAR_SCREEN}${statsText(aggregator.report(), statsOptions)}\n\n` +
      `${interfaceTable(interfaceCounts(live, matchedBy))}\n(capturing on ${source}; Ctrl-C to stop)`);
    out.flush();
  }, STATS_REFRESH_MS);

  // A file that cannot be written (disk full) ends the capture with its error, after the summary;
  // the file keeps the whole packets written before it.
  let writeFailure: unknown = null;
  if (fileWriter !== null) {
    sinks.unshift((_n, record, packet) => {
      // The file gets the frames as captured, never a datagram made of them.
      if (packet.reassembled !== undefined) return true;
      try {
        fileWriter.write(record, record.linktype);
        return true;
      } catch (err) {
        writeFailure = err;
        return false;
      }
    });
  }
  const flusher = fileWriter === null ? null : setInterval(() => {
    try {
      fileWriter.flush();
    } catch (err) {
      writeFailure = err;
      live.stop();
    }
  }, WRITER_FLUSH_MS);
  flusher?.unref();

  let decoded;
  try {
    decoded = await decodeRecords(live.source, prepared, (n, record, packet) => {
      for (const sink of sinks) if (sink(n, record, packet) === false) return false;
      return true;
    });
  } finally {
    live.stop();
    unlisten();
    if (refresher !== null) clearInterval(refresher);
    if (flusher !== null) clearInterval(flusher);
    try {
      if (fileWriter instanceof PcapWriter) fileWriter.closeWithLinktype(live.interfaces[0].linktype);
      else fileWriter?.close();
    } catch (err) {
      writeFailure ??= err;
    }
  }
  const each = interfaceCounts(live, matchedBy);
  const exported = exports === null ? [] : await exports.finish(aggregator === null ? null : () => aggregator.report());
  if (aggregator !== null && statsText !== null) {
    const report = aggregator.report();
    out.line(flags.json ? JSON.stringify({ ...report, interfaces: each })
      : `${refresher === null ? '' : CLEAR_SCREEN}${statsText(report, statsOptions)}\n\n${interfaceTable(each)}`);
  }
  out.flush();
  const written = fileWriter === null || writeFailure !== null ? null : countLine(fileWriter.packets, `written to ${fileWriter.path}`);
  process.stderr.write(`${summary(live.stats(), decoded.matched, written, each)}\n${exported.map((line) => `${line}\n`).join('')}`);
  if (writeFailure !== null) throw writeFailure;
}

export function defineCaptureCommand(program: Command): void {
  const command = program
    .command('capture')
    .description('capture live packets through libpcap, with tunnel-aware filters (root or CAP_NET_RAW)')
    .argument('[iface...]', 'the interfaces to capture on: IFACE, NETNS/IFACE (NETNS a name in /run/netns, or pid:PID), or "any"');
  addOptions(command, CAPTURE_OPTIONS);
  addCaptureExportOptions(command);
  addDecodeOptions(command).action(runCapture);
}
