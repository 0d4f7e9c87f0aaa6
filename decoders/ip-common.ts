// What IPv4 (RFC 791) and IPv6 (RFC 8200) decoding share: how many bytes a
// header's length field may claim before the frame could not have held it,
// what a length beyond the captured bytes means, and whether a decoded IP
// layer is a fragment.

import type { DecodeContext, Layer } from './types.js';

/** RFC 894: the largest IP datagram an Ethernet frame carries without jumbo frames. */
const STANDARD_MTU = 1500;
/**
 * The largest frame any link carries: 9216-byte jumbo frames plus the Ethernet
 * header and FCS. A wire length beyond it cannot have crossed a link, so the
 * capture point sat above segmentation offload (GSO/TSO on send, GRO on receive).
 */
const JUMBO_FRAME_MAX = 9216 + 18;
/** A captured frame may still end in its Frame Check Sequence. */
const FCS_LENGTH = 4;

/**
 * The bytes this packet could occupy: up to the end an enclosing length field
 * set, or else to the end of the frame as it was on the wire.
 */
export function framedBytes(bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext): number {
  if (end < bytes.length) return end - offset;
  return (ctx.wireLength > bytes.length ? ctx.wireLength : bytes.length) - offset;
}

/** Words for the length field, as the issue messages name it. */
export interface LengthWords {
  /** The field and its value: "ipv4 total length 1500", "ipv6 payload length 1460". */
  field: string;
  /** The truncation message, given the bytes the frame holds. */
  truncated(framed: number): string;
  /** What the frame holds, in the field's own terms (IPv6 counts its payload). */
  held(framed: number): number;
}

/**
 * An IP packet whose length field claims `needed` bytes from `offset` while
 * fewer were captured: a segmentation-offload super-packet (true), or cut by
 * the snapshot length, or by the fragmentation of an enclosing datagram
 * (which is no issue: the rest is in the later fragments; see
 * reassembly), or a claim no frame could hold (truncated). An ICMP error's
 * quoted packet is cut on purpose and says nothing.
 */
export function lengthBeyondCapture(
  bytes: Uint8Array, offset: number, end: number, needed: number, ctx: DecodeContext, words: LengthWords,
): boolean {
  if (ctx.quoted) return false;
  const framed = framedBytes(bytes, offset, end, ctx);
  if (ctx.ip !== null && ctx.ip.superPacket) {
    ctx.issue('segmentation-offload', `${words.field} inside a segmentation-offload super-packet`);
    return true;
  }
  if (needed > framed) {
    if (framed > STANDARD_MTU) {
      ctx.issue('segmentation-offload',
        `${words.field} exceeds the ${words.held(framed)} bytes the ${ctx.wireLength}-byte frame holds: a GSO super-packet`);
      return true;
    }
    // Inside a fragment the rest is in the enclosing datagram's later fragments: no issue (see dissect.ts).
    ctx.issue('truncated', words.truncated(framed), needed, framed);
    return false;
  }
  if (ctx.wireLength > JUMBO_FRAME_MAX && framed - needed <= FCS_LENGTH) {
    ctx.issue('segmentation-offload',
      `${words.field} fills a ${ctx.wireLength}-byte frame larger than any link carries: a GSO/GRO super-packet`);
    return true;
  }
  return false;
}

/** A fragment's place in its datagram (RFC 791 section 3.2, RFC 8200 section 4.5). */
export interface FragmentFields {
  id: number;
  /** In bytes. */
  offset: number;
  more: boolean;
}

/**
 * The fragment fields of an IPv4 or IPv6 layer that is a fragment, or null:
 * an IPv6 atomic fragment (offset 0, no more fragments; RFC 6946) is a whole
 * packet, as is a Fragment header the decoder could not read.
 */
export function ipFragment(layer: Layer): FragmentFields | null {
  if (layer.proto === 'ipv4') {
    const offset = layer.fragmentOffset;
    // The partial decode sets Identification before the fragment field.
    if (offset === undefined || layer.id === undefined || (offset === 0 && layer.mf !== true)) return null;
    return { id: layer.id, offset, more: layer.mf === true };
  }
  if (layer.proto !== 'ipv6') return null;
  const extensions = layer.extensions;
  if (extensions === undefined) return null;
  for (let i = 0; i < extensions.length; i++) {
    const e = extensions[i];
    // The decoder sets id, fragmentOffset and mf of a Fragment header together.
    if (e.type !== 'fragment' || e.id === undefined || e.fragmentOffset === undefined) continue;
    if (e.fragmentOffset === 0 && e.mf !== true) return null;
    return { id: e.id, offset: e.fragmentOffset, more: e.mf === true };
  }
  return null;
}
