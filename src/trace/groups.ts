// What is kept of a journey once it closes: counts per group (a flow direction
// and kind), per span of points it was seen over, per hop; latency samples; and
// the clues the report needs later (who owns which address, which way traffic
// crosses between hosts). Nothing here grows with the packets, only with the
// groups and the points.

import { describeHop } from './changes.js';
import { KINDS, type Fingerprint, type TraceKind } from './fingerprint.js';
import type { Journey, Sight } from './matcher.js';

const SAMPLES = 1024;

/** The facts of a journey at one point, as the first journey of a span had them. */
export interface EndFacts {
  /** Innermost destination here. */
  dst: string;
  /** The outermost tunnel here, if any: in words (`vxlan 40 udp 4789`), and its outer destination. */
  tunnel: string | null;
  outerDst: string | null;
}

export interface EvidenceTally {
  text: string;
  points: Set<number>;
  packets: number;
}

/** Journeys of a group seen from point `lo` to point `hi` (by path index). */
export interface Span {
  lo: number;
  hi: number;
  /** Journeys that began after every point had started capturing, and those before. */
  packets: number;
  outside: number;
  /** Requests among them that got no reply. */
  unanswered: number;
  /** The latest first sighting among them. */
  last: number;
  atLo: EndFacts;
  atHi: EndFacts;
  minSize: number;
  maxSize: number;
  evidence: Map<string, EvidenceTally> | null;
}

export interface HopTally {
  from: number;
  to: number;
  packets: number;
  /** Raw one-way times (to's clock minus from's), a bounded sample. */
  samples: number[];
  max: number;
  changes: Map<string, number>;
  /** The last pair of sightings described, and its changes. */
  lastA: Sight | null;
  lastB: Sight | null;
  lastChanges: string[] | null;
}

export interface Group {
  kind: TraceKind;
  flow: string;
  packets: number;
  /** Journeys whose sightings ran forward (up the path) and backward. */
  forward: number;
  backward: number;
  seen: number[];
  spans: Map<number, Span>;
  hops: Map<number, HopTally>;
}

function endFacts(fp: Fingerprint): EndFacts {
  const t = fp.tunnels[0];
  if (t === undefined) return { dst: fp.dst, tunnel: null, outerDst: null };
  const tunnel = `${t.type}${t.id === null ? '' : ` ${t.id}`}${t.port === null ? '' : ` udp ${t.port}`}`;
  return { dst: fp.dst, tunnel, outerDst: t.dst };
}

function flowText(fp: Fingerprint): string {
  if (fp.srcPort === null || fp.dstPort === null) return `${fp.src} > ${fp.dst}`;
  return `${fp.src}:${fp.srcPort} > ${fp.dst}:${fp.dstPort}`;
}

/** Whether two sightings have every fact describeHop reads alike. */
function sameFacts(a: Sight, b: Sight): boolean {
  const x = a.fp;
  const y = b.fp;
  if (a.pieces !== b.pieces || a.merged !== b.merged || x.src !== y.src || x.dst !== y.dst || x.srcPort !== y.srcPort
    || x.dstPort !== y.dstPort || x.ttl !== y.ttl || x.tos !== y.tos || (x.fragment === null) !== (y.fragment === null)
    || (x.tcpFlow === null) !== (y.tcpFlow === null) || x.checksum !== y.checksum
    || x.tunnels.length !== y.tunnels.length) return false;
  for (let i = 0; i < x.tunnels.length; i++) {
    const t = x.tunnels[i];
    const u = y.tunnels[i];
    if (t.type !== u.type || t.id !== u.id || t.src !== u.src || t.dst !== u.dst || t.port !== u.port) return false;
  }
  return true;
}

/** Whether the payload grew from one sighting to the next (GRO). */
function grew(a: Sight, b: Sight): boolean {
  return b.fp.payloadLength > a.fp.payloadLength;
}

/** A deterministic sample: every value until the sample is full, then one in every so many. */
function sample(samples: number[], packets: number, value: number): void {
  if (samples.length < SAMPLES) samples.push(value);
  else if (packets % Math.ceil(packets / SAMPLES) === 0) samples[packets % SAMPLES] = value;
}

export class GroupTable {
  /** One map per kind, by the flow hash of the journey's earliest sighting. */
  private readonly byKind = KINDS.map(() => new Map<number, Group>());
  /** Address -> votes per host, from where packets with that source first appeared. */
  readonly owners = new Map<string, number[]>();
  /** Smallest raw one-way time seen from host a to host b, by a * hosts + b, and how many crossings. */
  readonly crossings = new Map<number, { min: number; count: number }>();

  /** A journey that began before `start` may have passed a point not yet capturing: it is not counted as lost. */
  constructor(private readonly hostOf: number[], private readonly hosts: number, private readonly start: number) {}

  get groups(): Group[] {
    return this.byKind.flatMap((map) => [...map.values()]);
  }

  add(journey: Journey): void {
    const sights = journey.sights;
    let lo = -1;
    let hi = -1;
    let earliest = -1;
    let latest = -1;
    for (let p = 0; p < sights.length; p++) {
      const sight = sights[p];
      if (sight === undefined) continue;
      if (lo < 0) lo = p;
      hi = p;
      if (earliest < 0 || sight.time < sights[earliest]!.time) earliest = p;
      if (latest < 0 || sight.time >= sights[latest]!.time) latest = p;
    }
    if (lo < 0) return;
    const origin = sights[earliest]!.fp;
    const groups = this.byKind[KINDS.indexOf(journey.kind)];
    let group = groups.get(origin.flow);
    if (group === undefined) {
      group = {
        kind: journey.kind, flow: flowText(origin), packets: 0, forward: 0, backward: 0,
        seen: new Array(sights.length).fill(0), spans: new Map(), hops: new Map(),
      };
      groups.set(origin.flow, group);
    }
    group.packets++;
    for (let p = lo; p <= hi; p++) if (sights[p] !== undefined) group.seen[p]++;
    this.vote(origin.src, this.hostOf[earliest]);

    const up = lo === hi ? null : this.runsUp(sights, earliest, latest);
    if (up === true) group.forward++;
    else if (up === false) group.backward++;
    this.addSpan(group, journey, lo, hi);
    // Hops between consecutive sightings, in the order the packet made them.
    let previous = -1;
    const step = up === false ? -1 : 1;
    for (let p = up === false ? hi : lo; p >= lo && p <= hi; p += step) {
      if (sights[p] === undefined) continue;
      if (previous >= 0) this.addHop(group, previous, sights[previous]!, p, sights[p]!);
      previous = p;
    }
  }

  /** Whether the journey ran up the path: by two points of one host (one clock) when it can, else by time. */
  private runsUp(sights: Array<Sight | undefined>, earliest: number, latest: number): boolean | null {
    for (let a = 0; a < sights.length; a++) {
      const x = sights[a];
      if (x === undefined) continue;
      for (let b = a + 1; b < sights.length; b++) {
        const y = sights[b];
        if (y !== undefined && this.hostOf[a] === this.hostOf[b] && x.time !== y.time) return x.time < y.time;
      }
    }
    return earliest === latest ? null : latest > earliest;
  }

  private vote(address: string, host: number): void {
    let votes = this.owners.get(address);
    if (votes === undefined) this.owners.set(address, votes = new Array(this.hosts).fill(0));
    votes[host]++;
  }

  private addSpan(group: Group, journey: Journey, lo: number, hi: number): void {
    const atLo = journey.sights[lo]!;
    const spanKey = lo * journey.sights.length + hi;
    let span = group.spans.get(spanKey);
    if (span === undefined) {
      span = {
        lo, hi, packets: 0, outside: 0, unanswered: 0, last: -Infinity, atLo: endFacts(atLo.fp),
        atHi: endFacts(journey.sights[hi]!.fp), minSize: Infinity, maxSize: 0, evidence: null,
      };
      group.spans.set(spanKey, span);
    }
    if (journey.first < this.start) {
      span.outside++;
      return;
    }
    span.packets++;
    if (atLo.fp.awaits !== null && !journey.replied) span.unanswered++;
    if (journey.first > span.last) span.last = journey.first;
    let size = 0;
    for (let p = lo; p <= hi; p++) size = Math.max(size, journey.sights[p]?.fp.size ?? 0);
    if (size < span.minSize) span.minSize = size;
    if (size > span.maxSize) span.maxSize = size;
    if (journey.evidence === null) return;
    span.evidence ??= new Map();
    for (const { error, points } of journey.evidence.values()) {
      let tally = span.evidence.get(error.text);
      if (tally === undefined) span.evidence.set(error.text, tally = { text: error.text, points: new Set(), packets: 0 });
      tally.packets++;
      for (const p of points) tally.points.add(p);
    }
  }

  private addHop(group: Group, from: number, a: Sight, to: number, b: Sight): void {
    const hopKey = from * 1024 + to;
    let hop = group.hops.get(hopKey);
    if (hop === undefined) {
      hop = { from, to, packets: 0, samples: [], max: -Infinity, changes: new Map(), lastA: null, lastB: null, lastChanges: null };
      group.hops.set(hopKey, hop);
    }
    hop.packets++;
    if (!b.merged && !a.merged) {
      const delay = b.time - a.time;
      sample(hop.samples, hop.packets, delay);
      if (delay > hop.max) hop.max = delay;
      const hostA = this.hostOf[from];
      const hostB = this.hostOf[to];
      if (hostA !== hostB) {
        const key = hostA * this.hosts + hostB;
        const crossing = this.crossings.get(key);
        if (crossing === undefined) this.crossings.set(key, { min: delay, count: 1 });
        else {
          crossing.count++;
          if (delay < crossing.min) crossing.min = delay;
        }
      }
    }
    // Most packets of a hop change the same way as the one before: the words are made once.
    let changes = hop.lastChanges;
    if (changes === null || !sameFacts(hop.lastA!, a) || !sameFacts(hop.lastB!, b) || grew(hop.lastA!, hop.lastB!) !== grew(a, b)) {
      changes = hop.lastChanges = describeHop(a, b);
      hop.lastA = a;
      hop.lastB = b;
    }
    for (const change of changes) hop.changes.set(change, (hop.changes.get(change) ?? 0) + 1);
  }
}
