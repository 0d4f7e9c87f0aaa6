// Transmission Control Protocol, RFC 9293 section 3.1 (the NS bit: RFC 3540).
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |          Source Port          |       Destination Port        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                        Sequence Number                        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                    Acknowledgment Number                      |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Data |     |N|C|E|U|A|P|R|S|F|                               |
//  | Offset| Rsrv|S|W|C|R|C|S|S|Y|I|            Window             |
//  |       |     | |R|E|G|K|H|T|N|N|                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |           Checksum            |         Urgent Pointer        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                           [Options]                           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                             data                              |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import type { DecodeContext, DecodeResult } from './types.js';
import type { TcpLayer, TcpOption } from './layers.js';
import { checkTransport } from './checksum.js';

const MIN_HEADER_LENGTH = 20;
const PROTOCOL_TCP = 6;

// Option kinds (RFC 9293 section 3.2, RFC 2018, RFC 7323).
const END_OF_OPTION_LIST = 0;
const NO_OPERATION = 1;
const MAXIMUM_SEGMENT_SIZE = 2;
const WINDOW_SCALE = 3;
const SACK_PERMITTED = 4;
const SACK = 5;
const TIMESTAMPS = 8;

function u32(bytes: Uint8Array, i: number): number {
  return ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
}

/** The fixed length each known option must have, 0 for SACK (2 + 8n) and unknown kinds. */
function fixedLength(kind: number): number {
  switch (kind) {
    case MAXIMUM_SEGMENT_SIZE: return 4;
    case WINDOW_SCALE: return 3;
    case SACK_PERMITTED: return 2;
    case TIMESTAMPS: return 10;
    default: return 0;
  }
}

/**
 * Walk the options in bytes[start, stop) and return the first MSS value, or
 * -1. Every option but End of Option List and No-Operation has a length octet
 * counting kind and length (RFC 9293 section 3.2); one below 2 or running past
 * the header cannot be stepped over, so the walk stops there. Each option is
 * pushed to `into` unless it is null (ctx.detail off: nobody prints them).
 */
function walkOptions(
  bytes: Uint8Array, start: number, stop: number, headerEnd: number, ctx: DecodeContext, into: TcpOption[] | null,
): number {
  let mss = -1;
  let i = start;
  while (i < stop) {
    const kind = bytes[i];
    if (kind === END_OF_OPTION_LIST || kind === NO_OPERATION) {
      if (into !== null) into.push({ kind, length: 1 });
      if (kind === END_OF_OPTION_LIST) break;
      i++;
      continue;
    }
    if (i + 1 >= headerEnd) {
      ctx.issue('malformed', `tcp option kind ${kind} has no length octet before the end of the header`);
      break;
    }
    if (i + 1 >= stop) break; // the capture ends inside the header; already reported as truncated
    const length = bytes[i + 1];
    if (length < 2) {
      ctx.issue('malformed', `tcp option kind ${kind} has length ${length}, less than 2`);
      break;
    }
    if (i + length > headerEnd) {
      ctx.issue('malformed', `tcp option kind ${kind} has length ${length}, past the end of the header`, length, headerEnd - i);
      break;
    }
    if (i + length > stop) break; // cut by the capture; already reported as truncated
    const fixed = fixedLength(kind);
    if ((fixed !== 0 && length !== fixed) || (kind === SACK && (length - 2) % 8 !== 0)) {
      // The option can still be stepped over; its value cannot be read.
      ctx.issue('malformed', `tcp option kind ${kind} has length ${length}`);
      if (into !== null) into.push({ kind, length });
    } else if (kind === MAXIMUM_SEGMENT_SIZE) {
      const value = (bytes[i + 2] << 8) | bytes[i + 3];
      if (mss < 0) mss = value;
      if (into !== null) into.push({ kind, length, mss: value });
    } else if (into !== null) {
      const option: TcpOption = { kind, length };
      if (kind === WINDOW_SCALE) {
        option.windowScale = bytes[i + 2];
      } else if (kind === SACK_PERMITTED) {
        option.sackPermitted = true;
      } else if (kind === SACK) {
        const blocks: [number, number][] = [];
        for (let b = i + 2; b < i + length; b += 8) blocks.push([u32(bytes, b), u32(bytes, b + 4)]);
        option.sack = blocks;
      } else if (kind === TIMESTAMPS) {
        option.timestamp = { value: u32(bytes, i + 2), echo: u32(bytes, i + 6) };
      }
      into.push(option);
    }
    i += length;
  }
  return mss;
}

export function decodeTcp(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const available = end - offset;
  if (available < MIN_HEADER_LENGTH) return decodePartial(bytes, offset, available, ctx);
  const srcPort = (bytes[offset] << 8) | bytes[offset + 1];
  const dstPort = (bytes[offset + 2] << 8) | bytes[offset + 3];
  const seq = u32(bytes, offset + 4);
  const ack = u32(bytes, offset + 8);
  const headerLength = (bytes[offset + 12] >> 4) * 4;
  const flags = ((bytes[offset + 12] & 0x01) << 8) | bytes[offset + 13];
  const window = (bytes[offset + 14] << 8) | bytes[offset + 15];
  const ip = ctx.ip;
  const checksum = checkTransport(bytes, offset, end, offset + 16, ctx, 'tcp', PROTOCOL_TCP, ip === null ? 0 : ip.upperLength);
  const urgentPointer = (bytes[offset + 18] << 8) | bytes[offset + 19];

  if (headerLength < MIN_HEADER_LENGTH) {
    ctx.issue('malformed', `tcp header length ${headerLength} is less than ${MIN_HEADER_LENGTH}`);
    const layer: TcpLayer = {
      proto: 'tcp', offset, length: MIN_HEADER_LENGTH, srcPort, dstPort, seq, ack, headerLength, flags, window, checksum, urgentPointer,
    };
    return { layer, next: null };
  }
  const headerEnd = offset + headerLength;
  const stop = headerEnd < end ? headerEnd : end;
  const options: TcpOption[] | null = headerLength > MIN_HEADER_LENGTH && ctx.detail ? [] : null;
  const mss = headerLength > MIN_HEADER_LENGTH ? walkOptions(bytes, offset + MIN_HEADER_LENGTH, stop, headerEnd, ctx, options) : -1;

  const segment = ip === null ? available : ip.upperLength;
  if (ip !== null && !ip.superPacket && !ip.fragment && segment < headerLength) {
    ctx.issue('malformed', `tcp header length ${headerLength} exceeds the IP payload of ${segment} bytes`, headerLength, segment);
  }
  const payloadLength = segment > headerLength ? segment - headerLength : 0;
  // One literal per set of fields, in the order they print: a layer never changes shape after it is made.
  let layer: TcpLayer;
  if (options !== null && options.length > 0) {
    layer = mss >= 0
      ? {
        proto: 'tcp', offset, length: headerLength, srcPort, dstPort, seq, ack, headerLength, flags, window, checksum,
        urgentPointer, options, mss, payloadLength,
      }
      : {
        proto: 'tcp', offset, length: headerLength, srcPort, dstPort, seq, ack, headerLength, flags, window, checksum,
        urgentPointer, options, payloadLength,
      };
  } else {
    layer = mss >= 0
      ? {
        proto: 'tcp', offset, length: headerLength, srcPort, dstPort, seq, ack, headerLength, flags, window, checksum,
        urgentPointer, mss, payloadLength,
      }
      : {
        proto: 'tcp', offset, length: headerLength, srcPort, dstPort, seq, ack, headerLength, flags, window, checksum,
        urgentPointer, payloadLength,
      };
  }

  if (headerLength > available) {
    ctx.issue('truncated', `tcp header needs ${headerLength} bytes, ${available} captured`, headerLength, available);
    return { layer, next: null };
  }
  return { layer, next: { table: 'tcp', key: dstPort, alt: srcPort } };
}

/**
 * A header cut short, by the capture or by an ICMP error that quotes only its
 * first 8 bytes (RFC 792): the fields that are there.
 */
function decodePartial(bytes: Uint8Array, offset: number, available: number, ctx: DecodeContext): DecodeResult {
  const layer: TcpLayer = { proto: 'tcp', offset, length: available };
  if (available >= 2) layer.srcPort = (bytes[offset] << 8) | bytes[offset + 1];
  if (available >= 4) layer.dstPort = (bytes[offset + 2] << 8) | bytes[offset + 3];
  if (available >= 8) layer.seq = u32(bytes, offset + 4);
  if (available >= 12) layer.ack = u32(bytes, offset + 8);
  if (available >= 13) layer.headerLength = (bytes[offset + 12] >> 4) * 4;
  if (available >= 14) layer.flags = ((bytes[offset + 12] & 0x01) << 8) | bytes[offset + 13];
  if (available >= 16) layer.window = (bytes[offset + 14] << 8) | bytes[offset + 15];
  if (available >= 18) {
    const segmentLength = ctx.ip === null ? 0 : ctx.ip.upperLength;
    layer.checksum = checkTransport(bytes, offset, offset + available, offset + 16, ctx, 'tcp', PROTOCOL_TCP, segmentLength);
  }
  ctx.issue('truncated', `tcp header needs ${MIN_HEADER_LENGTH} bytes, ${available} captured`, MIN_HEADER_LENGTH, available);
  return { layer, next: null };
}
