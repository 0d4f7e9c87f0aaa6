// The verdict: the one to three lines a person reads before anything else.
// One line per loss when there are few; when losses are spread over many flows
// (a lossy link drops a packet here and there), one line per place and stage,
// with the number of packets and flows, so the verdict stays short.

import type { TraceKind } from './fingerprint.js';
import type { LossReport, TraceReport } from './report.js';

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

/** Verdict lines at most; past them, losses are summed by place and stage. */
const MOST_LINES = 3;

function hintOf(loss: LossReport): string {
  const said = loss.evidence.join('; ');
  const port = /port unreachable .*for udp port (\d+)/.exec(said);
  if (port !== null) return ` (nothing listens on udp ${port[1]} there: dstport mismatch?)`;
  const mtu = /\(mtu (\d+)\)/.exec(said);
  if (mtu !== null) return ` (MTU: fragmentation needed, mtu ${mtu[1]})`;
  if (said.includes('only packets of')) return ' (only the large ones: MTU?)';
  if (said.includes('fragments missing')) return ' (a fragment was lost on the way: nothing to reassemble)';
  if (/ttl exceeded|hop limit exceeded/.test(said)) return ' (the TTL ran out: a routing loop, or too low a TTL?)';
  switch (loss.stage) {
    case 'decapsulation': return ' (VNI or dstport mismatch?)';
    case 'encapsulation': return ' (no route or neighbour for the remote VTEP, or MTU?)';
    case 'underlay': return loss.tunnel === null ? ' (routing or a firewall between the points?)' : ' (the remote VTEP address, underlay routing or a firewall?)';
    case 'reply-path': return ' (the route back?)';
    default: return '';
  }
}

interface Place {
  where: string;
  verb: string;
}

function placeOf(loss: LossReport, hostOf: Map<string, string>): Place {
  const from = hostOf.get(loss.after ?? '');
  const to = hostOf.get(loss.before ?? '');
  const where = from !== undefined && to !== undefined && from !== to ? `between ${from} and ${to}` : `on ${to ?? from}`;
  return { where, verb: loss.stage === 'decapsulation' ? 'came out of' : 'reached' };
}

/** One line per loss, largest first; or the one line that says there was none. */
export function verdictOf(report: TraceReport): string[] {
  if (!report.shared) {
    return ['the captures share no packet: no packet was seen at two points (were they taken at the same time, on one path?)'];
  }
  const hostOf = new Map(report.points.map((p) => [p.name, p.host]));
  const losses = report.groups.flatMap((group) => group.losses.map((loss) => ({ group, loss })));
  if (losses.length === 0) {
    const packets = report.groups.reduce((sum, g) => sum + g.packets, 0);
    const groups = report.groups.length;
    return [`no loss: ${packets} packet${packets === 1 ? '' : 's'} in ${groups} group${groups === 1 ? '' : 's'}, each seen at every point on its path`];
  }
  if (losses.length <= MOST_LINES) {
    return losses.map(({ group, loss }) => {
      const flow = `${KIND_WORDS[group.kind]} ${group.flow}`;
      if (loss.stage === 'no-reply') {
        return `${loss.packets}/${loss.of} ${flow} reached ${loss.after} and no reply appeared at any point: no reply from ${group.flow.split(' > ')[1]}`;
      }
      const { where, verb } = placeOf(loss, hostOf);
      const as = loss.tunnel === null ? '' : ` as ${loss.tunnel}`;
      const what = loss.packets === loss.of
        ? `${loss.packets}/${loss.of} ${flow} reached ${loss.after}${as} and none ${verb} ${loss.before}`
        : `${loss.packets} of ${loss.of} ${flow} that reached ${loss.after}${as} never ${verb} ${loss.before}`;
      return `${what}: lost at ${loss.stage} ${where}${hintOf(loss)}`;
    });
  }
  const sums = new Map<string, { loss: LossReport; packets: number; of: number; flows: Set<string> }>();
  for (const { group, loss } of losses) {
    const key = `${loss.stage}|${loss.after}|${loss.before}|${hintOf(loss)}`;
    const sum = sums.get(key) ?? { loss, packets: 0, of: 0, flows: new Set<string>() };
    sum.packets += loss.packets;
    sum.of += loss.of;
    sum.flows.add(group.flow);
    sums.set(key, sum);
  }
  const ranked = [...sums.values()].sort((a, b) => b.packets - a.packets);
  const lines = ranked.slice(0, MOST_LINES).map(({ loss, packets, of, flows }) => {
    const flowsText = `${flows.size} flow${flows.size === 1 ? '' : 's'}`;
    if (loss.stage === 'no-reply') {
      return `${packets} of ${of} requests in ${flowsText} reached ${loss.after} and no reply appeared at any point: no reply`;
    }
    const { where, verb } = placeOf(loss, hostOf);
    return `${packets} of ${of} packets in ${flowsText} that reached ${loss.after} never ${verb} ${loss.before}: lost at ${loss.stage} ${where}${hintOf(loss)}`;
  });
  if (ranked.length > MOST_LINES) {
    const rest = ranked.slice(MOST_LINES).reduce((sum, r) => sum + r.packets, 0);
    lines.push(`and ${rest} packets lost in ${ranked.length - MOST_LINES} other places or stages (below)`);
  }
  return lines;
}
