// The export options of `capture` and `stats`, defined without loading the
// exporters: only a command line that names one loads them (exports.ts).

import type { Command } from 'commander';
import { positiveInteger, positiveNumber } from '../commands/option-values.js';

export const DEFAULT_METRICS_TUNNELS = 200;

export interface ExportFlags {
  metrics?: string;
  metricsTunnels?: number;
  metricsFile?: string;
  ipfix?: string;
  interval?: number;
  json?: boolean;
}

const IPFIX_HELP = 'export one IPFIX record per inner flow over UDP to the collector at HOST:PORT (RFC 7011; see docs/export.md)';

export function addCaptureExportOptions(command: Command): Command {
  return command
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics while capturing (see docs/export.md)')
    .option('--metrics-tunnels <n>', `tunnel directions with series of their own; the others are summed in type="other" (default ${DEFAULT_METRICS_TUNNELS})`, positiveInteger)
    .option('--ipfix <host:port>', `${IPFIX_HELP}: active timeout 60 s, idle 15 s`)
    .option('--interval <seconds>', 'with --json: print one stats object per interval, one per line', positiveNumber);
}

export function addStatsExportOptions(command: Command): Command {
  return command
    .option('--metrics-file <file>', 'write the Prometheus metrics of the file in the text format (for node_exporter\'s textfile collector)')
    .option('--metrics-tunnels <n>', `tunnel directions with series of their own in --metrics-file (default ${DEFAULT_METRICS_TUNNELS})`, positiveInteger)
    .option('--ipfix <host:port>', `${IPFIX_HELP}: each flow of the file once, with the capture's timestamps`);
}

/** Whether any export is asked for. */
export function exportsGiven(flags: ExportFlags): boolean {
  return flags.metrics !== undefined || flags.metricsFile !== undefined || flags.ipfix !== undefined || flags.interval !== undefined;
}

/** Whether the command needs its stats aggregator for what it exports. */
export function exportsNeedReport(flags: ExportFlags): boolean {
  return flags.metrics !== undefined || flags.interval !== undefined || flags.metricsFile !== undefined;
}

/** The exports the flags ask for, opened (null for none): loads the exporters only then. */
export async function openExports(flags: ExportFlags, live: boolean, warn: (message: string) => void) {
  if (!exportsGiven(flags)) return null;
  const { Exports } = await import('./exports.js');
  return Exports.open(flags, live, warn);
}
