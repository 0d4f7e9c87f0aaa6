#!/usr/bin/env node
// `npm run bench`: times tunscope against tcpdump and tshark on a large mixed
// capture made by bench/generate.mjs.
//
//   node bench/run.mjs [--packets N] [--rounds N] [--keep] [--big] [--no-linearity]
//                      [--flows N] [--seed N] [--dir DIR] [--only NAME,...] [--no-trace]
//   node bench/run.mjs --live [--pps N] [--seconds N] [--capture-buffer MB] [--capture-mode stats|json|lines]
//
// Every command reads the same file, already in the page cache, with its
// output sent to /dev/null. The commands run one after another, round after
// round, each round starting one command later, and the table shows medians.
// Peak memory is the maximum resident set size: /usr/bin/time's when it is
// installed, else the kernel's high-water mark (VmHWM) polled from /proc.
//
// --live replays VXLAN traffic with tcpreplay into a veth pair between two
// network namespaces made for the run (and deleted after it), and counts what
// `tunscope capture` received against what was sent. It needs root, ip(8)
// and tcpreplay; the traffic never leaves the two namespaces.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULTS, GENERATOR_VERSION, generateCapture } from './generate.mjs';
import { flowWorkloads } from './flow-workloads.mjs';
import { runLive } from './live.mjs';
import {
  TIME, firstLine, hasCommand, log, mb, median, ratioText, removeMade, seconds, table, timeCommand, warmCache,
} from './timing.mjs';
import { traceBench } from './trace.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const PROJECT_ROOT = path.dirname(BENCH_DIR);
const CLI = path.join(PROJECT_ROOT, 'dist', 'src', 'cli.js');
/** tunscope as its bin starts it: a shell line at its top starts node with the heap settings it wants. */
const TUNSCOPE = ['/bin/sh', CLI];

const TARGETS = {
  statsVsTcpdumpQ: 2,
  linearity: 4.4,
};

function usage() {
  return [
    'usage: node bench/run.mjs [options]',
    '  --packets N      packets in the capture (default 1000000)',
    '  --rounds N       timed runs of each command (default 3; the table shows medians)',
    '  --flows N        inner flows in the capture (default 20000)',
    '  --seed N         generator seed (default 1)',
    '  --dir DIR        where captures are written (default: the system temp dir; never inside the project)',
    '  --keep           keep the captures for the next run (they are reused when present)',
    '  --no-linearity   skip the 1x against 4x packets check',
    '  --no-trace       skip trace over four capture points of a quarter of the packets each',
    '  --no-flows       skip the workloads of nearly one flow per packet (bench/generate-flows.mjs)',
    '  --flow-packets N packets (each its own flow) of the second workload (default 1000000)',
    '  --big            add the workload of 10,000,000 packets and flows (slow; about 1.3 GB of disk)',
    '  --only A,B       time only these commands (names as in the table, e.g. "stats,tcpdump -q")',
    '',
    '  --live           instead: replay VXLAN into a veth and count what `tunscope capture` misses (root, tcpreplay)',
    '  --pps N          replay rate (default 100000)',
    '  --seconds N      how long to replay (default 5): pps x seconds packets',
    '  --capture-buffer MB   tunscope capture --buffer (default: tunscope\'s own)',
    '  --capture-mode M      stats (--stats: decode, verify, count; default), json or lines (printed to /dev/null)',
  ].join('\n');
}

function parseArgs(argv) {
  const args = {
    packets: DEFAULTS.packets, rounds: 3, flows: DEFAULTS.flows, seed: DEFAULTS.seed,
    dir: path.join(os.tmpdir(), 'tunscope-bench'), keep: false, big: false, flowsWorkloads: true, flowPackets: 1_000_000, linearity: true, trace: true, only: null,
    live: false, pps: 100_000, liveSeconds: 5, captureBuffer: null, captureMode: 'stats',
  };
  const wholeNumber = (name, value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value ?? '') || n < 1) throw new Error(`${name} needs a whole number of 1 or more`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '--packets': args.packets = wholeNumber(arg, argv[++i]); break;
      case '--rounds': args.rounds = wholeNumber(arg, argv[++i]); break;
      case '--flows': args.flows = wholeNumber(arg, argv[++i]); break;
      case '--seed': args.seed = wholeNumber(arg, argv[++i]); break;
      case '--dir': args.dir = path.resolve(argv[++i] ?? ''); break;
      case '--keep': args.keep = true; break;
      case '--big': args.big = true; break;
      case '--no-flows': args.flowsWorkloads = false; break;
      case '--flow-packets': args.flowPackets = wholeNumber(arg, argv[++i]); break;
      case '--no-linearity': args.linearity = false; break;
      case '--no-trace': args.trace = false; break;
      case '--only': args.only = (argv[++i] ?? '').split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--live': args.live = true; break;
      case '--pps': args.pps = wholeNumber(arg, argv[++i]); break;
      case '--seconds': args.liveSeconds = wholeNumber(arg, argv[++i]); break;
      case '--capture-buffer': args.captureBuffer = wholeNumber(arg, argv[++i]); break;
      case '--capture-mode':
        args.captureMode = argv[++i] ?? '';
        if (!['stats', 'json', 'lines'].includes(args.captureMode)) throw new Error('--capture-mode is stats, json or lines');
        break;
      case '--help': case '-h': process.stdout.write(`${usage()}\n`); process.exit(0); break;
      default: throw new Error(`unknown argument ${arg}\n${usage()}`);
    }
  }
  const relative = path.relative(PROJECT_ROOT, args.dir);
  if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))) {
    throw new Error(`--dir ${args.dir} is inside the project; captures of hundreds of megabytes belong in a temp dir`);
  }
  return args;
}

// ---------------------------------------------------------------------------
// Captures

/** The capture for `packets`, reused when a kept one was made with the same options. */
function ensureCapture(args, packets, made, kinds = null) {
  fs.mkdirSync(args.dir, { recursive: true });
  const name = kinds === null ? 'mixed' : kinds.join('+');
  const file = path.join(args.dir, `${name}-${packets}p-${args.flows}f-s${args.seed}.pcap`);
  const truthFile = `${file}.truth.json`;
  if (fs.existsSync(file) && fs.existsSync(truthFile)) {
    try {
      const truth = JSON.parse(fs.readFileSync(truthFile, 'utf8'));
      if (truth.generator === GENERATOR_VERSION && truth.options.packets === packets &&
          truth.options.flows === args.flows && truth.options.seed === args.seed) {
        log(`reusing ${file} (${mb(fs.statSync(file).size)} MB)`);
        return { file, truth };
      }
    } catch {
      // An unreadable truth file: make the capture again.
    }
  }
  const started = process.hrtime.bigint();
  const truth = generateCapture({ packets, flows: args.flows, seed: args.seed, out: file, ...(kinds === null ? {} : { kinds }) });
  made.push(file, truthFile);
  log(`generated ${file}: ${truth.packets} packets, ${mb(fs.statSync(file).size)} MB in ${seconds(started).toFixed(1)} s`);
  return { file, truth };
}

// ---------------------------------------------------------------------------
// The commands

function tunscopeHas(command) {
  return spawnSync(process.execPath, [CLI, command, '--help'], { stdio: 'ignore' }).status === 0;
}

function commandsFor(file, peers) {
  const list = [];
  if (peers.stats) {
    list.push({ name: 'tunscope stats', argv: [...TUNSCOPE, 'stats', file] });
    list.push({ name: 'tunscope stats --threads 1', argv: [...TUNSCOPE, 'stats', '--threads', '1', file] });
  }
  list.push({ name: 'tunscope read --json', argv: [...TUNSCOPE, 'read', '--json', file] });
  list.push({ name: 'tunscope read', argv: [...TUNSCOPE, 'read', file] });
  if (peers.tcpdump) {
    list.push({ name: 'tcpdump -q -nr', argv: ['tcpdump', '-q', '-nr', file], baseline: true });
    list.push({ name: 'tcpdump -S -nr', argv: ['tcpdump', '-S', '-nr', file] });
  }
  if (peers.tshark) list.push({ name: 'tshark -q -z conv,ip', argv: ['tshark', '-r', file, '-q', '-z', 'conv,ip'] });
  return list;
}

async function timeRounds(commands, rounds) {
  const results = new Map(commands.map((c) => [c.name, { ...c, times: [], peaks: [], error: null }]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < commands.length; k++) {
      const command = commands[(k + round) % commands.length];
      const result = results.get(command.name);
      if (result.error) continue;
      const run = await timeCommand(command.argv);
      if (!run.ok) {
        result.error = run.error;
        log(`${command.name} failed: ${run.error}`);
        continue;
      }
      result.times.push(run.seconds);
      result.peaks.push(run.peakKb);
      log(`round ${round + 1}/${rounds}: ${command.name} ${run.seconds.toFixed(2)} s, ${(run.peakKb / 1024).toFixed(0)} MB`);
    }
  }
  return [...results.values()];
}

/** Compares `stats --json` with the generator's ground truth; returns lines, each saying agree or differ. */
function checkAgainstTruth(file, truth) {
  const run = spawnSync(process.execPath, [CLI, 'stats', '--json', file], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (run.status !== 0) return [`stats --json failed: ${(run.stderr ?? '').split('\n')[0]}`];
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch (err) {
    return [`stats --json printed no JSON object: ${err.message}`];
  }
  const lines = [];
  const compare = (what, got, want) => lines.push(`${got === want ? 'agrees' : 'DIFFERS'}: ${what} ${got}${got === want ? '' : ` (truth ${want})`}`);
  compare('packets', report.packets, truth.packets);
  compare('bytes', report.bytes, truth.bytes);
  const tunnels = (report.tunnels ?? []).filter((t) => t.type !== 'none');
  compare('tunnel directions', tunnels.length, truth.tunnels.length);
  const byKey = new Map(tunnels.map((t) => [`${t.type} ${t.src} ${t.dst} ${t.id}`, t]));
  let samePackets = 0;
  for (const t of truth.tunnels) {
    const got = byKey.get(`${t.type} ${t.src} ${t.dst} ${t.id}`);
    if (got !== undefined && got.packets >= t.packets) samePackets++;
  }
  compare('tunnel directions found with at least their packets', samePackets, truth.tunnels.length);
  let bad = 0;
  let offload = 0;
  for (const t of report.tunnels ?? []) {
    bad += t.checksums?.bad ?? 0;
    offload += t.checksums?.offload ?? 0;
  }
  compare('bad checksums', bad, truth.checksums.bad);
  compare('offload checksums (partial and local offload)', offload, truth.checksums.offload + truth.checksums.localOffload);
  return lines;
}

// ---------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm run bench does)`);

  const peers = {
    stats: tunscopeHas('stats'),
    tcpdump: hasCommand('tcpdump'),
    tshark: hasCommand('tshark'),
  };
  const notes = [];
  if (!peers.stats) notes.push('tunscope stats: not in this build, skipped');
  if (!peers.tcpdump) notes.push('tcpdump: not installed, skipped (apt-get install tcpdump); ratios are not shown');
  if (!peers.tshark) notes.push('tshark: not installed, skipped (apt-get install tshark)');
  if (!fs.existsSync(TIME)) notes.push(`${TIME}: not installed, peak memory polled from /proc (VmHWM)`);

  const made = [];
  if (args.live) {
    try {
      await runLive(args, made, ensureCapture, TUNSCOPE);
    } finally {
      if (!args.keep) removeMade(made);
    }
    return;
  }
  try {
    const { file, truth } = ensureCapture(args, args.packets, made);
    const size = fs.statSync(file).size;
    const cached = warmCache(file);
    let commands = commandsFor(file, peers);
    if (args.only) commands = commands.filter((c) => args.only.some((o) => c.name === o || c.name.endsWith(` ${o}`) || c.name.startsWith(`${o} `) || c.name === `tunscope ${o}`));
    if (commands.length === 0) throw new Error(`--only matched no command`);
    log(`timing ${commands.length} commands, ${args.rounds} rounds`);
    const results = await timeRounds(commands, args.rounds);

    const baseline = results.find((r) => r.baseline && r.times.length > 0);
    const baselineMedian = baseline ? median(baseline.times) : null;
    const rows = results.map((r) => {
      if (r.times.length === 0) return [r.name, 'failed', '', '', '', ''];
      const m = median(r.times);
      return [
        r.name,
        m.toFixed(2),
        Math.min(...r.times).toFixed(2),
        Math.round(truth.packets / m).toLocaleString('en-US'),
        baselineMedian === null ? '' : ratioText(baselineMedian / m),
        (Math.max(...r.peaks) / 1024).toFixed(0),
      ];
    });

    const out = [];
    out.push(`capture: ${truth.packets.toLocaleString('en-US')} packets, ${mb(size)} MB (${path.basename(file)}); reading it from the page cache takes ${cached.toFixed(2)} s`);
    out.push(`machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    if (peers.tcpdump) out.push(`peers: ${firstLine('tcpdump', ['--version'])}${peers.tshark ? `; ${firstLine('tshark', ['--version'])}` : ''}`);
    out.push('');
    out.push(table(rows, ['command', 'median s', 'min s', 'packets/s', 'vs tcpdump -q', 'peak RSS MB']));
    out.push('');
    out.push('"vs tcpdump -q" is how many times faster than `tcpdump -q -nr` (above 1x: faster).');
    for (const note of notes) out.push(`note: ${note}`);
    for (const r of results) if (r.error) out.push(`note: ${r.name} failed: ${r.error}`);

    const medianOf = (name) => {
      const r = results.find((x) => x.name === name);
      return r && r.times.length > 0 ? median(r.times) : null;
    };
    out.push('');
    out.push('targets:');
    const stats = medianOf('tunscope stats');
    if (stats !== null && baselineMedian !== null) {
      const ratio = baselineMedian / stats;
      out.push(`  ${ratio >= TARGETS.statsVsTcpdumpQ ? 'met    ' : 'NOT MET'} stats, every checksum verified, ${ratioText(ratio)} as fast as tcpdump -q -nr (target ${TARGETS.statsVsTcpdumpQ}x)`);
    } else {
      out.push('  -       stats against tcpdump -q -nr: not measured');
    }
    const json = medianOf('tunscope read --json');
    const tcpdumpS = medianOf('tcpdump -S -nr');
    if (json !== null && tcpdumpS !== null) {
      out.push(`  ${json <= tcpdumpS ? 'met    ' : 'NOT MET'} read --json ${json.toFixed(2)} s, tcpdump -S -nr ${tcpdumpS.toFixed(2)} s (target: no slower)`);
    } else {
      out.push('  -       read --json against tcpdump -S -nr: not measured');
    }
    process.stdout.write(`${out.join('\n')}\n`);

    if (peers.stats) {
      process.stdout.write(`\nstats --json against the generator's ground truth:\n${checkAgainstTruth(file, truth).map((l) => `  ${l}`).join('\n')}\n`);
    }

    if (args.linearity) {
      const which = peers.stats ? { name: 'stats', argv: (f) => [...TUNSCOPE, 'stats', f] } : { name: 'read --json', argv: (f) => [...TUNSCOPE, 'read', '--json', f] };
      const big = ensureCapture(args, args.packets * 4, made);
      warmCache(big.file);
      const one = [];
      const four = [];
      for (let round = 0; round < args.rounds; round++) {
        one.push((await timeCommand(which.argv(file))).seconds);
        four.push((await timeCommand(which.argv(big.file))).seconds);
      }
      const ratio = median(four) / median(one);
      process.stdout.write(
        `\nlinearity (tunscope ${which.name}): ${args.packets.toLocaleString('en-US')} packets ${median(one).toFixed(2)} s, ` +
        `${(args.packets * 4).toLocaleString('en-US')} packets ${median(four).toFixed(2)} s: ${ratio.toFixed(2)}x the time for 4x the packets ` +
        `(${ratio <= TARGETS.linearity ? 'met' : 'NOT MET'}, target at most ${TARGETS.linearity}x)\n`,
      );
      if (!args.keep) removeMade(made, big.file);
    }

    if (args.trace && tunscopeHas('trace')) {
      const lines = await traceBench({ args, made, cli: CLI, tunscope: TUNSCOPE, timeCommand, median, log, tcpdump: peers.tcpdump });
      process.stdout.write(`\n${lines.join('\n')}\n`);
    }

    if (args.flowsWorkloads && peers.stats) {
      const first = new Map(results.filter((r) => r.times.length > 0)
        .map((r) => [r.name, { seconds: median(r.times), peakMb: Math.max(...r.peaks) / 1024 }]));
      const firstLabel = `${truth.packets.toLocaleString('en-US')} packets, ${truth.options.flows.toLocaleString('en-US')} flows (${mb(size)} MB)`;
      const lines = await flowWorkloads({ args, made, peers, cli: CLI, tunscope: TUNSCOPE, first, firstLabel });
      process.stdout.write(`\n${lines.join('\n')}\n`);
    }
  } finally {
    if (!args.keep) removeMade(made);
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exitCode = 1;
});
