// A capture counted in parts and merged (what `stats --threads N` does) must
// report exactly what one aggregator reading it whole reports: the same
// report, byte for byte, wherever the parts are cut. Each part after the first
// is copied with structuredClone, as a worker thread's message copies it.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import type { Packet } from '../../decoders/types.js';
import { StatsAggregator, type AggregatorOptions } from '../../src/analysis/aggregate.js';
import { readCaptureFile } from '../../src/sources/file.js';
import type { CaptureRecord } from '../../src/sources/record.js';
import { FIXTURES, PEER_CAPTURES, capturesIn, havePeerCaptures, requireOrSkip } from '../helpers/tools.js';

interface Counted {
  record: CaptureRecord;
  packet: Packet;
}

const registry = new Registry();

function packetsOf(file: string): Counted[] {
  const packets: Counted[] = [];
  readCaptureFile(file, (record) => {
    const owned = { ...record, bytes: record.bytes.slice() };
    packets.push({ record: owned, packet: dissect(owned.bytes, owned.linktype, owned.len, { registry }) });
  });
  return packets;
}

function whole(packets: Counted[], options: AggregatorOptions = {}): string {
  const aggregator = new StatsAggregator(options);
  packets.forEach(({ record, packet }, i) => aggregator.add(i + 1, record, packet));
  return JSON.stringify(aggregator.report());
}

/** The report of the packets cut before each index in `cuts`, or null when the parts could not be merged exactly. */
function inParts(packets: Counted[], cuts: number[], options: AggregatorOptions = {}): { report: string | null; orphans: number } {
  const bounds = [0, ...cuts, packets.length];
  const parts = bounds.slice(1).map((_, i) => new StatsAggregator({ ...options, part: i === 0 ? undefined : { index: i } }));
  parts.forEach((aggregator, i) => {
    for (let k = bounds[i]; k < bounds[i + 1]; k++) aggregator.add(k + 1, packets[k].record, packets[k].packet);
  });
  const states = parts.slice(1).map((aggregator) => structuredClone(aggregator.exportPart()));
  const orphans = states.reduce((sum, state) => sum + state.orphans.length, 0);
  const merged = parts[0].absorbParts(states);
  return { report: merged ? JSON.stringify(parts[0].report()) : null, orphans };
}

/** Every cut of a small capture, a hundred spread over a larger one. */
function cutsOf(count: number): number[] {
  if (count <= 200) return Array.from({ length: count - 1 }, (_, i) => i + 1);
  return Array.from({ length: 100 }, (_, i) => 1 + Math.floor((i * (count - 1)) / 100));
}

const captures = [...capturesIn(FIXTURES), ...capturesIn(PEER_CAPTURES)];

describe('stats counted in parts and merged', () => {

  it('takes in the peer captures as well as the fixtures', (ctx) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return ctx.skip();
    expect(capturesIn(PEER_CAPTURES).length).toBeGreaterThan(10);
  });
  it.each(captures.map((file) => [path.basename(file), file]))('%s: the same report at every cut, in two and in five parts', (_name, file) => {
    const packets = packetsOf(file);
    if (packets.length < 2) return;
    const expected = whole(packets);
    for (const cut of cutsOf(packets.length)) expect(inParts(packets, [cut]).report, `cut before packet ${cut + 1}`).toBe(expected);
    if (packets.length >= 5) {
      const fifth = packets.length / 5;
      const cuts = [1, 2, 3, 4].map((i) => Math.round(i * fifth));
      expect(inParts(packets, cuts).report).toBe(expected);
    }
  });

  it('places a later fragment cut off from its first one in the tunnel of the first (vxlan-lab-mtu.pcap)', () => {
    // VNI 43 runs over a path that fragments the outer packets: cuts between a
    // first fragment and its tail leave the tail in a part of its own.
    const packets = packetsOf(path.join(FIXTURES, 'vxlan-lab-mtu.pcap'));
    const expected = whole(packets);
    let orphans = 0;
    for (const cut of cutsOf(packets.length)) {
      const result = inParts(packets, [cut]);
      expect(result.report).toBe(expected);
      orphans += result.orphans;
    }
    expect(orphans).toBeGreaterThan(0);
  });

  it('gives up, rather than guess, when a table reaches its cap', () => {
    const packets = packetsOf(path.join(FIXTURES, 'stats-ground-truth.pcap'));
    const flows = (JSON.parse(whole(packets)) as { flows: unknown[] }).flows.length;
    const half = Math.floor(packets.length / 2);
    // Room for every flow: exact. One fewer than needed: the flows kept depend on order across the parts.
    expect(inParts(packets, [half], { maxFlows: flows }).report).toBe(whole(packets, { maxFlows: flows }));
    expect(inParts(packets, [half], { maxFlows: flows - 1 }).report).toBeNull();
  });
});
