// Findings that name a cause: ICMP errors about tunnel packets, requests that
// were never answered (ARP inside a VNI and for a remote VTEP, echo, SYN),
// VXLAN-GPE with next protocol 0; the findings are made in cause-findings.ts.
// The observer is handed every packet the aggregator counts and keeps only
// counters keyed by addresses, so parts of a file counted apart add up
// (absorb) to what one pass over the whole file holds.

import { ipLayerAddress } from '../../decoders/address.js';
import { isIpLayer as isIp } from '../../decoders/layers.js';
import type { ArpLayer, IcmpLayer, Icmpv6Layer, IpLayer, TcpLayer } from '../../decoders/layers.js';
import type { Layer, Packet, TunnelType } from '../../decoders/types.js';
import { AskTable, askKey, type AskEntry } from './ask-table.js';
import { tunnelHeader } from './packet-layers.js';

export type { AskEntry } from './ask-table.js';

/** An ICMP or ICMPv6 destination unreachable about one quoted flow. */
export interface UnreachableEntry {
  /**
   * `port`, `host` (host, net, no route, address unreachable), `prohibited`, or `mtu` (fragmentation
   * needed, packet too big: the `frag-needed` finding reports those; one-way names them).
   */
  what: 'port' | 'host' | 'prohibited' | 'mtu';
  /** The MTU an `mtu` error reports, else 0. */
  mtu: number;
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
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

interface Scope {
  type: TunnelType | null;
  id: number | null;
  outerSrc: string;
  outerDst: string;
}

const NO_SCOPE: Scope = { type: null, id: null, outerSrc: '', outerDst: '' };

export class CauseObserver {
  private readonly unreachable = new Map<string, UnreachableEntry>();
  private readonly asks = new AskTable();
  private readonly gpeZero = new Map<string, GpeZeroEntry>();
  dropped = 0;

  /** Counts what one packet tells; `bytes` are the record's. */
  see(bytes: Uint8Array, packet: Packet): void {
    const layers = packet.layers;
    const end = packet.quotedFrom ?? layers.length;
    for (let i = 0; i < end; i++) {
      const layer = layers[i];
      if (layer.proto === 'icmp' || layer.proto === 'icmpv6') this.icmp(bytes, packet, i, layer);
      else if (layer.proto === 'arp') this.arp(bytes, packet, i, layer);
      else if (layer.proto === 'tcp') this.tcp(bytes, packet, i, layer);
      else if (layer.proto === 'vxlan-gpe' && layer.nextProtocol === 0) this.gpe(bytes, layers, i);
    }
  }

  exportState(): CauseState {
    return {
      unreachable: [...this.unreachable.values()], asks: [...this.asks.entries], gpeZero: [...this.gpeZero.values()],
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
      let mine = this.asks.findLike(e);
      if (mine === null) {
        if (this.asksFull()) continue;
        mine = this.asks.addLike(e, { ...e, asked: 0, answered: 0 });
      }
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
    return [...this.asks.entries];
  }

  gpeZeroEntries(): GpeZeroEntry[] {
    return [...this.gpeZero.values()];
  }

  /** Whether the request table holds its most keys: a request not in it is counted in `dropped` only. */
  private asksFull(): boolean {
    if (this.asks.entries.length < MAX_KEYS) return false;
    this.dropped++;
    return true;
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

  private icmp(bytes: Uint8Array, packet: Packet, i: number, icmp: IcmpLayer | Icmpv6Layer): void {
    const layers = packet.layers;
    const v6 = icmp.proto === 'icmpv6';
    const type = icmp.type;
    const code = icmp.code;
    // A message cut before its code says nothing here (neither an echo's id nor a quoted packet was captured).
    if (type === undefined || code === undefined) return;
    const ip = ipBefore(layers, i);
    if (ip === null) return;
    const echoRequest = v6 ? 128 : 8;
    const echoReply = v6 ? 129 : 0;
    if ((type === echoRequest || type === echoReply) && icmp.id !== undefined) {
      this.askIp('echo', type === echoRequest, bytes, ip, icmp.id, packet, i);
      return;
    }
    const tooBig = v6 ? type === 2 : type === 3 && code === 4;
    const unreachable = tooBig || (v6 ? type === 1 : type === 3);
    const quotedFrom = packet.quotedFrom;
    if (!unreachable || quotedFrom === undefined || quotedFrom !== i + 1) return;
    const quoted = layers[quotedFrom];
    if (!isIp(quoted)) return;
    const what = tooBig ? 'mtu' : unreachableWhat(v6, code);
    if (what === null) return;
    const quotedSrc = ipLayerAddress(bytes, quoted, 'src') as string;
    const quotedDst = ipLayerAddress(bytes, quoted, 'dst') as string;
    const transport = layers[quotedFrom + 1];
    const port = transport !== undefined && (transport.proto === 'udp' || transport.proto === 'tcp')
      ? transport.dstPort ?? -1 : -1;
    let tunnelType: TunnelType | null = null;
    let tunnelId: number | null = null;
    for (let k = quotedFrom + 1; k < layers.length; k++) {
      const header = tunnelHeader(layers[k]);
      if (header !== null) {
        tunnelType = header.type;
        tunnelId = header.id;
        break;
      }
    }
    const e: UnreachableEntry = {
      what, mtu: tooBig ? icmp.mtu ?? 0 : 0,
      reporter: ipLayerAddress(bytes, ip, 'src') as string, quotedSrc, quotedDst, port, tunnelType, tunnelId, count: 0,
    };
    const entry = this.slot(this.unreachable, unreachableKey(e), () => e);
    if (entry !== null) entry.count++;
  }

  private arp(_bytes: Uint8Array, packet: Packet, i: number, arp: ArpLayer): void {
    if (arp.reverse === true || arp.senderIp === undefined || arp.targetIp === undefined) return;
    const sender = arp.senderIp;
    const target = arp.targetIp;
    // A gratuitous ARP or a probe asks no one.
    if (sender === target || sender === '0.0.0.0') return;
    if (arp.opcode === 1) this.ask('arp', true, sender, target, -1, scopeOf(_bytes, packet, i));
    else if (arp.opcode === 2) this.ask('arp', false, sender, target, -1, scopeOf(_bytes, packet, i));
  }

  private tcp(bytes: Uint8Array, packet: Packet, i: number, tcp: TcpLayer): void {
    const flags = tcp.flags;
    if (flags === undefined || (flags & (TCP_SYN | TCP_RST)) === 0) return;
    const ip = ipBefore(packet.layers, i);
    if (ip === null) return;
    // A SYN asks; a SYN-ACK or a reset from the other end answers. The ports come before the flags in the header.
    if ((flags & TCP_SYN) !== 0 && (flags & TCP_ACK) === 0) this.askIp('syn', true, bytes, ip, tcp.dstPort ?? -1, packet, i);
    else this.askIp('syn', false, bytes, ip, tcp.srcPort ?? -1, packet, i);
  }

  /**
   * ask() for a request or answer carried by IP layer `ip` (layer i of the
   * packet is the ICMP or TCP layer): found by the header's address words, the
   * text of its addresses and tunnel made only for a new entry.
   */
  private askIp(kind: 'echo' | 'syn', asking: boolean, bytes: Uint8Array, ip: IpLayer, port: number, packet: Packet, i: number): void {
    // A header decoded without detail holds '' for its addresses, with detail their text: either way they are whole.
    if (typeof ip.src !== 'string' || typeof ip.dst !== 'string') {
      const src = ipLayerAddress(bytes, ip, 'src') as string;
      const dst = ipLayerAddress(bytes, ip, 'dst') as string;
      this.ask(kind, asking, src, dst, port, scopeOf(bytes, packet, i));
      return;
    }
    const asks = this.asks;
    asks.writeIpKey(kind, asking, bytes, ip, port);
    let entry = asks.findIp();
    let scope: Scope | null = null;
    if (entry === null) {
      if (this.asksFull()) return;
      scope = scopeOf(bytes, packet, i);
      const src = ipLayerAddress(bytes, ip, 'src') as string;
      const dst = ipLayerAddress(bytes, ip, 'dst') as string;
      entry = asks.addIp({
        kind, src: asking ? src : dst, dst: asking ? dst : src, tunnelType: scope.type, tunnelId: scope.id, outerSrc: '', outerDst: '',
        port, asked: 0, answered: 0,
      });
    }
    if (!asking) {
      entry.answered++;
      return;
    }
    entry.asked++;
    if (entry.outerSrc === '') setScope(entry, scope ?? scopeOf(bytes, packet, i));
  }

  private gpe(bytes: Uint8Array, layers: Layer[], i: number): void {
    const udp = layers[i - 1];
    const ip = ipBefore(layers, i);
    if (udp === undefined || udp.proto !== 'udp' || ip === null) return;
    const e: GpeZeroEntry = {
      src: ipLayerAddress(bytes, ip, 'src') as string, dst: ipLayerAddress(bytes, ip, 'dst') as string,
      port: udp.dstPort ?? -1, count: 0,
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
    const key = askKey(kind, from, to, port, type, id);
    let entry = this.asks.findText(key);
    if (entry === null) {
      if (this.asksFull()) return;
      entry = this.asks.addText(key, {
        kind, src: from, dst: to, tunnelType: scope.type, tunnelId: scope.id, outerSrc: '', outerDst: '', port, asked: 0, answered: 0,
      });
    }
    if (asking) {
      entry.asked++;
      if (entry.outerSrc === '') setScope(entry, scope);
    } else {
      entry.answered++;
    }
  }
}

/** The tunnel a request travels in, from the first request of its entry that names its outer ends. */
function setScope(entry: AskEntry, scope: Scope): void {
  entry.tunnelType = scope.type;
  entry.tunnelId = scope.id;
  entry.outerSrc = scope.outerSrc;
  entry.outerDst = scope.outerDst;
}

function unreachableKey(e: UnreachableEntry): string {
  return `${e.what}|${e.mtu}|${e.reporter}|${e.quotedSrc}|${e.quotedDst}|${e.port}|${e.tunnelType}|${e.tunnelId}`;
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

function ipBefore(layers: Layer[], i: number): IpLayer | null {
  for (let k = i - 1; k >= 0; k--) {
    const layer = layers[k];
    if (isIp(layer)) return layer;
  }
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
