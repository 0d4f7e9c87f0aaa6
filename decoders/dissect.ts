// The engine: walks the registry's tables from the link type to the last
// layer it can name, keeps depth limits, records tunnel boundaries and hands
// each decoder the enclosing IP header. Decoders never call each other.

import { APPLICATION_TABLES, RAW_IP_LINKTYPES, Registry, linktypeName, DECODERS } from './registry.js';
import { completesAfterInnerOffload } from './checksum.js';
import { hasChecksum, layerChecksum } from './layers.js';
import type {
  Checksum, DecodeContext, IpContext, Issue, IssueKind, Layer, NextProtocol, Packet, ProtoName, Tunnel, TunnelType,
} from './types.js';

export interface DissectOptions {
  registry: Registry;
  /** Verify checksums (default true). */
  verify?: boolean;
  /** Build what only printers show (default true); see DecodeContext.detail. */
  detail?: boolean;
  /** Most tunnels entered before decoding stops (default 8). */
  maxTunnels?: number;
  /** Most layers decoded (default 32). */
  maxLayers?: number;
}

const DEFAULT_REGISTRY = new Registry();

/** The smallest IP header, IPv4's (RFC 791). */
const MIN_IP_HEADER = 20;

/**
 * The tunnel a protocol's header opens, if it has one (IP-in-IP has none of its
 * own). A switch of string constants: for every layer of every packet, a
 * handful of identity compares where a Map would hash.
 */
function headerTunnel(proto: ProtoName): TunnelType | undefined {
  switch (proto) {
    case 'vxlan': return 'vxlan';
    case 'vxlan-gpe': return 'vxlan-gpe';
    case 'geneve': return 'geneve';
    case 'gre': return 'gre';
    default: return undefined;
  }
}

function greTunnelType(protocolType: number | undefined): TunnelType {
  if (protocolType === 0x6558) return 'gretap';
  if (protocolType === 0x88be || protocolType === 0x22eb) return 'erspan';
  return 'gre';
}

function ipInIpType(outer: IpContext, inner: ProtoName): TunnelType {
  if (outer.version === 4) return inner === 'ipv4' ? 'ipip' : 'sit';
  return inner === 'ipv4' ? 'ip4in6' : 'ip6in6';
}

function hexKey(key: number): string {
  return `0x${key.toString(16).padStart(4, '0')}`;
}

/**
 * An encapsulating checksum that is bad only because inner checksums were left
 * for the NIC (local checksum offload) is an offload verdict, not corruption.
 */
function settleLocalChecksumOffload(layers: Layer[], issues: Issue[], shownEnd: number): void {
  for (let i = 0; i < shownEnd; i++) {
    const layer = layers[i];
    if (!hasChecksum(layer)) continue;
    const outer = layer.checksum;
    if (outer?.status !== 'bad') continue;
    const partial: Checksum[] = [];
    for (let j = i + 1; j < shownEnd; j++) {
      const inner = layerChecksum(layers[j]);
      if (inner?.status === 'offload' && inner.reason === undefined) partial.push(inner);
    }
    if (!completesAfterInnerOffload(outer, partial)) continue;
    layer.checksum = { ...outer, status: 'offload', reason: 'local-checksum-offload' };
    const at = issues.findIndex((issue) => issue.layer === i && issue.kind === 'bad-checksum');
    if (at >= 0) issues.splice(at, 1);
  }
}

/**
 * The decode context of the packet being decoded: issues are filed under the
 * layer being decoded, `current`. There is one, set again for each packet
 * (decoding runs to the end without yielding, and decoders keep nothing of
 * the context), rather than one more object per packet.
 */
class PacketContext implements DecodeContext {
  ip: IpContext | null = null;
  prev: Layer | null = null;
  tunnelled = false;
  quoted = false;
  current = 0;
  verify = true;
  detail = true;
  wireLength = 0;
  /** Bytes captured of the frame: fewer than wireLength when the snapshot length cut it. */
  captured = 0;
  issues: Issue[] = [];

  /** Ready for the next packet, whose issues go to `issues`. */
  reset(verify: boolean, detail: boolean, wireLength: number, captured: number, issues: Issue[]): this {
    this.ip = null;
    this.prev = null;
    this.tunnelled = false;
    this.quoted = false;
    this.current = 0;
    this.verify = verify;
    this.detail = detail;
    this.wireLength = wireLength;
    this.captured = captured;
    this.issues = issues;
    return this;
  }

  issue(kind: IssueKind, message: string, needed?: number, available?: number): void {
    // The packet an ICMP error quotes is cut short by design (RFC 792: IP header + 8 bytes).
    if (this.quoted && kind === 'truncated') return;
    // Inside a fragment whose bytes were all captured, what ends early ends where the fragment
    // does: the rest is in the datagram's later fragments, not lost (RFC 791 section 2.3).
    if (kind === 'truncated' && this.ip !== null && this.ip.fragment && this.captured >= this.wireLength) return;
    const issue: Issue = { layer: this.current, kind, message };
    if (needed !== undefined) issue.needed = needed;
    if (available !== undefined) issue.available = available;
    this.issues.push(issue);
  }
}

const CONTEXT = new PacketContext();

function hasBadChecksumIssue(issues: Issue[]): boolean {
  for (let i = 0; i < issues.length; i++) if (issues[i].kind === 'bad-checksum') return true;
  return false;
}

/**
 * Decode one captured frame. Never throws: whatever cannot be decoded is an
 * issue on the layer where decoding stopped.
 */
export function dissect(bytes: Uint8Array, linktype: number, wireLength: number, options: DissectOptions = { registry: DEFAULT_REGISTRY }): Packet {
  const registry = options.registry;
  const maxTunnels = options.maxTunnels ?? 8;
  const maxLayers = options.maxLayers ?? 32;
  const layers: Layer[] = [];
  const tunnels: Tunnel[] = [];
  const issues: Issue[] = [];
  const ctx = CONTEXT.reset(options.verify ?? true, options.detail ?? true, wireLength, bytes.length, issues);

  let offset = 0;
  let end = bytes.length;
  let next: NextProtocol | null;
  if (RAW_IP_LINKTYPES.has(linktype)) {
    const version = end > 0 ? bytes[0] >> 4 : -1;
    if (registry.lookup('ipversion', version) === undefined) {
      // Nothing but the version nibble can say which IP header this is.
      layers.push({ proto: 'payload', offset: 0, length: end, linktype });
      issues.push(end === 0
        ? { layer: 0, kind: 'truncated', message: `ip header needs ${MIN_IP_HEADER} bytes, 0 captured`, needed: MIN_IP_HEADER, available: 0 }
        : { layer: 0, kind: 'malformed', message: `raw IP packet of version ${version}, neither 4 nor 6` });
      return { layers, tunnels, issues };
    }
    next = { table: 'ipversion', key: version };
  } else if (registry.lookup('linktype', linktype) !== undefined) {
    next = { table: 'linktype', key: linktype };
  } else {
    layers.push({ proto: 'payload', offset: 0, length: end, linktype });
    issues.push({
      layer: 0, kind: 'unsupported-linktype',
      message: `link type ${linktype} (${linktypeName(linktype)}) is not decoded`,
    });
    return { layers, tunnels, issues };
  }

  let viaIpProto = false;
  let quotedFrom: number | undefined;
  while (next !== null) {
    let proto: ProtoName | undefined;
    if ('proto' in next) {
      proto = next.proto;
    } else {
      proto = registry.lookup(next.table, next.key);
      if (proto === undefined && next.alt !== undefined) proto = registry.lookup(next.table, next.alt);
      if (proto === undefined) {
        if (!APPLICATION_TABLES.has(next.table) && offset < end && !ctx.quoted) {
          layers.push({ proto: 'payload', offset, length: end - offset, of: `${next.table} ${hexKey(next.key)}` });
        }
        break;
      }
    }
    if (ctx.quoted && offset >= end) break;

    ctx.current = layers.length;
    if (ctx.current >= maxLayers) {
      // The issue belongs to the last layer decoded, whose payload is left undecoded.
      ctx.current--;
      ctx.issue('depth-exceeded', `stopped after ${maxLayers} layers`);
      break;
    }

    let tunnelType: TunnelType | undefined;
    if (!ctx.quoted) {
      tunnelType = headerTunnel(proto);
      if (tunnelType === undefined && viaIpProto && ctx.ip !== null && (proto === 'ipv4' || proto === 'ipv6')) {
        tunnelType = ipInIpType(ctx.ip, proto);
      }
      if (tunnelType !== undefined && tunnels.length >= maxTunnels) {
        ctx.current--;
        ctx.issue('depth-exceeded', `stopped after ${maxTunnels} nested tunnels`);
        break;
      }
    }

    ctx.prev = ctx.current > 0 ? layers[ctx.current - 1] : null;
    ctx.tunnelled = tunnels.length > 0;
    let result;
    try {
      result = DECODERS[proto as Exclude<ProtoName, 'payload'>](bytes, offset, end, ctx);
    } catch (err) {
      // A decoder must not throw; if one does, the packet still gets a record.
      ctx.issue('malformed', `${proto} decoder failed: ${(err as Error).message}`);
      break;
    }
    const layer = result.layer;
    layers.push(layer);

    if (tunnelType !== undefined) {
      let id: number | null = null;
      if (layer.proto === 'gre') {
        tunnelType = greTunnelType(layer.protocolType);
        id = layer.key ?? null;
      } else if (layer.proto === 'vxlan' || layer.proto === 'vxlan-gpe' || layer.proto === 'geneve') {
        id = layer.vni ?? null;
      }
      tunnels.push({ type: tunnelType, id, src: ctx.ip?.src ?? '', dst: ctx.ip?.dst ?? '', layer: ctx.current });
    } else if (proto === 'erspan' && !ctx.quoted && tunnels.length > 0) {
      // The ERSPAN session id names the tunnel its GRE header opened.
      const tunnel = tunnels[tunnels.length - 1];
      if (tunnel.type === 'erspan' && tunnel.layer === ctx.current - 1) {
        tunnel.id = layer.proto === 'erspan' && layer.sessionId !== undefined ? layer.sessionId : null;
      }
    }

    const following: NextProtocol | null = result.next;
    viaIpProto = following !== null && 'table' in following && following.table === 'ipproto';
    if (result.ip) ctx.ip = result.ip;
    if (result.quotes && !ctx.quoted) {
      ctx.quoted = true;
      quotedFrom = layers.length;
    }
    offset = result.payloadOffset ?? layer.offset + layer.length;
    if (result.payloadEnd !== undefined && result.payloadEnd < end) end = result.payloadEnd;
    next = following;
  }
  // Every bad verdict comes with a bad-checksum issue: without one there is nothing to settle.
  if (ctx.verify && hasBadChecksumIssue(issues)) settleLocalChecksumOffload(layers, issues, quotedFrom ?? layers.length);
  const packet: Packet = { layers, tunnels, issues };
  if (quotedFrom !== undefined && quotedFrom < layers.length) packet.quotedFrom = quotedFrom;
  return packet;
}
