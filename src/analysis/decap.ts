// Where a tunnelled packet's inner frame lies in its bytes, and what link
// type a capture of it needs. `tunscope decap` writes these frames; nothing
// here reads or writes files.

import type { Layer, Packet, TunnelType } from '../../decoders/types.js';

/** What an inner frame starts with: an Ethernet header, or an IPv4/IPv6 header. */
export type InnerLink = 'ethernet' | 'ip';

/**
 * Link-layer header types of the written frames (https://www.tcpdump.org/linktypes.html).
 * LINKTYPE_RAW (101) holds IPv4 and IPv6 alike, so one pcap interface carries
 * both; tcpdump and tshark read it, which LINKTYPE_IPV4/IPV6 (228/229) would
 * only allow one version per interface.
 */
export const INNER_LINKTYPES: Record<InnerLink, number> = { ethernet: 1, ip: 101 };

/** Why a packet has no inner frame to write. */
export type LeftOutReason = 'no-tunnel' | 'shallower' | 'not-ethernet-or-ip' | 'no-inner-bytes';

export interface InnerFrame {
  link: InnerLink;
  /** Offset of the inner frame's first byte in the record's bytes. */
  start: number;
  /** End of the inner frame's captured bytes (trailing outer padding excluded). */
  capturedEnd: number;
  /** The inner frame's length on the wire, as the enclosing headers state it. */
  wireLength: number;
}

/** Tunnels whose first layer is the inner IP header itself (DESIGN.md, "The decoder contract"). */
const IP_IN_IP: ReadonlySet<TunnelType> = new Set<TunnelType>(['ipip', 'sit', 'ip4in6', 'ip6in6']);

const IPV6_FIXED_HEADER = 40;
const UDP_HEADER = 8;

/**
 * Where the enclosing layer says its payload ends, or NaN when it does not
 * say: an IPv4 total length of 0 (TSO) and an IPv6 payload length of 0
 * (jumbogram, RFC 2675) give no end.
 */
function statedEnd(layer: Layer): number {
  if (layer.proto === 'ipv4') {
    const total = layer.totalLength;
    return total !== undefined && total >= layer.length ? layer.offset + total : NaN;
  }
  if (layer.proto === 'ipv6') {
    const payload = layer.payloadLength;
    return payload !== undefined && payload > 0 ? layer.offset + IPV6_FIXED_HEADER + payload : NaN;
  }
  // A UDP layer's `length` is the datagram length field (RFC 768), header included.
  if (layer.proto === 'udp') {
    const length = layer.length;
    return length >= UDP_HEADER ? layer.offset + length : NaN;
  }
  return NaN;
}

/**
 * The frame inside the packet's `depth`-th tunnel (1 = outermost), or why
 * there is none. The captured end is the tightest end any enclosing header
 * states, so Ethernet padding after the outer IP packet is not part of it;
 * the wire length comes from the nearest enclosing header, so an inner frame
 * cut short by an outer IP fragment or by the snapshot length is written as
 * cut short (caplen < len), not as a smaller whole frame.
 */
export function innerFrame(packet: Packet, captured: number, wireLength: number, depth: number): InnerFrame | LeftOutReason {
  const { tunnels, layers } = packet;
  if (tunnels.length === 0) return 'no-tunnel';
  if (tunnels.length < depth) return 'shallower';
  const tunnel = tunnels[depth - 1];
  let first = IP_IN_IP.has(tunnel.type) ? tunnel.layer : tunnel.layer + 1;
  // ERSPAN: the GRE header opens the tunnel, the ERSPAN header (none for type I) precedes the mirrored frame.
  if (layers[first]?.proto === 'erspan') first++;
  const inner = layers[first];
  if (inner === undefined) return 'no-inner-bytes';
  let link: InnerLink;
  if (inner.proto === 'eth') link = 'ethernet';
  else if (inner.proto === 'ipv4' || inner.proto === 'ipv6') link = 'ip';
  else return 'not-ethernet-or-ip';

  const start = inner.offset;
  let capturedEnd = captured;
  let nearestEnd = NaN;
  for (let i = 0; i < first; i++) {
    const end = statedEnd(layers[i]);
    if (!(end > start)) continue;
    nearestEnd = end;
    if (end < capturedEnd) capturedEnd = end;
  }
  if (capturedEnd <= start) return 'no-inner-bytes';
  const innerWireLength = Number.isNaN(nearestEnd) ? wireLength - start : nearestEnd - start;
  return { link, start, capturedEnd, wireLength: Math.max(innerWireLength, capturedEnd - start) };
}
