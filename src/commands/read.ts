// `tunscope read FILE|- [EXPRESSION]`: print every packet, one line each, as
// a tree, as JSON, with or without a hex dump; or, with -w, write the packets
// that match to a capture file of the same format, unchanged.

import fs from 'node:fs';
import type { Command } from 'commander';
import type { Packet } from '../../decoders/types.js';
import { UsageError } from '../errors.js';
import { decodeRecords, fileSource, prepareDecode, type PacketSink } from '../pipeline.js';
import { Progress, withProgress } from '../output/progress.js';
import { OutputWriter } from '../output/writer.js';
import { PcapWriter, PcapngWriter } from '../output/capture-writer.js';
import { packetJson } from '../output/json.js';
import { packetLine, packetSummary } from '../output/line.js';
import { timeOfDayText } from '../output/timestamp.js';
import { packetTree } from '../output/tree.js';
import { hexDump } from '../output/hex.js';
import type { CaptureRecord, LayoutListener } from '../sources/record.js';
import {
  FILTER_WORDS_ARGUMENT, addDecodeOptions, countLine, decodeOptionsOf, positiveInteger, warn, type DecodeFlags,
} from './options.js';

export interface PrintFlags {
  verbose?: boolean;
  /** -V: the layer tree, as -v. */
  detail?: boolean;
  hex?: boolean;
  json?: boolean;
  /** -e: link-level headers in each line. */
  link?: boolean;
  /** -q: no per-packet output. */
  quiet?: boolean;
}

/** Whether any option asks for packets to be printed in a particular way. */
export function asksToPrint(flags: PrintFlags): boolean {
  return Boolean(flags.verbose || flags.detail || flags.hex || flags.json || flags.link);
}

const DIRECTION_WORDS = { in: 'In', out: 'Out' } as const;

/**
 * The per-packet printer `read` and `capture` share: lines, tree (-v, -V),
 * JSON, hex (-x), link headers (-e). Given the names of the interfaces, each
 * packet also says its interface and direction, as `tcpdump -i any` does (`vx42 Out`).
 */
export function packetPrinter(
  flags: PrintFlags, out: OutputWriter, interfaces?: string[],
): (n: number, record: CaptureRecord, packet: Packet) => boolean {
  const tree = flags.verbose || flags.detail;
  const where = (record: CaptureRecord): string => {
    const name = interfaces?.[record.interfaceId] ?? `if${record.interfaceId}`;
    return record.direction === undefined ? name : `${name} ${DIRECTION_WORDS[record.direction]}`;
  };
  return (n, record, packet) => {
    if (flags.json) {
      const json = packetJson(n, record, packet);
      out.line(interfaces === undefined ? json
        : `{"n":${n},"interface":${JSON.stringify(interfaces[record.interfaceId])},` +
          `"direction":${JSON.stringify(record.direction ?? null)},${json.slice(json.indexOf(',') + 1)}`);
    } else if (tree) {
      const text = packetTree(n, record, packet);
      out.line(interfaces === undefined ? text : text.replace('\n', `, ${where(record)}\n`));
    } else {
      out.line(interfaces === undefined ? packetLine(record, packet, flags.link)
        : `${timeOfDayText(record)} ${where(record)} ${packetSummary(packet, flags.link ? { link: { wireLength: record.len } } : {})}`);
    }
    if (flags.hex) out.line(hexDump(record.bytes));
    if (tree && !flags.json) out.line('');
    return !out.closed;
  };
}

export function addPrintOptions(command: Command): Command {
  return command
    .option('-v, --verbose', 'print every layer and field as a tree, indented by tunnel depth')
    .option('-V, --detail', 'the same as -v (tshark\'s -V); the version is --version')
    .option('-x, --hex', 'print a hex and ASCII dump under each packet')
    .option('-e, --link', 'show each level\'s link-level header in the line: MACs, ethertype, length, VLAN tags (tcpdump\'s -e)')
    .option('--json', 'print one JSON object per packet per line')
    .option('-q, --quiet', 'print no packets, only the summary (on standard error)');
}

interface ReadFlags extends PrintFlags, DecodeFlags {
  write?: string;
}

/** -w must not name the file being read: it would be emptied before it is read. */
function checkNotInput(file: string, out: string): void {
  if (file === '-') return;
  let same = false;
  try {
    const a = fs.statSync(file);
    const b = fs.statSync(out);
    same = a.dev === b.dev && a.ino === b.ino;
  } catch {
    // One of them does not exist (yet): reading reports a missing input.
  }
  if (same) throw new UsageError(`-w ${out} is the file being read; write to another file`);
}

/**
 * Writes each packet it is given into `path`, in the format of the file being
 * read: a pcap file with its link type field, snapshot length and time stamp
 * resolution; a pcapng file with every interface the file describes (ids,
 * names, options and time stamp resolution kept). The file is opened when the
 * input's header has been read, so an input that is no capture leaves none.
 */
class SubsetWriter {
  private writer: PcapWriter | PcapngWriter | null = null;
  /** pcapng: the id in the output of each interface of the input's current section. */
  private ids: number[] = [];

  constructor(private readonly path: string) {}

  readonly layout: LayoutListener = {
    pcapHeader: (header) => {
      const writer = new PcapWriter(this.path, header.snaplen, header.nano);
      writer.begin(header.linktypeField);
      this.writer = writer;
    },
    pcapngSection: () => {
      // A section of the input is a section of the copy: interface ids stay as they were.
      if (this.writer === null) this.writer = new PcapngWriter(this.path);
      else (this.writer as PcapngWriter).section();
      this.ids = [];
    },
    pcapngInterface: (iface) => {
      this.ids.push((this.writer as PcapngWriter).copyInterface(iface));
    },
  };

  readonly sink: PacketSink = (_n, record, packet) => {
    // The file gets the frames as captured; a datagram made of them is no frame.
    if (packet.reassembled !== undefined) return;
    const writer = this.writer as PcapWriter | PcapngWriter;
    if (writer instanceof PcapngWriter) writer.writeOn(this.ids[record.interfaceId], record);
    else writer.write(record, record.linktype);
  };

  get packets(): number {
    return this.writer?.packets ?? 0;
  }

  close(): void {
    this.writer?.close();
  }
}

async function runRead(file: string, _words: string[], flags: ReadFlags): Promise<void> {
  if (flags.write !== undefined) checkNotInput(file, flags.write);
  // Packets are printed unless they go to a file or -q says not to, or a print option asks for them.
  const printing = !flags.quiet && (flags.write === undefined || asksToPrint(flags));
  const prepared = prepareDecode({ ...decodeOptionsOf(flags), detail: printing });
  const out = new OutputWriter();
  const sinks: PacketSink[] = [];
  if (printing) sinks.push(packetPrinter(flags, out));
  const subset = flags.write === undefined ? null : new SubsetWriter(flags.write);
  if (subset !== null) sinks.push(subset.sink);
  let summary;
  try {
    // Progress only while writing a file: printed packets share the terminal.
    const progress = subset !== null && !printing ? Progress.forFile(file, flags.quiet) : null;
    summary = await decodeRecords(withProgress(fileSource(file, undefined, subset?.layout), progress), prepared, (n, record, packet) => {
      for (const sink of sinks) if (sink(n, record, packet) === false) return false;
      return true;
    });
  } finally {
    subset?.close();
  }
  out.flush();
  if (out.closed) return;
  if (summary.warning) warn(`warning: ${summary.warning}`);
  if (flags.quiet || subset !== null) {
    const lines = [countLine(summary.records, 'read')];
    if (prepared.filter !== null) lines.push(countLine(summary.matched, 'matched the filter'));
    if (subset !== null) lines.push(countLine(subset.packets, `written to ${flags.write}`));
    process.stderr.write(`${lines.join('\n')}\n`);
  }
}

export function defineReadCommand(program: Command): void {
  const command = program
    .command('read')
    .description('print every packet of a capture, one line each, every tunnel level shown; or write those that match to a file (-w)')
    .argument('<file>', 'a pcap or pcapng file, or - for standard input')
    .argument(...FILTER_WORDS_ARGUMENT);
  addPrintOptions(command);
  command
    .option('-c, --count <n>', 'stop after N matching packets', positiveInteger)
    .option('-w, --write <file>', 'write the matching packets, unchanged, to a capture file of the input\'s format '
      + '(pcap: same link type and time stamp resolution; pcapng: same interfaces) instead of printing them');
  addDecodeOptions(command).action(runRead);
}
