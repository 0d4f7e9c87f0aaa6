// PPP frame as enhanced GRE carries it (RFC 2637 section 4): no HDLC flag
// sequences or FCS, the Address and Control fields optional (RFC 1661 section
// 6.6, Address-and-Control-Field-Compression) and the Protocol field one or
// two bytes (RFC 1661 section 6.5, Protocol-Field-Compression).
//
//  +----------+----------+----------+
//  |   Flag   | Address  | Control  |       (RFC 1662 section 3.1;
//  | 01111110 | 11111111 | 00000011 |        the flag is not in GRE)
//  +----------+----------+----------+
//  +----------+-------------+---------+
//  | Protocol | Information | Padding |     (RFC 1661 section 2)
//  | 8/16 bits|      *      |    *    |
//  +----------+-------------+---------+

import type { DecodeContext, DecodeResult } from './types.js';
import type { PppLayer } from './layers.js';

const ALL_STATIONS = 0xff;
const UNNUMBERED_INFORMATION = 0x03;

function truncated(layer: PppLayer, ctx: DecodeContext, needed: number, captured: number): DecodeResult {
  ctx.issue('truncated', `PPP header needs ${needed} bytes, ${captured} captured`, needed, captured);
  layer.length = captured;
  return { layer, next: null };
}

export function decodePpp(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  const layer: PppLayer = { proto: 'ppp', offset, length: 0 };
  if (captured < 1) return truncated(layer, ctx, 1, captured < 0 ? 0 : captured);

  let pos = offset;
  // RFC 1662 section 3.1: 0xFF 0x03 is the only Address/Control pair; without
  // it the fields were compressed away.
  if (captured >= 2 && bytes[pos] === ALL_STATIONS && bytes[pos + 1] === UNNUMBERED_INFORMATION) {
    layer.address = ALL_STATIONS;
    layer.control = UNNUMBERED_INFORMATION;
    pos += 2;
  }
  if (pos >= end) return truncated(layer, ctx, pos - offset + 1, captured);

  let protocol: number;
  if ((bytes[pos] & 0x01) !== 0) {
    // RFC 1661 section 6.5: a compressed Protocol field is the odd low byte alone.
    protocol = bytes[pos];
    pos += 1;
  } else {
    if (pos + 2 > end) return truncated(layer, ctx, pos - offset + 2, captured);
    protocol = (bytes[pos] << 8) | bytes[pos + 1];
    pos += 2;
    if ((protocol & 0x01) === 0) {
      // RFC 1661 section 2: every Protocol value is odd.
      ctx.issue('malformed', `PPP protocol 0x${protocol.toString(16).padStart(4, '0')} is even (RFC 1661 section 2)`);
    }
  }
  layer.protocol = protocol;
  layer.length = pos - offset;
  return { layer, next: { table: 'ppp', key: protocol } };
}
