// Following packets across capture points: every point's records merged by
// time, decoded once, fingerprinted, matched into journeys, summed in groups,
// and reported. The same engine serves files today and live points later: it
// takes cursors, whatever delivers their records.

import { dissect } from '../../decoders/dissect.js';
import type { Registry } from '../../decoders/registry.js';
import type { Packet } from '../../decoders/types.js';
import type { CaptureRecord } from '../sources/record.js';
import { matchesFilter } from '../filter/evaluate.js';
import type { PreparedDecode } from '../pipeline.js';
import { baseSecond, mergeByTime, recordTime } from '../sources/cursor.js';
import { fingerprint } from './fingerprint.js';
import { GroupTable } from './groups.js';
import { Matcher } from './matcher.js';
import type { OpenPoints } from './points.js';
import { buildReport, type TraceReport } from './report.js';

export interface TraceOptions {
  /** Seconds a journey stays open for more sightings after its first. */
  window: number;
  /** Seconds added to each host's timestamps, and whether the user gave them. */
  offsets: number[];
  givenOffsets: boolean[];
}

export interface TraceResult {
  report: TraceReport;
  /** A file cut short or damaged: its point and why. */
  warnings: string[];
}

const GPE_NEXT_PROTOCOL_PRESENT = 0x04;

/**
 * Plain VXLAN sent to the VXLAN-GPE port 4790 (a dstport set wrong) reads as a
 * GPE header with the P bit clear and next protocol 0, and nothing inside is
 * decoded. Such a packet is decoded again as VXLAN, so that it matches its
 * inner packet at the other points, and counted, so that the report says so.
 */
class PlainVxlanOnGpePort {
  readonly counts = new Map<number, number>();
  private readonly registries = new Map<number, Registry>();

  constructor(private readonly decode: { registry: Registry; verify: boolean; detail: boolean }) {}

  redecode(packet: Packet, record: CaptureRecord): Packet {
    const layers = packet.layers;
    const at = layers.findIndex((l) => l.proto === 'vxlan-gpe' && l.nextProtocol === 0 && ((l.flags ?? 0) & GPE_NEXT_PROTOCOL_PRESENT) === 0);
    const udp = layers[at - 1];
    // A VXLAN-GPE layer follows a whole UDP header only.
    if (at < 1 || udp.proto !== 'udp' || udp.dstPort === undefined) return packet;
    const port = udp.dstPort;
    let registry = this.registries.get(port);
    if (registry === undefined) {
      registry = this.decode.registry.withOverride({ table: 'udp', key: port, proto: 'vxlan' });
      this.registries.set(port, registry);
    }
    this.counts.set(port, (this.counts.get(port) ?? 0) + 1);
    return dissect(record.bytes, record.linktype, record.len, { ...this.decode, registry });
  }
}

export function traceCaptures(open: OpenPoints, prepared: PreparedDecode, options: TraceOptions): TraceResult {
  const { points, hostNames, cursors, pointOf } = open;
  const hostOf = points.map((p) => p.host);
  const base = baseSecond(cursors);
  // A cursor's offset is its first point's host's: one file holds one host's interfaces.
  const cursorOffsets = pointOf.map((map) => options.offsets[points[map.values().next().value as number].host]);
  const firsts = cursors.map((c, i) => {
    const first = c.peek();
    return first === null ? -Infinity : recordTime(first, base) + cursorOffsets[i];
  });
  // A point's first packet is often one the traced traffic caused (an ARP, an
  // encapsulated copy): a journey counts as begun before that point started only
  // when it began more than one window earlier.
  const table = new GroupTable(hostOf, hostNames.length, Math.max(...firsts) - options.window);
  const matcher = new Matcher(points.length, options.window, (journey) => table.add(journey));
  const decode = { registry: prepared.registry, verify: prepared.verify, detail: false };
  const plain = new PlainVxlanOnGpePort(decode);
  mergeByTime(cursors, cursorOffsets, base, (record, cursor) => {
    const point = pointOf[cursor].get(record.interfaceId) ?? pointOf[cursor].get(0) as number;
    const time = recordTime(record, base) + options.offsets[points[point].host];
    const packet = plain.redecode(dissect(record.bytes, record.linktype, record.len, decode), record);
    if (prepared.filter !== null && !matchesFilter(prepared.filter, packet, record.bytes, record.len)) return;
    const fp = fingerprint(packet, record.bytes);
    if (fp === null) matcher.count(point, time);
    else matcher.add(point, time, fp);
  });
  matcher.finish();
  const warnings: string[] = [];
  cursors.forEach((cursor, i) => {
    if (cursor.warning !== null) warnings.push(`point ${points[pointOf[i].get(0) as number].name}: ${cursor.warning}`);
  });
  const report = buildReport({ points, hostNames, givenOffsets: options.givenOffsets, tallies: matcher.tallies, table, base });
  for (const [port, packets] of plain.counts) {
    report.notes.push(`${packets} packets on udp ${port} held plain VXLAN in a VXLAN-GPE header with no next protocol: traced as VXLAN (--decode-as udp:${port}=vxlan says so)`);
  }
  return { report, warnings };
}
