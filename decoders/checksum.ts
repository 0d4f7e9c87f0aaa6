// Internet checksum (RFC 1071), pseudo-headers (RFC 768, RFC 793, RFC 8200
// section 8.1) and the verdicts of the design: good, bad, offload, zero,
// unverified.
//
// What this file relies on:
//
// RFC 1071 section 1: the checksum is the 16-bit one's complement of the one's
// complement sum of the covered 16-bit words, computed with the checksum field
// itself set to zero. A receiver sums every word, the field included, and the
// data is intact when the result is all ones (-0, 0xFFFF). An odd count of
// bytes ends with the word [Z,0]: the last byte is padded on the right with
// zero (also RFC 768, RFC 793 section 3.1).
//
// RFC 1071 section 2, "Deferred Carries": the words are added as ordinary
// integers and the carries out of bit 15 are folded back in once, at the end
// (fold). A JavaScript number holds the exact sum of any 64 KiB packet, so no
// carry is ever lost. Because the sum is unfolded, the sum "with the field
// zero" is simply the sum minus the field's value (used for `expected`).
//
// RFC 1071 section 2, "Byte Order Independence", is why reading words
// big-endian gives the value exactly as it appears on the wire.
//
// RFC 1624 section 3, +0 and -0: one's complement addition of non-zero inputs
// gives -0 (0xFFFF) but never +0, so the folded sum of anything that is not all
// zeros lies in 1..0xFFFF and a correctly computed checksum lies in 0..0xFFFE.
// 0xFFFF where 0x0000 belongs is what RFC 1141's incremental update (RFC 1624
// eqn 2) leaves behind. Receivers accept both forms, since either makes the
// verification sum -0, so both are `good` here (tshark adds a warning for
// TCP); `expected` is always the eqn-3 form, the complement of the folded sum,
// except for UDP.
//
// RFC 768: a UDP checksum of zero means "no checksum", so a computed zero is
// transmitted as all ones; the `expected` of UDP is therefore never 0.
//
// Offload (Linux CHECKSUM_PARTIAL): the stack writes the folded pseudo-header
// sum, not complemented, into the field and leaves the rest of the sum to the
// NIC. A capture taken before the NIC sees that value; it is not an error.

import type { Checksum, DecodeContext, IpContext } from './types.js';
import { hex16 } from './address.js';

/** Below this many bytes the plain word loop is as fast as the 32-bit one. */
const WIDE_SUM_MIN = 32;
/**
 * Bytes summed per block of the 32-bit loop: each 16-bit lane of its
 * accumulators gains at most 2 x 255 per 8 bytes, so 1024 bytes stay below
 * 65536 and the lanes never carry into each other.
 */
const WIDE_SUM_BLOCK = 1024;

let viewBuffer: ArrayBufferLike | null = null;
let view: DataView | null = null;

/** A DataView of the whole buffer under `bytes`, kept while records come from the same buffer. */
function viewOf(bytes: Uint8Array): DataView {
  if (bytes.buffer !== viewBuffer || view === null) {
    viewBuffer = bytes.buffer;
    view = new DataView(viewBuffer);
  }
  return view;
}

/** One's-complement sum of bytes[start, end) as 16-bit big-endian words, not folded. */
export function internetSum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  if (end - start >= WIDE_SUM_MIN) {
    // Little-endian 32-bit reads: w & 0x00ff00ff holds the bytes that begin
    // big-endian words (b0 + b2 << 16), (w >>> 8) & 0x00ff00ff the bytes that
    // end them. Summing the lanes gives the exact word sum, not just its fold.
    const words = viewOf(bytes);
    const base = bytes.byteOffset;
    while (end - i >= 8) {
      const stop = Math.min(i + WIDE_SUM_BLOCK, end - 7);
      let high = 0;
      let low = 0;
      for (; i < stop; i += 8) {
        const a = words.getUint32(base + i, true);
        const b = words.getUint32(base + i + 4, true);
        high += (a & 0x00ff00ff) + (b & 0x00ff00ff);
        low += ((a >>> 8) & 0x00ff00ff) + ((b >>> 8) & 0x00ff00ff);
      }
      sum += ((high & 0xffff) + (high >>> 16)) * 256 + (low & 0xffff) + (low >>> 16);
    }
  }
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  return sum;
}

/** Fold a sum to 16 bits with end-around carry. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum a sender writes: the complement of the folded sum. */
export function complement(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/** Sum of the IPv4 or IPv6 pseudo-header for an upper-layer packet of `length` bytes. */
export function pseudoHeaderSum(bytes: Uint8Array, ip: IpContext, protocol: number, length: number): number {
  const addrLen = ip.version === 4 ? 4 : 16;
  let sum = internetSum(bytes, ip.srcOffset, ip.srcOffset + addrLen);
  sum = internetSum(bytes, ip.dstOffset, ip.dstOffset + addrLen, sum);
  if (ip.version === 4) return sum + protocol + length;
  // IPv6: 32-bit length and 24 zero bits then the next header value.
  return sum + Math.floor(length / 0x10000) + (length & 0xffff) + protocol;
}

/** Verify a checksum that covers bytes[start, end) alone (IPv4 header, ICMP, GRE). */
export function verifyPlain(bytes: Uint8Array, start: number, end: number, fieldOffset: number): Checksum {
  const value = (bytes[fieldOffset] << 8) | bytes[fieldOffset + 1];
  const sum = internetSum(bytes, start, end);
  if (fold(sum) === 0xffff) return { status: 'good', value };
  return { status: 'bad', value, expected: complement(sum - value) };
}

export function unverified(value: number, reason: string): Checksum {
  return { status: 'unverified', value, reason };
}

/**
 * Verify a TCP, UDP or ICMPv6 checksum with its pseudo-header.
 *
 * `start` is the transport header's offset and `capturedEnd` the end of the
 * captured bytes of the segment. The segment length is the one the IP header
 * states (`ip.upperLength`); when fewer bytes were captured, or the packet is a
 * fragment or a segmentation-offload super-packet, the verdict is unverified.
 *
 * offload: Linux marks a packet CHECKSUM_PARTIAL and writes the folded
 * pseudo-header sum (not complemented) into the field, for the NIC or the
 * receiving veth to finish. A capture taken on the sender sees that value.
 */
export function verifyTransport(
  bytes: Uint8Array, start: number, capturedEnd: number, fieldOffset: number,
  ip: IpContext, protocol: number, segmentLength: number,
): Checksum {
  const value = (bytes[fieldOffset] << 8) | bytes[fieldOffset + 1];
  if (ip.fragment) return unverified(value, 'fragment');
  if (ip.superPacket) return unverified(value, 'segmentation-offload');
  if (capturedEnd - start < segmentLength) return unverified(value, 'snaplen');
  const pseudo = pseudoHeaderSum(bytes, ip, protocol, segmentLength);
  const sum = internetSum(bytes, start, start + segmentLength, pseudo);
  if (fold(sum) === 0xffff) return { status: 'good', value };
  const expected = complement(sum - value);
  if (value === fold(pseudo)) return { status: 'offload', value, expected };
  return { status: 'bad', value, expected };
}

/** UDP protocol number: a computed zero is sent as 0xFFFF (RFC 768). */
const UDP = 17;

/**
 * The verdicts that need no arithmetic, in the order they take precedence, or
 * null when the checksum can be computed. `reason` is the one documented on
 * Checksum, plus `no-ip-header` when no enclosing IP header gives the
 * pseudo-header or the message length.
 */
function precheck(value: number, ctx: DecodeContext): Checksum | null {
  if (!ctx.verify) return unverified(value, 'disabled');
  const ip = ctx.ip;
  if (ip === null) return unverified(value, 'no-ip-header');
  // A fragment holds only part of what the checksum covers (RFC 791 section 2.3).
  if (ip.fragment) return unverified(value, 'fragment');
  if (ip.superPacket) return unverified(value, 'segmentation-offload');
  return null;
}

/**
 * Why a checksum whose bytes are not all there is left unverified. A packet
 * an ICMP error quotes is cut short by design (RFC 792: its IP header and 8
 * bytes; RFC 4443 section 2.4 (c)): `quoted`. Quoted whole, it is verified
 * like any other, as tshark does.
 */
export function shortReason(ctx: DecodeContext): string {
  return ctx.quoted ? 'quoted' : 'snaplen';
}

/** Adds the `bad-checksum` issue for a bad verdict; offload is not an issue. */
function report(verdict: Checksum, ctx: DecodeContext, name: string): Checksum {
  if (verdict.status === 'bad') {
    ctx.issue('bad-checksum', `${name} checksum ${hex16(verdict.value)}, expected ${hex16(verdict.expected ?? 0)}`);
  }
  return verdict;
}

/**
 * The verdict on a checksum that covers one whole message without a
 * pseudo-header (ICMP, RFC 792): the message is `ctx.ip.upperLength` bytes
 * from `start`; fewer captured bytes leave it unverified (`snaplen`).
 * A `bad` verdict adds a `bad-checksum` issue naming `name`.
 */
export function checkPlain(
  bytes: Uint8Array, start: number, end: number, fieldOffset: number, ctx: DecodeContext, name: string,
): Checksum {
  const value = (bytes[fieldOffset] << 8) | bytes[fieldOffset + 1];
  const early = precheck(value, ctx);
  if (early !== null) return early;
  const length = (ctx.ip as IpContext).upperLength;
  // The IP header says the message ends before its own checksum field.
  if (start + length < fieldOffset + 2) return unverified(value, 'malformed');
  if (end - start < length) return unverified(value, shortReason(ctx));
  return report(verifyPlain(bytes, start, start + length, fieldOffset), ctx, name);
}

/**
 * The verdict on a TCP, UDP or ICMPv6 checksum: verifyTransport after the
 * verdicts that need no arithmetic. `segmentLength` is the length the
 * pseudo-header carries (UDP: its Length field; TCP, ICMPv6: the IP payload).
 * A segment that claims more bytes than its IP payload, or too few to hold
 * the checksum field, is unverified with reason `malformed`.
 * A `bad` verdict adds a `bad-checksum` issue naming `name`.
 */
export function checkTransport(
  bytes: Uint8Array, start: number, end: number, fieldOffset: number, ctx: DecodeContext, name: string,
  protocol: number, segmentLength: number,
): Checksum {
  const value = (bytes[fieldOffset] << 8) | bytes[fieldOffset + 1];
  const early = precheck(value, ctx);
  if (early !== null) return early;
  const ip = ctx.ip as IpContext;
  if (start + segmentLength < fieldOffset + 2 || segmentLength > ip.upperLength) return unverified(value, 'malformed');
  if (end - start < segmentLength) return unverified(value, shortReason(ctx));
  const verdict = verifyTransport(bytes, start, end, fieldOffset, ip, protocol, segmentLength);
  if (protocol === UDP && verdict.expected === 0) verdict.expected = 0xffff;
  return report(verdict, ctx, name);
}

/**
 * Local checksum offload (Linux, Documentation/networking/checksum-offloads.rst,
 * "LCO"): when a tunnel's inner TCP or UDP checksum is left CHECKSUM_PARTIAL,
 * the outer UDP (or GRE) checksum is computed as if the inner one were already
 * filled in, because the sum over the inner segment is then known to be the
 * complement of its pseudo-header sum. In the captured bytes the outer checksum
 * looks wrong; it becomes right the moment the NIC finishes the inner one.
 *
 * Given a `bad` outer verdict and the `offload` verdicts inside it, this says
 * whether the outer value is exactly what it will be once each inner field
 * holds its `expected` value (RFC 1624 eqn 3: replacing a word m by m' adds
 * m' + ~m to the sum).
 */
export function completesAfterInnerOffload(outer: Checksum, inner: readonly Checksum[]): boolean {
  if (outer.status !== 'bad' || outer.expected === undefined || inner.length === 0) return false;
  // outer.expected = ~fold(S - value): recover the sum without the outer field.
  let sum = ~outer.expected & 0xffff;
  for (const partial of inner) sum += (partial.expected ?? partial.value) + (~partial.value & 0xffff);
  const completed = complement(sum);
  return completed === outer.value || (completed === 0 && outer.value === 0xffff) || (completed === 0xffff && outer.value === 0);
}
