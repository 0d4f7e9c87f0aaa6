// ICMP fragmentation-needed and ICMPv6 packet-too-big messages, one row per
// reported MTU, IP version and reporting router, with what the first message
// quotes.

import { ipLayerAddress } from '../../decoders/address.js';
import type { IpLayer } from '../../decoders/layers.js';
import type { Layer } from '../../decoders/types.js';
import { TooBigEntry } from './entries.js';
import { describeQuotedPacket } from './packet-layers.js';

export const MAX_TOO_BIG_ENTRIES = 1024;

export class TooBigTable {
  readonly rows = new Map<number, Map<string, TooBigEntry>>();
  count = 0;

  record(version: 4 | 6, mtu: number, bytes: Uint8Array, ipLayer: IpLayer, layers: Layer[], quotedFrom: number): void {
    const key = mtu * 8 + version;
    const reporter = ipLayerAddress(bytes, ipLayer, 'src') as string;
    let entry = this.rows.get(key)?.get(reporter);
    if (entry === undefined) {
      if (this.count >= MAX_TOO_BIG_ENTRIES) return;
      entry = new TooBigEntry(version, mtu, reporter, ipLayerAddress(bytes, ipLayer, 'dst') as string);
      describeQuotedPacket(entry, bytes, layers, quotedFrom);
      this.add(key, entry);
    }
    entry.count++;
  }

  full(): boolean {
    return this.count >= MAX_TOO_BIG_ENTRIES;
  }

  /** A part's rows added to this table's; false when a new row finds it full. */
  absorb(theirs: ReadonlyMap<number, ReadonlyMap<string, TooBigEntry>>): boolean {
    for (const [key, byReporter] of theirs) {
      for (const [reporter, row] of byReporter) {
        let mine = this.rows.get(key)?.get(reporter);
        if (mine === undefined) {
          if (this.full()) return false;
          mine = this.add(key, Object.assign(new TooBigEntry(row.version, row.mtu, reporter, row.to), row, { count: 0 }));
        }
        mine.count += row.count;
      }
    }
    return true;
  }

  /** A new row under its MTU-and-version key and its reporter. */
  private add(key: number, entry: TooBigEntry): TooBigEntry {
    let byReporter = this.rows.get(key);
    if (byReporter === undefined) {
      byReporter = new Map();
      this.rows.set(key, byReporter);
    }
    byReporter.set(entry.reporter, entry);
    this.count++;
    return entry;
  }
}
