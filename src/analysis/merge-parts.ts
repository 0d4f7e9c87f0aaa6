// The counters of a file cut into parts, each counted by its own aggregator
// (on worker threads, see parallel.ts), merged in file order into the
// aggregator of the first part, so that it holds what one reading the whole
// file would. Rows keep their creation orders, a part's offset past every
// earlier part's; where a table's cap would make the result depend on which
// packet came first, the merge gives up.

import type { CauseObserver, CauseState } from './causes.js';
import { isIpLayer as isIp } from '../../decoders/layers.js';
import type { IpLayer } from '../../decoders/layers.js';
import type { Layer } from '../../decoders/types.js';
import type { CaptureRecord } from '../sources/record.js';
import type { AddressLearning } from './address-learning.js';
import { addCounts, type Seen, type TooBigEntry, type TunnelEntry, type VniEntry } from './entries.js';
import type { FlowStore, FlowStoreState } from './flow-store.js';
import type { FragmentOwner, FragmentOwners } from './fragments.js';
import type { TooBigTable } from './too-big.js';
import type { Orders, TunnelTable } from './tunnel-table.js';

/** Creation orders of one part: a part's rows sort after every earlier part's, in their own order. */
const PART_ORDER_SPAN = 0x100000000;

/**
 * A later fragment met in a part after the first, with no first fragment in
 * the part to tell its tunnel: the first fragment may be in an earlier part,
 * so the packet is kept for the merge to count where it belongs.
 */
export interface Orphan {
  record: CaptureRecord;
  layers: Layer[];
  shownEnd: number;
  outerIp: number;
  superPacket: boolean;
  /** The packet's checksum verdicts, as the aggregator's countChecksums() left them. */
  verdicts: number[];
  /** Two creation orders kept free for it: for the untunnelled row and its flow, should it make them. */
  order: number;
  /** The part had a first fragment under the same key, from other addresses: no owner before it counts. */
  keyedInPart: boolean;
}

/**
 * What an aggregator of one part hands to the merge: its counters and rows,
 * as they are or as a worker thread's message copied them (without
 * prototypes; the flows' columns moved, not copied).
 */
export interface PartState {
  packets: number;
  bytes: number;
  seen: Seen;
  tsDigits: 6 | 9;
  linktypes: Map<number, number>;
  issueCounts: Map<string, number>;
  checksums: number[];
  superPackets: number;
  tunnels: readonly TunnelEntry[];
  none: TunnelEntry | null;
  flows: FlowStoreState;
  /** Anything that reached a table's cap: the parts cannot be merged exactly. */
  capped: boolean;
  vnis: ReadonlyMap<number, VniEntry>;
  tooBig: ReadonlyMap<number, ReadonlyMap<string, TooBigEntry>>;
  fragmentOwners4: Map<number, FragmentOwner>;
  fragmentOwners6: Map<number, FragmentOwner>;
  orphans: Orphan[];
  causes: CauseState;
}

/** The aggregator a merge reads and fills (StatsAggregator). */
export interface MergeTarget {
  packets: number;
  bytes: number;
  readonly seen: Seen;
  tsDigits: 6 | 9;
  readonly linktypes: Map<number, number>;
  readonly issueCounts: Map<string, number>;
  readonly checksums: number[];
  superPackets: number;
  readonly causes: CauseObserver;
  overflowFlowPackets: number;
  readonly flows: FlowStore;
  readonly orders: Orders;
  readonly table: TunnelTable;
  readonly learning: AddressLearning;
  readonly fragments: FragmentOwners;
  readonly tooBigTable: TooBigTable;
  readonly orphans: Orphan[] | null;
  verdicts: Int32Array;
  verdictCount: number;
  capped(): boolean;
  countUntunnelled(
    entry: TunnelEntry, record: CaptureRecord, layers: Layer[], shownEnd: number, outerIp: number, superPacket: boolean,
  ): number;
  addFragmentTail(entry: TunnelEntry, record: CaptureRecord, ip: IpLayer): void;
  flowOf(entry: TunnelEntry, kind: number, src: number, dst: number, srcPort: number, dstPort: number): number;
}

/** `moved`: the part goes to another thread, its flows' columns moved there (FlowStore.exportState()). */
export function exportPart(agg: MergeTarget, moved = false): PartState {
  return {
    packets: agg.packets, bytes: agg.bytes, seen: agg.seen, tsDigits: agg.tsDigits, linktypes: agg.linktypes,
    issueCounts: agg.issueCounts, checksums: agg.checksums, superPackets: agg.superPackets,
    tunnels: agg.table.tunnels, none: agg.table.none, flows: agg.flows.exportState(moved), vnis: agg.table.vnis,
    tooBig: agg.tooBigTable.rows, capped: agg.capped(),
    fragmentOwners4: agg.fragments.owners4, fragmentOwners6: agg.fragments.owners6, orphans: agg.orphans ?? [],
    causes: agg.causes.exportState(),
  };
}

/** The following parts, in file order, into the aggregator of the first; false where that is not exact. */
export function absorbParts(agg: MergeTarget, parts: PartState[]): boolean {
  if (agg.orphans !== null) throw new Error('parts are absorbed into the aggregator of the first part');
  if (agg.capped()) return false;
  for (let p = 0; p < parts.length; p++) {
    if (!absorb(agg, parts[p], (p + 1) * PART_ORDER_SPAN)) return false;
  }
  return true;
}

/**
 * Adds the next part, whose creation orders are offset by `base`. A row new
 * to the aggregator takes the part's order for it; a row it had keeps the
 * smaller order.
 */
function absorb(agg: MergeTarget, part: PartState, base: number): boolean {
  if (part.capped) return false;
  // A part's orphans come first: an owner of theirs can only be in the parts before.
  for (const orphan of part.orphans) countOrphan(agg, orphan, base);

  agg.packets += part.packets;
  agg.bytes += part.bytes;
  agg.seen.absorbSeen(part.seen);
  if (part.tsDigits > agg.tsDigits) agg.tsDigits = part.tsDigits;
  for (const [linktype, count] of part.linktypes) agg.linktypes.set(linktype, (agg.linktypes.get(linktype) ?? 0) + count);
  for (const [kind, count] of part.issueCounts) agg.issueCounts.set(kind, (agg.issueCounts.get(kind) ?? 0) + count);
  addCounts(agg.checksums, part.checksums);
  agg.superPackets += part.superPackets;
  agg.causes.absorb(part.causes);

  // The part's rows are copies (from a worker thread): each is told by its key and mapped to the aggregator's.
  const rows = new Map<TunnelEntry, TunnelEntry>();
  if (part.none !== null) {
    agg.orders.value = base + part.none.order;
    rows.set(part.none, agg.table.noneRow());
  }
  for (const theirs of part.tunnels) {
    agg.orders.value = base + theirs.order;
    const mine = agg.table.adopt(theirs);
    if (mine === null) return false;
    rows.set(theirs, mine);
  }
  const byTableId = new Map<number, TunnelEntry>();
  for (const [theirs, mine] of rows) {
    if (theirs.overflowFlow >= 0) return false;
    mine.order = Math.min(mine.order, base + theirs.order);
    absorbTunnelCounts(mine, theirs);
    byTableId.set(theirs.tableId, mine);
  }
  if (!absorbFlows(agg, part.flows, byTableId, base)) return false;

  for (const [key, theirs] of part.vnis) {
    const mine = agg.table.vnis.get(key) as VniEntry;
    mine.arpRequests += theirs.arpRequests;
    mine.arpReplies += theirs.arpReplies;
    for (const mac of theirs.macs) if (!agg.learning.absorb(mine, mac)) return false;
  }
  if (!agg.tooBigTable.absorb(part.tooBig)) return false;
  // The owners the next parts' orphans look up, as one reading would have left them.
  if (!agg.fragments.absorb(part.fragmentOwners4, part.fragmentOwners6, rows)) return false;
  return agg.overflowFlowPackets === 0 && agg.learning.overflowMacPackets === 0;
}

/** A part's flows into the rows `byTableId` maps its tunnels to. */
function absorbFlows(agg: MergeTarget, state: FlowStoreState, byTableId: Map<number, TunnelEntry>, base: number): boolean {
  const store = agg.flows;
  const addresses = store.addresses;
  const theirs = state.columns;
  const texts = new Map(state.addresses.texts);
  // Each of the part's addresses once: its id here.
  const ids = new Int32Array(state.addresses.count);
  for (let id = 0; id < ids.length; id++) ids[id] = addresses.idFrom(state.addresses, texts, id, true);
  for (let g = 0; g < state.count; g++) {
    const mine = byTableId.get(theirs.tunnel[g]) as TunnelEntry;
    const kind = theirs.kind[g];
    const src = ids[theirs.src[g]];
    const dst = ids[theirs.dst[g]];
    const srcPort = theirs.ports[g] >>> 16;
    const dstPort = theirs.ports[g] & 0xffff;
    let f = store.find(mine.tableId, kind, src, dst, srcPort, dstPort);
    if (f < 0) {
      agg.orders.value = base + theirs.order[g];
      f = agg.flowOf(mine, kind, src, dst, srcPort, dstPort);
      if (agg.overflowFlowPackets > 0) return false;
    }
    store.absorb(f, theirs, g, base);
  }
  return true;
}

/** A part's orphan counted where one reading would have: in the tunnel of its first fragment, or untunnelled. */
function countOrphan(agg: MergeTarget, orphan: Orphan, base: number): void {
  const { record, layers, outerIp, verdicts } = orphan;
  const ip = layers[outerIp];
  // Only a later fragment of an IP packet is kept as an orphan (see Aggregator.count).
  if (!isIp(ip)) return;
  agg.verdicts.set(verdicts);
  agg.verdictCount = verdicts.length;
  const owner = orphan.keyedInPart ? null : agg.fragments.ownerOf(record.bytes, ip);
  if (owner !== null) {
    agg.addFragmentTail(owner, record, ip);
    return;
  }
  // The rows it makes take the orders kept for it in its part; rows made later in the part sort after them.
  agg.orders.value = base + orphan.order;
  agg.countUntunnelled(agg.table.noneRow(), record, layers, orphan.shownEnd, outerIp, orphan.superPacket);
}

/** A part's counters of one tunnel row into the same row of the whole. */
function absorbTunnelCounts(mine: TunnelEntry, theirs: TunnelEntry): void {
  mine.packets += theirs.packets;
  mine.bytes += theirs.bytes;
  mine.innerBytes += theirs.innerBytes;
  mine.overheadBytes += theirs.overheadBytes;
  mine.absorbSeen(theirs);
  addCounts(mine.checksums, theirs.checksums);
  if (theirs.innerBadByProto !== null) {
    const byProto = mine.innerBadByProto ?? (mine.innerBadByProto = new Map());
    for (const [proto, count] of theirs.innerBadByProto) byProto.set(proto, (byProto.get(proto) ?? 0) + count);
  }
  mine.outerFragments += theirs.outerFragments;
  mine.innerFragments += theirs.innerFragments;
  mine.largestInnerFragment = Math.max(mine.largestInnerFragment, theirs.largestInnerFragment);
  mine.largestFragmentedDatagram = Math.max(mine.largestFragmentedDatagram, theirs.largestFragmentedDatagram);
  mine.maxOuterLength = Math.max(mine.maxOuterLength, theirs.maxOuterLength);
  mine.dfSet += theirs.dfSet;
  mine.dfClear += theirs.dfClear;
  if (mine.outerIpVersion === 0) mine.outerIpVersion = theirs.outerIpVersion;
  mine.encapsulation = Math.max(mine.encapsulation, theirs.encapsulation);
  mine.largestInnerPacket = Math.max(mine.largestInnerPacket, theirs.largestInnerPacket);
  mine.overMtu += theirs.overMtu;
  mine.overMtuLargest = Math.max(mine.overMtuLargest, theirs.overMtuLargest);
  mine.overMtuOuterFragmented += theirs.overMtuOuterFragmented;
  mine.overMtuDf += theirs.overMtuDf;
  mine.port8472 += theirs.port8472;
  mine.vniFlagClear += theirs.vniFlagClear;
}
