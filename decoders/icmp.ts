// Internet Control Message Protocol, RFC 792.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |     Type      |     Code      |          Checksum             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |           Identifier          |        Sequence Number        |  echo (0, 8)
//  |             unused            |         Next-Hop MTU          |  unreachable, code 4 (RFC 1191)
//  |                 Gateway Internet Address                      |  redirect (5)
//  |                             unused                            |  other errors
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |      Internet Header + 64 bits of Original Data Datagram      |  errors
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import type { DecodeContext, DecodeResult } from './types.js';
import type { IcmpLayer } from './layers.js';
import { checkPlain } from './checksum.js';
import { formatIPv4 } from './address.js';

const HEADER_LENGTH = 8;

const ECHO_REPLY = 0;
const DESTINATION_UNREACHABLE = 3;
const SOURCE_QUENCH = 4;
const REDIRECT = 5;
const ECHO = 8;
const TIME_EXCEEDED = 11;
const PARAMETER_PROBLEM = 12;

/** "Fragmentation needed and DF set": the unused field carries the next-hop MTU (RFC 1191 section 4). */
const FRAGMENTATION_NEEDED = 4;

export function decodeIcmp(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const available = end - offset;
  const layer: IcmpLayer = { proto: 'icmp', offset, length: available < HEADER_LENGTH ? available : HEADER_LENGTH };
  if (available >= 1) layer.type = bytes[offset];
  if (available >= 2) layer.code = bytes[offset + 1];
  // The checksum covers the whole ICMP message (RFC 792), without a pseudo-header.
  if (available >= 4) layer.checksum = checkPlain(bytes, offset, end, offset + 2, ctx, 'icmp');
  if (available < HEADER_LENGTH) {
    ctx.issue('truncated', `icmp header needs ${HEADER_LENGTH} bytes, ${available} captured`, HEADER_LENGTH, available);
    return { layer, next: null };
  }

  const type = bytes[offset];
  const code = bytes[offset + 1];
  switch (type) {
    case ECHO_REPLY:
    case ECHO:
      layer.id = (bytes[offset + 4] << 8) | bytes[offset + 5];
      layer.seq = (bytes[offset + 6] << 8) | bytes[offset + 7];
      return { layer, next: null };
    case REDIRECT:
      layer.gateway = formatIPv4(bytes, offset + 4);
      break;
    case DESTINATION_UNREACHABLE:
      if (code === FRAGMENTATION_NEEDED) layer.mtu = (bytes[offset + 6] << 8) | bytes[offset + 7];
      break;
    case SOURCE_QUENCH:
    case TIME_EXCEEDED:
    case PARAMETER_PROBLEM:
      break;
    default:
      return { layer, next: null };
  }
  // An error quotes the IP header and at least 64 bits of the datagram that
  // caused it (RFC 792; RFC 1812 section 4.3.2.3 allows more). Inside a quoted
  // packet an error is not decoded further: no error is sent about an error
  // (RFC 1122 section 3.2.2), and this bounds the nesting.
  if (ctx.quoted) {
    ctx.issue('malformed', 'icmp error quotes an icmp error, which RFC 1122 section 3.2.2 forbids sending');
    return { layer, next: null };
  }
  return { layer, next: { proto: 'ipv4' }, quotes: true };
}
