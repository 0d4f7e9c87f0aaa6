// From the groups to the answer: which way each group runs, where its packets
// should have been seen next and were not, at which stage that is, the evidence,
// and a verdict a person reads first.
//
// Where a packet should be seen next is decided from what the captures show:
// a point where tunnelled packets pass is an underlay point, any other an
// overlay point (a pod's interface, a tunnel device); an address belongs to the
// host where packets from it first appear. A packet leaves a host unless its
// destination belongs there; a tunnelled packet at the last underlay point of
// the host that owns its outer destination comes out of that host's tunnel
// device; a plain packet on the underlay stays on the underlay.

import { estimateClocks, type ClockEstimate } from './clock.js';
import type { TraceKind } from './fingerprint.js';
import { verdictOf } from './verdict.js';
import type { Group, GroupTable, HopTally, Span } from './groups.js';
import type { PointTally } from './matcher.js';

export type Stage =
  | 'before-encapsulation' | 'encapsulation' | 'underlay' | 'decapsulation' | 'delivery' | 'no-reply' | 'reply-path';

export interface TracePoint {
  name: string;
  file: string;
  /** The interface the file names for it (pcapng), or null. */
  interface: string | null;
  host: number;
}

export interface LossReport {
  after: string | null;
  before: string | null;
  packets: number;
  /** Packets of the group that reached `after`. */
  of: number;
  stage: Stage;
  /** The tunnel the packets were in at `after` (`vxlan 40 udp 4789`), or null. */
  tunnel: string | null;
  evidence: string[];
}

export interface HopReport {
  from: string;
  to: string;
  packets: number;
  /** Seconds, clock offsets taken out; null when every sighting was inside a merged super-packet. */
  latency: { median: number; max: number } | null;
  clocksDisagree: boolean;
  changes: Array<{ change: string; packets: number }>;
}

export interface GroupReport {
  kind: TraceKind;
  flow: string;
  direction: 'forward' | 'reverse';
  packets: number;
  seen: Record<string, number>;
  hops: HopReport[];
  losses: LossReport[];
}

export interface TraceReport {
  points: Array<{ name: string; file: string; interface: string | null; host: string; packets: number }>;
  hosts: Array<{ name: string; points: string[]; clock: ClockEstimate }>;
  /**
   * From the first packet of the point that started last to the last packet of
   * the point that stopped first, seconds since the epoch; null when no point
   * has a packet. A pcap file does not say when its capture stopped, so only
   * the start rules packets out: a loss after a point's last packet is named,
   * with a word of doubt, rather than hidden.
   */
  window: { start: number; end: number } | null;
  /** Packets that would count as lost but were seen before every point had started. */
  outside: number;
  /** No packet was seen at two points. */
  shared: boolean;
  verdict: string[];
  /** What the trace did that a reader should know of (a port decoded as another protocol). */
  notes: string[];
  groups: GroupReport[];
}

interface Context {
  points: TracePoint[];
  tallies: PointTally[];
  underlay: boolean[];
  owner: (address: string | null) => number;
  window: { start: number; end: number } | null;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Which way a group runs: by its journeys seen at two points or more, else by who owns its addresses. */
function direction(group: Group, ctx: Context): 1 | -1 {
  if (group.forward !== group.backward) return group.forward > group.backward ? 1 : -1;
  const [src, dst] = group.flow.split(' > ').map((end) => end.replace(/:\d+$/, ''));
  const at = group.seen.findIndex((n) => n > 0);
  const here = ctx.points[at].host;
  const to = ctx.owner(dst);
  if (to >= 0 && to !== here) return to > here ? 1 : -1;
  const from = ctx.owner(src);
  if (from >= 0 && from !== here) return from < here ? 1 : -1;
  const lastHost = ctx.points[ctx.points.length - 1].host;
  return here === lastHost && here !== ctx.points[0].host ? -1 : 1;
}

/** The next point in direction d where a packet that got as far as k should have been seen, or null. */
function nextExpected(group: Group, span: Span, k: number, d: 1 | -1, ctx: Context): number | null {
  const j = k + d;
  if (j < 0 || j >= ctx.points.length) return null;
  if (group.seen[j] > 0) return j;
  const facts = d > 0 ? span.atHi : span.atLo;
  const host = ctx.points[k].host;
  if (ctx.points[j].host !== host) return ctx.owner(facts.outerDst ?? facts.dst) === host ? null : j;
  const fromUnderlay = ctx.underlay[k];
  const toUnderlay = ctx.underlay[j];
  if (fromUnderlay && !toUnderlay) {
    if (facts.outerDst === null) return null;
    const owner = ctx.owner(facts.outerDst);
    if (owner >= 0) return owner === host ? j : null;
    // Unknown outer destination: the tunnel ends where the underlay points end.
    for (let p = j; p >= 0 && p < ctx.points.length; p += d) {
      if (ctx.points[p].host !== host) return null;
    }
    return j;
  }
  if (!fromUnderlay && toUnderlay) return ctx.owner(facts.dst) === host ? null : j;
  if (fromUnderlay && toUnderlay) return facts.outerDst !== null || ctx.owner(facts.dst) !== host ? j : null;
  return ctx.tallies[j].addresses.has(facts.dst) && ctx.owner(facts.dst) !== host ? j : null;
}

function stageOf(group: Group, span: Span, k: number, j: number, d: 1 | -1, ctx: Context): Stage {
  if (d < 0) return 'reply-path';
  // Without a tunnel anywhere on the path, what lies between the points is the plain network.
  if (ctx.points[k].host !== ctx.points[j].host || !ctx.underlay.includes(true)) return 'underlay';
  if (!ctx.underlay[k] && ctx.underlay[j]) return 'encapsulation';
  if (ctx.underlay[k] && !ctx.underlay[j]) return 'decapsulation';
  if (ctx.underlay[k]) return 'underlay';
  const entry = d > 0 ? span.lo : span.hi;
  for (let p = entry; p !== k + d; p += d) if (ctx.underlay[p]) return 'delivery';
  return 'before-encapsulation';
}

function evidenceOf(span: Span, ctx: Context, d: 1 | -1, k: number): string[] {
  const lines: string[] = [];
  const facts = d > 0 ? span.atHi : span.atLo;
  if (facts.tunnel !== null) lines.push(`${facts.tunnel} on the wire at ${ctx.points[k].name}, outer destination ${facts.outerDst}`);
  for (const tally of span.evidence?.values() ?? []) {
    const where = [...tally.points].sort((a, b) => a - b).map((p) => ctx.points[p].name).join(', ');
    lines.push(`${tally.text}, quoting ${tally.packets} of them (seen at ${where})`);
  }
  return lines;
}

function lossesOf(group: Group, d: 1 | -1, ctx: Context, counted: { outside: number }): LossReport[] {
  const losses = new Map<string, LossReport>();
  const reached = (p: number): number => group.seen[p];
  let largestPassed = 0;
  const lost: Array<[Span, number, number | null]> = [];
  for (const span of group.spans.values()) {
    const k = d > 0 ? span.hi : span.lo;
    const j = nextExpected(group, span, k, d, ctx);
    if (j === null) largestPassed = Math.max(largestPassed, span.maxSize);
    lost.push([span, k, j]);
  }
  for (const [span, k, j] of lost) {
    const stage: Stage | null = j !== null ? stageOf(group, span, k, j, d, ctx) : span.unanswered > 0 ? 'no-reply' : null;
    if (stage === null) continue;
    counted.outside += span.outside;
    const packets = stage === 'no-reply' ? span.unanswered : span.packets;
    if (packets === 0) continue;
    const after = ctx.points[k].name;
    const before = j === null ? null : ctx.points[j].name;
    const key = `${after}|${before}|${stage}`;
    let loss = losses.get(key);
    if (loss === undefined) {
      const facts = d > 0 ? span.atHi : span.atLo;
      loss = { after, before, packets: 0, of: reached(k), stage, tunnel: facts.tunnel, evidence: [] };
      losses.set(key, loss);
    }
    loss.packets += packets;
    for (const line of evidenceOf(span, ctx, d, k)) if (!loss.evidence.includes(line)) loss.evidence.push(line);
    const short = j === null ? 0 : fragmentsLostInto(group, k, d);
    if (short > 0) {
      const line = `${short} reached ${after} with fragments missing (nothing there to reassemble)`;
      if (!loss.evidence.includes(line)) loss.evidence.push(line);
    }
    const late = j !== null && ctx.tallies[j].records > 0 && span.last > ctx.tallies[j].last;
    if (late && short === 0 && span.evidence === null && !(span.minSize > largestPassed && largestPassed > 0)) {
      const line = `the last of them came after the last packet captured at ${before}: was that capture still running?`;
      if (!loss.evidence.includes(line)) loss.evidence.push(line);
    }
    if (stage !== 'no-reply' && largestPassed > 0 && span.minSize > largestPassed) {
      const line = `only packets of ${span.minSize} bytes or more were lost; the largest that passed had ${largestPassed}`;
      if (!loss.evidence.includes(line)) loss.evidence.push(line);
    }
  }
  return [...losses.values()];
}

/** Packets that came into point k with fragments lost on the hop before it. */
function fragmentsLostInto(group: Group, k: number, d: 1 | -1): number {
  let count = 0;
  for (const hop of group.hops.values()) {
    if (hop.to !== k || hop.from !== k - d) continue;
    for (const [change, packets] of hop.changes) if (change.endsWith(' fragments lost')) count += packets;
  }
  return count;
}

function hopReport(hop: HopTally, clocks: ClockEstimate[], ctx: Context): HopReport {
  const from = ctx.points[hop.from];
  const to = ctx.points[hop.to];
  const skew = clocks[to.host].offset - clocks[from.host].offset;
  const latency = hop.samples.length === 0 ? null : { median: ns(median(hop.samples) - skew), max: ns(hop.max - skew) };
  const changes = [...hop.changes].map(([change, packets]) => ({ change, packets })).sort((a, b) => b.packets - a.packets);
  return {
    from: from.name, to: to.name, packets: hop.packets, latency,
    clocksDisagree: latency !== null && latency.median < 0, changes,
  };
}

export interface ReportInput {
  points: TracePoint[];
  hostNames: string[];
  givenOffsets: boolean[];
  tallies: PointTally[];
  table: GroupTable;
  /** The whole second every time here is counted from. */
  base: number;
}

/** Seconds rounded to the nanosecond, for the report. */
function ns(seconds: number): number {
  return Math.round(seconds * 1e9) / 1e9;
}

export function buildReport(input: ReportInput): TraceReport {
  const { points, hostNames, tallies, table } = input;
  const starts = tallies.filter((t) => t.records > 0).map((t) => t.first);
  const ends = tallies.filter((t) => t.records > 0).map((t) => t.last);
  const window = starts.length === 0 ? null : { start: Math.max(...starts), end: Math.min(...ends) };
  const ctx: Context = {
    points,
    tallies,
    underlay: tallies.map((t) => t.encapsulated > 0),
    owner: (address) => {
      const votes = address === null ? undefined : table.owners.get(address);
      if (votes === undefined) return -1;
      let best = -1;
      votes.forEach((n, host) => {
        if (n > 0 && (best < 0 || n > votes[best])) best = host;
      });
      return best;
    },
    window,
  };
  const clocks = estimateClocks(hostNames.length, table.crossings, input.givenOffsets).map((c) => ({
    ...c, offset: ns(c.offset), uncertainty: c.uncertainty === null ? null : ns(c.uncertainty),
  }));
  const counted = { outside: 0 };
  const groups: GroupReport[] = [];
  let shared = false;
  for (const group of table.groups) {
    const d = direction(group, ctx);
    const seen: Record<string, number> = {};
    points.forEach((p, i) => { seen[p.name] = group.seen[i]; });
    const hops = [...group.hops.values()].map((hop) => hopReport(hop, clocks, ctx));
    if (hops.length > 0) shared = true;
    groups.push({
      kind: group.kind, flow: group.flow, direction: d > 0 ? 'forward' : 'reverse', packets: group.packets,
      seen, hops, losses: lossesOf(group, d, ctx, counted),
    });
  }
  groups.sort((a, b) => lostOf(b) - lostOf(a) || b.packets - a.packets || a.flow.localeCompare(b.flow));
  const report: TraceReport = {
    points: points.map((p, i) => ({ name: p.name, file: p.file, interface: p.interface, host: hostNames[p.host], packets: tallies[i].records })),
    hosts: hostNames.map((name, h) => ({ name, points: points.filter((p) => p.host === h).map((p) => p.name), clock: clocks[h] })),
    window: window === null ? null : { start: ns(window.start + input.base), end: ns(window.end + input.base) },
    outside: counted.outside,
    shared: shared || points.length === 1,
    verdict: [],
    notes: [],
    groups,
  };
  report.verdict = verdictOf(report);
  return report;
}

function lostOf(group: GroupReport): number {
  return group.losses.reduce((sum, loss) => sum + loss.packets, 0);
}
