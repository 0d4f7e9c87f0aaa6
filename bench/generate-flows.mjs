#!/usr/bin/env node
// A capture in which nearly every packet is a flow of its own, as a DNS storm,
// a scan or a SYN flood through a tunnel makes: inner DNS queries and TCP
// SYNs from ever-new source addresses and ports, carried by VXLAN between a
// few hundred VTEPs. Written as it is made (nothing is held per flow), so ten
// million packets take no more memory than ten.
//
//   node bench/generate-flows.mjs [--packets N] [--tunnels N] [--seed N] [--out FILE]
//
// Packet n is the only packet of its inner flow: its source address and port
// are a bijection of n (n below 2^24), so the capture holds exactly N inner
// flows. Writes FILE (classic pcap, microseconds, Ethernet) and
// FILE.truth.json. Every checksum is computed here (RFC 1071).

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CaptureWriter, ETH_IPV4, PROTO_TCP, PROTO_UDP, complement16, makeRandom, pseudoSum, sum16, writeEth, writeIPv4, writeTcp,
  writeUdp,
} from './packet-bytes.mjs';

export const FLOWS_GENERATOR_VERSION = 2;
const MAX_PACKETS = 1 << 24;
const VXLAN_PORT = 4789;
/** An odd multiplier: n * M mod 2^24 takes every value once for n below 2^24. */
const SCRAMBLE = 0x5bd1e9;
/** A DNS query (RFC 1035 section 4.1) for example.com, type A: header, name, type and class. */
const QUERY = Buffer.from('000001000001000000000000076578616d706c6503636f6d0000010001', 'hex');
const QUERY_BYTES = QUERY.length;

export function generateFlowsCapture({ packets = 1_000_000, tunnels = 240, seed = 1, out }) {
  if (!out) throw new Error('generateFlowsCapture needs an output path (out)');
  if (packets > MAX_PACKETS) throw new Error(`at most ${MAX_PACKETS} packets, each its own flow`);
  const random = makeRandom(seed);
  const vteps = [];
  for (let t = 0; t < tunnels; t++) {
    vteps.push({ a: (0xc0a80000 | (t + 1)) >>> 0, b: (0xc0a90000 | (random.int(200) + 1)) >>> 0, vni: 1000 + (t % 64) });
  }
  const frame = Buffer.alloc(2048);
  const writer = new CaptureWriter(out);
  let bytes = 0;
  let syns = 0;
  let sec = 1_700_000_000;
  let usec = 0;
  for (let n = 0; n < packets; n++) {
    usec += 1 + random.int(9);
    if (usec >= 1_000_000) {
      sec++;
      usec -= 1_000_000;
    }
    const key = Math.imul(n, SCRAMBLE) & (MAX_PACKETS - 1);
    const client = (0x0a000001 | ((key >>> 8) << 8)) >>> 0;
    const clientPort = 32768 + (key & 0xff) * 109;
    const server = (0xac100000 | random.int(256)) >>> 0;
    const tunnel = vteps[random.int(vteps.length)];
    const syn = random.float() < 0.5;
    // Outer Ethernet, IPv4, UDP, VXLAN; inner Ethernet, IPv4, then UDP and a query or a TCP SYN.
    const innerL4 = syn ? 32 : 8 + QUERY_BYTES;
    const innerIp = 20 + innerL4;
    const outerUdp = 8 + 8 + 14 + innerIp;
    let o = writeEth(frame, 0, 1, 2, ETH_IPV4);
    const outerIpAt = o;
    o = writeIPv4(frame, o, tunnel.a, tunnel.b, PROTO_UDP, 20 + outerUdp, n, 0x4000, 64);
    o = writeUdp(frame, o, 50000 + (key & 0x1fff), VXLAN_PORT, outerUdp);
    frame.writeUInt32BE(0x08000000, o);
    frame.writeUInt32BE((tunnel.vni << 8) >>> 0, o + 4);
    o += 8;
    o = writeEth(frame, o, 0x100 + (key & 0xff), 0x200 + (key >>> 16), ETH_IPV4);
    const ipAt = o;
    o = writeIPv4(frame, o, client, server, syn ? PROTO_TCP : PROTO_UDP, innerIp, key, 0x4000, 64);
    const l4At = o;
    if (syn) {
      o = writeTcp(frame, o, clientPort, 443, random.u32(), 0, 0x02, 64240, random.u32(), 0);
      // The timestamps option's place holds an MSS and SACK permitted instead, as a SYN carries them: MSS
      // 1360, clamped to fit the tunnel (an unclamped one would make each SYN a finding of its own).
      frame.writeUInt32BE(0x02040550, l4At + 20);
      frame.writeUInt32BE(0x04020101, l4At + 24);
      frame.writeUInt32BE(0x01010101, l4At + 28);
      frame.writeUInt16BE(complement16(sum16(frame, l4At, o, pseudoSum(frame, ipAt, 4, PROTO_TCP, innerL4))), l4At + 16);
      syns++;
    } else {
      o = writeUdp(frame, o, clientPort, 53, innerL4);
      QUERY.copy(frame, o);
      frame.writeUInt16BE(n & 0xffff, o);
      o += QUERY_BYTES;
      const sum = complement16(sum16(frame, l4At, o, pseudoSum(frame, ipAt, 4, PROTO_UDP, innerL4)));
      frame.writeUInt16BE(sum === 0 ? 0xffff : sum, l4At + 6);
    }
    if (o - outerIpAt !== 20 + outerUdp) throw new Error('frame length mismatch');
    writer.record(sec, usec, frame, o);
    bytes += o;
  }
  writer.close();
  const truth = {
    generator: FLOWS_GENERATOR_VERSION, options: { packets, tunnels, seed }, packets, bytes, flows: packets, syns,
    tunnels,
  };
  fs.writeFileSync(`${out}.truth.json`, `${JSON.stringify(truth, null, 2)}\n`);
  return truth;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === '--packets') options.packets = Number(value);
    else if (argv[i] === '--tunnels') options.tunnels = Number(value);
    else if (argv[i] === '--seed') options.seed = Number(value);
    else if (argv[i] === '--out') options.out = value;
    else {
      process.stderr.write('usage: node bench/generate-flows.mjs [--packets N] [--tunnels N] [--seed N] --out FILE\n');
      process.exit(2);
    }
    i++;
  }
  const started = Date.now();
  const truth = generateFlowsCapture(options);
  process.stdout.write(`${options.out}: ${truth.packets} packets, ${(truth.bytes / 1e6).toFixed(1)} MB, ${truth.flows} flows `
    + `(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}
