// Bytes written by hand in tests: hex text as bytes, parts joined into one
// array, and the Internet checksum to fill in the checksum fields of packets
// built that way.

/** Bytes from hex text; spaces and line breaks are ignored. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd hex length ${clean.length}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The parts one after the other, in a new array. */
export function concat(...parts: ArrayLike<number>[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The RFC 1071 checksum, computed word by word with no shortcuts (an odd last
 * byte is padded with zero), apart from decoders/checksum.ts.
 */
export function internetChecksum(bytes: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i] << 8) | (i + 1 < bytes.length ? bytes[i + 1] : 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}
