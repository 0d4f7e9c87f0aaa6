#!/usr/bin/env node
// A generator of large, mixed, deterministic captures for the benchmark.
//
// Every byte is laid down here with Buffer writes and every checksum computed
// here (RFC 1071), without tunscope's decoders or writers, so the benchmark's
// ground truth cannot share a mistake with the code it measures.
//
// The traffic: inner TCP (and some UDP) flows carried by VXLAN on 4789 and on
// 8472 (Linux's old port), Geneve (some tunnels with an option), GRE with keys
// (some with the checksum bit), gretap with keys, IP-in-IP, and plain IPv4 and
// IPv6 TCP and UDP. Each flow sends MTU-sized data one way and small ACKs the
// other, with a few mid-sized segments. Some flows are captured on the sending
// host, so their TCP and UDP checksums hold the folded pseudo-header sum (Linux
// CHECKSUM_PARTIAL), and where their tunnel computes an outer checksum it is
// the local-checksum-offload value. Some VXLAN tunnels cross an underlay with a
// 1500-byte MTU, so full-size frames are cut into two outer IPv4 fragments.
// A few segments carry a corrupted checksum.
//
//   node bench/generate.mjs [--packets N] [--flows N] [--tunnels N] [--seed N] [--large-share F]
//                           [--kinds vxlan-4789,geneve,...] [--out FILE]
//
// Writes FILE (classic pcap, microseconds, Ethernet) and FILE.truth.json.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CaptureWriter, ETH_IPV4, ETH_IPV6, PROTO_GRE, PROTO_IPIP, PROTO_TCP, PROTO_UDP, TEB, complement16, fold16, makeRandom,
  pseudoSum, sum16, writeEth, writeIPv4, writeIPv6, writeMac, writeTcp, writeUdp,
} from './packet-bytes.mjs';
import { KINDS, KIND_NAMES, ipText, makeFlows, makeTunnels } from './traffic-model.mjs';

export { KIND_NAMES } from './traffic-model.mjs';
export {
  CaptureWriter, complement16, makeRandom, pseudoSum, sum16, writeEth, writeIPv4, writeTcp, writeUdp,
} from './packet-bytes.mjs';

export const GENERATOR_VERSION = 2;

export const DEFAULTS = {
  packets: 1_000_000,
  flows: 20_000,
  tunnels: 240,
  seed: 1,
  /** Share of packets that are full-size (1450-1514 byte) data frames; the rest are ACKs and mid-sized segments. */
  largeShare: 0.167,
  /** Share of packets that are mid-sized data segments. */
  midShare: 0.05,
  /** Share of packets whose inner TCP or UDP checksum is corrupted. */
  badShare: 0.0005,
};


// ---------------------------------------------------------------------------
// One packet, built into a scratch buffer.

const MAX_FRAME = 1514;
const FULL_FRAME_SHARE = 0.8;

/** Bytes the encapsulation adds in front of the inner Ethernet frame or IP packet. */
function overheadOf(tunnel) {
  if (tunnel === null) return 14;
  switch (tunnel.type) {
    case 'vxlan': return 14 + 20 + 8 + 8;
    case 'geneve': return 14 + 20 + 8 + 8 + (tunnel.geneveOption ? 8 : 0);
    case 'gre': return 14 + 20 + 8 + (tunnel.greChecksum ? 4 : 0);
    case 'gretap': return 14 + 20 + 8 + (tunnel.greChecksum ? 4 : 0);
    case 'ipip': return 14 + 20;
  }
  throw new Error(`no overhead for ${tunnel.type}`);
}

/** Does the tunnel carry an inner Ethernet frame? */
function carriesEthernet(tunnel) {
  return tunnel !== null && (tunnel.type === 'vxlan' || tunnel.type === 'geneve' || tunnel.type === 'gretap');
}

/**
 * Generate a capture of `packets` packets into `out`, and its ground truth into
 * `out + ".truth.json"`. Returns the truth.
 */
export function generateCapture(options = {}) {
  const o = { ...DEFAULTS, ...options };
  if (!o.out) throw new Error('generateCapture needs an output path (out)');
  const kinds = o.kinds === undefined ? KINDS : KINDS.filter((k) => o.kinds.includes(k.name));
  if (kinds.length === 0) throw new Error(`no kind of traffic among ${o.kinds.join(', ')}; the kinds are ${KIND_NAMES.join(', ')}`);
  const random = makeRandom(o.seed);
  const tunnels = makeTunnels(o.tunnels, kinds, random);
  const flows = makeFlows(o.flows, kinds, tunnels, random);

  // A random pool the payloads are cut from, so checksums differ from packet to packet.
  const pool = Buffer.alloc(1 << 16);
  for (let i = 0; i < pool.length; i += 4) pool.writeUInt32LE(random.u32(), i);

  const frame = Buffer.alloc(4096);
  const inner = Buffer.alloc(4096);
  const writer = new CaptureWriter(o.out);

  const truth = {
    generator: GENERATOR_VERSION,
    options: {
      packets: o.packets, flows: o.flows, tunnels: o.tunnels, seed: o.seed, largeShare: o.largeShare, midShare: o.midShare,
      badShare: o.badShare, kinds: kinds.map((k) => k.name),
    },
    packets: 0,
    bytes: 0,
    linktypes: { EN10MB: 0 },
    kinds: {},
    sizes: { large: 0, mid: 0, small: 0 },
    tunnelledPackets: 0,
    checksums: {
      /** Checksums that are wrong (not offload): corrupted inner ones, and the outer ones over them. */
      bad: 0,
      /** Inner checksums holding the pseudo-header sum (CHECKSUM_PARTIAL). */
      offload: 0,
      /** Outer UDP or GRE checksums that are right once the inner partial one is filled in. */
      localOffload: 0,
      /** Outer UDP checksums left 0 (VXLAN and Geneve over IPv4 default). */
      zeroUdp: 0,
    },
    fragments: { first: 0, later: 0 },
    tunnels: [],
    flows: 0,
  };
  for (const kind of kinds) truth.kinds[kind.name] = 0;

  // Per tunnel direction: packets and bytes; per flow direction: seen.
  const tunnelPackets = new Float64Array(tunnels.all.length * 2);
  const tunnelBytes = new Float64Array(tunnels.all.length * 2);
  const flowSeen = new Uint8Array(flows.length * 2);

  // About 120,000 packets a second on average, so a million span about 8 s.
  let sec = 1_700_000_000;
  let usec = 0;

  for (let n = 0; n < o.packets; n++) {
    usec += 1 + random.int(15);
    if (usec >= 1_000_000) {
      sec += 1;
      usec -= 1_000_000;
    }
    // Elephants and mice: the square of a uniform favours low flow numbers.
    const u = random.float();
    const flow = flows[Math.floor(u * u * flows.length)];
    const tunnel = flow.tunnel;
    const roll = random.float();
    let size;
    if (roll < o.largeShare) size = 'large';
    else if (roll < o.largeShare + o.midShare) size = 'mid';
    else size = 'small';
    // Data goes from the server to the client; ACKs and requests come back.
    const fromServer = size !== 'small';
    const overhead = overheadOf(tunnel);
    const innerEth = carriesEthernet(tunnel);
    const innerL3 = flow.v6 ? 40 : 20;
    const l4 = flow.udp ? 8 : 32;
    const innerHeaders = (innerEth ? 14 : 0) + innerL3 + l4;

    let frameLength;
    let fragmented = false;
    if (size === 'large') {
      frameLength = random.float() < FULL_FRAME_SHARE ? MAX_FRAME : 1450 + random.int(MAX_FRAME - 1450);
      if (tunnel !== null && tunnel.fragments && n + 1 < o.packets) {
        // The inner frame is full-size; the outer datagram exceeds 1500 bytes.
        frameLength = overhead + MAX_FRAME;
        fragmented = true;
      }
    } else if (size === 'mid') {
      frameLength = overhead + innerHeaders + 100 + random.int(1200);
    } else {
      frameLength = overhead + innerHeaders + (flow.udp ? 20 + random.int(80) : 0);
    }
    const payloadLength = frameLength - overhead - innerHeaders;

    // --- The inner (or only) IP packet, into `inner` at offset 0 (or after the inner Ethernet header).
    let p = 0;
    if (innerEth) p = writeEth(inner, 0, fromServer ? flow.macClient : flow.macServer, fromServer ? flow.macServer : flow.macClient, flow.v6 ? ETH_IPV6 : ETH_IPV4);
    const ipOffset = p;
    const ipLength = innerL3 + l4 + payloadLength;
    const sport = fromServer ? flow.serverPort : flow.clientPort;
    const dport = fromServer ? flow.clientPort : flow.serverPort;
    const protocol = flow.udp ? PROTO_UDP : PROTO_TCP;
    if (flow.v6) {
      p = writeIPv6(inner, p, fromServer ? flow.server6 : flow.client6, fromServer ? flow.client6 : flow.server6, protocol, l4 + payloadLength, flow.index);
    } else {
      const id = (flow.seq + n) & 0xffff;
      p = writeIPv4(inner, p, fromServer ? flow.server : flow.client, fromServer ? flow.client : flow.server, protocol, ipLength, id, 0x4000, 64);
    }
    const l4Offset = p;
    if (flow.udp) {
      p = writeUdp(inner, p, sport, dport, 8 + payloadLength);
    } else {
      flow.tsval = (flow.tsval + 1) >>> 0;
      const seq = fromServer ? flow.seq : flow.ack;
      const ack = fromServer ? flow.ack : flow.seq;
      const flags = size === 'small' ? 0x10 : 0x18;
      p = writeTcp(inner, p, sport, dport, seq, ack, flags, 501 + (flow.index & 0xff), flow.tsval, flow.tsecr);
      if (fromServer) flow.seq = (flow.seq + payloadLength) >>> 0;
    }
    const poolAt = random.int(pool.length - payloadLength) & ~1;
    pool.copy(inner, p, poolAt, poolAt + payloadLength);
    p += payloadLength;
    const innerLength = p;

    // Transport checksum: right, corrupted, or the partial value a sender leaves for the NIC.
    const checksumAt = l4Offset + (flow.udp ? 6 : 16);
    const pseudo = pseudoSum(inner, ipOffset, flow.v6 ? 6 : 4, protocol, l4 + payloadLength);
    let right = complement16(sum16(inner, l4Offset, innerLength, pseudo));
    if (flow.udp && right === 0) right = 0xffff;
    const partialValue = fold16(pseudo);
    const partial = flow.partial && fromServer;
    // A fragment cannot be verified on its own: its corruption would be invisible to any verifier.
    const corrupt = !partial && !fragmented && random.float() < o.badShare;
    // Outer checksums are computed with the right inner value in place (Linux local checksum offload).
    inner.writeUInt16BE(right, checksumAt);

    // --- The encapsulation, into `frame`.
    const forward = fromServer;
    let outerSrc = 0;
    let outerDst = 0;
    if (tunnel !== null) {
      outerSrc = forward ? tunnel.a : tunnel.b;
      outerDst = forward ? tunnel.b : tunnel.a;
    }
    let f = 0;
    let outerIpOffset = -1;
    let outerChecksumAt = -1;
    let outerChecksumStart = -1;
    let outerPseudo = 0;
    let outerUdp = false;
    let outerGre = false;
    if (tunnel === null) {
      f = writeEth(frame, 0, fromServer ? flow.macClient : flow.macServer, fromServer ? flow.macServer : flow.macClient, flow.v6 ? ETH_IPV6 : ETH_IPV4);
    } else {
      f = writeEth(frame, 0, forward ? tunnel.macB : tunnel.macA, forward ? tunnel.macA : tunnel.macB, ETH_IPV4);
      outerIpOffset = f;
      const ipId = forward ? ++tunnel.ipId : ++tunnel.ipIdBack;
      const outerLength = frameLength - 14;
      const outerProto = tunnel.type === 'ipip' ? PROTO_IPIP : tunnel.type === 'gre' || tunnel.type === 'gretap' ? PROTO_GRE : PROTO_UDP;
      f = writeIPv4(frame, f, outerSrc, outerDst, outerProto, outerLength, ipId, fragmented ? 0 : 0x4000, 64);
      if (tunnel.type === 'vxlan' || tunnel.type === 'geneve') {
        outerUdp = true;
        const port = tunnel.kind === 'vxlan-8472' ? 8472 : tunnel.type === 'vxlan' ? 4789 : 6081;
        outerChecksumStart = f;
        outerChecksumAt = f + 6;
        f = writeUdp(frame, f, forward ? flow.outerPort : flow.outerPortBack, port, outerLength - 20);
        if (tunnel.type === 'vxlan') {
          frame.writeUInt32BE(0x08000000, f);
          frame.writeUInt32BE((tunnel.id << 8) >>> 0, f + 4);
          f += 8;
        } else {
          const optionWords = tunnel.geneveOption ? 2 : 0;
          frame[f] = optionWords;
          frame[f + 1] = 0;
          frame.writeUInt16BE(TEB, f + 2);
          frame.writeUInt32BE((tunnel.id << 8) >>> 0, f + 4);
          f += 8;
          if (tunnel.geneveOption) {
            // Option class 0x0102 (Open vSwitch), type 0x80, 4 bytes of data.
            frame.writeUInt16BE(0x0102, f);
            frame[f + 2] = 0x80;
            frame[f + 3] = 1;
            frame.writeUInt32BE(tunnel.id, f + 4);
            f += 8;
          }
        }
        outerPseudo = pseudoSum(frame, outerIpOffset, 4, PROTO_UDP, outerLength - 20);
      } else if (tunnel.type === 'gre' || tunnel.type === 'gretap') {
        outerGre = tunnel.greChecksum;
        outerChecksumStart = f;
        frame.writeUInt16BE(tunnel.greChecksum ? 0xa000 : 0x2000, f); // C and K bits, version 0
        frame.writeUInt16BE(tunnel.type === 'gretap' ? TEB : ETH_IPV4, f + 2);
        f += 4;
        if (tunnel.greChecksum) {
          outerChecksumAt = f;
          frame.writeUInt32BE(0, f);
          f += 4;
        }
        frame.writeUInt32BE(tunnel.id, f);
        f += 4;
      }
    }
    inner.copy(frame, f, 0, innerLength);
    f += innerLength;
    if (f !== frameLength) throw new Error(`generator bug: frame of ${f} bytes, meant ${frameLength}`);

    if (outerUdp) {
      if (tunnel.udpChecksum) {
        let value = complement16(sum16(frame, outerChecksumStart, f, outerPseudo));
        if (value === 0) value = 0xffff;
        frame.writeUInt16BE(value, outerChecksumAt);
      } else {
        truth.checksums.zeroUdp++;
      }
    } else if (outerGre) {
      frame.writeUInt16BE(complement16(sum16(frame, outerChecksumStart, f)), outerChecksumAt);
    }
    const innerChecksumAt = f - innerLength + checksumAt;
    if (partial) {
      frame.writeUInt16BE(partialValue, innerChecksumAt);
      truth.checksums.offload++;
      if ((outerUdp && tunnel.udpChecksum) || outerGre) truth.checksums.localOffload++;
    } else if (corrupt) {
      // Any other value, except the ones a verifier must accept or calls something else: 0 and 0xffff
      // are one value in one's complement (RFC 1624), 0 is "no checksum" for UDP, and the
      // pseudo-header sum is an offload verdict.
      let wrong = right;
      while (wrong === right || wrong === 0 || wrong === 0xffff || wrong === partialValue) wrong = random.int(0x10000);
      frame.writeUInt16BE(wrong, innerChecksumAt);
      truth.checksums.bad++;
      // Corrupted after the tunnel computed its checksum: that one no longer verifies either.
      if ((outerUdp && tunnel.udpChecksum) || outerGre) truth.checksums.bad++;
    }

    const kindIndex = tunnel === null ? -1 : tunnel.index * 2 + (forward ? 0 : 1);
    if (fragmented) {
      // RFC 791: the first fragment carries 1480 bytes of the outer payload, the second the rest.
      const firstPayload = 1480;
      const total = frameLength - 14 - 20;
      const second = Buffer.from(frame.subarray(0, 14 + 20));
      const ipId = frame.readUInt16BE(outerIpOffset + 4);
      writeIPv4(frame, outerIpOffset, outerSrc, outerDst, PROTO_UDP, 20 + firstPayload, ipId, 0x2000, 64);
      writer.record(sec, usec, frame, 14 + 20 + firstPayload);
      const rest = Buffer.alloc(14 + 20 + total - firstPayload);
      second.copy(rest, 0);
      frame.copy(rest, 34, 34 + firstPayload, 34 + total);
      writeIPv4(rest, 14, outerSrc, outerDst, PROTO_UDP, 20 + total - firstPayload, ipId, firstPayload / 8, 64);
      usec += 1;
      writer.record(sec, usec, rest, rest.length);
      truth.fragments.first++;
      truth.fragments.later++;
      truth.packets += 2;
      truth.bytes += 14 + 20 + firstPayload + rest.length;
      truth.kinds[flow.kind] += 2;
      truth.tunnelledPackets += 1;
      tunnelPackets[kindIndex] += 1;
      tunnelBytes[kindIndex] += 14 + 20 + firstPayload;
      n++;
    } else {
      writer.record(sec, usec, frame, frameLength);
      truth.packets++;
      truth.bytes += frameLength;
      truth.kinds[flow.kind]++;
      if (tunnel !== null) {
        truth.tunnelledPackets++;
        tunnelPackets[kindIndex] += 1;
        tunnelBytes[kindIndex] += frameLength;
      }
    }
    truth.sizes[size]++;
    flowSeen[flow.index * 2 + (fromServer ? 0 : 1)] = 1;
  }
  writer.close();

  truth.linktypes.EN10MB = truth.packets;
  for (const t of tunnels.all) {
    for (const back of [0, 1]) {
      const k = t.index * 2 + back;
      if (tunnelPackets[k] === 0) continue;
      truth.tunnels.push({
        type: t.type,
        src: ipText(back ? t.b : t.a),
        dst: ipText(back ? t.a : t.b),
        id: t.id,
        kind: t.kind,
        packets: tunnelPackets[k],
        bytes: tunnelBytes[k],
      });
    }
  }
  truth.tunnels.sort((x, y) => y.bytes - x.bytes);
  for (let i = 0; i < flowSeen.length; i++) truth.flows += flowSeen[i];
  fs.writeFileSync(`${o.out}.truth.json`, `${JSON.stringify(truth, null, 1)}\n`);
  return truth;
}

function parseArgs(argv) {
  const options = {};
  const names = { '--packets': 'packets', '--flows': 'flows', '--tunnels': 'tunnels', '--seed': 'seed', '--large-share': 'largeShare', '--mid-share': 'midShare', '--bad-share': 'badShare' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out') {
      options.out = argv[++i];
    } else if (arg === '--kinds') {
      options.kinds = (argv[++i] ?? '').split(',').map((k) => k.trim()).filter(Boolean);
    } else if (arg in names) {
      const value = Number(argv[++i]);
      if (!Number.isFinite(value) || value < 0) throw new Error(`${arg} needs a number`);
      options[names[arg]] = value;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`usage: node bench/generate.mjs [--packets N] [--flows N] [--tunnels N] [--seed N] [--large-share F] [--mid-share F] [--bad-share F] [--kinds ${KIND_NAMES.join(',')}] [--out FILE]\n`);
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${arg}`);
    }
  }
  for (const key of ['packets', 'flows', 'tunnels']) {
    if (key in options && (!Number.isInteger(options[key]) || options[key] < 1)) throw new Error(`--${key} needs a whole number of 1 or more`);
  }
  return options;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const options = parseArgs(process.argv.slice(2));
    options.out ??= path.join(os.tmpdir(), `tunscope-bench-${options.packets ?? DEFAULTS.packets}.pcap`);
    const started = process.hrtime.bigint();
    const truth = generateCapture(options);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const size = fs.statSync(options.out).size;
    process.stdout.write(`${options.out}: ${truth.packets} packets, ${(size / 1e6).toFixed(1)} MB, ${truth.tunnels.length} tunnel directions, ${truth.flows} flow directions (${seconds.toFixed(1)} s)\n`);
  } catch (err) {
    process.stderr.write(`generate: ${err.message}\n`);
    process.exit(2);
  }
}
