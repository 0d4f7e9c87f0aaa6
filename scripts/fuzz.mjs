#!/usr/bin/env node
// A mutation run of the command line: captures (fixtures/, and the peer
// captures and reliability cases beside the project when they are there) are
// damaged in seeded ways, and `read`, `read -v`, `read --json`, `stats
// --json`, `decap` and the terminal UI's store loading run over each damaged
// file. Any internal error, an exit code above 2, a stderr line that does not
// start with "tunscope:", a line of JSON output that is not JSON, a store that
// throws or does not finish, or a resident size over the limit is a failure.
//
//   node scripts/fuzz.mjs [--mutations N] [--seed S] [--shards K] [--keep DIR] [--json]
//
// The commands run in-process (through the same runCommandLine as the
// program), K processes side by side, each taking every K-th mutation: a
// mutation costs milliseconds, not a process start. Each process's standard
// output is a file opened for appending, emptied before each command and read
// after it. Needs a built dist/ (npm run build). Exit 0 when nothing failed.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { seededRandom } from './seeded-random.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CORPUS_DIRS = [
  path.join(ROOT, 'fixtures'),
  path.resolve(ROOT, '../shared/peer-captures/tcpdump'),
  path.resolve(ROOT, '../shared/reliability-cases'),
];
/** Larger seeds would make a mutation cost more than the rest of the run. */
const MAX_SEED_BYTES = 1 << 20;
const RSS_LIMIT = 500 * 1024 * 1024;
const STORE_TIMEOUT_MS = 20_000;
const MAX_REPORTED = 20;
/** Memory-backed when the system has it: decap's fdatasync then costs nothing. */
const SCRATCH = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

const { values: options } = parseArgs({
  options: {
    mutations: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    shards: { type: 'string', default: '2' },
    keep: { type: 'string' },
    json: { type: 'boolean', default: false },
    shard: { type: 'string' },
  },
});
const MUTATIONS = Number(options.mutations);
const SEED = Number(options.seed);
const SHARDS = Math.max(1, Number(options.shards));

// ---------------------------------------------------------------------------
// The seeds and their units

function corpusFiles() {
  const files = [];
  for (const dir of CORPUS_DIRS) {
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      if (!/\.(pcap|pcapng)$/.test(name)) continue;
      const file = path.join(dir, name);
      if (fs.statSync(file).size <= MAX_SEED_BYTES) files.push(file);
    }
  }
  return files;
}

/**
 * The file's units (file header, records, blocks) and where their length and
 * time fields sit, walked here apart from tunscope's readers.
 */
function unitsOf(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const units = [];
  if (bytes.length < 24) return units;
  const magic = view.getUint32(0, false);
  const pcap = new Map([[0xa1b2c3d4, false], [0xa1b23c4d, false], [0xd4c3b2a1, true], [0x4d3cb2a1, true]]);
  if (pcap.has(magic)) {
    const le = pcap.get(magic);
    units.push({ start: 0, length: 24, le, lengths: [16], times: [], idb: false, packet: false });
    for (let at = 24; at + 16 <= bytes.length;) {
      const caplen = view.getUint32(at + 8, le);
      units.push({ start: at, length: 16 + caplen, le, lengths: [at + 8, at + 12], times: [at, at + 4], idb: false, packet: true });
      at += 16 + caplen;
    }
    return units;
  }
  let le = true;
  for (let at = 0; at + 12 <= bytes.length;) {
    if (view.getUint32(at, false) === 0x0a0d0d0a) le = view.getUint32(at + 8, true) === 0x1a2b3c4d;
    const type = view.getUint32(at, le);
    const length = view.getUint32(at + 4, le);
    if (length < 12 || at + length > bytes.length) break;
    const unit = { start: at, length, le, lengths: [at + 4, at + length - 4], times: [], idb: type === 1, packet: false };
    if (type === 6 || type === 2) {
      unit.lengths.push(at + 20, at + 24);
      unit.times.push(at + 12, at + 16);
      unit.packet = true;
    }
    units.push(unit);
    at += length;
  }
  return units;
}

const LENGTHS = [0, 1, 4, 12, 0xffff, 0x10000, 0x7fffffff, 0xfffffffe, 0xffffffff];

function pick(random, list) {
  return list[Math.floor(random() * list.length)];
}

/** A pcapng interface block with if_tsresol and if_tsoffset set to what `random` picks, in place of `unit`. */
function idbWithClock(bytes, unit, random) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = unit.le;
  // Block header (8), link type and snap length (8), if_tsresol (8), if_tsoffset (12), opt_endofopt (4), total length (4).
  const block = new Uint8Array(44);
  const out = new DataView(block.buffer);
  out.setUint32(0, 1, le);
  out.setUint32(4, block.length, le);
  out.setUint16(8, view.getUint16(unit.start + 8, le), le); // link type
  out.setUint32(12, view.getUint32(unit.start + 12, le), le); // snaplen
  out.setUint16(16, 9, le); // if_tsresol
  out.setUint16(18, 1, le);
  block[20] = pick(random, [0, 1, 3, 6, 9, 10, 11, 12, 19, 30, 63, 64, 127, 0x80, 0x80 | 10, 0x80 | 32, 0x80 | 33, 0x80 | 63, 0xff]);
  out.setUint16(24, 14, le); // if_tsoffset
  out.setUint16(26, 8, le);
  const offset = pick(random, [0n, 1n, -1n, 1n << 32n, -(1n << 32n), (1n << 62n), -(1n << 62n), (1n << 63n) - 1n, -(1n << 63n), 253402300800n, -62167219201n]);
  out.setBigInt64(28, offset, le);
  out.setUint32(36, 0, le); // opt_endofopt
  out.setUint32(40, block.length, le);
  return concat(bytes.subarray(0, unit.start), block, bytes.subarray(unit.start + unit.length));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Mutation `index` of the run: which seed file, what was done to it, and the bytes. */
function mutation(index, seeds) {
  const random = seededRandom((SEED * 1_000_003 + index * 7919) >>> 0);
  const kinds = ['flip', 'flip', 'cut', 'length', 'length', 'time', 'clock', 'bytes', 'repeat'];
  let kind = pick(random, kinds);
  // A new clock needs a pcapng interface block: drawn from the seeds that have one.
  const clocked = seeds.filter((s) => s.units.some((u) => u.idb));
  const seed = kind === 'clock' && clocked.length > 0 ? pick(random, clocked) : pick(random, seeds);
  let bytes = seed.bytes.slice();
  const view = () => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const units = seed.units;
  const unit = units.length > 0 ? pick(random, units) : null;
  if (unit === null || (kind === 'clock' && !units.some((u) => u.idb))) kind = 'flip';
  let what;
  if (kind === 'flip') {
    const flips = 1 + Math.floor(random() * 8);
    const at = [];
    for (let i = 0; i < flips; i++) {
      const o = Math.floor(random() * bytes.length);
      bytes[o] ^= 1 << Math.floor(random() * 8);
      at.push(o);
    }
    what = `bits flipped at ${at.join(', ')}`;
  } else if (kind === 'cut') {
    const at = Math.max(0, Math.min(bytes.length, unit.start + Math.floor(random() * (unit.length + 8)) - 4));
    bytes = bytes.slice(0, at);
    what = `cut at ${at}`;
  } else if (kind === 'length' && unit.lengths.length > 0) {
    const field = pick(random, unit.lengths);
    const value = random() < 0.3 ? Math.floor(random() * 0x100000000) : pick(random, LENGTHS);
    if (field + 4 <= bytes.length) view().setUint32(field, value, unit.le);
    what = `length field at ${field} set to ${value}`;
  } else if (kind === 'time' && unit.times.length > 0) {
    const field = pick(random, unit.times);
    const value = pick(random, [0, 999999, 1000000, 999999999, 1000000000, 0x7fffffff, 0x80000000, 0xffffffff]);
    if (field + 4 <= bytes.length) view().setUint32(field, value, unit.le);
    what = `time field at ${field} set to ${value}`;
  } else if (kind === 'clock') {
    const idb = pick(random, units.filter((u) => u.idb));
    bytes = idbWithClock(bytes, idb, random);
    what = `interface block at ${idb.start} given a clock of its own`;
  } else if (kind === 'repeat') {
    // A packet repeated: many records where one was, for the sinks that keep state per packet.
    const packets = units.filter((u) => u.packet);
    const one = packets.length > 0 ? pick(random, packets) : unit;
    const copies = 1 + Math.floor(random() * 200);
    const record = bytes.subarray(one.start, one.start + one.length);
    bytes = concat(bytes.subarray(0, one.start + one.length), ...Array(copies).fill(record), bytes.subarray(one.start + one.length));
    what = `unit at ${one.start} repeated ${copies} times`;
  } else {
    // Inside a record: a header field overwritten with 0 or all ones, or random bytes.
    const start = unit.start + Math.floor(random() * unit.length);
    const width = pick(random, [1, 2, 2, 4, 16]);
    const fill = pick(random, ['zero', 'ones', 'random']);
    for (let o = start; o < Math.min(bytes.length, start + width); o++) {
      bytes[o] = fill === 'zero' ? 0 : fill === 'ones' ? 0xff : Math.floor(random() * 256);
    }
    what = `${width} bytes at ${start} set to ${fill}`;
  }
  return { index, seed: path.relative(ROOT, seed.file), what, bytes };
}

// ---------------------------------------------------------------------------
// One process of the run: its share of the mutations, in-process

async function runShard(shard) {
  const { runCommandLine } = await import(path.join(ROOT, 'dist/src/command-line.js'));
  const { TuiStore } = await import(path.join(ROOT, 'dist/src/tui/store.js'));
  const { IndexedCaptureFile } = await import(path.join(ROOT, 'dist/src/tui/capture-index.js'));
  const { prepareDecode } = await import(path.join(ROOT, 'dist/src/pipeline.js'));
  const { CaptureError } = await import(path.join(ROOT, 'dist/src/sources/record.js'));
  const { WorkError } = await import(path.join(ROOT, 'dist/src/errors.js'));

  const seeds = corpusFiles().map((file) => {
    const bytes = new Uint8Array(fs.readFileSync(file));
    return { file, bytes, units: unitsOf(bytes) };
  });
  const work = fs.mkdtempSync(path.join(SCRATCH, 'tunscope-fuzz-'));
  const input = path.join(work, 'mutated.pcap');
  const output = path.join(work, 'inner.pcap');
  const stdoutFile = process.env.TUNSCOPE_FUZZ_STDOUT;

  let stderrText = '';
  const realStderrWrite = process.stderr.write.bind(process.stderr);
  const result = { mutations: 0, runs: 0, maxRss: 0, failures: [], internalErrors: 0 };

  async function command(args) {
    fs.ftruncateSync(1, 0);
    stderrText = '';
    process.stderr.write = (chunk) => {
      stderrText += String(chunk);
      return true;
    };
    let code;
    try {
      code = await runCommandLine(['node', 'tunscope', ...args]);
    } finally {
      process.stderr.write = realStderrWrite;
    }
    return { code, stdout: fs.readFileSync(stdoutFile, 'utf8'), stderr: stderrText };
  }

  function problemsOf(args, run) {
    const problems = [];
    if (run.stderr.includes('internal error')) problems.push(`internal error: ${run.stderr.trim()}`);
    if (!(run.code >= 0 && run.code <= 2)) problems.push(`exit code ${run.code}`);
    for (const line of run.stderr.split('\n')) {
      if (line !== '' && !line.startsWith('tunscope: ')) problems.push(`stderr line not from tunscope: ${line.slice(0, 200)}`);
    }
    if (args.includes('--json')) {
      const lines = run.stdout.split('\n').filter((line) => line !== '');
      if (args[0] === 'stats' && run.code === 0 && lines.length !== 1) problems.push(`stats --json printed ${lines.length} lines`);
      for (const line of lines) {
        try {
          JSON.parse(line);
        } catch {
          problems.push(`not JSON: ${line.slice(0, 200)}`);
          break;
        }
      }
    }
    return problems;
  }

  async function loadStore() {
    let store;
    try {
      store = TuiStore.forFile(new IndexedCaptureFile(input), { prepared: prepareDecode({}), filterText: '' });
    } catch (err) {
      if (err instanceof CaptureError || err instanceof WorkError) return [];
      return [`tui store: ${err?.stack ?? err}`];
    }
    try {
      const until = Date.now() + STORE_TIMEOUT_MS;
      while (store.reading) {
        if (Date.now() > until) return ['tui store: did not finish reading'];
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const { report } = store.snapshot();
      for (const tunnel of store.tunnelRows(report, 'bytes').slice(0, 8)) {
        const numbers = store.packetNumbers({ tunnel });
        for (const n of numbers.slice(0, 16)) store.packetLine(n, tunnel);
        for (const flow of store.flowRows(report, tunnel, 'packets').slice(0, 8)) store.packetNumbers({ tunnel, flow });
      }
      for (let n = 1; n <= Math.min(report.packets, 32); n++) store.openPacket(n);
      return [];
    } catch (err) {
      return [`tui store: ${err?.stack ?? err}`];
    } finally {
      store.close();
    }
  }

  const JOBS = [
    ['read', input],
    ['read', '-v', input],
    ['read', '--json', input],
    ['stats', '--json', '--threads', '1', input],
    ['decap', input, '-o', output],
  ];

  for (let index = shard; index < MUTATIONS; index += SHARDS) {
    const m = mutation(index, seeds);
    fs.writeFileSync(input, m.bytes);
    result.mutations++;
    const problems = [];
    for (const args of JOBS) {
      const run = await command(args);
      result.runs++;
      for (const problem of problemsOf(args, run)) problems.push(`${args[0]}${args[1] === input ? '' : ` ${args[1]}`}: ${problem}`);
      result.maxRss = Math.max(result.maxRss, process.memoryUsage.rss());
    }
    problems.push(...await loadStore());
    result.runs++;
    result.maxRss = Math.max(result.maxRss, process.memoryUsage.rss());
    if (result.maxRss > RSS_LIMIT) problems.push(`resident size ${Math.round(result.maxRss / 2 ** 20)} MiB`);
    result.internalErrors += problems.filter((p) => /internal error|tui store: (?!did not)/.test(p)).length;
    if (problems.length > 0) {
      result.failures.push({ index, seed: m.seed, what: m.what, problems });
      if (options.keep) {
        fs.mkdirSync(options.keep, { recursive: true });
        fs.writeFileSync(path.join(options.keep, `m${String(index).padStart(5, '0')}${path.extname(m.seed)}`), m.bytes);
      }
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
  process.send(result, () => process.disconnect());
}

// ---------------------------------------------------------------------------
// The run: shards side by side, their results summed

async function runAll() {
  const started = performance.now();
  const seeds = corpusFiles();
  const work = fs.mkdtempSync(path.join(SCRATCH, 'tunscope-fuzz-out-'));
  const shards = Array.from({ length: SHARDS }, (_, shard) => new Promise((resolve) => {
    const stdoutFile = path.join(work, `stdout-${shard}`);
    const fd = fs.openSync(stdoutFile, 'a');
    const args = [fileURLToPath(import.meta.url), '--shard', String(shard), '--shards', String(SHARDS),
      '--mutations', String(MUTATIONS), '--seed', String(SEED), ...(options.keep ? ['--keep', options.keep] : [])];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', fd, 'pipe', 'ipc'], env: { ...process.env, TUNSCOPE_FUZZ_STDOUT: stdoutFile },
    });
    fs.closeSync(fd);
    let stray = '';
    let result = null;
    child.stderr.on('data', (chunk) => { stray += chunk; });
    child.on('message', (message) => { result = message; });
    child.on('exit', (code, signal) => resolve({ shard, code, signal, stray, result }));
  }));
  const done = await Promise.all(shards);
  fs.rmSync(work, { recursive: true, force: true });
  const summary = {
    seeds: seeds.length, mutations: 0, runs: 0, internalErrors: 0, failed: 0, maxRssMiB: 0,
    seconds: 0, failures: [],
  };
  for (const shard of done) {
    if (shard.result === null) {
      summary.failed++;
      summary.failures.push({ shard: shard.shard, problems: [`ended without a result (exit ${shard.code}, ${shard.signal}): ${shard.stray.slice(-2000)}`] });
      continue;
    }
    summary.mutations += shard.result.mutations;
    summary.runs += shard.result.runs;
    summary.internalErrors += shard.result.internalErrors;
    summary.failed += shard.result.failures.length;
    summary.maxRssMiB = Math.max(summary.maxRssMiB, Math.round(shard.result.maxRss / 2 ** 20));
    summary.failures.push(...shard.result.failures);
  }
  summary.failures = summary.failures.slice(0, MAX_REPORTED);
  summary.seconds = Math.round((performance.now() - started) / 100) / 10;
  if (options.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(`${summary.mutations} mutations of ${summary.seeds} captures, ${summary.runs} runs in ${summary.seconds} s ` +
      `(${SHARDS} processes): ${summary.failed} failed, ${summary.internalErrors} internal errors, largest resident size ${summary.maxRssMiB} MiB\n`);
    for (const failure of summary.failures) {
      process.stdout.write(`  mutation ${failure.index} of ${failure.seed} (${failure.what}):\n`);
      for (const problem of failure.problems) process.stdout.write(`    ${problem}\n`);
    }
  }
  process.exitCode = summary.failed === 0 ? 0 : 1;
}

if (options.shard !== undefined) await runShard(Number(options.shard));
else await runAll();
