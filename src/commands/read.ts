// `tunscope read FILE|-`: print every packet, one line each, as a tree, as
// JSON, with or without a hex dump.

import type { Command } from 'commander';
import type { Packet } from '../../decoders/types.js';
import { decodeCapture, prepareDecode } from '../pipeline.js';
import { OutputWriter } from '../output/writer.js';
import { packetJson } from '../output/json.js';
import { packetLine, packetSummary } from '../output/line.js';
import { timeOfDayText } from '../output/timestamp.js';
import { packetTree } from '../output/tree.js';
import { hexDump } from '../output/hex.js';
import type { CaptureRecord } from '../sources/record.js';
import { addDecodeOptions, decodeOptionsOf, positiveInteger, warn, type DecodeFlags } from './options.js';

export interface PrintFlags {
  verbose?: boolean;
  hex?: boolean;
  json?: boolean;
}

const DIRECTION_WORDS = { in: 'In', out: 'Out' } as const;

/**
 * The per-packet printer `read` and `capture` share: lines, tree (-v), JSON,
 * hex (-x). Given the names of the interfaces, each packet also says its
 * interface and direction, as `tcpdump -i any` does (`vx42 Out`).
 */
export function packetPrinter(
  flags: PrintFlags, out: OutputWriter, interfaces?: string[],
): (n: number, record: CaptureRecord, packet: Packet) => boolean {
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
    } else if (flags.verbose) {
      const tree = packetTree(n, record, packet);
      out.line(interfaces === undefined ? tree : tree.replace('\n', `, ${where(record)}\n`));
    } else {
      out.line(interfaces === undefined ? packetLine(record, packet)
        : `${timeOfDayText(record)} ${where(record)} ${packetSummary(packet)}`);
    }
    if (flags.hex) out.line(hexDump(record.bytes));
    if (flags.verbose && !flags.json) out.line('');
    return !out.closed;
  };
}

export function addPrintOptions(command: Command): Command {
  return command
    .option('-v, --verbose', 'print every layer and field as a tree, indented by tunnel depth')
    .option('-x, --hex', 'print a hex and ASCII dump under each packet')
    .option('--json', 'print one JSON object per packet per line');
}

async function runRead(file: string, flags: PrintFlags & DecodeFlags): Promise<void> {
  const prepared = prepareDecode(decodeOptionsOf(flags));
  const out = new OutputWriter();
  const summary = await decodeCapture(file, prepared, packetPrinter(flags, out));
  out.flush();
  if (summary.warning && !out.closed) warn(`warning: ${summary.warning}`);
}

export function defineReadCommand(program: Command): void {
  const command = program
    .command('read')
    .description('print every packet of a capture, one line each, every tunnel level shown')
    .argument('<file>', 'a pcap or pcapng file, or - for standard input');
  addPrintOptions(command);
  command.option('-c, --count <n>', 'stop after N matching packets', positiveInteger);
  addDecodeOptions(command).action(runRead);
}
