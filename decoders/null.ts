// BSD loopback encapsulation: LINKTYPE_NULL (0) and LINKTYPE_LOOP (108),
// https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                 Protocol type (address family)                |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import type { DecodeContext, DecodeResult } from './types.js';

const HEADER_LENGTH = 4;

export function decodeNull(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  if (captured < HEADER_LENGTH) {
    ctx.issue('truncated', `null header needs ${HEADER_LENGTH} bytes, ${captured} captured`, HEADER_LENGTH, captured);
    return { layer: { proto: 'null', offset, length: captured > 0 ? captured : 0 }, next: null };
  }
  // LINKTYPE_NULL stores the family in the byte order of the capturing host,
  // LINKTYPE_LOOP in big-endian. Families are small numbers, so two zero
  // leading bytes mean big-endian (tcpdump's print-null.c decides the same way).
  const family = bytes[offset] === 0 && bytes[offset + 1] === 0
    ? ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0
    : ((bytes[offset + 3] << 24) | (bytes[offset + 2] << 16) | (bytes[offset + 1] << 8) | bytes[offset]) >>> 0;
  return { layer: { proto: 'null', offset, length: HEADER_LENGTH, family }, next: { table: 'af', key: family } };
}
