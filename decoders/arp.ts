// Address Resolution Protocol (RFC 826), for any hardware and protocol address sizes,
// and Reverse ARP (RFC 903: ethertype 0x8035, the same packet, opcodes 3 and 4).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Hardware type         |         Protocol type         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Hardware size | Protocol size |             Opcode            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |        Sender hardware address (hardware size octets)         |
//   |        Sender protocol address (protocol size octets)         |
//   |        Target hardware address (hardware size octets)         |
//   |        Target protocol address (protocol size octets)         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import { formatIPv4, formatMac } from './address.js';
import { carriedEthertype } from './layers.js';
import type { ArpLayer, Layer } from './layers.js';
import type { DecodeContext, DecodeResult } from './types.js';

const FIXED_LENGTH = 8;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_RARP = 0x8035;

/** The enclosing layer named RARP's ethertype. */
function carriedAsRarp(prev: Layer | null): boolean {
  return prev !== null && carriedEthertype(prev) === ETHERTYPE_RARP;
}

/** RARP layers say so; ARP layers are left as they were. */
function marked(layer: ArpLayer, reverse: boolean): ArpLayer {
  if (reverse) layer.reverse = true;
  return layer;
}

export function decodeArp(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  const reverse = carriedAsRarp(ctx.prev);
  if (captured < FIXED_LENGTH) {
    ctx.issue('truncated', `arp header needs ${FIXED_LENGTH} bytes, ${captured} captured`, FIXED_LENGTH, captured);
    const layer: ArpLayer = { proto: 'arp', offset, length: captured > 0 ? captured : 0 };
    if (captured >= 2) layer.hardwareType = (bytes[offset] << 8) | bytes[offset + 1];
    if (captured >= 4) layer.protocolType = (bytes[offset + 2] << 8) | bytes[offset + 3];
    if (captured >= 5) layer.hardwareSize = bytes[offset + 4];
    if (captured >= 6) layer.protocolSize = bytes[offset + 5];
    return { layer: marked(layer, reverse), next: null };
  }
  const hardwareType = (bytes[offset] << 8) | bytes[offset + 1];
  const protocolType = (bytes[offset + 2] << 8) | bytes[offset + 3];
  const hardwareSize = bytes[offset + 4];
  const protocolSize = bytes[offset + 5];
  const opcode = (bytes[offset + 6] << 8) | bytes[offset + 7];
  const length = FIXED_LENGTH + 2 * (hardwareSize + protocolSize);
  if (captured < length) {
    ctx.issue('truncated', `arp header needs ${length} bytes, ${captured} captured`, length, captured);
    return {
      layer: marked({ proto: 'arp', offset, length, hardwareType, protocolType, hardwareSize, protocolSize, opcode }, reverse),
      next: null,
    };
  }
  // Only 48-bit hardware and IPv4 protocol addresses have a conventional text
  // form; other sizes leave the addresses to the raw bytes of the layer.
  if (hardwareSize !== 6 || protocolSize !== 4 || protocolType !== ETHERTYPE_IPV4) {
    return {
      layer: marked({ proto: 'arp', offset, length, hardwareType, protocolType, hardwareSize, protocolSize, opcode }, reverse),
      next: null,
    };
  }
  return {
    layer: marked({
      proto: 'arp', offset, length, hardwareType, protocolType, hardwareSize, protocolSize, opcode,
      senderMac: formatMac(bytes, offset + 8),
      senderIp: formatIPv4(bytes, offset + 14),
      targetMac: formatMac(bytes, offset + 18),
      targetIp: formatIPv4(bytes, offset + 24),
    }, reverse),
    next: null,
  };
}
