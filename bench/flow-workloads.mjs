// The benchmark's second and third workloads: nearly every packet a flow of
// its own (bench/generate-flows.mjs), 1,000,000 packets and, with --big,
// 10,000,000 (past --max-flows, where memory must stay flat and the overflow
// be counted exactly). Printed side by side with the first workload, against
// `tcpdump -q -nr` and `tshark -q -z conv,ip`, with bytes per flow and peak
// resident memory.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FLOWS_GENERATOR_VERSION, generateFlowsCapture } from './generate-flows.mjs';
import { log, mb, median, ratioText, seconds, table, timeCommand, warmCache } from './timing.mjs';

export const FLOW_TARGETS = {
  statsVsTcpdumpQ: 2,
  peakMbAt1MFlows: 250,
  /** Peak memory past --max-flows at most this much above the peak at --max-flows flows. */
  flatSlackMb: 25,
};

const DEFAULT_MAX_FLOWS = 1_000_000;

function grouped(n) {
  return n.toLocaleString('en-US');
}

function ensureFlowsCapture(args, packets, made) {
  fs.mkdirSync(args.dir, { recursive: true });
  const file = path.join(args.dir, `flows-${packets}p-s${args.seed}.pcap`);
  const truthFile = `${file}.truth.json`;
  if (fs.existsSync(file) && fs.existsSync(truthFile)) {
    try {
      const truth = JSON.parse(fs.readFileSync(truthFile, 'utf8'));
      if (truth.generator === FLOWS_GENERATOR_VERSION && truth.packets === packets && truth.options.seed === args.seed) {
        log(`reusing ${file} (${mb(fs.statSync(file).size)} MB)`);
        return { file, truth };
      }
    } catch {
      // An unreadable truth file: make the capture again.
    }
  }
  const started = process.hrtime.bigint();
  const truth = generateFlowsCapture({ packets, seed: args.seed, out: file });
  made.push(file, truthFile);
  log(`generated ${file}: ${truth.packets} packets, ${truth.flows} flows, ${mb(fs.statSync(file).size)} MB in ${seconds(started).toFixed(1)} s`);
  return { file, truth };
}

/** Flows kept and packets in overflow rows, as `stats` reports them (CSV tunnel table, and the full-table finding). */
function countedFlows(cli, file) {
  const csv = spawnSync(process.execPath, [cli, 'stats', '--csv', '--by', 'tunnel', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = csv.stdout.trim().split('\n');
  const header = lines[0].split(',');
  const flowsAt = header.indexOf('flows');
  let rows = 0;
  for (const line of lines.slice(1)) rows += Number(line.split(',')[flowsAt]);
  const text = spawnSync(process.execPath, [cli, 'stats', '--wide', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const full = /flow table full at ([\d,]+) flows: ([\d,]+) packets?/.exec(text.stdout);
  return { rows, overflowPackets: full === null ? 0 : Number(full[2].replace(/,/g, '')) };
}

/** A peer is stopped after this long on a workload (tshark keeps every conversation of ten million). */
const PEER_TIMEOUT_MS = 5 * 60 * 1000;

async function timeOnce(name, argv, rounds, timeoutMs = 0) {
  const times = [];
  const peaks = [];
  for (let round = 0; round < rounds; round++) {
    const run = await timeCommand(argv, timeoutMs);
    if (!run.ok) {
      log(`${name} failed: ${run.error}`);
      return { name, error: run.error };
    }
    times.push(run.seconds);
    peaks.push(run.peakKb / 1024);
    log(`${name}: ${run.seconds.toFixed(2)} s, ${(run.peakKb / 1024).toFixed(0)} MB`);
  }
  return { name, seconds: median(times), peakMb: Math.max(...peaks) };
}

const COMMANDS = [
  { name: 'tunscope stats', argv: (t, f) => [...t, 'stats', f] },
  { name: 'tunscope stats --threads 1', argv: (t, f) => [...t, 'stats', '--threads', '1', f] },
  { name: 'tcpdump -q -nr', argv: (_t, f) => ['tcpdump', '-q', '-nr', f], peer: 'tcpdump', baseline: true },
  { name: 'tshark -q -z conv,ip', argv: (_t, f) => ['tshark', '-r', f, '-q', '-z', 'conv,ip'], peer: 'tshark' },
];

/**
 * Runs the flow workloads and prints them beside `first` (the first
 * workload's results by command name: { seconds, peakMb }); returns the lines.
 */
export async function flowWorkloads({ args, made, peers, cli, tunscope, first, firstLabel }) {
  const workloads = [{ label: firstLabel, results: first }];
  const sizes = args.big ? [args.flowPackets, 10_000_000] : [args.flowPackets];
  const notes = [];
  const checks = [];
  let peakAt1M = null;
  for (const packets of sizes) {
    const { file, truth } = ensureFlowsCapture(args, packets, made);
    warmCache(file);
    const rounds = packets === sizes[0] ? args.rounds : 1;
    const results = new Map();
    for (const command of COMMANDS) {
      if (command.peer !== undefined && !peers[command.peer]) continue;
      results.set(command.name, await timeOnce(command.name, command.argv(tunscope, file), rounds, command.peer === undefined ? 0 : PEER_TIMEOUT_MS));
    }
    const label = `${grouped(packets)} packets, ${grouped(truth.flows)} flows (${mb(fs.statSync(file).size)} MB)`;
    workloads.push({ label, results });

    const kept = Math.min(truth.flows, DEFAULT_MAX_FLOWS);
    const counted = countedFlows(cli, file);
    const wantRows = kept + (truth.flows > kept ? truth.tunnels : 0);
    checks.push(`${counted.rows === wantRows ? 'agrees' : 'DIFFERS'}: ${label}: ${counted.rows.toLocaleString('en-US')} flow rows `
      + `(truth: ${kept.toLocaleString('en-US')} flows kept${truth.flows > kept ? ` and one overflow row in each of ${truth.tunnels} tunnels` : ''})`);
    const wantOverflow = truth.flows - kept;
    checks.push(`${counted.overflowPackets === wantOverflow ? 'agrees' : 'DIFFERS'}: ${label}: ${counted.overflowPackets.toLocaleString('en-US')} packets `
      + `in overflow rows (truth ${wantOverflow.toLocaleString('en-US')})`);

    const one = results.get('tunscope stats --threads 1');
    if (packets === sizes[0] && one?.peakMb !== undefined) {
      peakAt1M = one.peakMb;
      const few = await timeOnce('tunscope stats --threads 1 --max-flows 1000', [...tunscope, 'stats', '--threads', '1', '--max-flows', '1000', file], 1);
      if (few.peakMb !== undefined) {
        const perFlow = ((one.peakMb - few.peakMb) * 1024 * 1024) / (truth.flows - 1000);
        notes.push(`bytes per flow: ${perFlow.toFixed(0)} (peak RSS at ${truth.flows.toLocaleString('en-US')} flows ${one.peakMb.toFixed(0)} MB, `
          + `at --max-flows 1000 ${few.peakMb.toFixed(0)} MB, on one thread)`);
      }
    }
    if (packets > DEFAULT_MAX_FLOWS && one?.peakMb !== undefined && peakAt1M !== null) {
      const flat = one.peakMb <= peakAt1M + FLOW_TARGETS.flatSlackMb;
      notes.push(`${flat ? 'met    ' : 'NOT MET'} flat past --max-flows: ${one.peakMb.toFixed(0)} MB at ${truth.flows.toLocaleString('en-US')} flows `
        + `against ${peakAt1M.toFixed(0)} MB at ${sizes[0].toLocaleString('en-US')} (target: within ${FLOW_TARGETS.flatSlackMb} MB)`);
    }
  }

  const header = ['command'];
  for (const w of workloads) header.push(`${w.label}: s`, 'vs tcpdump -q', 'peak MB');
  const rows = COMMANDS.map((command) => {
    const row = [command.name];
    for (const w of workloads) {
      const r = w.results.get(command.name);
      const base = w.results.get('tcpdump -q -nr');
      if (r === undefined || r.seconds === undefined) {
        row.push(r?.error === undefined ? '-' : r.error.startsWith('stopped after') ? `>${PEER_TIMEOUT_MS / 1000}` : 'failed', '', '');
        continue;
      }
      row.push(r.seconds.toFixed(2), base?.seconds === undefined ? '' : ratioText(base.seconds / r.seconds), r.peakMb.toFixed(0));
    }
    return row;
  });
  const lines = ['workloads side by side (one row per command; "vs tcpdump -q": how many times faster):', table(rows, header), ''];
  lines.push('targets:');
  for (const w of workloads) {
    const stats = w.results.get('tunscope stats');
    const base = w.results.get('tcpdump -q -nr');
    if (stats?.seconds === undefined || base?.seconds === undefined) continue;
    const ratio = base.seconds / stats.seconds;
    lines.push(`  ${ratio >= FLOW_TARGETS.statsVsTcpdumpQ ? 'met    ' : 'NOT MET'} ${w.label}: stats ${ratioText(ratio)} as fast as tcpdump -q -nr `
      + `(target ${FLOW_TARGETS.statsVsTcpdumpQ}x${ratio >= FLOW_TARGETS.statsVsTcpdumpQ ? '' : `, missed by ${((1 - ratio / FLOW_TARGETS.statsVsTcpdumpQ) * 100).toFixed(0)}%`})`);
  }
  if (peakAt1M !== null) {
    const met = peakAt1M < FLOW_TARGETS.peakMbAt1MFlows;
    lines.push(`  ${met ? 'met    ' : 'NOT MET'} peak RSS at ${sizes[0].toLocaleString('en-US')} flows ${peakAt1M.toFixed(0)} MB on one thread (target under ${FLOW_TARGETS.peakMbAt1MFlows} MB at 1,000,000)`);
    const threads = workloads[1]?.results.get('tunscope stats');
    if (threads?.peakMb !== undefined) lines.push(`          on every core (each thread holds its own store): ${threads.peakMb.toFixed(0)} MB`);
  }
  for (const note of notes) lines.push(`  ${note}`);
  lines.push('', 'flow accounting against the generator\'s ground truth:', ...checks.map((c) => `  ${c}`));
  return lines;
}
