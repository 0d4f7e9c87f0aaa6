#!/usr/bin/env node
// How soon a capture is ready: the time from starting `tunscope capture` to
// its `listening on` line, and the CPU the process had used by then (utime +
// stime from /proc), against tcpdump's own `listening on` where tcpdump can
// take the same interface (one, in this namespace).
//
//   node bench/start.mjs [--runs N] [--buffer MIB] [--lab | IFACE | NETNS/IFACE ...]   (default: lo; needs root)
//
// --lab builds two namespaces joined by a veth pair, each with a vxlan
// device over it (as the two-host lab of the tests), captures on the four
// interfaces, and removes the namespaces after.
//
// Each run writes to /dev/null and stops after a second; the table shows the
// median of the runs and the load average, since on a busy machine the wall
// time is mostly waiting for a core.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, median, table } from './timing.mjs';

const CLI = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'dist', 'src', 'cli.js');
const CLOCK_TICK_MS = 10;

function parseArgs(argv) {
  const options = { runs: 7, buffer: null, lab: false, interfaces: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') options.runs = Number(argv[++i]);
    else if (arg === '--buffer') options.buffer = argv[++i];
    else if (arg === '--lab') options.lab = true;
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write('usage: node bench/start.mjs [--runs N] [--buffer MIB] [--lab | IFACE | NETNS/IFACE ...]\n');
      process.exit(0);
    } else options.interfaces.push(arg);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error('--runs takes a whole number of at least 1');
  if (options.lab && options.interfaces.length > 0) throw new Error('--lab takes no interfaces');
  if (options.interfaces.length === 0 && !options.lab) options.interfaces.push('lo');
  return options;
}

const LAB = ['tsstart1', 'tsstart2'];

function ip(...args) {
  const run = spawnSync('ip', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(run.stderr ?? '').trim()}`);
}

/** Two hosts joined by a veth pair, a vxlan device (VNI 42) on each; returns the four interfaces. */
function buildLab() {
  const [ns1, ns2] = LAB;
  ip('netns', 'add', ns1);
  ip('netns', 'add', ns2);
  ip('link', 'add', 'tsv1', 'netns', ns1, 'type', 'veth', 'peer', 'name', 'tsv2', 'netns', ns2);
  for (const [ns, dev, local, remote] of [[ns1, 'tsv1', '192.168.77.2', '192.168.77.3'], [ns2, 'tsv2', '192.168.77.3', '192.168.77.2']]) {
    ip('-n', ns, 'addr', 'add', `${local}/24`, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', ns, 'link', 'add', 'vx42', 'type', 'vxlan', 'id', '42', 'remote', remote, 'local', local, 'dstport', '4789', 'dev', dev);
    ip('-n', ns, 'link', 'set', 'vx42', 'up');
  }
  return [`${ns1}/tsv1`, `${ns1}/vx42`, `${ns2}/tsv2`, `${ns2}/vx42`];
}

function removeLab() {
  for (const ns of LAB) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}

/** CPU time the process has used so far, in ms, from /proc/PID/stat. */
function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}

/** Starts argv, resolves to { wall, cpu } (ms) when its stderr says `listening on`, then stops it. */
function untilListening(argv) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    let result = null;
    child.stderr.on('data', (chunk) => {
      said += chunk;
      if (result === null && said.includes('listening on')) {
        result = { wall: Number(process.hrtime.bigint() - started) / 1e6, cpu: cpuMs(child.pid) };
        child.kill('SIGINT');
      }
    });
    child.on('exit', () => (result === null ? reject(new Error(`${argv[0]} stopped before listening: ${said.trim()}`)) : resolve(result)));
  });
}

async function medians(argv, runs) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await untilListening(argv));
  return { wall: median(results.map((r) => r.wall)), cpu: median(results.map((r) => r.cpu)) };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.lab) {
    removeLab();
    try {
      options.interfaces = buildLab();
      await report(options);
    } finally {
      removeLab();
    }
  } else await report(options);
}

async function report(options) {
  const buffer = options.buffer === null ? [] : ['--buffer', options.buffer];
  const rows = [];
  const ours = await medians(['node', CLI, 'capture', ...options.interfaces, ...buffer, '-w', '/dev/null', '--duration', '1'], options.runs);
  rows.push([`tunscope capture ${options.interfaces.join(' ')}`, ours.wall.toFixed(0), ours.cpu.toFixed(0)]);
  const node = await medians(['node', '-e', "process.stderr.write('listening on\\n'); setTimeout(() => {}, 1000)"], options.runs);
  rows.push(['node alone (start, one line)', node.wall.toFixed(0), node.cpu.toFixed(0)]);
  if (options.interfaces.length === 1 && !options.interfaces[0].includes('/') && hasCommand('tcpdump')) {
    const tcpdumpBuffer = options.buffer === null ? [] : ['-B', String(Number(options.buffer) * 1024)];
    const theirs = await medians(['tcpdump', '-i', options.interfaces[0], ...tcpdumpBuffer, '-w', '/dev/null'], options.runs);
    rows.push([`tcpdump -i ${options.interfaces[0]}`, theirs.wall.toFixed(0), theirs.cpu.toFixed(0)]);
  }
  process.stdout.write(`median of ${options.runs} runs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${os.cpus().length} cores\n`);
  process.stdout.write(`${table(rows, ['until listening on', 'wall ms', 'CPU ms'])}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
});
