// What is kept of a journey once it closes: counts per group (a flow direction
// and kind), per span of points it was seen over, per hop; latency samples; and
// the clues the report needs later (who owns which address, which way traffic
// crosses between hosts). Nothing here grows with the packets, only with the
// groups, the points and the capture's duration.

import { describeHop } from './changes.js';
import type { Fingerprint, TraceKind } from './fingerprint.js';
import type { Journey, Sight } from './matcher.js';

/** Journey first-sighting times are counted in buckets of this many seconds. */
export const TIME_BUCKET = 0.01;
const SAMPLES = 1024;

/** The facts of a journey at one point, as the first journey of a span had them. */
export interface EndFacts {
  /** Innermost destination here. */
  dst: string;
  /** The outermost tunnel here, if any: its text, type and id, and its outer destination. */
  tunnel: string | null;
  tunnelType: string | null;
  tunnelId: number | null;
  outerDst: string | null;
  port: number | null;
}

export interface EvidenceTally {
  text: string;
  points: Set<number>;
  packets: number;
  portUnreachable: boolean;
  mtu: number | null;
}

/** Journeys of a group seen from point `lo` to point `hi` (by path index). */
export interface Span {
  lo: number;
  hi: number;
  packets: number;
  /** Journey counts by first-sighting time bucket: [packets, of them unanswered requests]. */
  times: Map<number, [number, number]>;
  atLo: EndFacts;
  atHi: EndFacts;
  minSize: number;
  maxSize: number;
  evidence: Map<string, EvidenceTally>;
}

export interface HopTally {
  from: number;
  to: number;
  packets: number;
  /** Raw one-way times (to's clock minus from's), a bounded sample. */
  samples: number[];
  max: number;
  changes: Map<string, number>;
}

export interface Group {
  kind: TraceKind;
  flow: string;
  packets: number;
  /** Journeys whose sightings ran forward (up the path) and backward. */
  forward: number;
  backward: number;
  seen: number[];
  spans: Map<string, Span>;
  hops: Map<string, HopTally>;
}

function endFacts(fp: Fingerprint): EndFacts {
  const t = fp.tunnels[0];
  if (t === undefined) return { dst: fp.dst, tunnel: null, tunnelType: null, tunnelId: null, outerDst: null, port: null };
  const tunnel = `${t.type}${t.id === null ? '' : ` ${t.id}`}${t.port === null ? '' : ` udp ${t.port}`}`;
  return { dst: fp.dst, tunnel, tunnelType: t.type, tunnelId: t.id, outerDst: t.dst, port: t.port };
}

function flowText(fp: Fingerprint): string {
  if (fp.srcPort === null || fp.dstPort === null) return `${fp.src} > ${fp.dst}`;
  return `${fp.src}:${fp.srcPort} > ${fp.dst}:${fp.dstPort}`;
}

/** A deterministic sample: every value until the sample is full, then every k-th. */
function sample(samples: number[], packets: number, value: number): void {
  if (samples.length < SAMPLES) samples.push(value);
  else if (packets % Math.ceil(packets / SAMPLES) === 0) samples[packets % SAMPLES] = value;
}

export class GroupTable {
  readonly groups = new Map<string, Group>();
  /** Address -> votes per host, from where packets with that source first appeared. */
  readonly owners = new Map<string, number[]>();
  /** Smallest raw one-way time seen from host a to host b, by `${a}>${b}`, and how many crossings. */
  readonly crossings = new Map<string, { min: number; count: number }>();

  constructor(private readonly hostOf: number[], private readonly hosts: number) {}

  add(journey: Journey): void {
    const seen: Array<[number, Sight]> = [];
    journey.sights.forEach((sight, point) => {
      if (sight !== undefined) seen.push([point, sight]);
    });
    if (seen.length === 0) return;
    const byTime = [...seen].sort((a, b) => a[1].time - b[1].time || a[0] - b[0]);
    const origin = byTime[0][1].fp;
    const key = `${journey.kind}|${flowText(origin)}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = {
        kind: journey.kind, flow: flowText(origin), packets: 0, forward: 0, backward: 0,
        seen: new Array(this.hostOf.length).fill(0), spans: new Map(), hops: new Map(),
      };
      this.groups.set(key, group);
    }
    group.packets++;
    for (const [point] of seen) group.seen[point]++;
    this.vote(origin.src, this.hostOf[byTime[0][0]]);

    const up = this.runsUp(byTime);
    if (up !== null) {
      if (up) group.forward++;
      else group.backward++;
    }
    this.addSpan(group, journey, seen);
    // Hops between consecutive sightings, in the order the packet made them.
    const path = up === false ? [...seen].reverse() : seen;
    for (let i = 0; i + 1 < path.length; i++) this.addHop(group, path[i], path[i + 1]);
  }

  /** Whether the journey ran up the path: by points of one host (one clock) when it can, else by time. */
  private runsUp(byTime: Array<[number, Sight]>): boolean | null {
    if (byTime.length < 2) return null;
    for (let i = 0; i < byTime.length; i++) {
      for (let j = i + 1; j < byTime.length; j++) {
        const [a, x] = byTime[i];
        const [b, y] = byTime[j];
        if (this.hostOf[a] === this.hostOf[b] && x.time < y.time) return b > a;
      }
    }
    const first = byTime[0][0];
    const last = byTime[byTime.length - 1][0];
    return first === last ? null : last > first;
  }

  private vote(address: string, host: number): void {
    let votes = this.owners.get(address);
    if (votes === undefined) this.owners.set(address, votes = new Array(this.hosts).fill(0));
    votes[host]++;
  }

  private addSpan(group: Group, journey: Journey, seen: Array<[number, Sight]>): void {
    const [lo, atLo] = seen[0];
    const [hi, atHi] = seen[seen.length - 1];
    const spanKey = `${lo}-${hi}`;
    let span = group.spans.get(spanKey);
    if (span === undefined) {
      span = {
        lo, hi, packets: 0, times: new Map(), atLo: endFacts(atLo.fp), atHi: endFacts(atHi.fp),
        minSize: Infinity, maxSize: 0, evidence: new Map(),
      };
      group.spans.set(spanKey, span);
    }
    span.packets++;
    const bucket = Math.floor(journey.first / TIME_BUCKET);
    const counts = span.times.get(bucket);
    const unanswered = atLo.fp.awaits !== null && !journey.replied ? 1 : 0;
    if (counts === undefined) span.times.set(bucket, [1, unanswered]);
    else {
      counts[0]++;
      counts[1] += unanswered;
    }
    const size = Math.max(...seen.map(([, s]) => s.fp.size));
    if (size < span.minSize) span.minSize = size;
    if (size > span.maxSize) span.maxSize = size;
    for (const { error, points } of journey.evidence?.values() ?? []) {
      let tally = span.evidence.get(error.text);
      if (tally === undefined) {
        tally = { text: error.text, points: new Set(), packets: 0, portUnreachable: error.portUnreachable, mtu: error.mtu };
        span.evidence.set(error.text, tally);
      }
      tally.packets++;
      for (const p of points) tally.points.add(p);
    }
  }

  private addHop(group: Group, [from, a]: [number, Sight], [to, b]: [number, Sight]): void {
    const hopKey = `${from}>${to}`;
    let hop = group.hops.get(hopKey);
    if (hop === undefined) group.hops.set(hopKey, hop = { from, to, packets: 0, samples: [], max: -Infinity, changes: new Map() });
    hop.packets++;
    if (!b.merged && !a.merged) {
      const delay = b.time - a.time;
      sample(hop.samples, hop.packets, delay);
      if (delay > hop.max) hop.max = delay;
      const hosts = `${this.hostOf[from]}>${this.hostOf[to]}`;
      if (this.hostOf[from] !== this.hostOf[to]) {
        const crossing = this.crossings.get(hosts);
        if (crossing === undefined) this.crossings.set(hosts, { min: delay, count: 1 });
        else {
          crossing.count++;
          if (delay < crossing.min) crossing.min = delay;
        }
      }
    }
    for (const change of describeHop(a, b)) hop.changes.set(change, (hop.changes.get(change) ?? 0) + 1);
  }
}
