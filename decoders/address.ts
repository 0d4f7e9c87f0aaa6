// Addresses in text: their forms as tcpdump and tshark print them, and their
// bytes read back from the text people write (filters, iproute2's output).

import type { IpLayer } from './layers.js';

// A capture repeats a few thousand addresses millions of times, and building
// their text was the largest cost of decoding; the same string object each
// time also makes the aggregator's maps find it by identity. Each form keeps
// the text of recently seen addresses in a table indexed by a hash of the
// address bytes, a few entries per hash, the most recently used first: a hit
// returns the string made before, without allocating; a miss evicts the
// least recently used entry, so the memory stays fixed (under 5 MiB of
// tables in all). A string that is evicted has lived long enough to be moved
// to the old generation, where it stays until a full collection: every miss
// beyond an address's first grows the heap. IPv4 addresses, the most
// numerous, get four entries per hash: with two, a capture of 38,500
// addresses missed 92,000 times in 1,000,000 packets, with four 46,000.
// Every entry starts as the all-zeros address with its text, so none is ever
// empty.
const CACHE_BITS = 17;
const CACHE_SIZE = 1 << CACHE_BITS;
const CACHE_SHIFT = 32 - CACHE_BITS;
/** 2^32 divided by the golden ratio: multiplying spreads nearby addresses over the table (Knuth, TAOCP 6.4). */
const FIBONACCI_HASH = 0x9e3779b1;

function textsOf(zeroAddress: string, size = CACHE_SIZE): string[] {
  // fill(), not Array.from() with a function: every process and worker thread
  // makes these at start, and calling a function per entry took 18 ms.
  return new Array<string>(size).fill(zeroAddress);
}

/** The first of the two entries of a hash: an even index. */
function pairOf(hash: number): number {
  return (Math.imul(hash, FIBONACCI_HASH) >>> CACHE_SHIFT) & ~1;
}

/** Entries per hash of the IPv4 table. */
const IPV4_WAYS = 4;
const ipv4Keys = new Int32Array(CACHE_SIZE);
const ipv4Texts = textsOf('0.0.0.0');
const macHigh = new Int32Array(CACHE_SIZE);
const macLow = new Int32Array(CACHE_SIZE);
const macTexts = textsOf('00:00:00:00:00:00');
/** IPv6 addresses are fewer in the captures this serves: a quarter of the entries, one per hash. */
const IPV6_BITS = CACHE_BITS - 2;
const ipv6Keys = new Int32Array((1 << IPV6_BITS) * 4);
const ipv6Texts = textsOf('::', 1 << IPV6_BITS);

const HEX_DIGITS = Array.from({ length: 16 }, (_, i) => i.toString(16).charCodeAt(0));
const COLON = 0x3a;

function word(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
}

function macText(bytes: Uint8Array, offset: number): string {
  const a = bytes[offset];
  const b = bytes[offset + 1];
  const c = bytes[offset + 2];
  const d = bytes[offset + 3];
  const e = bytes[offset + 4];
  const f = bytes[offset + 5];
  // One flat string in one allocation, where a template literal would concatenate eleven times.
  return String.fromCharCode(
    HEX_DIGITS[a >> 4], HEX_DIGITS[a & 15], COLON, HEX_DIGITS[b >> 4], HEX_DIGITS[b & 15], COLON,
    HEX_DIGITS[c >> 4], HEX_DIGITS[c & 15], COLON, HEX_DIGITS[d >> 4], HEX_DIGITS[d & 15], COLON,
    HEX_DIGITS[e >> 4], HEX_DIGITS[e & 15], COLON, HEX_DIGITS[f >> 4], HEX_DIGITS[f & 15],
  );
}

export function formatMac(bytes: Uint8Array, offset: number): string {
  const high = (bytes[offset] << 8) | bytes[offset + 1];
  const low = word(bytes, offset + 2);
  const first = pairOf(low ^ Math.imul(high, FIBONACCI_HASH));
  const second = first + 1;
  if (macLow[first] === low && macHigh[first] === high) return macTexts[first];
  let text: string;
  if (macLow[second] === low && macHigh[second] === high) text = macTexts[second];
  else text = macText(bytes, offset);
  macHigh[second] = macHigh[first];
  macLow[second] = macLow[first];
  macTexts[second] = macTexts[first];
  macHigh[first] = high;
  macLow[first] = low;
  macTexts[first] = text;
  return text;
}

export function formatIPv4(bytes: Uint8Array, offset: number): string {
  const key = word(bytes, offset);
  const first = (Math.imul(key, FIBONACCI_HASH) >>> CACHE_SHIFT) & -IPV4_WAYS;
  if (ipv4Keys[first] === key) return ipv4Texts[first];
  const last = first + IPV4_WAYS - 1;
  let at = first + 1;
  while (at < last && ipv4Keys[at] !== key) at++;
  const text = ipv4Keys[at] === key
    ? ipv4Texts[at]
    : `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  // To the front; what was before it moves back one, and a miss drops the last.
  for (; at > first; at--) {
    ipv4Keys[at] = ipv4Keys[at - 1];
    ipv4Texts[at] = ipv4Texts[at - 1];
  }
  ipv4Keys[first] = key;
  ipv4Texts[first] = text;
  return text;
}

/** The dotted quad of an IPv4 address given as its 32-bit word (as formatIPv4 writes it). */
export function formatIPv4Word(word: number): string {
  return `${word >>> 24}.${(word >>> 16) & 0xff}.${(word >>> 8) & 0xff}.${word & 0xff}`;
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest run of two or more zero groups as "::". */
export function formatIPv6(bytes: Uint8Array, offset: number): string {
  const w0 = word(bytes, offset);
  const w1 = word(bytes, offset + 4);
  const w2 = word(bytes, offset + 8);
  const w3 = word(bytes, offset + 12);
  const slot = Math.imul(w0 ^ Math.imul(w1 ^ Math.imul(w2 ^ Math.imul(w3, FIBONACCI_HASH), FIBONACCI_HASH), FIBONACCI_HASH), FIBONACCI_HASH) >>> (32 - IPV6_BITS);
  const at = slot * 4;
  if (ipv6Keys[at] === w0 && ipv6Keys[at + 1] === w1 && ipv6Keys[at + 2] === w2 && ipv6Keys[at + 3] === w3) return ipv6Texts[slot];
  const text = ipv6Text(bytes, offset);
  ipv6Keys[at] = w0;
  ipv6Keys[at + 1] = w1;
  ipv6Keys[at + 2] = w2;
  ipv6Keys[at + 3] = w3;
  ipv6Texts[slot] = text;
  return text;
}

function ipv6Text(bytes: Uint8Array, offset: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1]);
  // IPv4-mapped addresses keep the dotted quad, as inet_ntop writes them.
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(bytes, offset + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(':');
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const tail = groups.slice(bestStart + bestLen).map((g) => g.toString(16)).join(':');
  return `${head}::${tail}`;
}

/**
 * The source or destination address of an IPv4 or IPv6 layer as text. A whole
 * header decoded without detail holds '' (see DecodeContext.detail): its text
 * is made here from the header's bytes. Undefined when the capture cut the
 * header before the address.
 */
export function ipLayerAddress(bytes: Uint8Array, layer: IpLayer, which: 'src' | 'dst'): string | undefined {
  const text = layer[which];
  if (text !== '') return text;
  if (layer.proto === 'ipv4') return formatIPv4(bytes, layer.offset + (which === 'src' ? 12 : 16));
  return formatIPv6(bytes, layer.offset + (which === 'src' ? 8 : 24));
}

export function hex16(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}

// Addresses as people write them (filters, iproute2's output): the bytes, or
// null when the text is not one.

/** A MAC address as tcpdump reads one: aa:bb:cc:dd:ee:ff (or with - or .), aabb.ccdd.eeff, or aabbccddeeff. */
export function parseMac(text: string): Uint8Array | null {
  let hex: string[];
  if (/^[0-9a-f]{1,2}([:.-])[0-9a-f]{1,2}(\1[0-9a-f]{1,2}){4}$/i.test(text)) {
    hex = text.split(/[:.-]/);
  } else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(text) || /^[0-9a-f]{12}$/i.test(text)) {
    hex = text.replace(/\./g, '').match(/../g) as string[];
  } else {
    return null;
  }
  return Uint8Array.from(hex.map((h) => parseInt(h, 16)));
}

/** Dotted quad, as inet_pton reads it. */
export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    // No leading zeros: inet_aton reads "010" as octal 8, so the text would be ambiguous.
    if (!/^(0|[1-9]\d{0,2})$/.test(parts[i]) || Number(parts[i]) > 255) return null;
    out[i] = Number(parts[i]);
  }
  return out;
}

export function parseIPv6(text: string): Uint8Array | null {
  if (!/^[0-9a-f:.]+$/i.test(text) || !text.includes(':')) return null;
  let tail4: Uint8Array | null = null;
  let body = text;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail4 = parseIPv4(text.slice(lastColon + 1));
    if (!tail4) return null;
    body = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-f]{1,4}$/i.test(groups[i])) return null;
    const g = parseInt(groups[i], 16);
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}
