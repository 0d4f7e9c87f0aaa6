#!/usr/bin/env node
// The same traffic as seen at four capture points of a two-host VXLAN overlay,
// for timing `tunscope trace`: h1-pod (the sender's pod interface, plain),
// h1-eth (its underlay, VXLAN 4789), h2-eth (the receiver's underlay) and
// h2-pod (the receiver's pod interface, plain). Chosen packets are dropped on
// the underlay (in h1-eth, never in h2-eth) and at decapsulation (in h2-eth,
// never in h2-pod); the ground truth says how many of each.
//
// Bytes and checksums are laid down here (bench/generate.mjs's writers), not by
// tunscope's code.
//
//   node bench/generate-trace.mjs [--packets N] [--flows N] [--seed N] [--dir DIR]
//
// Writes DIR/h1-pod.pcap ... DIR/h2-pod.pcap (N packets each at most) and DIR/truth.json.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CaptureWriter, complement16, makeRandom, pseudoSum, sum16, writeEth, writeIPv4, writeTcp, writeUdp,
} from './generate.mjs';

export const TRACE_GENERATOR_VERSION = 1;
export const POINTS = ['h1-pod', 'h1-eth', 'h2-eth', 'h2-pod'];

const DEFAULTS = { packets: 250_000, flows: 2_000, seed: 1, underlayLoss: 0.002, decapLoss: 0.001, pps: 50_000 };

/** Microseconds each hop takes: pod to underlay (encapsulation), the wire, underlay to pod. */
const HOP_US = [30, 80, 25];
const VXLAN_PORT = 4789;
const VNI = 42;
const H1 = 0x0a000001; // 10.0.0.1
const H2 = 0x0a000002; // 10.0.0.2

export function generateTracePoints(options = {}) {
  const o = { ...DEFAULTS, ...options };
  if (!o.dir) throw new Error('generateTracePoints needs a folder (dir)');
  fs.mkdirSync(o.dir, { recursive: true });
  const random = makeRandom(o.seed);
  const writers = POINTS.map((name) => new CaptureWriter(path.join(o.dir, `${name}.pcap`)));
  const flows = Array.from({ length: o.flows }, (_, i) => ({
    src: 0x0af40100 + 2 + (i % 200), // 10.244.1.x
    dst: 0x0af40200 + 2 + ((i * 7) % 200), // 10.244.2.x
    sport: 10000 + i,
    dport: 80 + (i % 3) * 363,
    seq: random.u32(),
    ack: random.u32(),
    ipId: random.int(0x10000),
  }));
  const pool = Buffer.alloc(1 << 16);
  for (let i = 0; i < pool.length; i += 4) pool.writeUInt32LE(random.u32(), i);
  const inner = Buffer.alloc(2048);
  const outer = Buffer.alloc(2048);
  const truth = {
    generator: TRACE_GENERATOR_VERSION,
    options: { packets: o.packets, flows: o.flows, seed: o.seed },
    sent: 0,
    lost: { underlay: 0, decapsulation: 0 },
    packets: Object.fromEntries(POINTS.map((p) => [p, 0])),
  };
  const gapUs = 1e6 / o.pps;
  let clockUs = 1_700_000_000 * 1e6;
  for (let n = 0; n < o.packets; n++) {
    clockUs += gapUs;
    const flow = flows[random.int(flows.length)];
    // A third full-size data segments, the rest small ones (ACKs carry a few bytes of payload here so each is unique).
    const payload = random.float() < 0.33 ? 1398 : 16 + random.int(200);
    const ipLength = 20 + 32 + payload;
    let at = writeEth(inner, 0, 0x0b000000 + (flow.dst & 0xff), 0x0a000000 + (flow.src & 0xff), 0x0800);
    flow.ipId = (flow.ipId + 1) & 0xffff;
    writeIPv4(inner, at, flow.src, flow.dst, 6, ipLength, flow.ipId, 0x4000, 64);
    const tcpAt = writeTcp(inner, at + 20, flow.sport, flow.dport, flow.seq, flow.ack, 0x18, 502, n, n);
    pool.copy(inner, tcpAt, (n * 61) % (pool.length - payload), (n * 61) % (pool.length - payload) + payload);
    const tcpLength = 32 + payload;
    inner.writeUInt16BE(complement16(sum16(inner, at + 20, at + 20 + tcpLength, pseudoSum(inner, at, 4, 6, tcpLength))), at + 20 + 16);
    flow.seq = (flow.seq + payload) >>> 0;
    const innerLength = 14 + ipLength;

    // On the underlay: Ethernet, IPv4 (DF), UDP 4789 with checksum 0, VXLAN, the inner frame.
    at = writeEth(outer, 0, 0x0c000002, 0x0c000001, 0x0800);
    writeIPv4(outer, at, H1, H2, 17, 20 + 8 + 8 + innerLength, n & 0xffff, 0x4000, 64);
    at = writeUdp(outer, at + 20, 49152 + ((flow.sport * 31) % 16384), VXLAN_PORT, 8 + 8 + innerLength);
    outer.writeUInt32BE(0x08000000, at);
    outer.writeUInt32BE(VNI << 8, at + 4);
    inner.copy(outer, at + 8, 0, innerLength);
    const outerLength = at + 8 + innerLength;

    const roll = random.float();
    const lostOnWire = roll < o.underlayLoss;
    const lostAtDecap = !lostOnWire && roll < o.underlayLoss + o.decapLoss;
    const frames = [[inner, innerLength], [outer, outerLength], [outer, outerLength], [inner, innerLength]];
    const seen = [true, true, !lostOnWire, !lostOnWire && !lostAtDecap];
    let t = clockUs;
    for (let p = 0; p < POINTS.length; p++) {
      if (p > 0) t += HOP_US[p - 1];
      if (!seen[p]) continue;
      const whole = Math.floor(t);
      writers[p].record(Math.floor(whole / 1e6), whole % 1e6, frames[p][0], frames[p][1]);
      truth.packets[POINTS[p]]++;
    }
    truth.sent++;
    if (lostOnWire) truth.lost.underlay++;
    if (lostAtDecap) truth.lost.decapsulation++;
  }
  for (const w of writers) w.close();
  fs.writeFileSync(path.join(o.dir, 'truth.json'), `${JSON.stringify(truth, null, 1)}\n`);
  return truth;
}

function parseArgs(argv) {
  const options = {};
  const names = { '--packets': 'packets', '--flows': 'flows', '--seed': 'seed' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--dir') options.dir = argv[++i];
    else if (arg in names) {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) throw new Error(`${arg} needs a whole number of 1 or more`);
      options[names[arg]] = value;
    } else throw new Error(`unknown argument ${arg}; usage: node bench/generate-trace.mjs [--packets N] [--flows N] [--seed N] [--dir DIR]`);
  }
  return options;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const options = parseArgs(process.argv.slice(2));
    options.dir ??= path.join(os.tmpdir(), 'tunscope-bench-trace');
    const truth = generateTracePoints(options);
    process.stdout.write(`${options.dir}: ${truth.sent} packets sent, ${truth.lost.underlay} lost on the underlay, ${truth.lost.decapsulation} at decapsulation\n`);
  } catch (err) {
    process.stderr.write(`generate-trace: ${err.message}\n`);
    process.exit(2);
  }
}
