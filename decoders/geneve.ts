// Generic Network Virtualization Encapsulation (RFC 8926 section 3.4), over
// UDP port 6081:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |        Virtual Network Identifier (VNI)       |    Reserved   |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                                                               |
//  ~                    Variable-Length Options                    ~
//  |                                                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Each option (RFC 8926 section 3.5):
//
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |          Option Class         |      Type     |R|R|R| Length  |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                                                               |
//  ~                  Variable-Length Option Data                  ~
//  |                                                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import type { DecodeContext, DecodeResult } from './types.js';
import type { GeneveLayer, GeneveOption } from './layers.js';
import { ethertypeNext } from './next.js';

const FIXED_LENGTH = 8;
const OPTION_HEADER_LENGTH = 4;

export function decodeGeneve(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): DecodeResult {
  const captured = end - offset;
  const layer: GeneveLayer = { proto: 'geneve', offset, length: FIXED_LENGTH };
  if (captured >= 2) {
    layer.version = bytes[offset] >> 6;
    // Section 3.4: Opt Len counts 4-byte multiples, excluding the fixed header.
    layer.optionsLength = (bytes[offset] & 0x3f) * 4;
    layer.oam = (bytes[offset + 1] & 0x80) !== 0;
    layer.critical = (bytes[offset + 1] & 0x40) !== 0;
  }
  if (captured >= 4) layer.protocolType = (bytes[offset + 2] << 8) | bytes[offset + 3];
  if (captured >= 7) layer.vni = (bytes[offset + 4] << 16) | (bytes[offset + 5] << 8) | bytes[offset + 6];
  if (captured < FIXED_LENGTH) {
    const available = captured < 0 ? 0 : captured;
    ctx.issue('truncated', `Geneve header needs ${FIXED_LENGTH} bytes, ${available} captured`, FIXED_LENGTH, available);
    layer.length = available;
    return { layer, next: null };
  }

  const version = bytes[offset] >> 6;
  if (version !== 0) {
    // Section 3.4: a tunnel endpoint drops packets of an unknown version, whose
    // layout past the version field it cannot know.
    ctx.issue('malformed', `Geneve version ${version} is not 0`);
    return { layer, next: null };
  }

  const headerLength = FIXED_LENGTH + (bytes[offset] & 0x3f) * 4;
  const options: GeneveOption[] = [];
  layer.options = options;
  const optionsEnd = offset + headerLength;
  const walkEnd = optionsEnd < end ? optionsEnd : end;
  let pos = offset + FIXED_LENGTH;
  // Every option takes at least 4 bytes and Opt Len is at most 252, so the walk ends.
  while (pos + OPTION_HEADER_LENGTH <= walkEnd) {
    const type = bytes[pos + 2];
    const length = (bytes[pos + 3] & 0x1f) * 4;
    options.push({ class: (bytes[pos] << 8) | bytes[pos + 1], type, critical: (type & 0x80) !== 0, length });
    pos += OPTION_HEADER_LENGTH + length;
  }
  if (pos > optionsEnd) {
    // Section 3.5: an option's Length must fit in what Opt Len leaves; options
    // are whole 4-byte words, so this is the only way the walk can miss the end.
    ctx.issue('malformed', `Geneve option runs ${pos - optionsEnd} bytes past the ${headerLength - FIXED_LENGTH}-byte options`,
      pos - (offset + FIXED_LENGTH), headerLength - FIXED_LENGTH);
  }
  if (headerLength > captured) {
    ctx.issue('truncated', `Geneve header needs ${headerLength} bytes, ${captured} captured`, headerLength, captured);
    layer.length = captured;
    return { layer, next: null };
  }
  layer.length = headerLength;
  return { layer, next: ethertypeNext((bytes[offset + 2] << 8) | bytes[offset + 3]) };
}
