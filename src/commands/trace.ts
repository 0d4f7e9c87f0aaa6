// `tunscope trace POINT...`: follow each packet across capture points and say
// where packets stop (docs/trace.md).

import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { OutputWriter } from '../output/writer.js';
import { traceText } from '../output/trace-text.js';
import { prepareDecode } from '../pipeline.js';
import { openPoints, parseOffsets, parsePointSpec } from '../trace/points.js';
import { traceCaptures } from '../trace/trace.js';
import { addDecodeOptions, collect, decodeOptionsOf, positiveNumber, warn, type DecodeFlags } from './options.js';

interface TraceFlags extends DecodeFlags {
  json?: boolean;
  offset?: string[];
  host?: string[];
  window: number;
}

function runTrace(specs: string[], flags: TraceFlags): void {
  const prepared = prepareDecode(decodeOptionsOf(flags));
  const parsed = specs.map(parsePointSpec);
  const open = openPoints(parsed, flags.host ?? []);
  let offsets;
  try {
    offsets = parseOffsets(flags.offset ?? [], open.points, open.hostNames);
  } catch (err) {
    for (const cursor of open.cursors) cursor.close();
    throw err;
  }
  const { report, warnings } = traceCaptures(open, prepared, {
    window: flags.window,
    offsets: offsets.offsets,
    givenOffsets: offsets.given,
  });
  const out = new OutputWriter();
  out.line(flags.json ? JSON.stringify(report) : traceText(report));
  out.flush();
  if (!out.closed) for (const warning of warnings) warn(`warning: ${warning}`);
}

export function defineTraceCommand(program: Command): void {
  const command = program
    .command('trace')
    .description('follow each packet across capture points and say where packets stop')
    .argument('<point...>', 'NAME=FILE or FILE, in the order of the path (a pcapng with several interfaces gives NAME:IFNAME per interface)')
    .option('--json', 'print the report as one JSON object')
    .option('--offset <name=seconds>', 'seconds to add to the timestamps of a point or host (repeatable)', collect)
    .option('--host <name=point,point>', 'these points share one host and its clock (default: the name up to the first - or :)', collect)
    .option('--window <seconds>', 'how long after its first sighting a packet may still be seen elsewhere', positiveNumber, 1);
  addDecodeOptions(command).action((specs: string[], flags: TraceFlags) => {
    if (specs.length === 0) throw new UsageError('trace needs at least one point');
    runTrace(specs, flags);
  });
}
