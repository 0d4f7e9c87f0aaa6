// Internet Control Message Protocol for IPv6, RFC 4443 section 2.1.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |     Type      |     Code      |          Checksum             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |           Identifier          |        Sequence Number        |  echo (128, 129)
//  |                              MTU                              |  packet too big (2)
//  |                     Unused / Pointer / Reserved               |  other errors, ND
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |   As much of invoking packet as possible without the ICMPv6   |  errors (1-4)
//  |   packet exceeding the minimum IPv6 MTU                       |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Neighbor Solicitation and Advertisement (RFC 4861 sections 4.3, 4.4) follow
// the first 8 bytes with the 16-byte Target Address.

import type { DecodeContext, DecodeResult } from './types.js';
import type { Icmpv6Layer } from './layers.js';
import { checkTransport } from './checksum.js';
import { formatIPv6 } from './address.js';

const HEADER_LENGTH = 8;
const ND_HEADER_LENGTH = 24;
const PROTOCOL_ICMPV6 = 58;

const DESTINATION_UNREACHABLE = 1;
const PACKET_TOO_BIG = 2;
const TIME_EXCEEDED = 3;
const PARAMETER_PROBLEM = 4;
const ECHO_REQUEST = 128;
const ECHO_REPLY = 129;
const NEIGHBOR_SOLICITATION = 135;
const NEIGHBOR_ADVERTISEMENT = 136;

export function decodeIcmpv6(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const available = end - offset;
  const layer: Icmpv6Layer = { proto: 'icmpv6', offset, length: available < HEADER_LENGTH ? available : HEADER_LENGTH };
  if (available >= 1) layer.type = bytes[offset];
  if (available >= 2) layer.code = bytes[offset + 1];
  // The checksum covers the message and the IPv6 pseudo-header (RFC 4443 section 2.3).
  if (available >= 4) {
    const segmentLength = ctx.ip === null ? 0 : ctx.ip.upperLength;
    layer.checksum = checkTransport(bytes, offset, end, offset + 2, ctx, 'icmpv6', PROTOCOL_ICMPV6, segmentLength);
  }
  if (available < HEADER_LENGTH) {
    ctx.issue('truncated', `icmpv6 header needs ${HEADER_LENGTH} bytes, ${available} captured`, HEADER_LENGTH, available);
    return { layer, next: null };
  }

  const type = bytes[offset];
  switch (type) {
    case ECHO_REQUEST:
    case ECHO_REPLY:
      layer.id = (bytes[offset + 4] << 8) | bytes[offset + 5];
      layer.seq = (bytes[offset + 6] << 8) | bytes[offset + 7];
      return { layer, next: null };
    case NEIGHBOR_SOLICITATION:
    case NEIGHBOR_ADVERTISEMENT:
      if (available < ND_HEADER_LENGTH) {
        layer.length = available;
        ctx.issue('truncated', `icmpv6 header needs ${ND_HEADER_LENGTH} bytes, ${available} captured`, ND_HEADER_LENGTH, available);
        return { layer, next: null };
      }
      layer.length = ND_HEADER_LENGTH;
      layer.target = formatIPv6(bytes, offset + 8);
      return { layer, next: null };
    case PACKET_TOO_BIG:
      layer.mtu = ((bytes[offset + 4] << 24) | (bytes[offset + 5] << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7]) >>> 0;
      break;
    case DESTINATION_UNREACHABLE:
    case TIME_EXCEEDED:
    case PARAMETER_PROBLEM:
      break;
    default:
      return { layer, next: null };
  }
  // Error messages (types below 128, RFC 4443 section 2.1) quote the invoking
  // packet. No error is sent about an error (RFC 4443 section 2.4 (e)), and
  // not quoting inside a quoted packet bounds the nesting.
  if (ctx.quoted) {
    ctx.issue('malformed', 'icmpv6 error quotes an icmpv6 error, which RFC 4443 section 2.4 (e) forbids sending');
    return { layer, next: null };
  }
  return { layer, next: { proto: 'ipv6' }, quotes: true };
}
