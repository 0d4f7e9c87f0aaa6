// Every flow of every tunnel row, IPv4 or IPv6, tunnelled or not, in one
// store of typed arrays: a flow is a number, its key and counters are
// elements of columns (struct of arrays), and it is found through an
// open-addressing index hashed from its key (tunnel, kind, ports and the ids
// its addresses have in the AddressTable). No object is made per flow: a
// FlowRow is made only when a report row is read.

import { AddressTable, type AddressState } from './addresses.js';
import { KIND_OVERFLOW, mixWords, type TunnelEntry } from './entries.js';

/** mssLimit when no tunnel limits the flow (Infinity in a FlowRow). */
const NO_LIMIT = 0x7fffffff;
const MIN_FLOWS = 1024;
/**
 * Columns are made this long at once (or as long as the limit, if less):
 * memory the kernel gives zeroed is resident only once written, so a column
 * longer than its flows costs address space, not memory, and the store never
 * copies its columns to grow (which held the old and the new at once).
 */
const RESERVED_FLOWS = 1 << 22;

/** The columns, by name, as a store hands them to a merge (each of the store's length). */
export interface FlowColumns {
  tunnel: Uint32Array;
  kind: Uint32Array;
  ports: Uint32Array;
  src: Uint32Array;
  dst: Uint32Array;
  packets: Float64Array;
  bytes: Float64Array;
  firstSec: Float64Array;
  lastSec: Float64Array;
  firstNsec: Uint32Array;
  lastNsec: Uint32Array;
  fragments: Uint32Array;
  syn: Uint32Array;
  fin: Uint32Array;
  rst: Uint32Array;
  mss: Int32Array;
  mssLimit: Int32Array;
  mac: Int32Array;
  order: Float64Array;
}

/** What a store hands a merge: its columns and its addresses. */
export interface FlowStoreState {
  count: number;
  columns: FlowColumns;
  addresses: AddressState;
}

type ColumnName = keyof FlowColumns;
const COLUMNS: Record<ColumnName, { new (n: number): FlowColumns[ColumnName] }> = {
  tunnel: Uint32Array, kind: Uint32Array, ports: Uint32Array, src: Uint32Array, dst: Uint32Array,
  packets: Float64Array, bytes: Float64Array, firstSec: Float64Array, lastSec: Float64Array,
  firstNsec: Uint32Array, lastNsec: Uint32Array, fragments: Uint32Array, syn: Uint32Array, fin: Uint32Array,
  rst: Uint32Array, mss: Int32Array, mssLimit: Int32Array, mac: Int32Array, order: Float64Array,
} as Record<ColumnName, { new (n: number): FlowColumns[ColumnName] }>;
const COLUMN_NAMES = Object.keys(COLUMNS) as ColumnName[];

function columnsOf(size: number): FlowColumns {
  const columns = {} as Record<ColumnName, FlowColumns[ColumnName]>;
  for (const name of COLUMN_NAMES) columns[name] = new COLUMNS[name](size);
  return columns as FlowColumns;
}

export class FlowStore {
  count = 0;
  readonly addresses = new AddressTable();
  c: FlowColumns;
  /** Flow plus one by hash of the key; 0: empty. Overflow flows are not in it. */
  private index: Int32Array;
  private mask: number;

  /** `limit`: the most flows it will hold, beside one overflow flow per tunnel (its columns never grow past it). */
  constructor(private readonly limit: number) {
    this.c = columnsOf(Math.max(MIN_FLOWS, Math.min(limit + MIN_FLOWS, RESERVED_FLOWS)));
    this.index = new Int32Array(MIN_FLOWS * 2);
    this.mask = MIN_FLOWS * 2 - 1;
  }

  /** The flow with this key, or -1. */
  find(tunnel: number, kind: number, src: number, dst: number, srcPort: number, dstPort: number): number {
    const ports = ((srcPort << 16) | dstPort) >>> 0;
    const c = this.c;
    for (let i = mixWords(src, dst, ports, kind, tunnel) & this.mask; ; i = (i + 1) & this.mask) {
      const f = this.index[i] - 1;
      if (f < 0) return -1;
      if (c.src[f] === src && c.dst[f] === dst && c.ports[f] === ports && c.kind[f] === kind && c.tunnel[f] === tunnel) return f;
    }
  }

  /** A new flow with this key, which find() does not have, made at creation order `order`. */
  add(tunnel: number, kind: number, src: number, dst: number, srcPort: number, dstPort: number, order: number): number {
    const f = this.append(tunnel, kind, src, dst, srcPort, dstPort, order);
    if (this.count * 2 > this.mask + 1) this.reindex();
    else this.place(f);
    return f;
  }

  /** A tunnel's overflow flow: counted, never looked up by key. */
  addOverflow(tunnel: number, kind: number, none: number, order: number): number {
    return this.append(tunnel, kind, none, none, 0, 0, order);
  }

  /** One packet of `len` bytes at sec.nsec into flow `f`. */
  count1(f: number, len: number, sec: number, nsec: number): void {
    const c = this.c;
    const packets = c.packets[f];
    c.packets[f] = packets + 1;
    c.bytes[f] += len;
    this.touch(f, sec, nsec, packets === 0);
  }

  /** Seen.touch() on the flow's columns; `first` when nothing was seen yet. */
  touch(f: number, sec: number, nsec: number, first: boolean): void {
    const c = this.c;
    if (first) {
      c.firstSec[f] = c.lastSec[f] = sec;
      c.firstNsec[f] = c.lastNsec[f] = nsec;
      return;
    }
    const firstSec = c.firstSec[f];
    if (sec < firstSec || (sec === firstSec && nsec < c.firstNsec[f])) {
      c.firstSec[f] = sec;
      c.firstNsec[f] = nsec;
    }
    const lastSec = c.lastSec[f];
    if (sec > lastSec || (sec === lastSec && nsec > c.lastNsec[f])) {
      c.lastSec[f] = sec;
      c.lastNsec[f] = nsec;
    }
  }

  /** The flow's MSS and the limit of its path, from a SYN. */
  syn(f: number, mss: number | undefined, mssLimit: number): void {
    const c = this.c;
    c.syn[f]++;
    if (typeof mss === 'number' && mss > c.mss[f]) c.mss[f] = mss;
    if (mssLimit < c.mssLimit[f]) c.mssLimit[f] = mssLimit;
  }

  mssLimitOf(f: number): number {
    const limit = this.c.mssLimit[f];
    return limit === NO_LIMIT ? Infinity : limit;
  }

  /** Whether any flow advertised an MSS its path does not fit. */
  anyMssOverLimit(): boolean {
    const { mss, mssLimit } = this.c;
    for (let f = 0; f < this.count; f++) if (mss[f] > mssLimit[f]) return true;
    return false;
  }

  /** Flow `g` of a part's columns added into flow `f`: creation order offset by `base`. */
  absorb(f: number, theirs: FlowColumns, g: number, base: number): void {
    const c = this.c;
    c.order[f] = Math.min(c.order[f], base + theirs.order[g]);
    const had = c.packets[f];
    c.packets[f] = had + theirs.packets[g];
    c.bytes[f] += theirs.bytes[g];
    if (theirs.packets[g] > 0) {
      this.touch(f, theirs.firstSec[g], theirs.firstNsec[g], had === 0);
      this.touch(f, theirs.lastSec[g], theirs.lastNsec[g], false);
    }
    c.fragments[f] += theirs.fragments[g];
    c.syn[f] += theirs.syn[g];
    c.fin[f] += theirs.fin[g];
    c.rst[f] += theirs.rst[g];
    c.mss[f] = Math.max(c.mss[f], theirs.mss[g]);
    c.mssLimit[f] = Math.min(c.mssLimit[f], theirs.mssLimit[g]);
  }

  /**
   * The store's flows for a merge; the store is of no use after. `moved`: the
   * columns are views of the store's own, to be moved to another thread
   * (transferables()) and not copied, which held a worker's flows twice at
   * the end of its count; else copies of their length, so that a part kept
   * in this thread does not keep the store's columns, reserved for its limit.
   */
  exportState(moved = false): FlowStoreState {
    const columns = {} as Record<ColumnName, FlowColumns[ColumnName]>;
    for (const name of COLUMN_NAMES) columns[name] = moved ? this.c[name].subarray(0, this.count) : this.c[name].slice(0, this.count);
    return { count: this.count, columns: columns as FlowColumns, addresses: this.addresses.exportState() };
  }

  /** Flows ordered as the report's rows: by bytes, then packets, then creation order. */
  sorted(): Uint32Array {
    const ids = new Uint32Array(this.count);
    for (let f = 0; f < ids.length; f++) ids[f] = f;
    const { bytes, packets, order } = this.c;
    return ids.sort((a, b) => bytes[b] - bytes[a] || packets[b] - packets[a] || order[a] - order[b]);
  }

  /** The buffers to move with a state to another thread. */
  static transferables(state: FlowStoreState): ArrayBuffer[] {
    const out = COLUMN_NAMES.map((name) => state.columns[name].buffer as ArrayBuffer);
    out.push(state.addresses.family.buffer as ArrayBuffer, state.addresses.words.buffer as ArrayBuffer);
    return out;
  }

  private append(tunnel: number, kind: number, src: number, dst: number, srcPort: number, dstPort: number, order: number): number {
    const f = this.count++;
    if (f >= this.c.order.length) this.grow();
    const c = this.c;
    c.tunnel[f] = tunnel;
    c.kind[f] = kind;
    c.ports[f] = ((srcPort << 16) | dstPort) >>> 0;
    c.src[f] = src;
    c.dst[f] = dst;
    c.mss[f] = -1;
    c.mssLimit[f] = NO_LIMIT;
    c.mac[f] = -1;
    c.order[f] = order;
    return f;
  }

  /** Columns for more flows: twice as many, but not past the limit (and room for overflow flows) until it is reached. */
  private grow(): void {
    const size = this.c.order.length;
    let next = size * 2;
    if (size < this.limit + MIN_FLOWS && next > this.limit + MIN_FLOWS) next = this.limit + MIN_FLOWS;
    if (next <= size) next = size + MIN_FLOWS;
    const old = this.c;
    const c = columnsOf(next);
    for (const name of COLUMN_NAMES) (c[name] as Uint32Array).set(old[name] as Uint32Array);
    this.c = c;
  }

  private place(f: number): void {
    const c = this.c;
    let i = mixWords(c.src[f], c.dst[f], c.ports[f], c.kind[f], c.tunnel[f]) & this.mask;
    while (this.index[i] !== 0) i = (i + 1) & this.mask;
    this.index[i] = f + 1;
  }

  private reindex(): void {
    const size = (this.mask + 1) * 2;
    this.index = new Int32Array(size);
    this.mask = size - 1;
    const kind = this.c.kind;
    for (let f = 0; f < this.count; f++) if (kind[f] !== KIND_OVERFLOW) this.place(f);
  }
}

/** One flow, read from the store when a report row or an observer asks for it. */
export class FlowRow {
  constructor(
    private readonly store: Pick<FlowStore, 'c' | 'addresses' | 'mssLimitOf'>, readonly id: number, readonly tunnel: TunnelEntry,
  ) {}
  get kind(): number { return this.store.c.kind[this.id]; }
  get src(): string { return this.store.addresses.textOf(this.store.c.src[this.id]); }
  get dst(): string { return this.store.addresses.textOf(this.store.c.dst[this.id]); }
  get srcPort(): number { return this.store.c.ports[this.id] >>> 16; }
  get dstPort(): number { return this.store.c.ports[this.id] & 0xffff; }
  get packets(): number { return this.store.c.packets[this.id]; }
  get bytes(): number { return this.store.c.bytes[this.id]; }
  get firstSec(): number { return this.store.c.firstSec[this.id]; }
  get firstNsec(): number { return this.store.c.firstNsec[this.id]; }
  get lastSec(): number { return this.store.c.lastSec[this.id]; }
  get lastNsec(): number { return this.store.c.lastNsec[this.id]; }
  get fragments(): number { return this.store.c.fragments[this.id]; }
  get syn(): number { return this.store.c.syn[this.id]; }
  get fin(): number { return this.store.c.fin[this.id]; }
  get rst(): number { return this.store.c.rst[this.id]; }
  get mss(): number { return this.store.c.mss[this.id]; }
  get mssLimit(): number { return this.store.mssLimitOf(this.id); }
  get order(): number { return this.store.c.order[this.id]; }
}
