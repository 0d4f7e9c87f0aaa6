// Linux "cooked" capture header v2, LINKTYPE_LINUX_SLL2 (276), as described in
// https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html and libpcap's pcap/sll.h.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Protocol type         |         Reserved (MBZ)        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                        Interface index                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          ARPHRD_ type         |  Packet type  | Addr. length  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                 Link-layer address (8 octets)                 |
//   +                                                               +
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import { linkAddress, nextOf } from './sll.js';
import type { DecodeContext, DecodeResult } from './types.js';
import type { Sll2Layer } from './layers.js';

const HEADER_LENGTH = 20;

export function decodeSll2(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  if (captured < HEADER_LENGTH) {
    ctx.issue('truncated', `sll2 header needs ${HEADER_LENGTH} bytes, ${captured} captured`, HEADER_LENGTH, captured);
    const layer: Sll2Layer = { proto: 'sll2', offset, length: captured > 0 ? captured : 0 };
    if (captured >= 2) layer.protocol = (bytes[offset] << 8) | bytes[offset + 1];
    if (captured >= 8) {
      layer.ifindex = ((bytes[offset + 4] << 24) | (bytes[offset + 5] << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7]) >>> 0;
    }
    if (captured >= 10) layer.arphrd = (bytes[offset + 8] << 8) | bytes[offset + 9];
    if (captured >= 11) layer.packetType = bytes[offset + 10];
    if (captured >= 12) layer.addressLength = bytes[offset + 11];
    return { layer, next: null };
  }
  const protocol = (bytes[offset] << 8) | bytes[offset + 1];
  const arphrd = (bytes[offset + 8] << 8) | bytes[offset + 9];
  const addressLength = bytes[offset + 11];
  return {
    layer: {
      proto: 'sll2', offset, length: HEADER_LENGTH,
      protocol,
      // Signed in the linktype description, but Linux indexes are positive;
      // read unsigned, as tcpdump and Wireshark print it.
      ifindex: ((bytes[offset + 4] << 24) | (bytes[offset + 5] << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7]) >>> 0,
      arphrd,
      packetType: bytes[offset + 10],
      addressLength,
      address: linkAddress(bytes, offset + 12, addressLength),
    },
    next: nextOf(arphrd, protocol),
  };
}
