// The trace part of `npm run bench`: the same traffic as seen at four capture
// points (bench/generate-trace.mjs), traced, against `stats` and `tcpdump -q`
// over the same four files, and the trace's losses against the generator's
// ground truth.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { POINTS, TRACE_GENERATOR_VERSION, generateTracePoints } from './generate-trace.mjs';

const TARGETS = { versusStats: 3, peakMb: 300 };

/** The four point files for `packets` packets each, reused when a kept set was made with the same options. */
function ensurePoints(args, packets, made, log) {
  const dir = path.join(args.dir, `trace-${packets}p-s${args.seed}`);
  const truthFile = path.join(dir, 'truth.json');
  try {
    const truth = JSON.parse(fs.readFileSync(truthFile, 'utf8'));
    if (truth.generator === TRACE_GENERATOR_VERSION && truth.options.packets === packets && truth.options.seed === args.seed) {
      log(`reusing ${dir}`);
      return { dir, truth };
    }
  } catch {
    // None kept, or unreadable: make them.
  }
  const truth = generateTracePoints({ packets, seed: args.seed, dir });
  made.push(...POINTS.map((p) => path.join(dir, `${p}.pcap`)), truthFile);
  log(`generated ${dir}: ${packets} packets at each of ${POINTS.length} points`);
  return { dir, truth };
}

/** Losses by stage in `trace --json`, against the truth. */
function checkLosses(cli, files, truth) {
  const run = spawnSync(process.execPath, [cli, 'trace', '--json', ...files], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (run.status !== 0) return [`trace --json failed: ${(run.stderr ?? '').split('\n')[0]}`];
  const report = JSON.parse(run.stdout);
  const lost = {};
  for (const group of report.groups) for (const loss of group.losses) lost[loss.stage] = (lost[loss.stage] ?? 0) + loss.packets;
  const lines = [];
  for (const stage of ['underlay', 'decapsulation']) {
    const got = lost[stage] ?? 0;
    const want = truth.lost[stage];
    lines.push(`${got === want ? 'agrees' : 'DIFFERS'}: lost at ${stage} ${got}${got === want ? '' : ` (truth ${want})`}`);
  }
  const other = Object.entries(lost).filter(([stage]) => !(stage in truth.lost));
  lines.push(`${other.length === 0 ? 'agrees' : 'DIFFERS'}: no loss at any other stage${other.length === 0 ? '' : ` (${other.map(([s, n]) => `${s} ${n}`).join(', ')})`}`);
  return lines;
}

/**
 * Times trace over four points of `packets / 4` packets each, and the sum of
 * `stats` and of `tcpdump -q -nr` over the four files; returns the lines to print.
 */
export async function traceBench({ args, made, cli, tunscope, timeCommand, median, log, tcpdump }) {
  const each = Math.max(1, Math.floor(args.packets / POINTS.length));
  const { dir, truth } = ensurePoints(args, each, made, log);
  const files = POINTS.map((p) => path.join(dir, `${p}.pcap`));
  for (const file of files) fs.readFileSync(file);
  const rows = [];
  const sumOver = async (name, argvOf) => {
    const times = [];
    let peakKb = 0;
    for (let round = 0; round < args.rounds; round++) {
      let total = 0;
      for (const file of files) {
        const run = await timeCommand(argvOf(file));
        if (!run.ok) return log(`${name} failed: ${run.error}`);
        total += run.seconds;
        peakKb = Math.max(peakKb, run.peakKb);
      }
      times.push(total);
    }
    rows.push({ name, seconds: median(times), peakKb });
  };
  await sumOver('tunscope stats, each file', (f) => [...tunscope, 'stats', f]);
  if (tcpdump) await sumOver('tcpdump -q -nr, each file', (f) => ['tcpdump', '-q', '-nr', f]);
  const traceTimes = [];
  let tracePeakKb = 0;
  for (let round = 0; round < args.rounds; round++) {
    const run = await timeCommand([...tunscope, 'trace', ...files]);
    if (!run.ok) {
      log(`trace failed: ${run.error}`);
      break;
    }
    traceTimes.push(run.seconds);
    tracePeakKb = Math.max(tracePeakKb, run.peakKb);
    log(`round ${round + 1}/${args.rounds}: trace ${run.seconds.toFixed(2)} s, ${(run.peakKb / 1024).toFixed(0)} MB`);
  }
  const out = [`trace: ${POINTS.length} points of ${each.toLocaleString('en-US')} packets (${POINTS.join(', ')}), ${(each * POINTS.length).toLocaleString('en-US')} packets in all`];
  const total = each * POINTS.length;
  const line = (name, s, kb) => `  ${name.padEnd(28)} ${s.toFixed(2).padStart(7)} s  ${Math.round(total / s).toLocaleString('en-US').padStart(10)} packets/s  ${(kb / 1024).toFixed(0).padStart(5)} MB peak`;
  for (const r of rows) out.push(line(r.name, r.seconds, r.peakKb));
  if (traceTimes.length === 0) return [...out, '  tunscope trace: failed'];
  const trace = median(traceTimes);
  out.push(line('tunscope trace, all points', trace, tracePeakKb));
  const stats = rows.find((r) => r.name.startsWith('tunscope stats'));
  if (stats !== undefined) {
    const ratio = trace / stats.seconds;
    out.push(`  ${ratio <= TARGETS.versusStats ? 'met    ' : 'NOT MET'} trace takes ${ratio.toFixed(2)}x the time of stats over the same files (target at most ${TARGETS.versusStats}x)`);
  }
  const peakMb = tracePeakKb / 1024;
  out.push(`  ${peakMb < TARGETS.peakMb ? 'met    ' : 'NOT MET'} trace peak RSS ${peakMb.toFixed(0)} MB (target under ${TARGETS.peakMb} MB)`);
  out.push('  trace --json against the generator\'s ground truth:', ...checkLosses(cli, files, truth).map((l) => `    ${l}`));
  return out;
}
