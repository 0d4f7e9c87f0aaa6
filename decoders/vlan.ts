// IEEE 802.1Q VLAN tag (and the 802.1ad service tag, same layout). The Tag
// Protocol Identifier (0x8100, 0x88a8, 0x9100) is the type field of the layer
// before; this header holds the Tag Control Information and the encapsulated type.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | PCP |D|          VID          |             Type              |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    PCP: Priority Code Point, D: Drop Eligible Indicator, VID: VLAN Identifier

import type { DecodeContext, DecodeResult } from './types.js';
import type { VlanLayer } from './layers.js';
import { ethertypeNext } from './next.js';

const HEADER_LENGTH = 4;

export function decodeVlan(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  if (captured < HEADER_LENGTH) {
    ctx.issue('truncated', `vlan header needs ${HEADER_LENGTH} bytes, ${captured} captured`, HEADER_LENGTH, captured);
    const layer: VlanLayer = { proto: 'vlan', offset, length: captured > 0 ? captured : 0 };
    if (captured >= 2) {
      layer.pcp = bytes[offset] >> 5;
      layer.dei = (bytes[offset] & 0x10) !== 0;
      layer.vid = ((bytes[offset] & 0x0f) << 8) | bytes[offset + 1];
    }
    return { layer, next: null };
  }
  const type = (bytes[offset + 2] << 8) | bytes[offset + 3];
  return {
    layer: {
      proto: 'vlan', offset, length: HEADER_LENGTH,
      pcp: bytes[offset] >> 5,
      dei: (bytes[offset] & 0x10) !== 0,
      vid: ((bytes[offset] & 0x0f) << 8) | bytes[offset + 1],
      type,
    },
    next: ethertypeNext(type),
  };
}
