// User Datagram Protocol, RFC 768.
//
//   0      7 8     15 16    23 24    31
//  +--------+--------+--------+--------+
//  |     Source      |   Destination   |
//  |      Port       |      Port       |
//  +--------+--------+--------+--------+
//  |                 |                 |
//  |     Length      |    Checksum     |
//  +--------+--------+--------+--------+
//  |
//  |          data octets ...
//  +---------------- ...
//
// The layer's `length` is the RFC's Length field: the datagram, header and
// data, in octets. The data starts after the 8-byte header (payloadOffset).

import type { DecodeContext, DecodeResult } from './types.js';
import type { UdpLayer } from './layers.js';
import { checkTransport, unverified } from './checksum.js';

const HEADER_LENGTH = 8;
const PROTOCOL_UDP = 17;

/**
 * RFC 6935 tunnel ports: UDP over IPv6 may carry a zero checksum for tunnel
 * protocols (RFC 6935 section 5, applicability in RFC 6936). VXLAN (RFC 7348,
 * and Linux's 8472), VXLAN-GPE and Geneve (RFC 8926 section 3.3) use it.
 */
const RFC6935_TUNNEL_PORTS = new Set([4789, 8472, 4790, 6081]);

export function decodeUdp(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const available = end - offset;
  if (available < HEADER_LENGTH) {
    const layer: UdpLayer = { proto: 'udp', offset, length: available };
    if (available >= 2) layer.srcPort = (bytes[offset] << 8) | bytes[offset + 1];
    if (available >= 4) layer.dstPort = (bytes[offset + 2] << 8) | bytes[offset + 3];
    if (available >= 6) layer.length = (bytes[offset + 4] << 8) | bytes[offset + 5];
    ctx.issue('truncated', `udp header needs ${HEADER_LENGTH} bytes, ${available} captured`, HEADER_LENGTH, available);
    return { layer, payloadOffset: end, next: null };
  }

  const srcPort = (bytes[offset] << 8) | bytes[offset + 1];
  const dstPort = (bytes[offset + 2] << 8) | bytes[offset + 3];
  const length = (bytes[offset + 4] << 8) | bytes[offset + 5];
  const value = (bytes[offset + 6] << 8) | bytes[offset + 7];
  const ip = ctx.ip;

  // A Length of 0 is a jumbogram (RFC 2675 section 4) or a segmentation-offload
  // super-packet (Linux BIG TCP writes 0); the IP payload gives the length.
  let sized = false;
  let segmentLength = length;
  if (length === 0 && ip !== null && ip.superPacket) {
    sized = true;
    segmentLength = ip.upperLength;
  }
  let malformed = false;
  if (length < HEADER_LENGTH && !sized) {
    ctx.issue('malformed', `udp length ${length} is less than the ${HEADER_LENGTH}-byte header`);
    malformed = true;
  } else if (ip !== null && !ip.fragment && !ip.superPacket && length > ip.upperLength) {
    ctx.issue('malformed', `udp length ${length} exceeds the IP payload of ${ip.upperLength} bytes`, length, ip.upperLength);
  }

  let checksum;
  if (!ctx.verify) {
    checksum = unverified(value, 'disabled');
  } else if (value === 0) {
    // RFC 768: zero means the sender computed no checksum. RFC 8200 section 8.1
    // forbids that over IPv6 except where RFC 6935 allows it for tunnels.
    checksum = { status: 'zero' as const, value: 0 };
    if (ip !== null && ip.version === 6 && !ctx.quoted && !RFC6935_TUNNEL_PORTS.has(dstPort) && !RFC6935_TUNNEL_PORTS.has(srcPort)) {
      ctx.issue('zero-checksum', `udp checksum 0 over IPv6 (ports ${srcPort} > ${dstPort}; RFC 8200 section 8.1)`);
    }
  } else {
    checksum = checkTransport(bytes, offset, end, offset + 6, ctx, 'udp', PROTOCOL_UDP, segmentLength);
  }

  const layer: UdpLayer = { proto: 'udp', offset, srcPort, dstPort, length, checksum };
  const result: DecodeResult = {
    layer,
    payloadOffset: offset + HEADER_LENGTH,
    next: malformed ? null : { table: 'udp', key: dstPort, alt: srcPort },
  };
  if (!malformed && !sized && offset + length < end) result.payloadEnd = offset + length;
  return result;
}
