// Linux "cooked" capture header, LINKTYPE_LINUX_SLL (113), as described in
// https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html and libpcap's pcap/sll.h.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Packet type          |          ARPHRD_ type         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |   Link-layer address length   |                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//   |                 Link-layer address (8 octets)                 |
//   +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                               |         Protocol type         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import { formatMac } from './address.js';
import type { DecodeContext, DecodeResult, NextProtocol } from './types.js';
import type { SllLayer } from './layers.js';

const HEADER_LENGTH = 16;
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

/** The link-layer address as text: a MAC address, or the first 8 octets in hex (SLL and SLL2 alike). */
export function linkAddress(bytes: Uint8Array, start: number, addressLength: number): string {
  if (addressLength === 6) return formatMac(bytes, start);
  const n = addressLength < ADDRESS_FIELD_LENGTH ? addressLength : ADDRESS_FIELD_LENGTH;
  let text = '';
  for (let i = 0; i < n; i++) {
    const b = bytes[start + i];
    text += (i === 0 ? '' : ':') + (b < 16 ? '0' : '') + b.toString(16);
  }
  return text;
}

/** What the protocol field names, given the ARPHRD_ type (SLL and SLL2 alike). */
export function nextOf(arphrd: number, protocol: number): NextProtocol | null {
  if (arphrd === ARPHRD_IPGRE) return { table: 'gre', key: protocol };
  if (arphrd === ARPHRD_NETLINK || arphrd === ARPHRD_FRAD || arphrd === ARPHRD_IEEE80211_RADIOTAP) return null;
  if (protocol < FIRST_ETHERTYPE) return null;
  return { table: 'ethertype', key: protocol };
}

export function decodeSll(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  if (captured < HEADER_LENGTH) {
    ctx.issue('truncated', `sll header needs ${HEADER_LENGTH} bytes, ${captured} captured`, HEADER_LENGTH, captured);
    const layer: SllLayer = { proto: 'sll', offset, length: captured > 0 ? captured : 0 };
    if (captured >= 2) layer.packetType = (bytes[offset] << 8) | bytes[offset + 1];
    if (captured >= 4) layer.arphrd = (bytes[offset + 2] << 8) | bytes[offset + 3];
    if (captured >= 6) {
      const addressLength = (bytes[offset + 4] << 8) | bytes[offset + 5];
      layer.addressLength = addressLength;
      if (captured >= 14) layer.address = linkAddress(bytes, offset + 6, addressLength);
    }
    return { layer, next: null };
  }
  const arphrd = (bytes[offset + 2] << 8) | bytes[offset + 3];
  const addressLength = (bytes[offset + 4] << 8) | bytes[offset + 5];
  const protocol = (bytes[offset + 14] << 8) | bytes[offset + 15];
  return {
    layer: {
      proto: 'sll', offset, length: HEADER_LENGTH,
      packetType: (bytes[offset] << 8) | bytes[offset + 1],
      arphrd,
      addressLength,
      address: linkAddress(bytes, offset + 6, addressLength),
      protocol,
    },
    next: nextOf(arphrd, protocol),
  };
}
