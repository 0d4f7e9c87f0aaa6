// Virtual eXtensible Local Area Network (RFC 7348 section 5), over UDP port
// 4789 (and 8472, the port Linux used before IANA assigned one):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |R|R|R|R|I|R|R|R|            Reserved                           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                VXLAN Network Identifier (VNI) |   Reserved    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import type { DecodeContext, DecodeResult } from './types.js';
import type { VxlanLayer } from './layers.js';
import { ETHERNET_NEXT } from './next.js';

const HEADER_LENGTH = 8;
const FLAG_I = 0x08;

export function decodeVxlan(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  const layer: VxlanLayer = { proto: 'vxlan', offset, length: HEADER_LENGTH };
  if (captured >= 1) {
    layer.flags = bytes[offset];
    layer.vniValid = (bytes[offset] & FLAG_I) !== 0;
  }
  if (captured >= 7) layer.vni = (bytes[offset + 4] << 16) | (bytes[offset + 5] << 8) | bytes[offset + 6];
  if (captured < HEADER_LENGTH) {
    const available = captured < 0 ? 0 : captured;
    ctx.issue('truncated', `VXLAN header needs ${HEADER_LENGTH} bytes, ${available} captured`, HEADER_LENGTH, available);
    layer.length = available;
    return { layer, next: null };
  }
  // RFC 7348 section 5: the I flag must be set for a valid VNI; a clear flag is
  // a finding about the sender, not a reason to stop decoding the frame.
  return { layer, next: ETHERNET_NEXT };
}
