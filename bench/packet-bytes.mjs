// The bytes of a benchmark capture: deterministic randomness, RFC 1071
// checksums, header writers and a classic pcap writer. Every byte is laid down
// here with Buffer writes, without tunscope's decoders or writers, so the
// benchmark's ground truth cannot share a mistake with the code it measures.

import fs from 'node:fs';

// ---------------------------------------------------------------------------
// Deterministic randomness: sfc32, seeded through splitmix32.

export function makeRandom(seed) {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next();
  return {
    /** Uniform in [0, 1). */
    float: () => next() / 4294967296,
    /** Uniform integer in [0, n). */
    int: (n) => Math.floor((next() / 4294967296) * n),
    u32: next,
  };
}

// ---------------------------------------------------------------------------
// RFC 1071 checksum over big-endian 16-bit words.

export function sum16(b, start, end, initial = 0) {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return sum;
}

export function fold16(sum) {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

export function complement16(sum) {
  return ~fold16(sum) & 0xffff;
}

// ---------------------------------------------------------------------------
// Headers. Each writer puts its header at b[o] and returns the offset after it.

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const TEB = 0x6558; // Transparent Ethernet Bridging
export const PROTO_IPIP = 4;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_GRE = 47;

export function writeMac(b, o, id) {
  // Locally administered unicast: 02:xx:xx:xx:xx:xx.
  b[o] = 0x02;
  b[o + 1] = 0x42;
  b.writeUInt32BE(id >>> 0, o + 2);
}

export function writeEth(b, o, dstId, srcId, type) {
  writeMac(b, o, dstId);
  writeMac(b, o + 6, srcId);
  b.writeUInt16BE(type, o + 12);
  return o + 14;
}

/** IPv4 header without options; the header checksum is computed here. */
export function writeIPv4(b, o, src, dst, protocol, totalLength, id, flagsAndOffset, ttl) {
  b[o] = 0x45;
  b[o + 1] = 0;
  b.writeUInt16BE(totalLength, o + 2);
  b.writeUInt16BE(id & 0xffff, o + 4);
  b.writeUInt16BE(flagsAndOffset, o + 6);
  b[o + 8] = ttl;
  b[o + 9] = protocol;
  b[o + 10] = 0;
  b[o + 11] = 0;
  b.writeUInt32BE(src >>> 0, o + 12);
  b.writeUInt32BE(dst >>> 0, o + 16);
  b.writeUInt16BE(complement16(sum16(b, o, o + 20)), o + 10);
  return o + 20;
}

export function writeIPv6(b, o, srcWords, dstWords, nextHeader, payloadLength, flowLabel) {
  b.writeUInt32BE((0x60000000 | (flowLabel & 0xfffff)) >>> 0, o);
  b.writeUInt16BE(payloadLength, o + 4);
  b[o + 6] = nextHeader;
  b[o + 7] = 64;
  for (let i = 0; i < 4; i++) b.writeUInt32BE(srcWords[i] >>> 0, o + 8 + 4 * i);
  for (let i = 0; i < 4; i++) b.writeUInt32BE(dstWords[i] >>> 0, o + 24 + 4 * i);
  return o + 40;
}

/** TCP header of 32 bytes: 20 fixed plus NOP, NOP, Timestamps (RFC 7323). Checksum left 0. */
export function writeTcp(b, o, sport, dport, seq, ack, flags, window, tsval, tsecr) {
  b.writeUInt16BE(sport, o);
  b.writeUInt16BE(dport, o + 2);
  b.writeUInt32BE(seq >>> 0, o + 4);
  b.writeUInt32BE(ack >>> 0, o + 8);
  b[o + 12] = 8 << 4;
  b[o + 13] = flags;
  b.writeUInt16BE(window, o + 14);
  b[o + 16] = 0;
  b[o + 17] = 0;
  b[o + 18] = 0;
  b[o + 19] = 0;
  b[o + 20] = 1;
  b[o + 21] = 1;
  b[o + 22] = 8;
  b[o + 23] = 10;
  b.writeUInt32BE(tsval >>> 0, o + 24);
  b.writeUInt32BE(tsecr >>> 0, o + 28);
  return o + 32;
}

export function writeUdp(b, o, sport, dport, length) {
  b.writeUInt16BE(sport, o);
  b.writeUInt16BE(dport, o + 2);
  b.writeUInt16BE(length, o + 4);
  b[o + 6] = 0;
  b[o + 7] = 0;
  return o + 8;
}

/** Pseudo-header sum of RFC 768/793 (IPv4) or RFC 8200 section 8.1 (IPv6), addresses read from b. */
export function pseudoSum(b, ipOffset, version, protocol, length) {
  if (version === 4) return sum16(b, ipOffset + 12, ipOffset + 20) + protocol + length;
  return sum16(b, ipOffset + 8, ipOffset + 40) + (length >>> 16) + (length & 0xffff) + protocol;
}

export class CaptureWriter {
  constructor(file) {
    this.fd = fs.openSync(file, 'w');
    this.buffer = Buffer.alloc(8 << 20);
    this.pos = 0;
    const h = this.buffer;
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8);
    h.writeUInt32LE(0, 12);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    this.pos = 24;
  }

  record(sec, usec, frame, length) {
    if (this.pos + 16 + length > this.buffer.length) this.flush();
    const b = this.buffer;
    b.writeUInt32LE(sec, this.pos);
    b.writeUInt32LE(usec, this.pos + 4);
    b.writeUInt32LE(length, this.pos + 8);
    b.writeUInt32LE(length, this.pos + 12);
    frame.copy(b, this.pos + 16, 0, length);
    this.pos += 16 + length;
  }

  flush() {
    let written = 0;
    while (written < this.pos) written += fs.writeSync(this.fd, this.buffer, written, this.pos - written);
    this.pos = 0;
  }

  close() {
    this.flush();
    fs.closeSync(this.fd);
  }
}
