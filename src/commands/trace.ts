// `tunscope trace POINT...`: follow each packet across capture points and say
// where packets stop (docs/trace.md). With --duration or -c the points are
// live interfaces (IFACE or NETNS/IFACE): they are captured together into one
// pcapng (kept with -w), which is then traced as a file is.

import type { Command } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { OutputWriter } from '../output/writer.js';
import { traceText } from '../output/trace-text.js';
import { prepareDecode } from '../pipeline.js';
import { openPoints, parseOffsets, parsePointSpec, type PointSpec } from '../trace/points.js';
import { traceCaptures } from '../trace/trace.js';
import { addDecodeOptions, collect, decodeOptionsOf, positiveInteger, positiveNumber, warn, type DecodeFlags } from './options.js';

interface TraceFlags extends DecodeFlags {
  json?: boolean;
  offset?: string[];
  host?: string[];
  window: number;
  duration?: number;
  write?: string;
}

function runTrace(parsed: PointSpec[], flags: TraceFlags, hosts: string[]): void {
  const prepared = prepareDecode({ ...decodeOptionsOf(flags), count: undefined });
  const open = openPoints(parsed, hosts);
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

/**
 * Live points: every interface captured at once into one pcapng until
 * --duration ends, -c packets were seen, or Ctrl-C; then that file is traced,
 * each interface a point named as given. A namespace is a host, unless
 * --host says otherwise, and every host's clock is this kernel's: no offset.
 */
async function runLiveTrace(interfaces: string[], flags: TraceFlags): Promise<void> {
  prepareDecode(decodeOptionsOf(flags)); // a bad filter is a usage error before anything is opened
  const { captureToFile } = await import('./trace-live.js');
  const dir = flags.write === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-trace-')) : null;
  const file = flags.write ?? path.join(dir as string, 'live.pcapng');
  // Each namespace is a host (the root namespace "local"); all of them read one kernel clock.
  const hosts = new Map<string, string[]>();
  for (const given of interfaces) {
    const slash = given.lastIndexOf('/');
    const host = slash < 0 ? 'local' : given.slice(0, slash);
    hosts.set(host, [...(hosts.get(host) ?? []), given]);
  }
  const hostSpecs = flags.host ?? [...hosts].map(([host, members]) => `${host}=${members.join(',')}`);
  const offsets = flags.offset ?? (flags.host === undefined ? [...hosts.keys()].map((host) => `${host}=0`) : []);
  try {
    await captureToFile(interfaces, file, { duration: flags.duration, count: flags.count });
    runTrace([{ name: '', file }], { ...flags, offset: offsets }, hostSpecs);
  } finally {
    if (dir !== null) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function defineTraceCommand(program: Command): void {
  const command = program
    .command('trace')
    .description('follow each packet across capture points and say where packets stop')
    .argument('<point...>', 'NAME=FILE or FILE, in the order of the path (a pcapng with several interfaces gives NAME:IFNAME per interface); ' +
      'with --duration or -c, live interfaces: IFACE or NETNS/IFACE')
    .option('--json', 'print the report as one JSON object')
    .option('--offset <name=seconds>', 'seconds to add to the timestamps of a point or host (repeatable)', collect)
    .option('--host <name=point,point>', 'these points share one host and its clock (default: the name up to the first - or :)', collect)
    .option('--window <seconds>', 'how long after its first sighting a packet may still be seen elsewhere', positiveNumber, 1)
    .option('--duration <seconds>', 'the points are live interfaces: capture them this long, then trace', positiveNumber)
    .option('-c, --count <n>', 'the points are live interfaces: capture until N packets were seen on them in all, then trace', positiveInteger)
    .option('-w, --write <file>', 'live points: keep what was captured in this pcapng, to trace it again offline');
  addDecodeOptions(command).action(async (specs: string[], flags: TraceFlags) => {
    if (specs.length === 0) throw new UsageError('trace needs at least one point');
    if (flags.duration !== undefined || flags.count !== undefined) {
      await runLiveTrace(specs, flags);
      return;
    }
    if (flags.write !== undefined) throw new UsageError('-w keeps a live capture: give --duration or -c with live points');
    runTrace(specs.map(parsePointSpec), flags, flags.host ?? []);
  });
}
