// Generic Protocol Extension for VXLAN (draft-ietf-nvo3-vxlan-gpe-13, the
// VXLAN-GPE header), over UDP port 4790:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |R|R|Ver|I|P|B|O|       Reserved                |Next Protocol  |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                VXLAN Network Identifier (VNI) |   Reserved    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import type { DecodeContext, DecodeResult } from './types.js';
import type { VxlanGpeLayer } from './layers.js';

const HEADER_LENGTH = 8;
const FLAG_O = 0x01;

export function decodeVxlanGpe(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  const layer: VxlanGpeLayer = { proto: 'vxlan-gpe', offset, length: HEADER_LENGTH };
  if (captured >= 1) {
    const flags = bytes[offset];
    layer.flags = flags;
    layer.version = (flags >> 4) & 0x03;
    layer.oam = (flags & FLAG_O) !== 0;
  }
  if (captured >= 4) layer.nextProtocol = bytes[offset + 3];
  if (captured >= 7) layer.vni = (bytes[offset + 4] << 16) | (bytes[offset + 5] << 8) | bytes[offset + 6];
  if (captured < HEADER_LENGTH) {
    const available = captured < 0 ? 0 : captured;
    ctx.issue('truncated', `VXLAN-GPE header needs ${HEADER_LENGTH} bytes, ${available} captured`, HEADER_LENGTH, available);
    layer.length = available;
    return { layer, next: null };
  }
  if (layer.version !== 0) {
    // The draft's version bits: 0 is the only version, and a receiver drops
    // packets of a version it does not support.
    ctx.issue('malformed', `VXLAN-GPE version ${layer.version} is not 0`);
    return { layer, next: null };
  }
  return { layer, next: { table: 'gpe', key: bytes[offset + 3] } };
}
