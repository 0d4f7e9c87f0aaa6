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

import type { DecodeContext, DecodeResult, Layer } from './types.js';
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

export interface TcpOption {
  kind: number;
  length: number;
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  sack?: [number, number][];
  timestamp?: { value: number; echo: number };
}

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
 * Walk the options in bytes[start, stop). Every option but End of Option List
 * and No-Operation has a length octet counting kind and length (RFC 9293
 * section 3.2); one below 2 or running past the header cannot be stepped
 * over, so the walk stops there.
 */
function walkOptions(bytes: Uint8Array, start: number, stop: number, headerEnd: number, ctx: DecodeContext): TcpOption[] {
  const options: TcpOption[] = [];
  let i = start;
  while (i < stop) {
    const kind = bytes[i];
    if (kind === END_OF_OPTION_LIST) {
      options.push({ kind, length: 1 });
      break;
    }
    if (kind === NO_OPERATION) {
      options.push({ kind, length: 1 });
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
    const option: TcpOption = { kind, length };
    const fixed = fixedLength(kind);
    if ((fixed !== 0 && length !== fixed) || (kind === SACK && (length - 2) % 8 !== 0)) {
      // The option can still be stepped over; its value cannot be read.
      ctx.issue('malformed', `tcp option kind ${kind} has length ${length}`);
    } else if (kind === MAXIMUM_SEGMENT_SIZE) {
      option.mss = (bytes[i + 2] << 8) | bytes[i + 3];
    } else if (kind === WINDOW_SCALE) {
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
    options.push(option);
    i += length;
  }
  return options;
}

export function decodeTcp(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const available = end - offset;
  const layer: Layer = { proto: 'tcp', offset, length: available < MIN_HEADER_LENGTH ? available : MIN_HEADER_LENGTH };
  // An ICMP error quotes only the first 8 bytes (RFC 792): read what is there.
  if (available >= 2) layer.srcPort = (bytes[offset] << 8) | bytes[offset + 1];
  if (available >= 4) layer.dstPort = (bytes[offset + 2] << 8) | bytes[offset + 3];
  if (available >= 8) layer.seq = u32(bytes, offset + 4);
  if (available >= 12) layer.ack = u32(bytes, offset + 8);
  const headerLength = available >= 13 ? (bytes[offset + 12] >> 4) * 4 : 0;
  if (available >= 13) layer.headerLength = headerLength;
  if (available >= 14) layer.flags = ((bytes[offset + 12] & 0x01) << 8) | bytes[offset + 13];
  if (available >= 16) layer.window = (bytes[offset + 14] << 8) | bytes[offset + 15];
  if (available >= 18) {
    const segmentLength = ctx.ip === null ? 0 : ctx.ip.upperLength;
    layer.checksum = checkTransport(bytes, offset, end, offset + 16, ctx, 'tcp', PROTOCOL_TCP, segmentLength);
  }
  if (available < MIN_HEADER_LENGTH) {
    ctx.issue('truncated', `tcp header needs ${MIN_HEADER_LENGTH} bytes, ${available} captured`, MIN_HEADER_LENGTH, available);
    return { layer, next: null };
  }
  layer.urgentPointer = (bytes[offset + 18] << 8) | bytes[offset + 19];

  if (headerLength < MIN_HEADER_LENGTH) {
    ctx.issue('malformed', `tcp header length ${headerLength} is less than ${MIN_HEADER_LENGTH}`);
    return { layer, next: null };
  }
  layer.length = headerLength;
  const headerEnd = offset + headerLength;
  const stop = headerEnd < end ? headerEnd : end;
  if (headerLength > MIN_HEADER_LENGTH) {
    const options = walkOptions(bytes, offset + MIN_HEADER_LENGTH, stop, headerEnd, ctx);
    if (options.length > 0) {
      layer.options = options;
      for (let k = 0; k < options.length; k++) {
        if (options[k].mss !== undefined) {
          layer.mss = options[k].mss;
          break;
        }
      }
    }
  }

  const ip = ctx.ip;
  const segment = ip === null ? available : ip.upperLength;
  if (ip !== null && !ip.superPacket && !ip.fragment && segment < headerLength) {
    ctx.issue('malformed', `tcp header length ${headerLength} exceeds the IP payload of ${segment} bytes`, headerLength, segment);
  }
  layer.payloadLength = segment > headerLength ? segment - headerLength : 0;

  if (headerLength > available) {
    ctx.issue('truncated', `tcp header needs ${headerLength} bytes, ${available} captured`, headerLength, available);
    return { layer, next: null };
  }
  return { layer, next: { table: 'tcp', key: layer.dstPort as number, alt: layer.srcPort as number } };
}
