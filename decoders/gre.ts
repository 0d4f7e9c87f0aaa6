// Generic Routing Encapsulation: RFC 2784 with the key and sequence number of
// RFC 2890, the routing of RFC 1701, and the enhanced GRE of PPTP (RFC 2637).
//
// Version 0 (RFC 1701 section 2, RFC 2784 section 2.1, RFC 2890 section 2):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |C|R|K|S|s|Recur|  Flags  | Ver |         Protocol Type         |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |      Checksum (optional)      |       Offset (optional)       |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         Key (optional)                        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                 Sequence Number (optional)                    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         Routing (optional)
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Version 1, enhanced GRE (RFC 2637 section 4.1):
//
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |    Key (HW) Payload Length    |       Key (LW) Call ID        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                  Sequence Number (Optional)                   |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |               Acknowledgment Number (Optional)                |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A Source Route Entry (RFC 1701 section 2.2), repeated until the null SRE
// (address family 0, SRE length 0):
//
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |       Address Family          |  SRE Offset   |  SRE Length   |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                        Routing Information ...
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import { shortReason, unverified, verifyPlain } from './checksum.js';
import type { Checksum, DecodeContext, DecodeResult } from './types.js';
import type { GreLayer, SourceRouteEntry } from './layers.js';

// Every SRE takes at least 4 bytes, so the bytes bound the walk already; this
// keeps a hostile list from growing the layer without limit.
const MAX_SOURCE_ROUTE_ENTRIES = 16;

const PPTP_PROTOCOL_TYPE = 0x880b;

function truncated(layer: GreLayer, ctx: DecodeContext, needed: number, captured: number): DecodeResult {
  ctx.issue('truncated', `GRE header needs ${needed} bytes, ${captured} captured`, needed, captured);
  layer.length = captured;
  return { layer, next: null };
}

function greChecksum(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): Checksum {
  const value = (bytes[offset + 4] << 8) | bytes[offset + 5];
  if (!ctx.verify) return unverified(value, 'disabled');
  const ip = ctx.ip;
  if (ip !== null) {
    if (ip.fragment) return unverified(value, 'fragment');
    if (ip.superPacket) return unverified(value, 'segmentation-offload');
    if (end - offset < ip.upperLength) return unverified(value, shortReason(ctx));
  } else if (ctx.quoted) {
    return unverified(value, 'quoted');
  } else if (bytes.length < ctx.wireLength) {
    return unverified(value, 'snaplen');
  }
  // RFC 2784 section 2.5: the checksum covers the GRE header and the payload packet.
  const checksum = verifyPlain(bytes, offset, end, offset + 4);
  if (checksum.status === 'bad') {
    ctx.issue('bad-checksum', `GRE checksum 0x${value.toString(16).padStart(4, '0')}, expected 0x${(checksum.expected ?? 0).toString(16).padStart(4, '0')}`);
  }
  return checksum;
}

export function decodeGre(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  const layer: GreLayer = { proto: 'gre', offset, length: 4 };
  if (captured < 2) return truncated(layer, ctx, 4, captured < 0 ? 0 : captured);

  const flags = bytes[offset];
  const version = bytes[offset + 1] & 0x07;
  const checksumPresent = (flags & 0x80) !== 0;
  const routingPresent = (flags & 0x40) !== 0;
  const keyPresent = (flags & 0x20) !== 0;
  const sequencePresent = (flags & 0x10) !== 0;
  // RFC 2637 section 4.1: the A bit is the high bit of the version byte in enhanced GRE.
  const ackPresent = version === 1 && (bytes[offset + 1] & 0x80) !== 0;
  // RFC 2784 section 2.3 calls bits 1-12 Reserved0; R, K and S (bits 1-3) are
  // decoded above, the rest (RFC 1701's s, Recur and Flags; bit 8 is A in
  // version 1) must be sent as zero and ignored on receipt.
  let reserved0 = (((flags << 8) | bytes[offset + 1]) >> 3) & 0x1ff;
  if (version === 1) reserved0 &= ~0x10;

  layer.version = version;
  layer.checksumPresent = checksumPresent;
  layer.routingPresent = routingPresent;
  layer.keyPresent = keyPresent;
  layer.sequencePresent = sequencePresent;
  if (version === 1) layer.ackPresent = ackPresent;
  layer.reserved0 = reserved0;
  if (captured < 4) return truncated(layer, ctx, 4, captured);
  const protocolType = (bytes[offset + 2] << 8) | bytes[offset + 3];
  layer.protocolType = protocolType;

  if (version > 1) {
    // RFC 2784 section 2.3.1: only version 0 is GRE; RFC 2637 adds version 1.
    ctx.issue('malformed', `GRE version ${version} is not 0 (RFC 2784) or 1 (RFC 2637)`);
    return { layer, next: null };
  }
  if (version === 1) {
    // RFC 2637 section 4.1: C, R, s and Recur are zero, K is one and the protocol is PPP.
    if (!keyPresent) ctx.issue('malformed', 'GRE version 1 without the key present bit (RFC 2637 section 4.1)');
    if (checksumPresent || routingPresent) {
      ctx.issue('malformed', 'GRE version 1 with the checksum or routing present bit set (RFC 2637 section 4.1)');
    }
    if (protocolType !== PPTP_PROTOCOL_TYPE) {
      ctx.issue('malformed', 'GRE version 1 carries a protocol type other than PPP 0x880b (RFC 2637 section 4.1)');
    }
  }

  // RFC 1701 section 2.1: Checksum and Offset are present when either C or R is set.
  let headerLength = 4;
  if (checksumPresent || routingPresent) headerLength += 4;
  if (keyPresent) headerLength += 4;
  if (sequencePresent) headerLength += 4;
  if (ackPresent) headerLength += 4;
  const cut = captured < headerLength;

  let pos = offset + 4;
  if (checksumPresent || routingPresent) {
    if (pos + 4 > end) return truncated(layer, ctx, headerLength, captured);
    if (checksumPresent) {
      layer.checksum = cut ? unverified((bytes[pos] << 8) | bytes[pos + 1], 'snaplen') : greChecksum(bytes, offset, end, ctx);
    }
    if (routingPresent) layer.routingOffset = (bytes[pos + 2] << 8) | bytes[pos + 3];
    pos += 4;
  }
  let payloadLength = -1;
  if (keyPresent) {
    if (pos + 4 > end) return truncated(layer, ctx, headerLength, captured);
    if (version === 1) {
      // RFC 2637 section 4.1: the key carries the payload length and the peer's call ID.
      payloadLength = (bytes[pos] << 8) | bytes[pos + 1];
      layer.payloadLength = payloadLength;
      layer.callId = (bytes[pos + 2] << 8) | bytes[pos + 3];
    } else {
      layer.key = ((bytes[pos] << 24) | (bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]) >>> 0;
    }
    pos += 4;
  }
  if (sequencePresent) {
    if (pos + 4 > end) return truncated(layer, ctx, headerLength, captured);
    layer.sequence = ((bytes[pos] << 24) | (bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]) >>> 0;
    pos += 4;
  }
  if (ackPresent) {
    if (pos + 4 > end) return truncated(layer, ctx, headerLength, captured);
    layer.ack = ((bytes[pos] << 24) | (bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]) >>> 0;
    pos += 4;
  }

  if (routingPresent) {
    const routing: SourceRouteEntry[] = [];
    layer.routing = routing;
    for (;;) {
      if (pos + 4 > end) return truncated(layer, ctx, pos + 4 - offset, captured);
      const addressFamily = (bytes[pos] << 8) | bytes[pos + 1];
      const sreOffset = bytes[pos + 2];
      const sreLength = bytes[pos + 3];
      // RFC 1701 section 2.2: the null SRE ends the routing field.
      if (addressFamily === 0 && sreLength === 0) {
        pos += 4;
        break;
      }
      if (routing.length === MAX_SOURCE_ROUTE_ENTRIES) {
        layer.length = pos - offset;
        ctx.issue('malformed', `GRE routing has more than ${MAX_SOURCE_ROUTE_ENTRIES} source route entries`);
        return { layer, next: null };
      }
      routing.push({ addressFamily, sreOffset, sreLength });
      if (pos + 4 + sreLength > end) return truncated(layer, ctx, pos + 4 + sreLength - offset, captured);
      pos += 4 + sreLength;
    }
  }
  layer.length = pos - offset;

  if (version === 1 && !sequencePresent) {
    // RFC 2637 section 4.1: S is clear when the packet is an acknowledgment without payload.
    return { layer, next: null };
  }
  const result: DecodeResult = { layer, next: { table: 'gre', key: protocolType } };
  if (payloadLength >= 0 && pos + payloadLength < end) result.payloadEnd = pos + payloadLength;
  return result;
}
