// Findings that name a cause: ICMP errors about tunnel packets, requests that
// were never answered (ARP inside a VNI and for a remote VTEP, echo, SYN),
// VXLAN-GPE with next protocol 0, and two VTEPs talking with different VNIs.
// The observer is handed every packet the aggregator counts and keeps only
// counters keyed by addresses, so parts of a file counted apart add up
// (absorb) to what one pass over the whole file holds.

import { ipLayerAddress } from '../../decoders/address.js';
import type { Layer, Packet, TunnelType } from '../../decoders/types.js';
import type { TunnelEntry } from './entries.js';
import { tunnelName, tunnelTitle } from './labels.js';
import type { Finding } from './report.js';

/** An ICMP or ICMPv6 destination unreachable about one quoted flow. */
export interface UnreachableEntry {
  /** `port`, `host` (host, net, no route, address unreachable) or `prohibited`. */
  what: 'port' | 'host' | 'prohibited';
  reporter: string;
  quotedSrc: string;
  quotedDst: string;
  /** The quoted UDP or TCP destination port, or -1. */
  port: number;
  /** The tunnel the quoted packet carries (type and id), or null. */
  tunnelType: TunnelType | null;
  tunnelId: number | null;
  count: number;
}

/** Requests of one kind between two addresses and how many were answered. */
export interface AskEntry {
  kind: 'arp' | 'echo' | 'syn';
  src: string;
  dst: string;
  /** The innermost tunnel the requests travel in (type, id, outer ends), or null outside tunnels. */
  tunnelType: TunnelType | null;
  tunnelId: number | null;
  outerSrc: string;
  outerDst: string;
  /** The TCP destination port of a SYN, else -1. */
  port: number;
  asked: number;
  answered: number;
}

export interface GpeZeroEntry {
  src: string;
  dst: string;
  port: number;
  count: number;
}

/** What a part hands to absorb(): plain arrays, as a worker thread's message copies them. */
export interface CauseState {
  unreachable: UnreachableEntry[];
  asks: AskEntry[];
  gpeZero: GpeZeroEntry[];
  dropped: number;
}

/** Most keys each table holds; further ones are counted in `dropped` only. */
const MAX_KEYS = 50_000;
const TUNNEL_PROTOS = new Set(['vxlan', 'vxlan-gpe', 'geneve', 'gre']);
/** UDP ports of tunnels (IANA's VXLAN, VXLAN-GPE and Geneve, Linux's VXLAN). */
const TUNNEL_PORTS = new Set([4789, 4790, 6081, 8472]);
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

function isIp(layer: Layer): boolean {
  return layer.proto === 'ipv4' || layer.proto === 'ipv6';
}

interface Scope {
  type: TunnelType | null;
  id: number | null;
  outerSrc: string;
  outerDst: string;
}

const NO_SCOPE: Scope = { type: null, id: null, outerSrc: '', outerDst: '' };

export class CauseObserver {
  private readonly unreachable = new Map<string, UnreachableEntry>();
  private readonly asks = new Map<string, AskEntry>();
  private readonly gpeZero = new Map<string, GpeZeroEntry>();
  dropped = 0;

  /** Counts what one packet tells; `bytes` are the record's. */
  see(bytes: Uint8Array, packet: Packet): void {
    const layers = packet.layers;
    const end = packet.quotedFrom ?? layers.length;
    for (let i = 0; i < end; i++) {
      const proto = layers[i].proto;
      if (proto === 'icmp' || proto === 'icmpv6') this.icmp(bytes, packet, i);
      else if (proto === 'arp') this.arp(bytes, packet, i);
      else if (proto === 'tcp') this.tcp(bytes, packet, i);
      else if (proto === 'vxlan-gpe' && layers[i].nextProtocol === 0) this.gpe(bytes, layers, i);
    }
  }

  exportState(): CauseState {
    return {
      unreachable: [...this.unreachable.values()], asks: [...this.asks.values()], gpeZero: [...this.gpeZero.values()],
      dropped: this.dropped,
    };
  }

  /** Adds a part's counters: matching is by counts, so the order of parts does not matter. */
  absorb(state: CauseState): void {
    this.dropped += state.dropped;
    for (const e of state.unreachable) {
      const mine = this.slot(this.unreachable, unreachableKey(e), () => ({ ...e, count: 0 }));
      if (mine !== null) mine.count += e.count;
    }
    for (const e of state.asks) {
      const arp = e.kind === 'arp';
      const key = askKey(e.kind, e.src, e.dst, e.port, arp ? e.tunnelType : null, arp ? e.tunnelId : null);
      const mine = this.slot(this.asks, key, () => ({ ...e, asked: 0, answered: 0 }));
      if (mine === null) continue;
      if (mine.outerSrc === '' && e.outerSrc !== '') Object.assign(mine, { outerSrc: e.outerSrc, outerDst: e.outerDst });
      mine.asked += e.asked;
      mine.answered += e.answered;
    }
    for (const e of state.gpeZero) {
      const mine = this.slot(this.gpeZero, `${e.src}|${e.dst}|${e.port}`, () => ({ ...e, count: 0 }));
      if (mine !== null) mine.count += e.count;
    }
  }

  unreachableEntries(): UnreachableEntry[] {
    return [...this.unreachable.values()];
  }

  askEntries(): AskEntry[] {
    return [...this.asks.values()];
  }

  gpeZeroEntries(): GpeZeroEntry[] {
    return [...this.gpeZero.values()];
  }

  private slot<T>(map: Map<string, T>, key: string, make: () => T): T | null {
    let entry = map.get(key);
    if (entry === undefined) {
      if (map.size >= MAX_KEYS) {
        this.dropped++;
        return null;
      }
      entry = make();
      map.set(key, entry);
    }
    return entry;
  }

  private icmp(bytes: Uint8Array, packet: Packet, i: number): void {
    const layers = packet.layers;
    const icmp = layers[i];
    const v6 = icmp.proto === 'icmpv6';
    const type = icmp.type as number;
    const code = icmp.code as number;
    const ip = ipBefore(layers, i);
    if (ip === null) return;
    const echoRequest = v6 ? 128 : 8;
    const echoReply = v6 ? 129 : 0;
    if ((type === echoRequest || type === echoReply) && typeof icmp.id === 'number') {
      const src = ipLayerAddress(bytes, ip, 'src') as string;
      const dst = ipLayerAddress(bytes, ip, 'dst') as string;
      this.ask('echo', type === echoRequest, src, dst, icmp.id, scopeOf(bytes, packet, i));
      return;
    }
    const unreachable = v6 ? type === 1 : type === 3;
    const quotedFrom = packet.quotedFrom;
    if (!unreachable || quotedFrom === undefined || quotedFrom !== i + 1 || !isIp(layers[quotedFrom])) return;
    const what = unreachableWhat(v6, code);
    if (what === null) return;
    const quoted = layers[quotedFrom];
    const quotedSrc = ipLayerAddress(bytes, quoted, 'src') as string;
    const quotedDst = ipLayerAddress(bytes, quoted, 'dst') as string;
    const transport = layers[quotedFrom + 1];
    const port = transport !== undefined && (transport.proto === 'udp' || transport.proto === 'tcp')
      && typeof transport.dstPort === 'number' ? transport.dstPort : -1;
    let tunnelType: TunnelType | null = null;
    let tunnelId: number | null = null;
    for (let k = quotedFrom + 1; k < layers.length; k++) {
      if (TUNNEL_PROTOS.has(layers[k].proto)) {
        tunnelType = layers[k].proto as TunnelType;
        tunnelId = typeof layers[k].vni === 'number' ? layers[k].vni as number
          : typeof layers[k].key === 'number' ? layers[k].key as number : null;
        break;
      }
    }
    const e: UnreachableEntry = {
      what, reporter: ipLayerAddress(bytes, ip, 'src') as string, quotedSrc, quotedDst, port, tunnelType, tunnelId, count: 0,
    };
    const entry = this.slot(this.unreachable, unreachableKey(e), () => e);
    if (entry !== null) entry.count++;
  }

  private arp(_bytes: Uint8Array, packet: Packet, i: number): void {
    const arp = packet.layers[i];
    if (arp.reverse === true || typeof arp.senderIp !== 'string' || typeof arp.targetIp !== 'string') return;
    const sender = arp.senderIp;
    const target = arp.targetIp;
    // A gratuitous ARP or a probe asks no one.
    if (sender === target || sender === '0.0.0.0') return;
    if (arp.opcode === 1) this.ask('arp', true, sender, target, -1, scopeOf(_bytes, packet, i));
    else if (arp.opcode === 2) this.ask('arp', false, sender, target, -1, scopeOf(_bytes, packet, i));
  }

  private tcp(bytes: Uint8Array, packet: Packet, i: number): void {
    const tcp = packet.layers[i];
    const flags = tcp.flags;
    if (typeof flags !== 'number' || (flags & (TCP_SYN | TCP_RST)) === 0) return;
    const ip = ipBefore(packet.layers, i);
    if (ip === null) return;
    const src = ipLayerAddress(bytes, ip, 'src') as string;
    const dst = ipLayerAddress(bytes, ip, 'dst') as string;
    const scope = scopeOf(bytes, packet, i);
    // A SYN asks; a SYN-ACK or a reset from the other end answers.
    if ((flags & TCP_SYN) !== 0 && (flags & TCP_ACK) === 0) this.ask('syn', true, src, dst, tcp.dstPort as number, scope);
    else this.ask('syn', false, src, dst, tcp.srcPort as number, scope);
  }

  private gpe(bytes: Uint8Array, layers: Layer[], i: number): void {
    const udp = layers[i - 1];
    const ip = ipBefore(layers, i);
    if (udp === undefined || udp.proto !== 'udp' || ip === null) return;
    const e: GpeZeroEntry = {
      src: ipLayerAddress(bytes, ip, 'src') as string, dst: ipLayerAddress(bytes, ip, 'dst') as string,
      port: udp.dstPort as number, count: 0,
    };
    const entry = this.slot(this.gpeZero, `${e.src}|${e.dst}|${e.port}`, () => e);
    if (entry !== null) entry.count++;
  }

  /** A request from src to dst, or (asking false) an answer from src to dst to a request dst made of src. */
  private ask(kind: AskEntry['kind'], asking: boolean, src: string, dst: string, port: number, scope: Scope): void {
    const from = asking ? src : dst;
    const to = asking ? dst : src;
    // ARP is matched inside its VNI: a reply in another VNI answers nothing.
    const type = kind === 'arp' ? scope.type : null;
    const id = kind === 'arp' ? scope.id : null;
    const entry = this.slot(this.asks, askKey(kind, from, to, port, type, id), () => ({
      kind, src: from, dst: to, tunnelType: scope.type, tunnelId: scope.id, outerSrc: '', outerDst: '', port, asked: 0, answered: 0,
    }));
    if (entry === null) return;
    if (asking) {
      entry.asked++;
      if (entry.outerSrc === '') Object.assign(entry, { tunnelType: scope.type, tunnelId: scope.id, outerSrc: scope.outerSrc, outerDst: scope.outerDst });
    } else {
      entry.answered++;
    }
  }
}

function unreachableKey(e: UnreachableEntry): string {
  return `${e.what}|${e.reporter}|${e.quotedSrc}|${e.quotedDst}|${e.port}|${e.tunnelType}|${e.tunnelId}`;
}

function askKey(kind: string, src: string, dst: string, port: number, type: TunnelType | null, id: number | null): string {
  return `${kind}|${src}|${dst}|${port}|${type}|${id}`;
}

/** ICMP (RFC 792, RFC 1812 5.2.7.1) and ICMPv6 (RFC 4443 3.1) destination unreachable codes, grouped by cause. */
function unreachableWhat(v6: boolean, code: number): UnreachableEntry['what'] | null {
  if (v6) {
    if (code === 4) return 'port';
    if (code === 0 || code === 3) return 'host';
    if (code === 1 || code === 5 || code === 6) return 'prohibited';
    return null;
  }
  if (code === 3) return 'port';
  if (code === 0 || code === 1 || code === 6 || code === 7) return 'host';
  if (code === 9 || code === 10 || code === 13) return 'prohibited';
  return null;
}

function ipBefore(layers: Layer[], i: number): Layer | null {
  for (let k = i - 1; k >= 0; k--) if (isIp(layers[k])) return layers[k];
  return null;
}

/** The innermost tunnel around layer i, with its outer addresses. */
function scopeOf(bytes: Uint8Array, packet: Packet, i: number): Scope {
  const tunnels = packet.tunnels;
  for (let k = tunnels.length - 1; k >= 0; k--) {
    const tunnel = tunnels[k];
    if (tunnel.layer > i) continue;
    const carrier = ipBefore(packet.layers, tunnel.layer);
    if (carrier === null) return { type: tunnel.type, id: tunnel.id, outerSrc: '', outerDst: '' };
    return {
      type: tunnel.type, id: tunnel.id,
      outerSrc: ipLayerAddress(bytes, carrier, 'src') as string, outerDst: ipLayerAddress(bytes, carrier, 'dst') as string,
    };
  }
  return NO_SCOPE;
}

// ---------------------------------------------------------------- findings

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

function tunnelRowOf(rows: CauseRows, src: string, dst: string, type: TunnelType | null, id: number | null): number | undefined {
  for (const entry of rows.entries) {
    if (entry.src === src && entry.dst === dst && (type === null || entry.type === type) && (id === null || entry.id === id)) {
      return rows.tunnelIndex.get(entry);
    }
  }
  return undefined;
}

/** Pairs of one-way VNI tunnels between two ends whose VNIs never meet: each end drops the other's. */
function vniMismatches(rows: CauseRows): { there: TunnelEntry[]; back: TunnelEntry[] }[] {
  const byEnds = new Map<string, TunnelEntry[]>();
  for (const entry of rows.entries) {
    if (!isVniTunnel(entry.type)) continue;
    const key = `${entry.type}|${entry.src}|${entry.dst}`;
    const list = byEnds.get(key);
    if (list === undefined) byEnds.set(key, [entry]);
    else list.push(entry);
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
    const tunnelPort = e.port >= 0 && (e.tunnelType !== null || TUNNEL_PORTS.has(e.port));
    if (e.tunnelType === null && !tunnelPort) continue;
    const what = e.tunnelType === null ? `UDP port ${e.port} packets` : `${tunnelName(e.tunnelType, e.tunnelId)} packets`;
    const tunnel = tunnelRowOf(rows, e.quotedSrc, e.quotedDst, e.tunnelType, e.tunnelId);
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
    const tunnel = a.tunnelType === null ? undefined : tunnelRowOf(rows, a.outerSrc, a.outerDst, a.tunnelType, a.tunnelId);
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
      tunnel: tunnelRowOf(rows, g.src, g.dst, 'vxlan-gpe', null),
      message: `${plural(g.count, 'VXLAN-GPE packet')} ${g.src} → ${g.dst} on UDP ${g.port} with next protocol 0, which names `
        + `no protocol: probably plain VXLAN sent to ${g.port}: use --decode-as udp:${g.port}=vxlan.`,
      figures: { packets: g.count, port: g.port },
    });
  }
}

/**
 * Why a tunnel from entry.src to entry.dst may have no return traffic, from
 * what the capture holds: an empty list when it holds nothing that tells.
 */
export function oneWayCauses(causes: CauseObserver, rows: CauseRows, entry: TunnelEntry): string[] {
  const out: string[] = [];
  const { src, dst } = entry;
  for (const { there, back } of vniMismatches(rows)) {
    const pair = there.includes(entry) ? back : back.includes(entry) ? there : null;
    if (pair !== null) out.push(`${dst} sends back with VNI ${ids(pair)}, not ${entry.id} (vni-mismatch)`);
  }
  for (const e of causes.unreachableEntries()) {
    if (e.quotedSrc !== src || e.quotedDst !== dst) continue;
    if (e.what === 'port') out.push(`${e.reporter} answers UDP ${e.port} with port unreachable: a dstport mismatch (tunnel-port-unreachable)`);
    else if (e.what === 'host') out.push(`${e.reporter} reports ${dst} unreachable: a wrong remote or a VTEP down (vtep-unreachable)`);
    else out.push(`${e.reporter} reports the traffic administratively prohibited (tunnel-prohibited)`);
  }
  for (const a of causes.askEntries()) {
    if (a.kind === 'arp' && a.tunnelType === null && a.src === src && a.dst === dst && a.asked > 0 && a.answered === 0) {
      out.push(`${dst} does not answer ARP: a wrong remote or a VTEP down (vtep-arp-unanswered)`);
    }
  }
  for (const a of causes.askEntries()) {
    if (a.outerSrc !== src || a.outerDst !== dst || a.asked === 0 || a.answered > 0) continue;
    if (a.tunnelType !== entry.type || a.tunnelId !== entry.id) continue;
    const what = a.kind === 'arp' ? 'ARP request' : a.kind === 'echo' ? 'echo request' : 'SYN';
    out.push(`${plural(a.asked, what)} from ${a.src} to ${a.dst} inside it ${a.asked === 1 ? 'goes' : 'go'} unanswered `
      + `(${a.kind}-unanswered)`);
  }
  // The far end sends this tunnel's traffic only to endpoints that never send back: its remote is wrong.
  const same = (other: TunnelEntry) => other.type === entry.type && (!isVniTunnel(entry.type) || other.id === entry.id);
  const elsewhere = new Set<string>();
  for (const other of rows.entries) {
    if (other.src !== dst || other.dst === src || !same(other)) continue;
    if (rows.entries.some((e) => e.src === other.dst && e.dst === dst && same(e))) continue;
    elsewhere.add(other.dst);
  }
  if (elsewhere.size > 0) {
    out.push(`${dst} sends its ${tunnelName(entry.type as TunnelType, entry.id)} traffic to ${[...elsewhere].join(', ')} instead: `
      + `its remote for ${src} is wrong`);
  }
  return out;
}

/** Each `one-way` finding in `out` whose tunnel the capture tells a cause for names it instead of the capture point. */
export function explainOneWay(causes: CauseObserver, rows: CauseRows, out: Finding[]): void {
  for (const finding of out) {
    if (finding.kind !== 'one-way' || finding.tunnel === undefined) continue;
    const entry = rows.entries[finding.tunnel];
    const found = oneWayCauses(causes, rows, entry);
    if (found.length === 0) continue;
    finding.message = `${tunnelTitle(entry)}: seen in one direction only (${plural(entry.packets, 'packet')}, none from `
      + `${entry.dst} to ${entry.src}): ${found.join('; ')}.`;
    finding.figures.causes = found.length;
  }
}
