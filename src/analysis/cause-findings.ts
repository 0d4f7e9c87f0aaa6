// The findings that name a cause, from what CauseObserver counted and the
// aggregator's tunnel rows, and the causes a one-way finding lists.

import type { TunnelType } from '../../decoders/types.js';
import type { AskEntry, CauseObserver, UnreachableEntry } from './causes.js';
import type { TunnelEntry } from './entries.js';
import { tunnelName, tunnelTitle } from './labels.js';
import type { Finding } from './report.js';

/** UDP ports of tunnels (IANA's VXLAN, VXLAN-GPE and Geneve, Linux's VXLAN). */
const TUNNEL_PORTS = new Set([4789, 4790, 6081, 8472]);

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

function isVniTunnel(type: string): boolean {
  return type === 'vxlan' || type === 'vxlan-gpe' || type === 'geneve';
}

/** What the findings need of the aggregator's tunnel rows. */
export interface CauseRows {
  entries: readonly TunnelEntry[];
  tunnelIndex: Map<TunnelEntry, number>;
}

/** The rows by their ends, `src|dst`, each list in the rows' order: tens of thousands of requests may look theirs up. */
function rowsByEnds(rows: CauseRows): Map<string, TunnelEntry[]> {
  const byEnds = new Map<string, TunnelEntry[]>();
  for (const entry of rows.entries) listAdd(byEnds, `${entry.src}|${entry.dst}`, entry);
  return byEnds;
}

/** The first row from src to dst (of this type and id, where given). */
function tunnelRowOf(
  rows: CauseRows, byEnds: Map<string, TunnelEntry[]>, src: string, dst: string, type: TunnelType | null, id: number | null,
): number | undefined {
  for (const entry of byEnds.get(`${src}|${dst}`) ?? []) {
    if ((type === null || entry.type === type) && (id === null || entry.id === id)) return rows.tunnelIndex.get(entry);
  }
  return undefined;
}

/** Pairs of one-way VNI tunnels between two ends whose VNIs never meet: each end drops the other's. */
function vniMismatches(rows: CauseRows): { there: TunnelEntry[]; back: TunnelEntry[] }[] {
  const byEnds = new Map<string, TunnelEntry[]>();
  for (const entry of rows.entries) {
    if (!isVniTunnel(entry.type)) continue;
    listAdd(byEnds, `${entry.type}|${entry.src}|${entry.dst}`, entry);
  }
  const out: { there: TunnelEntry[]; back: TunnelEntry[] }[] = [];
  for (const [key, there] of byEnds) {
    const [type, src, dst] = key.split('|');
    if (src >= dst) continue;
    const back = byEnds.get(`${type}|${dst}|${src}`);
    if (back === undefined) continue;
    const ids = new Set(there.map((e) => e.id));
    if (back.some((e) => ids.has(e.id))) continue;
    out.push({ there, back });
  }
  return out;
}

function ids(entries: TunnelEntry[]): string {
  return entries.map((e) => e.id).join(', ');
}

/** The findings that name a cause, appended to `out`. */
export function causeFindings(causes: CauseObserver, rows: CauseRows, out: Finding[]): void {
  const byEnds = rowsByEnds(rows);
  for (const { there, back } of vniMismatches(rows)) {
    const a = there[0];
    out.push({
      kind: 'vni-mismatch',
      severity: 'error',
      tunnel: rows.tunnelIndex.get(a),
      message: `${a.type} between ${a.src} and ${a.dst}: ${a.src} sends VNI ${ids(there)} and ${a.dst} sends VNI `
        + `${ids(back)}, each one way only: the two VTEPs are configured with different VNIs, and each drops what the other `
        + 'sends. Give both ends the same VNI.',
      figures: { vni: there[0].id ?? 0, otherVni: back[0].id ?? 0, packets: there.reduce((n, e) => n + e.packets, 0), otherPackets: back.reduce((n, e) => n + e.packets, 0) },
    });
  }
  for (const e of causes.unreachableEntries()) {
    // Fragmentation needed and packet too big have their own finding, frag-needed.
    if (e.what === 'mtu') continue;
    const tunnelPort = e.port >= 0 && (e.tunnelType !== null || TUNNEL_PORTS.has(e.port));
    if (e.tunnelType === null && !tunnelPort) continue;
    const what = e.tunnelType === null ? `UDP port ${e.port} packets` : `${tunnelName(e.tunnelType, e.tunnelId)} packets`;
    const tunnel = tunnelRowOf(rows, byEnds, e.quotedSrc, e.quotedDst, e.tunnelType, e.tunnelId);
    const figures: Record<string, number> = { messages: e.count };
    if (e.port >= 0) figures.port = e.port;
    if (e.what === 'port') {
      out.push({
        kind: 'tunnel-port-unreachable',
        severity: 'error',
        tunnel,
        message: `${e.reporter} answered ${e.quotedSrc}'s ${what} to UDP ${e.port} with ICMP port unreachable `
          + `(${plural(e.count, 'message')}): nothing listens on ${e.port} at ${e.quotedDst}: a dstport mismatch, the far end's `
          + 'tunnel device listens on another port (IANA 4789 for VXLAN, Linux\'s default 8472). Set the same port on both ends.',
        figures,
      });
    } else if (e.what === 'host') {
      out.push({
        kind: 'vtep-unreachable',
        severity: 'error',
        tunnel,
        message: `${e.reporter} reported ${e.quotedDst} unreachable for ${e.quotedSrc}'s ${what} (${plural(e.count, 'message')}): `
          + `the remote VTEP ${e.quotedDst} is the wrong address or is down. Check the tunnel's remote (or its fdb entries) on ${e.quotedSrc}.`,
        figures,
      });
    } else {
      out.push({
        kind: 'tunnel-prohibited',
        severity: 'error',
        tunnel,
        message: `${e.reporter} reported ${e.quotedSrc}'s ${what} to ${e.quotedDst} administratively prohibited `
          + `(${plural(e.count, 'message')}): a firewall drops the tunnel traffic. Allow it there.`,
        figures,
      });
    }
  }
  const vteps = new Set(rows.entries.filter((e) => e.type !== 'none' && e.type !== 'overflow').map((e) => e.dst));
  for (const a of causes.askEntries()) {
    if (a.asked === 0 || a.answered > 0) continue;
    if (a.kind === 'arp' && a.tunnelType === null) {
      if (!vteps.has(a.dst)) continue;
      out.push({
        kind: 'vtep-arp-unanswered',
        severity: 'error',
        message: `${plural(a.asked, 'ARP request')} from ${a.src} for ${a.dst}, a remote VTEP, none answered: `
          + `${a.dst} is the wrong address or is down. Check the tunnel's remote on ${a.src}.`,
        figures: { requests: a.asked },
      });
      continue;
    }
    const where = a.tunnelType === null ? '' : ` in ${tunnelName(a.tunnelType, a.tunnelId)}`
      + (a.outerSrc === '' ? '' : ` ${a.outerSrc} → ${a.outerDst}`);
    const tunnel = a.tunnelType === null ? undefined : tunnelRowOf(rows, byEnds, a.outerSrc, a.outerDst, a.tunnelType, a.tunnelId);
    if (a.kind === 'arp') {
      out.push({
        kind: 'arp-unanswered',
        severity: 'warning',
        tunnel,
        message: `${plural(a.asked, 'ARP request')} from ${a.src} for ${a.dst}${where}, none answered: the other end does not `
          + `receive them in this ${a.tunnelType === 'vxlan' || a.tunnelType === 'vxlan-gpe' || a.tunnelType === 'geneve' ? 'VNI' : 'tunnel'} `
          + '(a VNI or port mismatch, a wrong remote) or has no such address.',
        figures: { requests: a.asked },
      });
    } else if (a.kind === 'echo') {
      out.push({
        kind: 'echo-unanswered',
        severity: 'warning',
        tunnel,
        message: `${plural(a.asked, 'echo request')} from ${a.src} to ${a.dst}${where}, no reply seen.`,
        figures: { requests: a.asked },
      });
    } else {
      out.push({
        kind: 'syn-unanswered',
        severity: 'warning',
        tunnel,
        message: `${plural(a.asked, 'SYN')} from ${a.src} to ${a.dst} port ${a.port}${where}, neither SYN-ACK nor reset seen.`,
        figures: { syns: a.asked, port: a.port },
      });
    }
  }
  for (const g of causes.gpeZeroEntries()) {
    out.push({
      kind: 'vxlan-gpe-next-protocol-0',
      severity: 'warning',
      tunnel: tunnelRowOf(rows, byEnds, g.src, g.dst, 'vxlan-gpe', null),
      message: `${plural(g.count, 'VXLAN-GPE packet')} ${g.src} → ${g.dst} on UDP ${g.port} with next protocol 0, which names `
        + `no protocol: probably plain VXLAN sent to ${g.port}: use --decode-as udp:${g.port}=vxlan.`,
      figures: { packets: g.count, port: g.port },
    });
  }
}

/**
 * What oneWayCauses() reads, indexed once by the ends of a tunnel: a report
 * may hold hundreds of one-way tunnels and tens of thousands of requests.
 */
export class OneWayIndex {
  readonly mismatches: { there: TunnelEntry[]; back: TunnelEntry[] }[];
  /** ICMP errors by the quoted packet's `src|dst`. */
  readonly unreachable = new Map<string, UnreachableEntry[]>();
  /** `src|dst` of plain ARP requests none of which was answered. */
  readonly arpUnanswered = new Set<string>();
  /** Requests inside tunnels none of which was answered, by the tunnel's outer `src|dst`. */
  readonly unansweredInside = new Map<string, AskEntry[]>();
  /** Tunnel rows by their source address. */
  readonly bySrc = new Map<string, TunnelEntry[]>();

  constructor(causes: CauseObserver, rows: CauseRows) {
    this.mismatches = vniMismatches(rows);
    for (const e of causes.unreachableEntries()) listAdd(this.unreachable, `${e.quotedSrc}|${e.quotedDst}`, e);
    for (const a of causes.askEntries()) {
      if (a.asked === 0 || a.answered > 0) continue;
      if (a.kind === 'arp' && a.tunnelType === null) this.arpUnanswered.add(`${a.src}|${a.dst}`);
      if (a.outerSrc !== '') listAdd(this.unansweredInside, `${a.outerSrc}|${a.outerDst}`, a);
    }
    for (const entry of rows.entries) listAdd(this.bySrc, entry.src, entry);
  }
}

function listAdd<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/**
 * Why a tunnel from entry.src to entry.dst may have no return traffic, from
 * what the capture holds: an empty list when it holds nothing that tells.
 */
export function oneWayCauses(
  causes: CauseObserver, rows: CauseRows, entry: TunnelEntry, index = new OneWayIndex(causes, rows),
): string[] {
  const out: string[] = [];
  const { src, dst } = entry;
  for (const { there, back } of index.mismatches) {
    const pair = there.includes(entry) ? back : back.includes(entry) ? there : null;
    if (pair !== null) out.push(`${dst} sends back with VNI ${ids(pair)}, not ${entry.id} (vni-mismatch)`);
  }
  for (const e of index.unreachable.get(`${src}|${dst}`) ?? []) {
    if (e.what === 'port') out.push(`${e.reporter} answers UDP ${e.port} with port unreachable: a dstport mismatch (tunnel-port-unreachable)`);
    else if (e.what === 'host') out.push(`${e.reporter} reports ${dst} unreachable: a wrong remote or a VTEP down (vtep-unreachable)`);
    else if (e.what === 'mtu') out.push(`${e.reporter} reports the packets too big for its MTU of ${e.mtu} (frag-needed)`);
    else out.push(`${e.reporter} reports the traffic administratively prohibited (tunnel-prohibited)`);
  }
  if (index.arpUnanswered.has(`${src}|${dst}`)) {
    out.push(`${dst} does not answer ARP: a wrong remote or a VTEP down (vtep-arp-unanswered)`);
  }
  for (const a of index.unansweredInside.get(`${src}|${dst}`) ?? []) {
    if (a.tunnelType !== entry.type || a.tunnelId !== entry.id) continue;
    const what = a.kind === 'arp' ? 'ARP request' : a.kind === 'echo' ? 'echo request' : 'SYN';
    out.push(`${plural(a.asked, what)} from ${a.src} to ${a.dst} inside it ${a.asked === 1 ? 'goes' : 'go'} unanswered `
      + `(${a.kind}-unanswered)`);
  }
  // The far end sends this tunnel's traffic only to endpoints that never send back: its remote is wrong.
  const same = (other: TunnelEntry) => other.type === entry.type && (!isVniTunnel(entry.type) || other.id === entry.id);
  const elsewhere = new Set<string>();
  for (const other of index.bySrc.get(dst) ?? []) {
    if (other.dst === src || !same(other)) continue;
    if ((index.bySrc.get(other.dst) ?? []).some((e) => e.dst === dst && same(e))) continue;
    elsewhere.add(other.dst);
  }
  if (elsewhere.size > 0) {
    out.push(`${dst} sends its ${tunnelName(entry.type as TunnelType, entry.id)} traffic to ${[...elsewhere].join(', ')} instead: `
      + `its remote for ${src} is wrong`);
  }
  // Errors about one flow may be keyed apart (a quote long enough to show the tunnel, one that is not).
  return [...new Set(out)];
}

/** Each `one-way` finding in `out` whose tunnel the capture tells a cause for names it instead of the capture point. */
export function explainOneWay(causes: CauseObserver, rows: CauseRows, out: Finding[]): void {
  let index: OneWayIndex | null = null;
  for (const finding of out) {
    if (finding.kind !== 'one-way' || finding.tunnel === undefined) continue;
    const entry = rows.entries[finding.tunnel];
    index ??= new OneWayIndex(causes, rows);
    const found = oneWayCauses(causes, rows, entry, index);
    if (found.length === 0) continue;
    finding.message = `${tunnelTitle(entry)}: seen in one direction only (${plural(entry.packets, 'packet')}, none from `
      + `${entry.dst} to ${entry.src}): ${found.join('; ')}.`;
    finding.figures.causes = found.length;
  }
}
