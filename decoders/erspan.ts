// Encapsulated Remote Switched Port Analyzer (draft-foschiano-erspan-03),
// carried in GRE: protocol type 0x88BE for types I and II, 0x22EB for type III.
//
// Type I has no ERSPAN header: the mirrored frame follows a GRE
// header without a sequence number.
//
// Type II, 8 bytes:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Ver  |          VLAN         | COS | En|T|    Session ID     |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |      Reserved         |                  Index                |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Type III, 12 bytes and an optional 8-byte platform specific
// subheader:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Ver  |          VLAN         | COS |BSO|T|     Session ID    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                          Timestamp                            |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |             SGT               |P|    FT   |   Hw ID   |D|Gra|O|
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Platf ID |               Platform Specific Info              |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                  Platform Specific Info                       |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import type { DecodeContext, DecodeResult } from './types.js';
import type { ErspanLayer, PlatformSubheader } from './layers.js';
import { ETHERNET_NEXT } from './next.js';

const ERSPAN_TYPE_I_II = 0x88be;

function truncated(layer: ErspanLayer, ctx: DecodeContext, needed: number, captured: number): DecodeResult {
  ctx.issue('truncated', `ERSPAN header needs ${needed} bytes, ${captured} captured`, needed, captured);
  layer.length = captured;
  return { layer, next: null };
}

export function decodeErspan(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const prev = ctx.prev;
  // Type I shares protocol type 0x88BE with type II but its GRE
  // header has no sequence number, and no ERSPAN header follows.
  if (prev !== null && prev.proto === 'gre' && prev.protocolType === ERSPAN_TYPE_I_II && prev.sequencePresent === false) {
    return { layer: { proto: 'erspan', offset, length: 0, version: 0 }, next: ETHERNET_NEXT };
  }

  const captured = end - offset;
  const layer: ErspanLayer = { proto: 'erspan', offset, length: 8 };
  if (captured < 4) return truncated(layer, ctx, 8, captured < 0 ? 0 : captured);

  const version = bytes[offset] >> 4;
  layer.version = version;
  if (version !== 1 && version !== 2) {
    // The draft defines Ver 1 for type II and 2 for type III.
    ctx.issue('malformed', `ERSPAN version ${version} is not 1 (type II) or 2 (type III)`);
    layer.length = 4;
    return { layer, next: null };
  }
  layer.vlan = ((bytes[offset] & 0x0f) << 8) | bytes[offset + 1];
  layer.cos = bytes[offset + 2] >> 5;
  // Type II calls these two bits En (the original frame's VLAN encapsulation),
  // type III calls them BSO (bad, short or oversized frame).
  if (version === 1) layer.encapsulation = (bytes[offset + 2] >> 3) & 0x03;
  else layer.bso = (bytes[offset + 2] >> 3) & 0x03;
  layer.truncated = (bytes[offset + 2] & 0x04) !== 0;
  layer.sessionId = ((bytes[offset + 2] & 0x03) << 8) | bytes[offset + 3];

  if (version === 1) {
    if (captured < 8) return truncated(layer, ctx, 8, captured);
    layer.index = ((bytes[offset + 5] & 0x0f) << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7];
    return { layer, next: ETHERNET_NEXT };
  }

  if (captured < 8) return truncated(layer, ctx, 12, captured);
  layer.timestamp = ((bytes[offset + 4] << 24) | (bytes[offset + 5] << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7]) >>> 0;
  if (captured < 12) return truncated(layer, ctx, 12, captured);
  layer.sgt = (bytes[offset + 8] << 8) | bytes[offset + 9];
  const b10 = bytes[offset + 10];
  const b11 = bytes[offset + 11];
  layer.p = (b10 & 0x80) !== 0;
  const ft = (b10 >> 2) & 0x1f;
  layer.ft = ft;
  layer.hwId = ((b10 & 0x03) << 4) | (b11 >> 4);
  layer.d = (b11 & 0x08) !== 0;
  layer.gra = (b11 >> 1) & 0x03;
  const o = (b11 & 0x01) !== 0;
  layer.o = o;
  layer.length = 12;
  if (o) {
    if (captured < 20) return truncated(layer, ctx, 20, captured);
    const platform: PlatformSubheader = {
      platformId: bytes[offset + 12] >> 2,
      infoHigh: ((bytes[offset + 12] & 0x03) << 24) | (bytes[offset + 13] << 16) | (bytes[offset + 14] << 8) | bytes[offset + 15],
      infoLow: ((bytes[offset + 16] << 24) | (bytes[offset + 17] << 16) | (bytes[offset + 18] << 8) | bytes[offset + 19]) >>> 0,
    };
    layer.platformSubheader = platform;
    layer.length = 20;
  }
  // Frame type 0 is an Ethernet frame, the only payload followed; 2 is a bare
  // IP packet and the other values are reserved.
  return { layer, next: ft === 0 ? { proto: 'eth' } : null };
}
