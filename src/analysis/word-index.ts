// Keys of a few 32-bit words (addresses, ports, small codes) numbered 0, 1,
// 2, ... in the order they were added, found through an open-addressing
// table of typed arrays. A table that per packet would make a string key (and
// a Map entry per new one) makes nothing: the caller writes the key's words
// into `key` and asks for its number.

import { mixWords } from './entries.js';

const MIN_KEYS = 256;

export class WordIndex {
  count = 0;
  /** The key find() and add() take: the caller writes its `width` words here. */
  readonly key: Uint32Array;
  /** `width` words per key, by number. */
  private keys: Uint32Array;
  /** Number plus one by hash of the key; 0: empty. */
  private index = new Int32Array(MIN_KEYS * 2);
  private mask = MIN_KEYS * 2 - 1;

  constructor(readonly width: number) {
    this.key = new Uint32Array(width);
    this.keys = new Uint32Array(MIN_KEYS * width);
  }

  /** The number of the key in `key`, or -1. */
  find(): number {
    for (let i = this.hash() & this.mask; ; i = (i + 1) & this.mask) {
      const id = this.index[i] - 1;
      if (id < 0 || this.matches(id)) return id;
    }
  }

  /** The number of the key in `key`, added when new (`count` then grew by one). */
  findOrAdd(): number {
    for (let i = this.hash() & this.mask; ; i = (i + 1) & this.mask) {
      const id = this.index[i] - 1;
      if (id < 0) return this.insert(i);
      if (this.matches(id)) return id;
    }
  }

  /** Forgets every key; numbers start from 0 again. */
  clear(): void {
    this.index.fill(0);
    this.count = 0;
  }

  private hash(): number {
    const key = this.key;
    const w = this.width;
    let h = mixWords(key[0], w > 1 ? key[1] : 0, w > 2 ? key[2] : 0, w > 3 ? key[3] : 0, w);
    for (let k = 4; k < w; k += 4) {
      h = mixWords(h, key[k], k + 1 < w ? key[k + 1] : 0, k + 2 < w ? key[k + 2] : 0, k + 3 < w ? key[k + 3] : 0);
    }
    return h;
  }

  private matches(id: number): boolean {
    const key = this.key;
    const keys = this.keys;
    const at = id * this.width;
    for (let k = 0; k < key.length; k++) if (keys[at + k] !== key[k]) return false;
    return true;
  }

  private insert(slot: number): number {
    const id = this.count++;
    const w = this.width;
    if ((id + 1) * w > this.keys.length) {
      const keys = new Uint32Array(this.keys.length * 2);
      keys.set(this.keys);
      this.keys = keys;
    }
    this.keys.set(this.key, id * w);
    if (this.count * 2 > this.mask + 1) this.reindex();
    else this.index[slot] = id + 1;
    return id;
  }

  private reindex(): void {
    const size = (this.mask + 1) * 2;
    this.index = new Int32Array(size);
    this.mask = size - 1;
    const saved = this.key.slice();
    const w = this.width;
    for (let id = 0; id < this.count; id++) {
      this.key.set(this.keys.subarray(id * w, id * w + w));
      let i = this.hash() & this.mask;
      while (this.index[i] !== 0) i = (i + 1) & this.mask;
      this.index[i] = id + 1;
    }
    this.key.set(saved);
  }
}
