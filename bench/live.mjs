// `node bench/run.mjs --live`: tcpreplay into a veth pair between two network
// namespaces made for the run (and deleted after it), counting what
// `tunscope capture` received against what was sent.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { hasCommand, log, mb, seconds } from './timing.mjs';

// ---------------------------------------------------------------------------
// Live capture: tcpreplay into a veth between two namespaces of our own.

const LIVE_KINDS = ['vxlan-4789', 'vxlan-8472'];

function run(argv, options = {}) {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', ...options });
  if (result.status !== 0) {
    throw new Error(`${argv.join(' ')} failed: ${(result.stderr || result.stdout || '').trim().split('\n')[0] ?? `exit ${result.status}`}`);
  }
  return result.stdout;
}

/** RX packets and drops of a device inside a namespace, from `ip -s -j link`. */
function rxCounters(ns, device) {
  const json = JSON.parse(run(['ip', '-n', ns, '-s', '-j', 'link', 'show', device]));
  const rx = json[0]?.stats64?.rx ?? json[0]?.stats?.rx ?? {};
  return { packets: rx.packets ?? 0, dropped: rx.dropped ?? 0 };
}

function waitFor(child, pattern, what, timeoutMs) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what}: nothing after ${timeoutMs / 1000} s; it said: ${seen.trim() || '(nothing)'}`)), timeoutMs);
    const onData = (chunk) => {
      seen += chunk;
      if (pattern.test(seen)) {
        clearTimeout(timer);
        child.stderr.off('data', onData);
        resolve(seen);
      }
    };
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} ended (exit ${code}) before it was ready: ${seen.trim()}`));
    });
  });
}

export async function runLive(args, made, ensureCapture, tunscope) {
  const missing = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) missing.push('root (network namespaces and packet sockets)');
  if (!hasCommand('ip')) missing.push('ip (apt-get install iproute2)');
  if (!hasCommand('tcpreplay')) missing.push('tcpreplay (apt-get install tcpreplay)');
  if (!tunscopeHas('capture')) missing.push('a build with `tunscope capture`');
  if (missing.length > 0) {
    process.stdout.write(`live capture: skipped, it needs ${missing.join(', ')}\n`);
    return;
  }
  const packets = args.pps * args.liveSeconds;
  const { file, truth } = ensureCapture(args, packets, made, LIVE_KINDS);
  const tag = String(process.pid % 100000);
  const sender = `tsbench-tx-${tag}`;
  const catcher = `tsbench-rx-${tag}`;
  const txDevice = `tsb${tag}t`;
  const rxDevice = `tsb${tag}r`;
  const cleanup = () => {
    spawnSync('ip', ['netns', 'del', sender], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'del', catcher], { stdio: 'ignore' });
  };
  let capture = null;
  try {
    run(['ip', 'netns', 'add', sender]);
    run(['ip', 'netns', 'add', catcher]);
    run(['ip', 'link', 'add', txDevice, 'netns', sender, 'type', 'veth', 'peer', 'name', rxDevice, 'netns', catcher]);
    for (const ns of [sender, catcher]) {
      // No IPv6 on the link: nothing but the replayed frames crosses it (no router or neighbour solicitations).
      run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    run(['ip', '-n', sender, 'link', 'set', txDevice, 'up']);
    run(['ip', '-n', catcher, 'link', 'set', rxDevice, 'up']);

    const captureArgs = [...tunscope, 'capture', rxDevice, '--bpf', ''];
    if (args.captureMode === 'stats') captureArgs.push('--stats');
    else if (args.captureMode === 'json') captureArgs.push('--json');
    if (args.captureBuffer !== null) captureArgs.push('--buffer', String(args.captureBuffer));
    const devNull = fs.openSync('/dev/null', 'w');
    capture = spawn('ip', ['netns', 'exec', catcher, ...captureArgs], { stdio: ['ignore', devNull, 'pipe'] });
    fs.closeSync(devNull);
    let captureErr = '';
    capture.stderr.on('data', (chunk) => {
      captureErr += chunk;
    });
    const closed = new Promise((resolve) => capture.on('close', resolve));
    await waitFor(capture, /listening on/, 'tunscope capture', 30_000);
    const before = rxCounters(catcher, rxDevice);

    log(`replaying ${packets} packets at ${args.pps} pps into ${rxDevice}`);
    const replay = spawnSync('ip', ['netns', 'exec', sender, 'tcpreplay', '-i', txDevice, `--pps=${args.pps}`, '--preload-pcap', file], { encoding: 'utf8' });
    if (replay.status !== 0) throw new Error(`tcpreplay failed: ${(replay.stderr || replay.stdout).trim().split('\n').slice(-1)[0]}`);
    const sent = Number(/Actual: (\d+) packets/.exec(replay.stdout)?.[1] ?? NaN);
    const sentSeconds = Number(/sent in ([\d.]+) seconds/.exec(replay.stdout)?.[1] ?? NaN);
    const failed = Number(/Failed packets:\s+(\d+)/.exec(replay.stdout)?.[1] ?? 0);

    // What the ring still holds is read within moments; then stop the capture as Ctrl-C would.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = rxCounters(catcher, rxDevice);
    process.kill(capture.pid, 'SIGINT');
    const code = await closed;
    capture = null;
    const received = Number(/(\d+) packets? received/.exec(captureErr)?.[1] ?? NaN);
    if (code !== 0 || !Number.isFinite(received)) throw new Error(`tunscope capture exit ${code}: ${captureErr.trim().split('\n').slice(-3).join(' | ')}`);

    const atInterface = after.packets - before.packets;
    const lost = sent - received;
    const lines = [
      `live capture: ${truth.packets.toLocaleString('en-US')} VXLAN packets (${LIVE_KINDS.join(', ')}; ${mb(fs.statSync(file).size)} MB) replayed by tcpreplay`,
      `  sent:        ${sent.toLocaleString('en-US')} packets in ${sentSeconds.toFixed(2)} s, ${Math.round(sent / sentSeconds).toLocaleString('en-US')} pps (asked ${args.pps.toLocaleString('en-US')} pps; ${failed} failed sends)`,
      `  at the veth: ${atInterface.toLocaleString('en-US')} packets, ${after.dropped - before.dropped} dropped by the device`,
      `  tunscope capture ${args.captureMode === 'stats' ? '--stats' : args.captureMode === 'json' ? '--json > /dev/null' : '> /dev/null'}${args.captureBuffer === null ? '' : ` --buffer ${args.captureBuffer}`}: ${received.toLocaleString('en-US')} received`,
      `  lost:        ${lost.toLocaleString('en-US')} (${((100 * lost) / sent).toFixed(2)}%) ${lost === 0 ? '(met: no drops)' : '(NOT MET: the target is no drops)'}`,
      `  machine load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    if (capture !== null) capture.kill('SIGKILL');
    cleanup();
  }
}

