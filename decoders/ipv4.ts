// Internet Protocol version 4 (RFC 791 section 3.1; the Type of Service octet
// is the DSCP of RFC 2474 and the ECN field of RFC 3168).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version|  IHL  |   DSCP    |ECN|          Total Length         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Identification        |Flags|      Fragment Offset    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                       Source Address                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Destination Address                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Options                    |    Padding    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   Flags: bit 0 reserved, bit 1 DF (Don't Fragment), bit 2 MF (More Fragments).

import { formatIPv4, hex16 } from './address.js';
import { unverified, verifyPlain } from './checksum.js';
import type { Checksum, DecodeContext, DecodeResult, IpContext } from './types.js';
import type { IPv4Layer, IPv4Option } from './layers.js';
import { ipprotoNext } from './next.js';
import { framedBytes, lengthBeyondCapture } from './ip-common.js';

const MIN_HEADER_LENGTH = 20;

/**
 * RFC 791 section 3.1 "Options": type 0 (End of Option List) ends the list,
 * type 1 (No Operation) is a single octet, every other option carries a
 * length octet counting the type and length octets, so at least 2.
 */
function walkOptions(bytes: Uint8Array, start: number, headerEnd: number, capturedEnd: number, ctx: DecodeContext): IPv4Option[] {
  const options: IPv4Option[] = [];
  const limit = headerEnd < capturedEnd ? headerEnd : capturedEnd;
  let i = start;
  while (i < limit) {
    const type = bytes[i];
    if (type === 0) {
      options.push({ type, length: 1 });
      break;
    }
    if (type === 1) {
      options.push({ type, length: 1 });
      i++;
      continue;
    }
    if (i + 1 >= headerEnd) {
      ctx.issue('malformed', `ipv4 option ${type} has no length octet inside the header`);
      break;
    }
    // The header was cut by the capture: the truncation is already reported.
    if (i + 1 >= limit) break;
    const length = bytes[i + 1];
    if (length < 2 || i + length > headerEnd) {
      const message = `ipv4 option ${type} length ${length} does not fit the ${headerEnd - i} option bytes left`;
      // A length below 2 is a value no option has; a larger one runs past the header.
      if (length < 2) ctx.issue('malformed', message);
      else ctx.issue('malformed', message, length, headerEnd - i);
      break;
    }
    options.push({ type, length });
    i += length;
  }
  return options;
}

/** What a header cut short by the capture still tells. */
function decodePartial(bytes: Uint8Array, offset: number, captured: number, ctx: DecodeContext): DecodeResult {
  const layer: IPv4Layer = { proto: 'ipv4', offset, length: captured > 0 ? captured : 0 };
  let needed = MIN_HEADER_LENGTH;
  if (captured >= 1) {
    const headerLength = (bytes[offset] & 0x0f) << 2;
    layer.version = bytes[offset] >> 4;
    layer.headerLength = headerLength;
    if (headerLength >= MIN_HEADER_LENGTH) {
      // With the header length known, the layer covers the whole header.
      layer.length = headerLength;
      needed = headerLength;
    }
  }
  if (captured >= 2) {
    layer.dscp = bytes[offset + 1] >> 2;
    layer.ecn = bytes[offset + 1] & 0x03;
  }
  if (captured >= 4) layer.totalLength = (bytes[offset + 2] << 8) | bytes[offset + 3];
  if (captured >= 6) layer.id = (bytes[offset + 4] << 8) | bytes[offset + 5];
  if (captured >= 8) {
    layer.df = (bytes[offset + 6] & 0x40) !== 0;
    layer.mf = (bytes[offset + 6] & 0x20) !== 0;
    layer.fragmentOffset = (((bytes[offset + 6] & 0x1f) << 8) | bytes[offset + 7]) * 8;
  }
  if (captured >= 9) layer.ttl = bytes[offset + 8];
  if (captured >= 10) layer.protocol = bytes[offset + 9];
  if (captured >= 12) {
    const value = (bytes[offset + 10] << 8) | bytes[offset + 11];
    layer.checksum = unverified(value, ctx.verify ? 'snaplen' : 'disabled');
  }
  if (captured >= 16) layer.src = formatIPv4(bytes, offset + 12);
  ctx.issue('truncated', `ipv4 header needs ${needed} bytes, ${captured} captured`, needed, captured);
  return { layer, next: null };
}

export function decodeIPv4(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  if (captured < MIN_HEADER_LENGTH) return decodePartial(bytes, offset, captured, ctx);

  const version = bytes[offset] >> 4;
  const headerLength = (bytes[offset] & 0x0f) << 2;
  const dscp = bytes[offset + 1] >> 2;
  const ecn = bytes[offset + 1] & 0x03;
  const totalLength = (bytes[offset + 2] << 8) | bytes[offset + 3];
  const id = (bytes[offset + 4] << 8) | bytes[offset + 5];
  const df = (bytes[offset + 6] & 0x40) !== 0;
  const mf = (bytes[offset + 6] & 0x20) !== 0;
  // RFC 791: the offset is measured in units of 8 octets.
  const fragmentOffset = (((bytes[offset + 6] & 0x1f) << 8) | bytes[offset + 7]) * 8;
  const ttl = bytes[offset + 8];
  const protocol = bytes[offset + 9];
  const checksumValue = (bytes[offset + 10] << 8) | bytes[offset + 11];
  // Counting reads the address words, not their text: a capture holds tens of
  // thousands of inner addresses, and finding each one's text cost a cache miss.
  const src = ctx.detail ? formatIPv4(bytes, offset + 12) : '';
  const dst = ctx.detail ? formatIPv4(bytes, offset + 16) : '';

  if (version !== 4 || headerLength < MIN_HEADER_LENGTH) {
    ctx.issue('malformed', version !== 4
      ? `ipv4 header with version ${version}`
      : `ipv4 header length ${headerLength} is less than ${MIN_HEADER_LENGTH}`);
    return {
      layer: {
        proto: 'ipv4', offset, length: MIN_HEADER_LENGTH, version, headerLength, dscp, ecn, totalLength, id, df, mf,
        fragmentOffset, ttl, protocol, checksum: unverified(checksumValue, ctx.verify ? 'malformed' : 'disabled'), src, dst,
      },
      next: null,
    };
  }

  const headerEnd = offset + headerLength;
  const options = headerLength > MIN_HEADER_LENGTH ? walkOptions(bytes, offset + MIN_HEADER_LENGTH, headerEnd, end, ctx) : null;

  if (captured < headerLength) {
    ctx.issue('truncated', `ipv4 header needs ${headerLength} bytes, ${captured} captured`, headerLength, captured);
    const layer: IPv4Layer = {
      proto: 'ipv4', offset, length: headerLength, version, headerLength, dscp, ecn, totalLength, id, df, mf,
      fragmentOffset, ttl, protocol, checksum: unverified(checksumValue, ctx.verify ? 'snaplen' : 'disabled'), src, dst,
    };
    if (options !== null) layer.options = options;
    return { layer, next: null };
  }

  let malformed = false;
  let superPacket = false;
  let upperLength = totalLength - headerLength;
  let payloadEnd = -1;
  if (totalLength === 0 && captured > headerLength && !ctx.quoted) {
    // TCP segmentation offload hands the NIC a template header whose total
    // length it fills in per segment; Linux BIG TCP for IPv4 leaves it 0 too.
    const framed = framedBytes(bytes, offset, end, ctx);
    superPacket = true;
    upperLength = framed - headerLength;
    ctx.issue('segmentation-offload', `ipv4 total length 0 over ${framed} bytes: a TSO super-packet`);
  } else if (totalLength < headerLength) {
    malformed = true;
    ctx.issue('malformed', `ipv4 total length ${totalLength} is less than the ${headerLength}-byte header`);
  } else if (totalLength > captured) {
    // Cut by the snapshot length or by fragmentation, unless the frame could never have carried it.
    superPacket = lengthBeyondCapture(bytes, offset, end, totalLength, ctx, {
      field: `ipv4 total length ${totalLength}`,
      truncated: (framed) => `ipv4 total length ${totalLength} exceeds the ${framed} bytes the frame holds`,
      held: (framed) => framed,
    });
  } else if (totalLength < captured) {
    // Anything after the datagram is link padding (an Ethernet frame is at least 60 bytes).
    payloadEnd = offset + totalLength;
  }

  let checksum: Checksum;
  if (!ctx.verify) {
    checksum = unverified(checksumValue, 'disabled');
  } else if (superPacket) {
    // The NIC rewrites the header of every segment it cuts, checksum
    // included: Linux fills in a correct one anyway, other stacks leave 0.
    checksum = verifyPlain(bytes, offset, headerEnd, offset + 10);
    if (checksum.status === 'bad') checksum.status = 'offload';
  } else {
    checksum = verifyPlain(bytes, offset, headerEnd, offset + 10);
    if (checksum.status === 'bad') {
      ctx.issue('bad-checksum', `ipv4 checksum ${hex16(checksumValue)}, expected ${hex16(checksum.expected ?? 0)}`);
    }
  }

  const layer: IPv4Layer = {
    proto: 'ipv4', offset, length: headerLength, version, headerLength, dscp, ecn, totalLength, id, df, mf,
    fragmentOffset, ttl, protocol, checksum, src, dst,
  };
  if (options !== null) layer.options = options;
  if (malformed) return { layer, next: null };

  const ip: IpContext = {
    version: 4,
    srcOffset: offset + 12,
    dstOffset: offset + 16,
    src,
    dst,
    protocol,
    upperLength,
    fragment: mf || fragmentOffset > 0,
    laterFragment: fragmentOffset > 0,
    superPacket,
  };
  // RFC 791: only the fragment at offset 0 carries the upper-layer header.
  const result: DecodeResult = { layer, next: fragmentOffset > 0 ? null : ipprotoNext(protocol), ip };
  if (payloadEnd >= 0) result.payloadEnd = payloadEnd;
  return result;
}
