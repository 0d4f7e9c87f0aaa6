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

import { formatMac } from './address.js';
import type { DecodeContext, DecodeResult, Layer, NextProtocol } from './types.js';

const HEADER_LENGTH = 20;
/** The address field holds at most 8 octets; longer addresses are cut to 8. */
const ADDRESS_FIELD_LENGTH = 8;

/** ARPHRD_ types whose protocol type field is not an EtherType (linktypes "Linux SLL header fields"). */
const ARPHRD_FRAD = 770;
const ARPHRD_IPGRE = 778;
const ARPHRD_IEEE80211_RADIOTAP = 803;
const ARPHRD_NETLINK = 824;
/**
 * Protocol values below the first EtherType (0x0600) are Linux pseudo types:
 * 0x0001 Novell 802.3, 0x0004 802.2 LLC, 0x000C/0x000D/0x000E CAN frames.
 */
const FIRST_ETHERTYPE = 0x0600;

function linkAddress(bytes: Uint8Array, start: number, addressLength: number): string {
  if (addressLength === 6) return formatMac(bytes, start);
  const n = addressLength < ADDRESS_FIELD_LENGTH ? addressLength : ADDRESS_FIELD_LENGTH;
  let text = '';
  for (let i = 0; i < n; i++) {
    const b = bytes[start + i];
    text += (i === 0 ? '' : ':') + (b < 16 ? '0' : '') + b.toString(16);
  }
  return text;
}

function nextOf(arphrd: number, protocol: number): NextProtocol | null {
  if (arphrd === ARPHRD_IPGRE) return { table: 'gre', key: protocol };
  if (arphrd === ARPHRD_NETLINK || arphrd === ARPHRD_FRAD || arphrd === ARPHRD_IEEE80211_RADIOTAP) return null;
  if (protocol < FIRST_ETHERTYPE) return null;
  return { table: 'ethertype', key: protocol };
}

export function decodeSll2(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  if (captured < HEADER_LENGTH) {
    ctx.issue('truncated', `sll2 header needs ${HEADER_LENGTH} bytes, ${captured} captured`, HEADER_LENGTH, captured);
    const layer: Layer = { proto: 'sll2', offset, length: captured > 0 ? captured : 0 };
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
