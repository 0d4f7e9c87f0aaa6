// The IPFIX flow cache: one entry per inner flow (its 5-tuple and the tunnel
// it travelled in), read from each decoded packet, handed out as a flow record
// when it ends — idle for the idle timeout, open for the active timeout, the
// cache full, or the capture over.

import { isIpLayer } from '../../decoders/layers.js';
import type { IpLayer } from '../../decoders/layers.js';
import type { Layer, Packet, Tunnel, TunnelType } from '../../decoders/types.js';
import type { CaptureRecord } from '../sources/record.js';
import {
  END_ACTIVE, END_FORCED, END_IDLE, END_RESOURCES, OVS_TUNNEL_GENEVE, OVS_TUNNEL_GRE, OVS_TUNNEL_UNKNOWN, OVS_TUNNEL_VXLAN,
  layer2SegmentId, type FlowRecord, type FlowTunnel,
} from './ipfix.js';

export const ACTIVE_TIMEOUT_MS = 60_000;
export const IDLE_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_CACHED_FLOWS = 100_000;

export interface FlowCacheOptions {
  /** Infinity: a flow is never cut for being long (a file's flows, exported once). */
  activeMs?: number;
  idleMs?: number;
  maxFlows?: number;
}

const OVS_TYPES: Partial<Record<TunnelType, number>> = {
  vxlan: OVS_TUNNEL_VXLAN, gre: OVS_TUNNEL_GRE, gretap: OVS_TUNNEL_GRE, erspan: OVS_TUNNEL_GRE, geneve: OVS_TUNNEL_GENEVE,
};
/** The type byte of layer2SegmentId: only VXLAN and GRE have one. */
const SEGMENT_TYPES: Partial<Record<TunnelType, number>> = { vxlan: 0x01, gre: 0x02, gretap: 0x02 };

const TCP = 6;
const ICMP = 1;
const ICMPV6 = 58;

/** The source and destination address bytes of an IP layer, copied; null when the capture cut them. */
function addresses(bytes: Uint8Array, layer: IpLayer): [Uint8Array, Uint8Array] | null {
  const v6 = layer.proto === 'ipv6';
  const size = v6 ? 16 : 4;
  const src = layer.offset + (v6 ? 8 : 12);
  if (src + 2 * size > bytes.length) return null;
  return [bytes.slice(src, src + size), bytes.slice(src + size, src + 2 * size)];
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** The tunnel elements of the innermost tunnel, or null when its carrier is not in the packet. */
function tunnelOf(bytes: Uint8Array, layers: Layer[], tunnel: Tunnel): FlowTunnel | null {
  let carrier: IpLayer | null = null;
  for (let i = tunnel.layer - 1; i >= 0; i--) {
    const layer = layers[i];
    if (isIpLayer(layer)) {
      carrier = layer;
      break;
    }
  }
  if (carrier === null) return null;
  const outer = addresses(bytes, carrier);
  if (outer === null) return null;
  const before = tunnel.layer > 0 ? layers[tunnel.layer - 1] : null;
  const udp = before !== null && before.proto === 'udp' ? before : null;
  const key = tunnel.id ?? 0;
  const segmentType = SEGMENT_TYPES[tunnel.type];
  return {
    type: OVS_TYPES[tunnel.type] ?? OVS_TUNNEL_UNKNOWN,
    key,
    layer2SegmentId: segmentType === undefined || tunnel.id === null ? 0n : layer2SegmentId(segmentType, key),
    src: outer[0],
    dst: outer[1],
    protocol: carrier.protocol ?? 0,
    srcPort: udp === null ? 0 : udp.srcPort ?? 0,
    dstPort: udp === null ? 0 : udp.dstPort ?? 0,
  };
}

export interface FlowSample {
  flow: Omit<FlowRecord, 'octets' | 'packets' | 'startMs' | 'endMs' | 'endReason'>;
  /** The inner IP packet's length: its header and payload. */
  octets: number;
  key: string;
}

/**
 * The inner flow of a packet: the first IP header inside its innermost tunnel
 * (or the first of all, outside tunnels), with its transport ports (ICMP: type
 * and code as the destination port, as NetFlow does). Null for a packet with no IP.
 */
export function flowOf(record: CaptureRecord, packet: Packet): FlowSample | null {
  const layers = packet.layers;
  const shown = packet.quotedFrom ?? layers.length;
  const innermost = packet.tunnels.length > 0 ? packet.tunnels[packet.tunnels.length - 1] : null;
  let ip = -1;
  let ipLayer: IpLayer | null = null;
  for (let i = innermost === null ? 0 : innermost.layer; i < shown; i++) {
    const layer = layers[i];
    if (isIpLayer(layer)) {
      ip = i;
      ipLayer = layer;
      break;
    }
  }
  if (ipLayer === null) return null;
  const inner = addresses(record.bytes, ipLayer);
  if (inner === null) return null;
  const tunnel = innermost === null ? null : tunnelOf(record.bytes, layers, innermost);
  if (innermost !== null && tunnel === null) return null;
  const protocol = ipLayer.protocol ?? 0;
  const next = ip + 1 < shown ? layers[ip + 1] : null;
  let srcPort = 0;
  let dstPort = 0;
  let tcpFlags = 0;
  if (next !== null && (next.proto === 'tcp' || next.proto === 'udp')) {
    srcPort = next.srcPort ?? 0;
    dstPort = next.dstPort ?? 0;
    if (next.proto === 'tcp' && protocol === TCP) tcpFlags = next.flags ?? 0;
  } else if (next !== null && (next.proto === 'icmp' || next.proto === 'icmpv6') && (protocol === ICMP || protocol === ICMPV6)) {
    dstPort = ((next.type ?? 0) << 8) | (next.code ?? 0);
  }
  const octets = ipLayer.proto === 'ipv4' ? ipLayer.totalLength ?? 0 : 40 + (ipLayer.payloadLength ?? 0);
  const key = `${tunnel === null ? '-' : `${innermost!.type}/${tunnel.key}/${hex(tunnel.src)}/${hex(tunnel.dst)}/${tunnel.srcPort}/${tunnel.dstPort}`}`
    + `|${hex(inner[0])}/${hex(inner[1])}/${protocol}/${srcPort}/${dstPort}`;
  return { flow: { src: inner[0], dst: inner[1], protocol, srcPort, dstPort, tcpFlags, tunnel }, octets, key };
}

interface Entry {
  record: FlowRecord;
}

/** Flows by key; each ended flow goes to `ended`. */
export class FlowCache {
  private readonly entries = new Map<string, Entry>();
  private readonly activeMs: number;
  private readonly idleMs: number;
  private readonly maxFlows: number;
  /** Packets that carried no IP header, so belong to no IPFIX flow. */
  notIp = 0;

  constructor(private readonly ended: (flow: FlowRecord) => void, options: FlowCacheOptions = {}) {
    this.activeMs = options.activeMs ?? ACTIVE_TIMEOUT_MS;
    this.idleMs = options.idleMs ?? IDLE_TIMEOUT_MS;
    this.maxFlows = options.maxFlows ?? DEFAULT_MAX_CACHED_FLOWS;
  }

  get size(): number {
    return this.entries.size;
  }

  add(record: CaptureRecord, packet: Packet): void {
    const sample = flowOf(record, packet);
    if (sample === null) {
      this.notIp++;
      return;
    }
    const ms = record.sec * 1000 + Math.floor(record.nsec / 1e6);
    let entry = this.entries.get(sample.key);
    if (entry !== undefined && ms - entry.record.startMs >= this.activeMs) {
      this.end(sample.key, entry, END_ACTIVE);
      entry = undefined;
    }
    if (entry === undefined) {
      if (this.entries.size >= this.maxFlows) {
        // The oldest entry makes room: a Map iterates in insertion order.
        const [oldKey, old] = this.entries.entries().next().value as [string, Entry];
        this.end(oldKey, old, END_RESOURCES);
      }
      entry = { record: { ...sample.flow, octets: 0, packets: 0, startMs: ms, endMs: ms, endReason: END_FORCED } };
      this.entries.set(sample.key, entry);
    }
    const r = entry.record;
    r.packets++;
    r.octets += sample.octets;
    r.tcpFlags |= sample.flow.tcpFlags;
    if (ms > r.endMs) r.endMs = ms;
  }

  /** Ends the flows idle or active for too long at `nowMs`. */
  expire(nowMs: number): void {
    for (const [key, entry] of this.entries) {
      if (nowMs - entry.record.endMs >= this.idleMs) this.end(key, entry, END_IDLE);
      else if (nowMs - entry.record.startMs >= this.activeMs) this.end(key, entry, END_ACTIVE);
    }
  }

  /** Ends every flow: the capture or the file is over. */
  flush(): void {
    for (const [key, entry] of this.entries) this.end(key, entry, END_FORCED);
  }

  private end(key: string, entry: Entry, reason: number): void {
    this.entries.delete(key);
    entry.record.endReason = reason;
    this.ended(entry.record);
  }
}
