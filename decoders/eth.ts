// Ethernet II (RFC 894) and IEEE 802.3 frames with an 802.2 LLC header (RFC 1042).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Destination MAC Address                    |
//   +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                               |                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//   |                       Source MAC Address                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Length/Type          |  DSAP (802.3) |  SSAP (802.3) |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Control(802.3)|
//   +-+-+-+-+-+-+-+-+

import { formatMac } from './address.js';
import type { DecodeContext, DecodeResult } from './types.js';
import type { EthLayer } from './layers.js';
import { ethertypeNext } from './next.js';

const HEADER_LENGTH = 14;
const LLC_LENGTH = 3;
/**
 * IEEE 802.3 clause 3.2.6: a Length/Type value up to 1500 is the length of the
 * MAC client data; from 1536 (0x0600) on it is an EtherType. tcpdump and
 * Wireshark read everything above 1500 as a type, and so does this decoder.
 */
const MAX_802_3_LENGTH = 1500;

export function decodeEthernet(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  if (captured < HEADER_LENGTH) {
    ctx.issue('truncated', `eth header needs ${HEADER_LENGTH} bytes, ${captured} captured`, HEADER_LENGTH, captured);
    const layer: EthLayer = { proto: 'eth', offset, length: captured > 0 ? captured : 0 };
    if (captured >= 6) layer.dst = formatMac(bytes, offset);
    if (captured >= 12) layer.src = formatMac(bytes, offset + 6);
    return { layer, next: null };
  }

  const type = (bytes[offset + 12] << 8) | bytes[offset + 13];
  if (type > MAX_802_3_LENGTH && !ctx.detail) {
    // Counting needs the addresses' bytes, not their text: it reads them from the frame when it does.
    return { layer: { proto: 'eth', offset, length: HEADER_LENGTH, type }, next: ethertypeNext(type) };
  }
  const dst = formatMac(bytes, offset);
  const src = formatMac(bytes, offset + 6);
  if (type > MAX_802_3_LENGTH) {
    return { layer: { proto: 'eth', offset, length: HEADER_LENGTH, dst, src, type }, next: ethertypeNext(type) };
  }

  // An 802.3 frame: the field counts the MAC client data, which begins with
  // the 802.2 LLC header (DSAP, SSAP, control); bytes beyond it are padding.
  const dataEnd = offset + HEADER_LENGTH + type;
  const payloadEnd = dataEnd < end ? dataEnd : end;
  if (payloadEnd - (offset + HEADER_LENGTH) < LLC_LENGTH) {
    const layer: EthLayer = { proto: 'eth', offset, length: HEADER_LENGTH, dst, src, payloadLength: type };
    return dataEnd < end ? { layer, payloadEnd: dataEnd, next: null } : { layer, next: null };
  }
  const p = offset + HEADER_LENGTH;
  const layer: EthLayer = {
    proto: 'eth', offset, length: HEADER_LENGTH + LLC_LENGTH, dst, src, payloadLength: type,
    llc: { dsap: bytes[p], ssap: bytes[p + 1], control: bytes[p + 2] },
  };
  return dataEnd < end ? { layer, payloadEnd: dataEnd, next: null } : { layer, next: null };
}
