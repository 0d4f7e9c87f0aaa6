// Evaluate a parsed filter on a dissected packet.
//
// A packet is cut into levels at its tunnel boundaries: level 0 holds the
// layers outside every tunnel, level k the layers inside the k-th tunnel and
// outside the next. Each primitive yields the set of levels where it holds (a
// bit mask); `and` intersects, `or` unites, so the terms of one `and` chain
// must hold on the same level: `vxlan vni 42 and inner tcp port 443` is a
// TCP/443 packet carried by VXLAN 42, not a VXLAN packet beside some TCP.
// A tunnel belongs to the level that carries it and the level it carries, so
// `vxlan and host 10.0.0.1` (outer address) and `vxlan and tcp` (inner
// protocol) both mean what they say. `not` is about the whole packet, and so
// is an `outer` address, port or protocol: the underlay sits beside whatever
// the tunnels carry, so `outer host 10.0.0.1 and inner host 172.18.1.1` holds
// whichever tunnel level 172.18.1.1 is found on. The frame's length (`len`,
// `greater`, `less`) is the whole packet's too: it holds on every level or none.

import { ipLayerAddress } from '../../decoders/address.js';
import { layerChecksum } from '../../decoders/layers.js';
import type { Layer, Packet } from '../../decoders/types.js';
import { ipFragment } from '../../decoders/ip-common.js';
import type { FilterNode, Primitive, Scope } from './parse.js';

const ADDRESS_OFFSETS: Record<string, [number, number, number]> = {
  // proto: [source offset, destination offset, address length]
  ipv4: [12, 16, 4],
  ipv6: [8, 24, 16],
};

function levelOf(packet: Packet): Uint8Array {
  const levels = new Uint8Array(packet.layers.length);
  let t = 0;
  for (let i = 0; i < levels.length; i++) {
    while (t < packet.tunnels.length && packet.tunnels[t].layer <= i) t++;
    levels[i] = t;
  }
  return levels;
}

function scopeMask(scope: Scope, levelCount: number): number {
  const all = (1 << levelCount) - 1;
  if (scope === 'outer') return 1;
  if (scope === 'inner') return all & ~1;
  return all;
}

function inNet(bytes: Uint8Array, at: number, prefix: Uint8Array, bits: number): boolean {
  let i = 0;
  for (; bits >= 8; bits -= 8, i++) if (bytes[at + i] !== prefix[i]) return false;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (bytes[at + i] & mask) === (prefix[i] & mask);
}

function sameBytes(bytes: Uint8Array, at: number, want: Uint8Array): boolean {
  if (at + want.length > bytes.length) return false;
  for (let i = 0; i < want.length; i++) if (bytes[at + i] !== want[i]) return false;
  return true;
}

function inRange(port: number | undefined, low: number, high: number): boolean {
  return port !== undefined && port >= low && port <= high;
}

/** The IP protocol numbers a header names: IPv4's protocol; IPv6's next header and each extension header's. */
function carriesProtocol(layer: Layer, version: 4 | 6 | null, protocol: number): boolean {
  if (layer.proto === 'ipv4') return version !== 6 && layer.protocol === protocol;
  if (layer.proto !== 'ipv6' || version === 4) return false;
  if (layer.nextHeader === protocol) return true;
  return layer.extensions !== undefined && layer.extensions.some((e) => e.nextHeader === protocol);
}

function lengthHolds(prim: Extract<Primitive, { kind: 'len' }>, wireLength: number): boolean {
  switch (prim.op) {
    case '<': return wireLength < prim.length;
    case '>': return wireLength > prim.length;
    case '<=': return wireLength <= prim.length;
    case '>=': return wireLength >= prim.length;
    case '==': return wireLength === prim.length;
    case '!=': return wireLength !== prim.length;
  }
}

function layerMatches(prim: Primitive, layer: Layer, bytes: Uint8Array): boolean {
  switch (prim.kind) {
    case 'portrange':
      if (layer.proto !== 'tcp' && layer.proto !== 'udp') return false;
      return (prim.dir !== 'dst' && inRange(layer.srcPort, prim.low, prim.high)) ||
        (prim.dir !== 'src' && inRange(layer.dstPort, prim.low, prim.high));
    case 'ether':
      // The destination comes first in the header, then the source (IEEE 802.3 clause 3.1.1).
      if (layer.proto !== 'eth') return false;
      return (prim.dir !== 'dst' && sameBytes(bytes, layer.offset + 6, prim.mac)) ||
        (prim.dir !== 'src' && sameBytes(bytes, layer.offset, prim.mac));
    case 'ipproto':
      return carriesProtocol(layer, prim.version, prim.protocol);
    case 'proto':
      // As in tcpdump, `arp` is ethertype 0x0806 and `rarp` 0x8035: both decode as ARP layers.
      if (prim.proto === 'arp' || prim.proto === 'rarp') return layer.proto === 'arp' && (layer.reverse === true) === (prim.proto === 'rarp');
      return layer.proto === prim.proto;
    case 'vlan':
      return layer.proto === 'vlan' && (prim.vid === null || layer.vid === prim.vid);
    case 'port':
      if (layer.proto !== 'tcp' && layer.proto !== 'udp') return false;
      return (prim.dir !== 'dst' && layer.srcPort === prim.port) || (prim.dir !== 'src' && layer.dstPort === prim.port);
    case 'host': {
      let src: unknown;
      let dst: unknown;
      if (layer.proto === 'ipv4' || layer.proto === 'ipv6') {
        // Decoded without detail, a whole header holds '' for the text: it is made when asked for.
        src = ipLayerAddress(bytes, layer, 'src');
        dst = ipLayerAddress(bytes, layer, 'dst');
      } else if (layer.proto === 'arp') {
        src = layer.senderIp;
        dst = layer.targetIp;
      } else {
        return false;
      }
      return (prim.dir !== 'dst' && src === prim.address) || (prim.dir !== 'src' && dst === prim.address);
    }
    case 'net': {
      const where = ADDRESS_OFFSETS[layer.proto];
      if (!where || where[2] !== prim.prefix.length || layer.length < where[1] + where[2]) return false;
      return (prim.dir !== 'dst' && inNet(bytes, layer.offset + where[0], prim.prefix, prim.bits)) ||
        (prim.dir !== 'src' && inNet(bytes, layer.offset + where[1], prim.prefix, prim.bits));
    }
    case 'bad-cksum':
      return layerChecksum(layer)?.status === 'bad';
    case 'offload-cksum':
      return layerChecksum(layer)?.status === 'offload';
    case 'frag':
      return ipFragment(layer) !== null;
    default:
      return false;
  }
}

const DAMAGE = new Set(['malformed', 'truncated', 'depth-exceeded']);

function primitiveMask(prim: Primitive, scope: Scope, packet: Packet, levels: Uint8Array, bytes: Uint8Array, wireLength: number): number {
  const levelCount = packet.tunnels.length + 1;
  if (prim.kind === 'len') return lengthHolds(prim, wireLength) ? (1 << levelCount) - 1 : 0;
  if (scope === 'outer' && prim.kind !== 'tunnel') {
    return levelMask(prim, 'outer', packet, levels, bytes, levelCount) === 0 ? 0 : (1 << levelCount) - 1;
  }
  return levelMask(prim, scope, packet, levels, bytes, levelCount);
}

function levelMask(prim: Primitive, scope: Scope, packet: Packet, levels: Uint8Array, bytes: Uint8Array, levelCount: number): number {
  let mask = 0;
  if (prim.kind === 'tunnel') {
    for (let k = 0; k < packet.tunnels.length; k++) {
      const t = packet.tunnels[k];
      if (prim.tunnel !== 'tunnel' && t.type !== prim.tunnel) continue;
      if (prim.id !== null && t.id !== prim.id) continue;
      if ((scope === 'outer' && k > 0) || (scope === 'inner' && k === 0)) continue;
      mask |= 0b11 << k;
    }
    return mask;
  }
  if (prim.kind === 'malformed') {
    for (const issue of packet.issues) if (DAMAGE.has(issue.kind)) mask |= 1 << (levels[issue.layer] ?? 0);
    return mask & scopeMask(scope, levelCount);
  }
  // Layers of the packet an ICMP error quotes are not the packet's own traffic.
  const last = packet.quotedFrom ?? packet.layers.length;
  for (let i = 0; i < last; i++) {
    if (layerMatches(prim, packet.layers[i], bytes)) mask |= 1 << levels[i];
  }
  return mask & scopeMask(scope, levelCount);
}

function evaluateNode(node: FilterNode, packet: Packet, levels: Uint8Array, bytes: Uint8Array, wireLength: number): number {
  const all = (1 << (packet.tunnels.length + 1)) - 1;
  switch (node.op) {
    case 'prim':
      return primitiveMask(node.prim, node.scope, packet, levels, bytes, wireLength);
    case 'not':
      return evaluateNode(node.arg, packet, levels, bytes, wireLength) === 0 ? all : 0;
    case 'and': {
      let mask = all;
      for (const arg of node.args) {
        mask &= evaluateNode(arg, packet, levels, bytes, wireLength);
        if (mask === 0) break;
      }
      return mask;
    }
    case 'or': {
      let mask = 0;
      for (const arg of node.args) mask |= evaluateNode(arg, packet, levels, bytes, wireLength);
      return mask;
    }
  }
}

/**
 * Does the packet (dissected from `bytes`) match the filter? `wireLength` is
 * the frame's length on the wire (the record's `len`), which `len` compares.
 */
export function matchesFilter(filter: FilterNode, packet: Packet, bytes: Uint8Array, wireLength: number): boolean {
  return evaluateNode(filter, packet, levelOf(packet), bytes, wireLength) !== 0;
}
