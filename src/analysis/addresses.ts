// The addresses flows are keyed by, each held once and named by a small
// number: an IPv4 or IPv6 address by its header bytes (one or four 32-bit
// words, hashed in an open-addressing table), anything else (ARP and MAC
// address text, or no address at all) by its text. Text is made for an
// address only when a report row shows it.

import { formatIPv4, formatIPv6 } from '../../decoders/address.js';
import { mixWords } from './entries.js';

export const FAMILY_TEXT = 0;
export const FAMILY_IPV4 = 4;
export const FAMILY_IPV6 = 6;

const MIN_ADDRESSES = 256;

/** What an address table hands a worker's receiver: its numbers, without the index. */
export interface AddressState {
  count: number;
  family: Uint8Array;
  words: Uint32Array;
  texts: [number, string | undefined][];
}

export class AddressTable {
  count = 0;
  private family = new Uint8Array(MIN_ADDRESSES);
  /** Four words per address: an IPv4 address in the first. */
  private words = new Uint32Array(MIN_ADDRESSES * 4);
  /** Id plus one by hash of the words; 0: empty. */
  private index = new Int32Array(MIN_ADDRESSES * 2);
  private mask = MIN_ADDRESSES * 2 - 1;
  private readonly byText = new Map<string | undefined, number>();
  private readonly texts = new Map<number, string | undefined>();
  private readonly scratch = new Uint8Array(16);

  /** The id of an IPv4 address word, or -1 (and a new one when `add`). */
  ipv4(word: number, add: boolean): number {
    const words = this.words;
    const family = this.family;
    for (let i = mixWords(word, FAMILY_IPV4, 0, 0, 0) & this.mask; ; i = (i + 1) & this.mask) {
      const id = this.index[i] - 1;
      if (id < 0) return add ? this.insert(i, FAMILY_IPV4, word, 0, 0, 0) : -1;
      if (family[id] === FAMILY_IPV4 && words[id * 4] === word) return id;
    }
  }

  /** The id of the IPv6 address in `bytes` at `at`, or -1 (and a new one when `add`). */
  ipv6(bytes: Uint8Array, at: number, add: boolean): number {
    const a = ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
    const b = ((bytes[at + 4] << 24) | (bytes[at + 5] << 16) | (bytes[at + 6] << 8) | bytes[at + 7]) >>> 0;
    const c = ((bytes[at + 8] << 24) | (bytes[at + 9] << 16) | (bytes[at + 10] << 8) | bytes[at + 11]) >>> 0;
    const d = ((bytes[at + 12] << 24) | (bytes[at + 13] << 16) | (bytes[at + 14] << 8) | bytes[at + 15]) >>> 0;
    return this.ipv6Words(a, b, c, d, add);
  }

  ipv6Words(a: number, b: number, c: number, d: number, add: boolean): number {
    const words = this.words;
    const family = this.family;
    for (let i = mixWords(a, b, c, d, FAMILY_IPV6) & this.mask; ; i = (i + 1) & this.mask) {
      const id = this.index[i] - 1;
      if (id < 0) return add ? this.insert(i, FAMILY_IPV6, a, b, c, d) : -1;
      const w = id * 4;
      if (family[id] === FAMILY_IPV6 && words[w] === a && words[w + 1] === b && words[w + 2] === c && words[w + 3] === d) return id;
    }
  }

  /** The id of an address known by its text only, or -1 (and a new one when `add`). */
  text(text: string | undefined, add: boolean): number {
    const found = this.byText.get(text);
    if (found !== undefined) return found;
    if (!add) return -1;
    const id = this.reserve(FAMILY_TEXT);
    this.byText.set(text, id);
    this.texts.set(id, text);
    return id;
  }

  /** The text the decoders give the address. */
  textOf(id: number): string {
    const family = this.family[id];
    if (family === FAMILY_TEXT) return this.texts.get(id) as string;
    const w = id * 4;
    const s = this.scratch;
    const n = family === FAMILY_IPV4 ? 1 : 4;
    for (let k = 0; k < n; k++) {
      const word = this.words[w + k];
      s[k * 4] = word >>> 24;
      s[k * 4 + 1] = (word >>> 16) & 0xff;
      s[k * 4 + 2] = (word >>> 8) & 0xff;
      s[k * 4 + 3] = word & 0xff;
    }
    return family === FAMILY_IPV4 ? formatIPv4(s, 0) : formatIPv6(s, 0);
  }

  /** The id, in this table, of address `id` of another table's state (-1 when absent and not `add`). */
  idFrom(state: AddressState, texts: Map<number, string | undefined>, id: number, add: boolean): number {
    const family = state.family[id];
    const w = id * 4;
    if (family === FAMILY_IPV4) return this.ipv4(state.words[w], add);
    if (family === FAMILY_IPV6) return this.ipv6Words(state.words[w], state.words[w + 1], state.words[w + 2], state.words[w + 3], add);
    return this.text(texts.get(id), add);
  }

  exportState(): AddressState {
    return {
      count: this.count, family: this.family.slice(0, this.count), words: this.words.slice(0, this.count * 4),
      texts: [...this.texts],
    };
  }

  private insert(slot: number, family: number, a: number, b: number, c: number, d: number): number {
    const id = this.reserve(family);
    const w = id * 4;
    this.words[w] = a;
    this.words[w + 1] = b;
    this.words[w + 2] = c;
    this.words[w + 3] = d;
    if (this.count * 2 > this.mask + 1) this.rehash();
    else this.index[slot] = id + 1;
    return id;
  }

  private reserve(family: number): number {
    const id = this.count++;
    if (id >= this.family.length) {
      const family = new Uint8Array(this.family.length * 2);
      family.set(this.family);
      this.family = family;
      const words = new Uint32Array(this.words.length * 2);
      words.set(this.words);
      this.words = words;
    }
    this.family[id] = family;
    return id;
  }

  /** Twice the index, every address of words placed again (the one just reserved too). */
  private rehash(): void {
    const size = (this.mask + 1) * 2;
    this.index = new Int32Array(size);
    this.mask = size - 1;
    const words = this.words;
    for (let id = 0; id < this.count; id++) {
      const family = this.family[id];
      if (family === FAMILY_TEXT) continue;
      const w = id * 4;
      const hash = family === FAMILY_IPV4
        ? mixWords(words[w], FAMILY_IPV4, 0, 0, 0)
        : mixWords(words[w], words[w + 1], words[w + 2], words[w + 3], FAMILY_IPV6);
      let i = hash & this.mask;
      while (this.index[i] !== 0) i = (i + 1) & this.mask;
      this.index[i] = id + 1;
    }
  }
}
