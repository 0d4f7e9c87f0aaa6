// `tunscope capture IFACE`: live packets through libpcap, filtered with the
// tunnel-aware filter language, printed as `read` prints them and/or written
// to a capture file. The kernel runs a BPF prefilter derived from the filter
// (or --bpf); the whole filter is evaluated on every decoded packet.

import { InvalidArgumentError, type Command } from 'commander';
import type { Packet } from '../../decoders/types.js';
import { linktypeName, parseDecodeAs, type DecodeAs } from '../../decoders/registry.js';
import { StatsAggregator } from '../analysis/aggregate.js';
import { derivePrefilter } from '../filter/bpf.js';
import type { FilterNode } from '../filter/parse.js';
import { decodeRecords, prepareDecode, type PacketSink } from '../pipeline.js';
import { openCaptureWriter, PcapWriter, type PcapngWriter } from '../output/capture-writer.js';
import { statsText } from '../output/tables.js';
import { OutputWriter } from '../output/writer.js';
import { LiveCapture, MAX_SNAPLEN, type LiveStats } from '../sources/live.js';
import type { CaptureRecord } from '../sources/record.js';
import { addDecodeOptions, decodeOptionsOf, positiveInteger, positiveNumber, warn, type DecodeFlags } from './options.js';
import { addPrintOptions, packetPrinter, type PrintFlags } from './read.js';
import { DEFAULT_TOP } from './stats.js';
import { DEFAULT_RING_PACKETS, runLiveTui } from './tui.js';

interface CaptureFlags extends PrintFlags, DecodeFlags {
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
  return (linktype) => derivePrefilter(filter, { decodeAs, vlanTags: linktype === LINKTYPE_ETHERNET ? 1 : 0 });
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

function countLine(n: number | null, what: string): string {
  return `${n === null ? '?' : n} packet${n === 1 ? '' : 's'} ${what}`;
}

function summary(stats: LiveStats, matched: number, written: string | null): string {
  return [
    countLine(stats.received, 'received (passed the kernel filter)'),
    countLine(matched, 'matched the filter'),
    ...(written === null ? [] : [written]),
    countLine(stats.droppedByKernel, 'dropped by the kernel'),
    countLine(stats.droppedByInterface, 'dropped by the interface'),
  ].join('\n');
}

async function runCapture(device: string, flags: CaptureFlags): Promise<void> {
  // Packets are printed unless they go to a file or into the stats tables, or a print mode asks for them.
  const printing = (flags.write === undefined && !flags.stats) || flags.verbose || flags.hex || (flags.json && !flags.stats);
  // What only counts or writes needs no more from the decoders than `stats` does.
  const prepared = prepareDecode({ ...decodeOptionsOf(flags), detail: printing || flags.tui === true });
  const decodeAs = (flags.decodeAs ?? []).map((spec) => parseDecodeAs(spec) as DecodeAs);
  const live = LiveCapture.open({
    device,
    kernelFilter: kernelFilterFor(flags.bpf, prepared.filter, decodeAs),
    snaplen: flags.snaplen,
    promisc: flags.promisc,
    bufferBytes: Math.round(flags.buffer * 1024 * 1024),
  });
  if (flags.tui) {
    try {
      await runLiveTui({
        name: device, source: live.source, prepared, filterText: flags.filter ?? '', ringPackets: flags.tuiBuffer,
        drops: () => live.stats().droppedByKernel,
      });
    } finally {
      live.stop();
    }
    return;
  }
  let writer: PcapWriter | PcapngWriter | null = null;
  try {
    if (flags.write !== undefined) writer = openCaptureWriter(flags.write, flags.pcapng ? 'pcapng' : 'pcap', flags.snaplen);
  } catch (err) {
    live.stop();
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
    const print = packetPrinter(flags, out);
    // libpcap hands over every packet waiting in the ring in one go: print them, then flush once.
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
  const aggregator = flags.stats ? new StatsAggregator() : null;
  if (aggregator !== null) sinks.push((n, record, packet) => aggregator.add(n, record, packet));

  // On a terminal, --stats tables are redrawn in place while the capture runs
  // (unless packets are printed there too); files and pipes get them once, at the end.
  const statsOptions = { by: 'tunnel', top: DEFAULT_TOP, source: device } as const;
  const refresher = aggregator === null || printing || flags.json || !process.stdout.isTTY ? null : setInterval(() => {
    out.line(`${CLEAR_SCREEN}${statsText(aggregator.report(), statsOptions)}\n(capturing on ${device}; Ctrl-C to stop)`);
    out.flush();
  }, STATS_REFRESH_MS);

  const end = (): void => live.end();
  // As tcpdump: a hangup (the terminal or the ssh session gone) ends the capture as SIGTERM does.
  for (const signal of STOP_SIGNALS) process.on(signal, end);
  const timer = flags.duration === undefined ? null : setTimeout(end, flags.duration * 1000);
  // A file that cannot be written (disk full) ends the capture with its error, after the summary;
  // the file keeps the whole packets written before it.
  let writeFailure: unknown = null;
  if (fileWriter !== null) {
    sinks.unshift((_n, record) => {
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

  if (live.warning !== null) warn(`${device}: ${live.warning}`);
  warn(`listening on ${device}, link type ${linktypeName(live.linktype)}, ` +
    (live.kernelFilter === '' ? 'no kernel filter' : `kernel filter: ${live.kernelFilter}`));
  let decoded;
  try {
    decoded = await decodeRecords(live.source, prepared, (n, record, packet) => {
      for (const sink of sinks) if (sink(n, record, packet) === false) return false;
      return true;
    });
  } finally {
    live.stop();
    for (const signal of STOP_SIGNALS) process.removeListener(signal, end);
    if (timer !== null) clearTimeout(timer);
    if (refresher !== null) clearInterval(refresher);
    if (flusher !== null) clearInterval(flusher);
    try {
      if (fileWriter instanceof PcapWriter) fileWriter.closeWithLinktype(live.linktype);
      else fileWriter?.close();
    } catch (err) {
      writeFailure ??= err;
    }
  }
  if (aggregator !== null) {
    const report = aggregator.report();
    out.line(flags.json ? JSON.stringify(report) : `${refresher === null ? '' : CLEAR_SCREEN}${statsText(report, statsOptions)}`);
  }
  out.flush();
  const written = fileWriter === null || writeFailure !== null ? null : countLine(fileWriter.packets, `written to ${fileWriter.path}`);
  process.stderr.write(`${summary(live.stats(), decoded.matched, written)}\n`);
  if (writeFailure !== null) throw writeFailure;
}

export function defineCaptureCommand(program: Command): void {
  const command = program
    .command('capture')
    .description('capture live packets through libpcap, with tunnel-aware filters (root or CAP_NET_RAW)')
    .argument('<iface>', 'the interface to capture on, or "any" (see `tunscope interfaces`)');
  addPrintOptions(command);
  command
    .option('-w, --write <file>', 'write the matching packets to a capture file (pcap; pcapng with --pcapng) instead of printing them')
    .option('--pcapng', 'write pcapng rather than pcap')
    .option('-c, --count <n>', 'stop after N matching packets', positiveInteger)
    .option('--duration <seconds>', 'stop after this many seconds', positiveNumber)
    .option('--bpf <expr>', 'the kernel filter, in libpcap syntax, instead of the one derived from --filter ("" for none)')
    .option('--snaplen <n>', `capture at most N bytes of each packet (at most ${MAX_SNAPLEN})`, snaplen, MAX_SNAPLEN)
    .option('--no-promisc', 'do not put the interface into promiscuous mode: only frames for this host')
    .option('--buffer <MB>', 'size of the kernel ring buffer in MiB', bufferMegabytes, DEFAULT_BUFFER_MB)
    .option('--stats', 'at the end, print the tables of `tunscope stats` for what was captured (one JSON object with --json)')
    .option('--tui', 'show the capture in the terminal UI of `tunscope tui` instead of printing it')
    .option('--tui-buffer <packets>', 'packets the terminal UI keeps for its packet views', positiveInteger, DEFAULT_RING_PACKETS);
  addDecodeOptions(command).action(runCapture);
}
