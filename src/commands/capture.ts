// `tunscope capture IFACE`: live packets through libpcap, filtered with the
// tunnel-aware filter language, printed as `read` prints them and/or written
// to a capture file. The kernel runs a BPF prefilter derived from the filter
// (or --bpf); the whole filter is evaluated on every decoded packet.

import type { Command } from 'commander';
import type { Packet } from '../../decoders/types.js';
import { linktypeName, parseDecodeAs, type DecodeAs } from '../../decoders/registry.js';
import { StatsAggregator } from '../analysis/aggregate.js';
import { derivePrefilter } from '../filter/bpf.js';
import type { FilterNode } from '../filter/parse.js';
import { decodeRecords, prepareDecode, type PacketSink } from '../pipeline.js';
import { openCaptureWriter, PcapWriter, type PcapngWriter } from '../output/capture-writer.js';
import { statsText } from '../output/tables.js';
import { OutputWriter } from '../output/writer.js';
import { CAP_SNAPLEN, LiveCapture, type LiveStats } from '../sources/live.js';
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
  buffer: number;
  stats?: boolean;
  tui?: boolean;
  tuiBuffer: number;
}

const LINKTYPE_ETHERNET = 1;
/** libpcap's default ring buffer, as tcpdump's -B. */
const DEFAULT_BUFFER_MB = 2;
const WRITER_FLUSH_MS = 1000;

/**
 * The kernel filter for the link type libpcap chose. On Ethernet it also looks
 * behind one VLAN tag kept in the frame (Linux moves the outermost one to metadata).
 */
function kernelFilterFor(bpf: string | undefined, filter: FilterNode | null, decodeAs: DecodeAs[]): string | ((linktype: number) => string) {
  if (bpf !== undefined) return bpf;
  return (linktype) => derivePrefilter(filter, { decodeAs, vlanTags: linktype === LINKTYPE_ETHERNET ? 1 : 0 });
}

function countLine(n: number | null, what: string): string {
  return `${n === null ? '?' : n} packet${n === 1 ? '' : 's'} ${what}`;
}

function summary(stats: LiveStats, matched: number, written: string | null): string {
  return [
    countLine(stats.received, 'received (passed the kernel filter)'),
    countLine(matched, 'matched the filter'),
    ...(written === null ? [] : [written]),
    `${countLine(stats.droppedByKernel, 'dropped by the kernel')}${stats.droppedByKernel === null ? ' (unknown: the cap binding does not read pcap_stats)' : ''}`,
    `${countLine(stats.droppedByInterface, 'dropped by the interface')}${stats.droppedByInterface === null ? ' (unknown: no counters in sysfs)' : ''}`,
  ].join('\n');
}

async function runCapture(device: string, flags: CaptureFlags): Promise<void> {
  const prepared = prepareDecode(decodeOptionsOf(flags));
  const decodeAs = (flags.decodeAs ?? []).map((spec) => parseDecodeAs(spec) as DecodeAs);
  if (flags.snaplen > CAP_SNAPLEN) warn(`the cap binding captures at most ${CAP_SNAPLEN} bytes of each packet`);

  const live = LiveCapture.open({
    device,
    kernelFilter: kernelFilterFor(flags.bpf, prepared.filter, decodeAs),
    snaplen: flags.snaplen,
    bufferBytes: Math.round(flags.buffer * 1024 * 1024),
  });
  if (flags.tui) {
    try {
      await runLiveTui({
        name: device, source: live.source, prepared, filterText: flags.filter ?? '', ringPackets: flags.tuiBuffer,
        drops: () => live.stats().droppedByKernel ?? live.stats().droppedByInterface,
      });
    } finally {
      live.stop();
    }
    return;
  }
  let writer: PcapWriter | PcapngWriter | null = null;
  try {
    if (flags.write !== undefined) writer = openCaptureWriter(flags.write, flags.pcapng ? 'pcapng' : 'pcap', Math.min(flags.snaplen, CAP_SNAPLEN));
  } catch (err) {
    live.stop();
    throw err;
  }

  const out = new OutputWriter();
  const sinks: PacketSink[] = [];
  // Packets are printed unless they go to a file or into the stats tables, or a print mode asks for them.
  const printing = (writer === null && !flags.stats) || flags.verbose || flags.hex || (flags.json && !flags.stats);
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
  if (fileWriter !== null) sinks.push((_n, record) => fileWriter.write(record, record.linktype));
  const aggregator = flags.stats ? new StatsAggregator() : null;
  if (aggregator !== null) sinks.push((n, record, packet) => aggregator.add(n, record, packet));

  const stop = (): void => live.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer = flags.duration === undefined ? null : setTimeout(stop, flags.duration * 1000);
  // A file that cannot be written (disk full) ends the capture with its error, after the summary.
  let writeFailure: unknown = null;
  const flusher = fileWriter === null ? null : setInterval(() => {
    try {
      fileWriter.flush();
    } catch (err) {
      writeFailure = err;
      live.stop();
    }
  }, WRITER_FLUSH_MS);
  flusher?.unref();

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
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    if (timer !== null) clearTimeout(timer);
    if (flusher !== null) clearInterval(flusher);
    if (fileWriter instanceof PcapWriter) fileWriter.closeWithLinktype(live.linktype);
    else fileWriter?.close();
  }
  if (aggregator !== null) {
    const report = aggregator.report();
    out.line(flags.json ? JSON.stringify(report) : statsText(report, { by: 'tunnel', top: DEFAULT_TOP, source: device }));
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
    .option('--snaplen <n>', `keep at most N bytes of each packet (at most ${CAP_SNAPLEN})`, positiveInteger, CAP_SNAPLEN)
    .option('--buffer <MB>', 'size of the kernel ring buffer in MiB', positiveNumber, DEFAULT_BUFFER_MB)
    .option('--stats', 'at the end, print the tables of `tunscope stats` for what was captured (one JSON object with --json)')
    .option('--tui', 'show the capture in the terminal UI of `tunscope tui` instead of printing it')
    .option('--tui-buffer <packets>', 'packets the terminal UI keeps for its packet views', positiveInteger, DEFAULT_RING_PACKETS);
  addDecodeOptions(command).action(runCapture);
}
