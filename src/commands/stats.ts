// `tunscope stats FILE|-`: traffic per tunnel, per inner flow and per VNI,
// and what is wrong with it, as tables, one JSON object, or CSV.

import { InvalidArgumentError, Option, type Command } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import { StatsAggregator, type AggregatorOptions } from '../analysis/aggregate.js';
import { parallelStats } from '../analysis/parallel.js';
import { decodeRecords, fileSource, prepareDecode, type PacketSink, type PreparedDecode } from '../pipeline.js';
import { Progress, withProgress } from '../output/progress.js';
import { UsageError } from '../errors.js';
import { OutputWriter } from '../output/writer.js';
import { statsCsv } from '../output/csv.js';
import { statsText, type StatsGrouping } from '../output/tables.js';
import { addStatsExportOptions, openExports, type ExportFlags } from '../export/options.js';
import { FILTER_WORDS_ARGUMENT, QUIET_OPTION, addDecodeOptions, decodeOptionsOf, positiveInteger, warn, type DecodeFlags } from './options.js';

export const DEFAULT_TOP = 20;

export interface StatsFlags extends DecodeFlags, ExportFlags {
  json?: boolean;
  csv?: boolean;
  top?: number;
  wide?: boolean;
  by: StatsGrouping;
  mtu: number;
  maxFlows?: number;
  threads?: number;
  quiet?: boolean;
}

function rowCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number (0 shows every row).');
  return Number(value);
}

export function mtuValue(value: string): number {
  const n = Number(value);
  // RFC 791 section 3.1: every IPv4 link carries 68 bytes; the total length field ends at 65535.
  if (!/^\d+$/.test(value) || n < 68 || n > 65535) throw new InvalidArgumentError('expected an MTU from 68 to 65535.');
  return n;
}

/** Below this, a file is counted on one thread: starting workers would cost more than they save. */
const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

function fileSize(file: string): number {
  try {
    return file === '-' ? 0 : fs.statSync(file).size;
  } catch {
    return 0;
  }
}

async function countWhole(file: string, prepared: PreparedDecode, options: AggregatorOptions, progress: Progress | null, also: PacketSink | null = null) {
  const aggregator = new StatsAggregator(options);
  const summary = await decodeRecords(withProgress(fileSource(file), progress), prepared, also === null ? (n, record, packet) => {
    aggregator.add(n, record, packet);
  } : (n, record, packet) => {
    aggregator.add(n, record, packet);
    also(n, record, packet);
  });
  return { aggregator, summary };
}

/** Read the capture, count it, and print the report; `out` is standard output unless a test gives another. */
export async function runStats(file: string, flags: StatsFlags, out = new OutputWriter()): Promise<void> {
  if (flags.json && flags.csv) throw new UsageError('--json and --csv cannot be used together; choose one');
  // Counting never prints a packet: the decoders may skip what only printers show.
  const decode = { ...decodeOptionsOf(flags), detail: false };
  const prepared = prepareDecode(decode);
  const options = { mtu: flags.mtu, maxFlows: flags.maxFlows };
  // Exports see every packet, so they count on one thread.
  const exports = await openExports(flags, false, warn);
  const threads = exports !== null ? 1 : flags.threads ?? (fileSize(file) >= PARALLEL_MIN_BYTES ? os.availableParallelism() : 1);
  const { aggregator, summary } = (threads > 1 && file !== '-' ? await parallelStats(file, decode, options, threads, undefined, Progress.forFile(file, flags.quiet)) : null)
    ?? await countWhole(file, prepared, options, Progress.forFile(file, flags.quiet), exports === null ? null : (_n, record, packet) => exports.add(record, packet))
      .catch(async (err: unknown) => {
        await exports?.close();
        throw err;
      });
  const report = aggregator.report();
  report.reassembly = summary.reassembly;
  if (flags.json) out.line(JSON.stringify(report));
  else if (flags.csv) out.line(statsCsv(report, flags.by, flags.top ?? 0));
  else out.line(statsText(report, { by: flags.by, top: flags.top ?? DEFAULT_TOP, source: file, wide: flags.wide }));
  out.flush();
  if (summary.warning && !out.closed) warn(`warning: ${summary.warning}`);
  if (exports !== null) for (const line of await exports.finish(() => report)) process.stderr.write(`${line}\n`);
}

export function defineStatsCommand(program: Command): void {
  const command = program
    .command('stats')
    .description('sum traffic per tunnel, inner flow and VNI, and name what is wrong with it (MTU, fragments, checksums, ...)')
    .argument('<file>', 'a pcap or pcapng file, or - for standard input')
    .argument(...FILTER_WORDS_ARGUMENT)
    .addOption(new Option('--by <table>', 'the table to show: tunnel, vni or flow')
      .choices(['tunnel', 'vni', 'flow']).default('tunnel'))
    .option('--top <n>', `rows per table (default ${DEFAULT_TOP}; 0 for all; CSV: all unless given)`, rowCount)
    .option('--json', 'print the whole report as one JSON object (--top does not apply)')
    .option('--csv', 'print the --by table as CSV, for spreadsheets')
    .option('--wide', 'show every cell whole, however wide the lines (default: fit the terminal, COLUMNS or 80)')
    .option('--mtu <bytes>', 'the underlay MTU findings measure against', mtuValue, 1500)
    .option('--max-flows <n>', 'most flows kept; further flows are summed in one overflow row per tunnel (default 1000000)',
      positiveInteger)
    .option('--threads <n>', 'count on N threads, each reading a part of a pcap file (default: one per core for files '
      + 'of 32 MiB or more; 1 reads on one thread only)', positiveInteger)
    .option(...QUIET_OPTION);
  addStatsExportOptions(command);
  addDecodeOptions(command).action((file: string, _words: string[], flags: StatsFlags) => runStats(file, flags));
}
