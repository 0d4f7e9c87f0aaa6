// `tunscope capture IFACE [IFACE...]`: live packets through libpcap, on one
// interface or several at once, in any network namespace (NETNS/IFACE),
// merged in timestamp order, filtered with the tunnel-aware filter language,
// printed as `read` prints them (with interface and direction) and/or written
// to a capture file. The kernel runs a BPF prefilter derived from the filter
// (or --bpf); the whole filter is evaluated on every decoded packet.
//
// `listening on` is said as soon as every handle is active: from then on the
// kernel keeps every packet in the rings. Only then are the printers, the
// stats tables and the terminal UI loaded, which take a while to load.

import { InvalidArgumentError, type Command } from 'commander';
import type { Packet } from '../../decoders/types.js';
import { parseDecodeAs, type DecodeAs } from '../../decoders/registry.js';
import { UsageError } from '../errors.js';
import { derivePrefilter } from '../filter/bpf.js';
import type { FilterNode } from '../filter/parse.js';
import { decodeRecords, prepareDecode, type PacketSink } from '../pipeline.js';
import type { PcapngWriter } from '../output/capture-writer.js';
import { OutputWriter } from '../output/writer.js';
import { MAX_SNAPLEN } from '../sources/live.js';
import { LiveCapture } from '../sources/live-capture.js';
import { parseInterfaceSpec } from '../sources/netns.js';
import type { CaptureRecord } from '../sources/record.js';
import { DEFAULT_RING_PACKETS } from '../tui/packet-ring.js';
import {
  captureFormat, countLine, interfaceCounts, interfaceTable, listeningLine, openLiveWriter, PcapWriter, summary,
} from './capture-report.js';
import { addCaptureExportOptions, exportsGiven, exportsNeedReport, openExports, type ExportFlags } from '../export/options.js';
import { addDecodeOptions, collect, decodeOptionsOf, positiveInteger, positiveNumber, warn, type DecodeFlags } from './options.js';
import type { PrintFlags } from './read.js';


interface CaptureFlags extends PrintFlags, DecodeFlags, ExportFlags {
  interface?: string[];
  bpf?: string;
  write?: string;
  pcapng?: boolean;
  duration?: number;
  snaplen: number;
  promisc: boolean;
  buffer: number;
  stats?: boolean;
  tui?: boolean;
  tuiBuffer: number;
}

const LINKTYPE_ETHERNET = 1;
/**
 * The kernel ring buffer. libpcap's default (tcpdump's) is 2 MiB; tunscope decodes
 * and verifies every packet as it goes, so it keeps more in hand: with 32 MiB it
 * takes 100,000 VXLAN packets a second without a drop (`npm run bench -- --live`).
 */
const DEFAULT_BUFFER_MB = 32;
const WRITER_FLUSH_MS = 1000;
/** Signals that end a capture with its summary and a whole file (exit 0). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const STATS_REFRESH_MS = 1000;
/** Cursor home, then erase the screen. */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

/**
 * The kernel filter for the link type libpcap chose. On Ethernet it also looks
 * behind one VLAN tag kept in the frame (Linux moves the outermost one to metadata).
 */
function kernelFilterFor(bpf: string | undefined, filter: FilterNode | null, decodeAs: DecodeAs[]): string | ((linktype: number) => string) {
  if (bpf !== undefined) return bpf;
  return (linktype) => derivePrefilter(filter, {
    decodeAs, vlanTags: linktype === LINKTYPE_ETHERNET ? 1 : 0, ethernet: linktype === LINKTYPE_ETHERNET,
  });
}

/** libpcap takes the ring size as an int of bytes. */
const MAX_BUFFER_MB = 2047;

function snaplen(value: string): number {
  const n = positiveInteger(value);
  if (n > MAX_SNAPLEN) throw new InvalidArgumentError(`expected at most ${MAX_SNAPLEN}.`);
  return n;
}

function bufferMegabytes(value: string): number {
  const n = positiveNumber(value);
  if (n > MAX_BUFFER_MB) throw new InvalidArgumentError(`expected at most ${MAX_BUFFER_MB}.`);
  return n;
}

/** The interfaces as given: arguments, then -i; each once. */
function interfacesOf(positional: string[], flags: CaptureFlags): string[] {
  const given = [...positional, ...(flags.interface ?? [])];
  if (given.length === 0) throw new UsageError('capture needs an interface: tunscope capture IFACE [IFACE...] (see `tunscope interfaces`)');
  const seen = new Set<string>();
  for (const name of given) {
    if (seen.has(name)) throw new UsageError(`interface ${name} is given twice`);
    seen.add(name);
  }
  return given;
}

async function runCapture(positional: string[], flags: CaptureFlags): Promise<void> {
  const given = interfacesOf(positional, flags);
  // Packets are printed unless they go to a file or into the stats tables, or a print mode asks for them.
  // Exports (--metrics, --ipfix, --interval) count as --stats does.
  const counting = flags.stats || exportsGiven(flags);
  const printing = (flags.write === undefined && !counting) || flags.verbose || flags.hex || (flags.json && !flags.stats && flags.interval === undefined);
  // A bad HOST:PORT or a port in use ends the command before the capture starts.
  const exports = await openExports(flags, true, warn);
  // What only counts or writes needs no more from the decoders than `stats` does.
  const prepared = prepareDecode({ ...decodeOptionsOf(flags), detail: printing || flags.tui === true });
  const decodeAs = (flags.decodeAs ?? []).map((spec) => parseDecodeAs(spec) as DecodeAs);
  const format = flags.write === undefined ? null : captureFormat(flags.write, flags.pcapng);
  let live: LiveCapture;
  try {
    live = LiveCapture.open({
      interfaces: given.map(parseInterfaceSpec),
      kernelFilter: kernelFilterFor(flags.bpf, prepared.filter, decodeAs),
      snaplen: flags.snaplen,
      promisc: flags.promisc,
      bufferBytes: Math.round(flags.buffer * 1024 * 1024),
    });
  } catch (err) {
    await exports?.close();
    throw err;
  }
  let writer: PcapWriter | PcapngWriter | null = null;
  try {
    if (flags.write !== undefined && format === 'pcap') writer = openLiveWriter(live, flags.write, format, flags.snaplen);
  } catch (err) {
    live.stop();
    await exports?.close();
    throw err;
  }
  // Ctrl-C from the moment `listening on` is said: what the rings hold by then is still read and written.
  // As tcpdump: a hangup (the terminal or the ssh session gone) ends the capture as SIGTERM does.
  const end = (): void => live.end();
  for (const signal of STOP_SIGNALS) process.on(signal, end);
  const timer = flags.duration === undefined ? null : setTimeout(end, flags.duration * 1000);
  const unlisten = (): void => {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, end);
    if (timer !== null) clearTimeout(timer);
  };
  for (const iface of live.interfaces) if (iface.warning !== null) warn(`${iface.spec.given}: ${iface.warning}`);
  warn(listeningLine(live.interfaces));
  live.onWarning = (message) => warn(`warning: ${message}`);
  const names = live.interfaces.map((i) => i.spec.given);
  if (flags.tui) {
    await exports?.close();
    try {
      const { runLiveTui } = await import('./tui.js');
      await runLiveTui({
        name: names.join(', '), source: live.source, prepared, filterText: flags.filter ?? '', ringPackets: flags.tuiBuffer,
        drops: () => live.stats().droppedByKernel,
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
  command
    .option('-i, --interface <iface>', 'an interface to capture on, as the arguments are given (repeatable)', collect)
    .option('-v, --verbose', 'print every layer and field as a tree, indented by tunnel depth')
    .option('-x, --hex', 'print a hex and ASCII dump under each packet')
    .option('--json', 'print one JSON object per packet per line')
    .option('-w, --write <file>', 'write the matching packets to a capture file instead of printing them: pcapng when FILE ends in .pcapng or with --pcapng (one interface block per interface, with its name and direction flags), else pcap')
    .option('--pcapng', 'write pcapng rather than pcap')
    .option('-c, --count <n>', 'stop after N matching packets', positiveInteger)
    .option('--duration <seconds>', 'stop after this many seconds', positiveNumber)
    .option('--bpf <expr>', 'the kernel filter, in libpcap syntax, instead of the one derived from --filter ("" for none)')
    .option('--snaplen <n>', `capture at most N bytes of each packet (at most ${MAX_SNAPLEN})`, snaplen, MAX_SNAPLEN)
    .option('--no-promisc', 'do not put the interface into promiscuous mode: only frames for this host')
    .option('--buffer <MB>', 'kernel ring buffer per interface in MiB, shared evenly by its two rings (what it receives, what it sends)', bufferMegabytes, DEFAULT_BUFFER_MB)
    .option('--stats', 'at the end, print the tables of `tunscope stats` for what was captured (one JSON object with --json)')
    .option('--tui', 'show the capture in the terminal UI of `tunscope tui` instead of printing it')
    .option('--tui-buffer <packets>', 'packets the terminal UI keeps for its packet views', positiveInteger, DEFAULT_RING_PACKETS);
  addCaptureExportOptions(command);
  addDecodeOptions(command).action(runCapture);
}
