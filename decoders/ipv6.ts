// Internet Protocol version 6 (RFC 8200 section 3) and the extension headers
// of RFC 8200 section 4 that lie between it and the upper layer.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version| Traffic Class |           Flow Label                  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Payload Length        |  Next Header  |   Hop Limit   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   +                     Source Address (128 bits)                 +
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   +                  Destination Address (128 bits)               +
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Hop-by-Hop Options (0), Routing (43) and Destination Options (60) headers
// (RFC 8200 sections 4.3, 4.4, 4.6) all begin:
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Next Header  |  Hdr Ext Len  |   ... (Hdr Ext Len + 1) * 8 octets in all
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Fragment header (44, RFC 8200 section 4.5):
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                         Identification                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Jumbo Payload option of the Hop-by-Hop header (RFC 2675 section 2):
//                                   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//                                   |  Option Type  |  Opt Data Len |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                     Jumbo Payload Length                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import { formatIPv6 } from './address.js';
import type { DecodeContext, DecodeResult, IpContext } from './types.js';
import type { IPv6Layer, Ipv6Extension, Ipv6ExtensionType } from './layers.js';
import { ipprotoNext } from './next.js';
import { framedBytes, lengthBeyondCapture } from './ip-common.js';

const FIXED_LENGTH = 40;
/** The largest Payload Length field; a jumbogram's length lies beyond it (RFC 2675). */
const MAX_PAYLOAD_LENGTH = 0xffff;
/** Every extension header is a multiple of 8 octets (RFC 8200 section 4). */
const MIN_EXTENSION_LENGTH = 8;
/** A chain longer than this is treated as hostile rather than walked. */
const MAX_EXTENSIONS = 16;

const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const DESTINATION = 60;
const NO_NEXT_HEADER = 59;

const PAD1 = 0;
const JUMBO_PAYLOAD = 0xc2;
/** Home Address destination option (RFC 6275 section 6.3): 16 bytes, the mobile node's home address. */
const HOME_ADDRESS = 0xc9;
/** Routing types whose data is a list of full addresses, the final destination last (RFC 5095's type 0, RFC 6275's type 2). */
const ADDRESS_LIST_ROUTING = new Set([0, 2]);

function extensionType(nextHeader: number): Ipv6ExtensionType | null {
  switch (nextHeader) {
    case HOP_BY_HOP: return 'hop-by-hop';
    case ROUTING: return 'routing';
    case FRAGMENT: return 'fragment';
    case DESTINATION: return 'destination';
    default: return null;
  }
}

/** The offset of the data of the option `wanted` with `dataLength` bytes among an options header's TLVs, or -1 (RFC 8200 section 4.2). */
function optionData(bytes: Uint8Array, start: number, optionsEnd: number, wanted: number, dataLength: number): number {
  let i = start;
  while (i < optionsEnd) {
    const type = bytes[i];
    if (type === PAD1) {
      i++;
      continue;
    }
    if (i + 1 >= optionsEnd) return -1;
    const length = bytes[i + 1];
    if (type === wanted && length === dataLength && i + 2 + length <= optionsEnd) return i + 2;
    i += 2 + length;
  }
  return -1;
}

/** The Jumbo Payload Length of a Hop-by-Hop header's options, or -1. */
function jumboPayloadLength(bytes: Uint8Array, start: number, optionsEnd: number): number {
  const at = optionData(bytes, start, optionsEnd, JUMBO_PAYLOAD, 4);
  if (at < 0) return -1;
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/**
 * Where a Routing header names the packet's final destination, or -1: the
 * last address of a type 0 or 2 header with segments left (RFC 8200 section
 * 8.1); with none left the IPv6 destination is already the final one.
 */
function finalDestination(bytes: Uint8Array, p: number, length: number): number {
  const routingType = bytes[p + 2];
  const segmentsLeft = bytes[p + 3];
  const addresses = Math.floor((length - 8) / 16);
  if (segmentsLeft === 0 || !ADDRESS_LIST_ROUTING.has(routingType) || addresses === 0) return -1;
  return p + 8 + (addresses - 1) * 16;
}

/** What a header cut short by the capture still tells. */
function decodePartial(bytes: Uint8Array, offset: number, captured: number, ctx: DecodeContext): DecodeResult {
  const layer: IPv6Layer = { proto: 'ipv6', offset, length: captured > 0 ? captured : 0 };
  if (captured >= 1) layer.version = bytes[offset] >> 4;
  if (captured >= 2) layer.trafficClass = ((bytes[offset] & 0x0f) << 4) | (bytes[offset + 1] >> 4);
  if (captured >= 4) layer.flowLabel = ((bytes[offset + 1] & 0x0f) << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
  if (captured >= 6) layer.payloadLength = (bytes[offset + 4] << 8) | bytes[offset + 5];
  if (captured >= 7) layer.nextHeader = bytes[offset + 6];
  if (captured >= 8) layer.hopLimit = bytes[offset + 7];
  if (captured >= 24) layer.src = formatIPv6(bytes, offset + 8);
  ctx.issue('truncated', `ipv6 header needs ${FIXED_LENGTH} bytes, ${captured} captured`, FIXED_LENGTH, captured);
  return { layer, next: null };
}

export function decodeIPv6(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  if (captured < FIXED_LENGTH) return decodePartial(bytes, offset, captured, ctx);

  const version = bytes[offset] >> 4;
  const trafficClass = ((bytes[offset] & 0x0f) << 4) | (bytes[offset + 1] >> 4);
  const flowLabel = ((bytes[offset + 1] & 0x0f) << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
  const payloadLength = (bytes[offset + 4] << 8) | bytes[offset + 5];
  const nextHeader = bytes[offset + 6];
  const hopLimit = bytes[offset + 7];
  // Without detail, as for IPv4: counting reads the address bytes.
  const src = ctx.detail ? formatIPv6(bytes, offset + 8) : '';
  const dst = ctx.detail ? formatIPv6(bytes, offset + 24) : '';

  if (version !== 6) {
    ctx.issue('malformed', `ipv6 header with version ${version}`);
    return {
      layer: {
        proto: 'ipv6', offset, length: FIXED_LENGTH, version, trafficClass, flowLabel, payloadLength, nextHeader,
        hopLimit, src, dst, protocol: nextHeader,
      },
      next: null,
    };
  }

  // Walk the extension headers to the upper layer (RFC 8200 section 4.1 order).
  let extensions: Ipv6Extension[] | null = null;
  let protocol = nextHeader;
  let p = offset + FIXED_LENGTH;
  let stopped = false;
  let fragment = false;
  let laterFragment = false;
  let jumbo = -1;
  let pseudoSrc = offset + 8;
  let pseudoDst = offset + 24;
  for (let type = extensionType(protocol); type !== null; type = extensionType(protocol)) {
    const count = extensions === null ? 0 : extensions.length;
    if (count === MAX_EXTENSIONS) {
      ctx.issue('malformed', `ipv6 has more than ${MAX_EXTENSIONS} extension headers`);
      stopped = true;
      break;
    }
    if (protocol === HOP_BY_HOP && count > 0) {
      // RFC 8200 section 4.1: Hop-by-Hop Options only right after the IPv6 header.
      ctx.issue('malformed', 'ipv6 hop-by-hop header after another extension header');
      stopped = true;
      break;
    }
    const left = end - p;
    if (left < (protocol === FRAGMENT ? MIN_EXTENSION_LENGTH : 2)) {
      ctx.issue('truncated', `ipv6 ${type} header needs ${MIN_EXTENSION_LENGTH} bytes, ${left} captured`,
        MIN_EXTENSION_LENGTH, left);
      stopped = true;
      break;
    }
    const length = protocol === FRAGMENT ? MIN_EXTENSION_LENGTH : (bytes[p + 1] + 1) * 8;
    const extension: Ipv6Extension = { type, nextHeader: bytes[p], length };
    if (extensions === null) extensions = [];
    extensions.push(extension);
    if (left < length) {
      ctx.issue('truncated', `ipv6 ${type} header needs ${length} bytes, ${left} captured`, length, left);
      p += length;
      stopped = true;
      break;
    }
    if (payloadLength !== 0 && p + length - (offset + FIXED_LENGTH) > payloadLength) {
      ctx.issue('malformed', `ipv6 ${type} header runs past the payload length ${payloadLength}`,
        p + length - (offset + FIXED_LENGTH), payloadLength);
      p += length;
      stopped = true;
      break;
    }
    if (protocol === FRAGMENT) {
      const offsetAndFlags = (bytes[p + 2] << 8) | bytes[p + 3];
      // The offset counts 8-octet units in the top 13 bits: masking keeps it in bytes.
      extension.fragmentOffset = offsetAndFlags & 0xfff8;
      extension.mf = (offsetAndFlags & 0x0001) !== 0;
      extension.id = ((bytes[p + 4] << 24) | (bytes[p + 5] << 16) | (bytes[p + 6] << 8) | bytes[p + 7]) >>> 0;
      if (extension.mf || extension.fragmentOffset > 0) fragment = true;
    } else if (protocol === HOP_BY_HOP) {
      jumbo = jumboPayloadLength(bytes, p + 2, p + length);
      if (jumbo >= 0) extension.jumboPayloadLength = jumbo;
    } else if (protocol === ROUTING) {
      extension.routingType = bytes[p + 2];
      extension.segmentsLeft = bytes[p + 3];
      const final = finalDestination(bytes, p, length);
      if (final >= 0) {
        pseudoDst = final;
        if (ctx.detail) extension.finalDestination = formatIPv6(bytes, final);
      }
    } else if (protocol === DESTINATION) {
      const home = optionData(bytes, p + 2, p + length, HOME_ADDRESS, 16);
      if (home >= 0) {
        pseudoSrc = home;
        if (ctx.detail) extension.homeAddress = formatIPv6(bytes, home);
      }
    }
    protocol = bytes[p];
    p += length;
    if (extension.fragmentOffset !== undefined && extension.fragmentOffset > 0) {
      // RFC 8200 section 4.5: what follows a non-first fragment's header is
      // the middle of the fragmentable part, not another header.
      laterFragment = true;
      break;
    }
  }
  const headerLength = p - offset;
  const extensionBytes = headerLength - FIXED_LENGTH;

  let superPacket = false;
  // Payload length 0 (a BIG TCP packet, or one an ICMPv6 error quotes) gives no length past the extension
  // headers: nothing is there, until the cases below say otherwise.
  let upperLength = Math.max(0, payloadLength - extensionBytes);
  let payloadEnd = -1;
  if (jumbo >= 0 && jumbo <= MAX_PAYLOAD_LENGTH && !ctx.quoted) {
    // RFC 2675 section 2: the Jumbo Payload Length must be greater than 65,535;
    // a smaller one could even end the packet inside its own extension headers.
    ctx.issue('malformed', `ipv6 jumbo payload length ${jumbo} is not greater than ${MAX_PAYLOAD_LENGTH}`);
    stopped = true;
  } else if (jumbo >= 0 && !ctx.quoted) {
    superPacket = true;
    upperLength = jumbo - extensionBytes;
    if (payloadLength !== 0) {
      // RFC 2675 section 3: a Jumbo Payload option requires Payload Length 0.
      ctx.issue('malformed', `ipv6 jumbo payload option with payload length ${payloadLength}`);
    }
    ctx.issue('segmentation-offload', `ipv6 jumbo payload length ${jumbo}: a BIG TCP super-packet`);
    payloadEnd = offset + FIXED_LENGTH + jumbo;
  } else if (payloadLength === 0 && captured > FIXED_LENGTH && nextHeader !== NO_NEXT_HEADER && !ctx.quoted) {
    // Linux BIG TCP leaves the payload length 0 and drops the jumbo option
    // before a packet reaches the capture point.
    const framed = framedBytes(bytes, offset, end, ctx);
    superPacket = true;
    upperLength = framed - headerLength;
    ctx.issue('segmentation-offload', `ipv6 payload length 0 over ${framed} bytes: a BIG TCP super-packet`);
  } else if (FIXED_LENGTH + payloadLength > captured) {
    // Cut by the snapshot length or by fragmentation, unless the frame could never have carried
    // it. A packet an ICMPv6 error quotes is cut on purpose (RFC 4443 section 2.4).
    const needed = FIXED_LENGTH + payloadLength;
    superPacket = lengthBeyondCapture(bytes, offset, end, needed, ctx, {
      field: `ipv6 payload length ${payloadLength}`,
      truncated: (framed) => `ipv6 packet needs ${needed} bytes, the frame holds ${framed}`,
      held: (framed) => framed - FIXED_LENGTH,
    });
  } else if (payloadLength !== 0) {
    // Anything after the packet is link padding.
    payloadEnd = offset + FIXED_LENGTH + payloadLength;
  }

  const layer: IPv6Layer = {
    proto: 'ipv6', offset, length: headerLength, version, trafficClass, flowLabel, payloadLength, nextHeader,
    hopLimit, src, dst,
  };
  if (extensions !== null) layer.extensions = extensions;
  layer.protocol = protocol;

  const ip: IpContext = {
    version: 6,
    srcOffset: pseudoSrc,
    dstOffset: pseudoDst,
    src,
    dst,
    protocol,
    upperLength,
    fragment,
    laterFragment,
    superPacket,
  };
  const result: DecodeResult = {
    layer,
    next: stopped || laterFragment || protocol === NO_NEXT_HEADER ? null : ipprotoNext(protocol),
    ip,
  };
  if (payloadEnd >= 0 && payloadEnd < end) result.payloadEnd = payloadEnd;
  return result;
}
