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
import { TIME_BUCKET, type Group, type GroupTable, type HopTally, type Span } from './groups.js';
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

interface SpanCount {
  inside: number;
  unanswered: number;
  /** Before every point had started. */
  outside: number;
  /** After the last packet captured at the point where they were due next. */
  late: number;
}

/** Packets of a span after every point had started, of them requests without a reply, and how many came late. */
function countInside(span: Span, ctx: Context, next: number | null): SpanCount {
  const count = { inside: 0, unanswered: 0, outside: 0, late: 0 };
  const last = next === null || ctx.tallies[next].records === 0 ? Infinity : ctx.tallies[next].last;
  for (const [bucket, [packets, open]] of span.times) {
    const t = bucket * TIME_BUCKET;
    if (ctx.window !== null && t + TIME_BUCKET < ctx.window.start) {
      count.outside += packets;
      continue;
    }
    count.inside += packets;
    count.unanswered += open;
    if (t > last) count.late += packets;
  }
  return count;
}

function evidenceOf(span: Span, ctx: Context, d: 1 | -1, k: number): string[] {
  const lines: string[] = [];
  const facts = d > 0 ? span.atHi : span.atLo;
  if (facts.tunnel !== null) lines.push(`${facts.tunnel} on the wire at ${ctx.points[k].name}, outer destination ${facts.outerDst}`);
  for (const tally of span.evidence.values()) {
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
    const { inside, unanswered, outside, late } = countInside(span, ctx, j);
    const stage: Stage | null = j !== null ? stageOf(group, span, k, j, d, ctx) : unanswered > 0 ? 'no-reply' : null;
    if (stage === null) continue;
    counted.outside += outside;
    const packets = stage === 'no-reply' ? unanswered : inside;
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
    if (late > 0 && before !== null && span.evidence.size === 0 && !(span.minSize > largestPassed && largestPassed > 0)) {
      const line = `${late} of them came after the last packet captured at ${before}: was that capture still running?`;
      if (!loss.evidence.includes(line)) loss.evidence.push(line);
    }
    if (stage !== 'no-reply' && largestPassed > 0 && span.minSize > largestPassed) {
      const line = `only packets of ${span.minSize} bytes or more were lost; the largest that passed had ${largestPassed}`;
      if (!loss.evidence.includes(line)) loss.evidence.push(line);
    }
  }
  return [...losses.values()];
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
  for (const group of table.groups.values()) {
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

const KIND_WORDS: Record<TraceKind, string> = {
  'icmp-echo-request': 'ICMP echo requests',
  'icmp-echo-reply': 'ICMP echo replies',
  'tcp-syn': 'TCP SYNs',
  'tcp-data': 'TCP segments',
  udp: 'UDP datagrams',
  'arp-request': 'ARP requests',
  'arp-reply': 'ARP replies',
  other: 'packets',
};

function hintOf(loss: LossReport): string {
  const said = loss.evidence.join('; ');
  if (/port unreachable .*for udp port (\d+)/.test(said)) {
    const port = /port unreachable .*for udp port (\d+)/.exec(said)![1];
    return ` (nothing listens on udp ${port} there: dstport mismatch?)`;
  }
  const mtu = /\(mtu (\d+)\)/.exec(said);
  if (mtu !== null) return ` (MTU: fragmentation needed, mtu ${mtu[1]})`;
  if (said.includes('only packets of')) return ' (only the large ones: MTU?)';
  if (/ttl exceeded|hop limit exceeded/.test(said)) return ' (the TTL ran out: a routing loop, or too low a TTL?)';
  switch (loss.stage) {
    case 'decapsulation': return ' (VNI or dstport mismatch?)';
    case 'encapsulation': return ' (no route or neighbour for the remote VTEP, or MTU?)';
    case 'underlay': return loss.tunnel === null ? ' (routing or a firewall between the points?)' : ' (the remote VTEP address, underlay routing or a firewall?)';
    case 'reply-path': return ' (the route back?)';
    default: return '';
  }
}

/** One line per loss, largest first; or the one line that says there was none. */
function verdictOf(report: TraceReport): string[] {
  const hostOf = new Map(report.points.map((p) => [p.name, p.host]));
  const lines: string[] = [];
  if (!report.shared) {
    return ['the captures share no packet: no packet was seen at two points (were they taken at the same time, on one path?)'];
  }
  for (const group of report.groups) {
    for (const loss of group.losses) {
      const flow = `${KIND_WORDS[group.kind]} ${group.flow}`;
      const host = hostOf.get(loss.before ?? '') ?? hostOf.get(loss.after ?? '');
      if (loss.stage === 'no-reply') {
        lines.push(`${loss.packets}/${loss.of} ${flow} reached ${loss.after} and no reply appeared at any point: no reply from ${group.flow.split(' > ')[1]}`);
        continue;
      }
      const verb = loss.stage === 'decapsulation' ? 'came out of' : 'reached';
      const as = loss.tunnel === null ? '' : ` as ${loss.tunnel}`;
      const what = loss.packets === loss.of
        ? `${loss.packets}/${loss.of} ${flow} reached ${loss.after}${as} and none ${verb} ${loss.before}`
        : `${loss.packets} of ${loss.of} ${flow} that reached ${loss.after}${as} never ${verb} ${loss.before}`;
      lines.push(`${what}: lost at ${loss.stage} on ${host}${hintOf(loss)}`);
    }
  }
  if (lines.length === 0) {
    const packets = report.groups.reduce((sum, g) => sum + g.packets, 0);
    lines.push(`no loss: ${packets} packets in ${report.groups.length} groups, each seen at every point on its path`);
  }
  return lines;
}
