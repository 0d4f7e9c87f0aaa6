// The packets behind each row of the statistics report. While a capture is
// read, each packet is filed under every tunnel direction it is inside (a
// row finds its list by its own fields: type, id, outer endpoints), so
// nothing ties a list to the report's order. Filing under flows waits until
// someone opens a tunnel: its packets are then decoded again, a slice at a
// time, which keeps the reading pass close to what `stats` costs. The rules
// follow the aggregator's: a packet counts in every tunnel it is inside; a
// tunnel level's flow is the first IP or ARP header of that level's payload
// (else its Ethernet header); later fragments of an outer packet belong to
// the tunnel of the first fragment and to none of its flows.

import type { Layer, Packet, Tunnel, TunnelType } from '../../decoders/types.js';
import type { FlowStats, TunnelStats } from '../analysis/report.js';
import { PacketList } from './packet-list.js';

const TUNNEL_TYPE_CODES: Record<TunnelType, number> = {
  vxlan: 0, 'vxlan-gpe': 1, geneve: 2, gre: 3, gretap: 4, erspan: 5, ipip: 6, sit: 7, ip4in6: 8, ip6in6: 9,
};
/** Above every 32-bit id: the key part for tunnels without one. */
const NO_ID = 0x100000000;

/** Flow kinds: an IP protocol number; LATER_FRAGMENT plus one for non-first fragments (no ports); ARP; an ethertype. */
const LATER_FRAGMENT = 256;
const KIND_ARP = 512;
const ETHERTYPE_BASE = 1024;
const KIND_OTHER = ETHERTYPE_BASE + 0x10000;
const TCP = 6;
const UDP = 17;

const FRAGMENT_OWNERS_MAX = 1 << 16;

type Nested<T> = Map<string, Map<string, Map<number, T>>>;

function nestedGet<T>(map: Nested<T>, a: string, b: string, key: number): T | undefined {
  return map.get(a)?.get(b)?.get(key);
}

function nestedSet<T>(map: Nested<T>, a: string, b: string, key: number, value: T): void {
  let byB = map.get(a);
  if (byB === undefined) map.set(a, (byB = new Map()));
  let byKey = byB.get(b);
  if (byKey === undefined) byB.set(b, (byKey = new Map()));
  byKey.set(key, value);
}

function tunnelNumber(type: TunnelType, id: number | null): number {
  return TUNNEL_TYPE_CODES[type] * 2 * NO_ID + (id === null ? NO_ID : id);
}

function flowNumber(kind: number, srcPort: number, dstPort: number): number {
  return kind * 0x100000000 + srcPort * 0x10000 + dstPort;
}

/** A tunnel direction's packets, and those filed so far under its flows. */
export class TunnelPackets {
  readonly packets = new PacketList();
  readonly flows: Nested<PacketList> = new Map();
  /** Number of the last packet filed under its flow. */
  filedThrough = 0;

  /** `identity` is null for the row of untunnelled traffic. */
  constructor(readonly identity: Pick<Tunnel, 'type' | 'id' | 'src' | 'dst'> | null) {}

  /** Packets not yet filed under a flow. */
  unfiled(): number {
    const numbers = this.packets.view();
    return numbers.length - firstAbove(numbers, this.filedThrough);
  }
}

/** Index of the first number above `n` in ascending `numbers`. */
function firstAbove(numbers: Uint32Array, n: number): number {
  let low = 0;
  let high = numbers.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (numbers[mid] <= n) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** A packet decoded again for filing, with whether it had a bad checksum. */
export interface RedecodedPacket {
  packet: Packet;
  badChecksum: boolean;
}

interface FragmentHeader {
  type: string;
  id?: number;
  fragmentOffset?: number;
  mf?: boolean;
}

function ipv6Fragment(ip: Layer): FragmentHeader | undefined {
  const extensions = ip.extensions as FragmentHeader[] | undefined;
  if (extensions === undefined) return undefined;
  for (let i = 0; i < extensions.length; i++) if (extensions[i].type === 'fragment') return extensions[i];
  return undefined;
}

function isLaterFragment(ip: Layer): boolean {
  if (ip.proto === 'ipv4') return (ip.fragmentOffset as number) > 0;
  return (ipv6Fragment(ip)?.fragmentOffset ?? 0) > 0;
}

function isFirstFragment(ip: Layer): boolean {
  if (ip.proto === 'ipv4') return ip.mf === true && !((ip.fragmentOffset as number) > 0);
  const fragment = ipv6Fragment(ip);
  return fragment !== undefined && fragment.mf === true && !((fragment.fragmentOffset ?? 0) > 0);
}

/** RFC 791 section 3.2, RFC 8200 section 4.5: fragments match on source, destination and identification. */
function fragmentId(ip: Layer): number {
  return ip.proto === 'ipv4' ? (ip.id as number) : ipv6Fragment(ip)?.id ?? 0;
}

function innerLayerOf(layers: Layer[], tunnel: Tunnel): number {
  if (tunnel.type === 'ipip' || tunnel.type === 'sit' || tunnel.type === 'ip4in6' || tunnel.type === 'ip6in6') return tunnel.layer;
  let j = tunnel.layer + 1;
  while (j < layers.length && layers[j].proto === 'erspan') j++;
  return j;
}

function carrierOf(layers: Layer[], tunnel: Tunnel): Layer | null {
  for (let i = tunnel.layer - 1; i >= 0; i--) {
    if (layers[i].proto === 'ipv4' || layers[i].proto === 'ipv6') return layers[i];
  }
  return null;
}

export class RowPackets {
  private readonly tunnels: Nested<TunnelPackets> = new Map();
  private untunnelled: TunnelPackets | null = null;
  private readonly fragmentOwners: Nested<TunnelPackets> = new Map();
  private fragmentOwnerCount = 0;
  private tunnelCount = 0;
  private flowCount = 0;
  /** Every list, for pruning a live capture's. */
  readonly lists: PacketList[] = [];

  /** At most this many tunnel directions and flows get lists, as the aggregator caps its tables. */
  constructor(private readonly maxTunnels: number, private readonly maxFlows: number) {}

  /** Files packet n under every tunnel row it counts in. */
  add(n: number, packet: Packet): void {
    const { layers, tunnels } = packet;
    if (tunnels.length === 0) {
      const owner = this.fragmentOwnerOf(layers, packet.quotedFrom ?? layers.length);
      const rows = owner ?? this.untunnelled ?? (this.untunnelled = this.newTunnel(null));
      rows.packets.push(n, false);
      return;
    }
    for (let k = 0; k < tunnels.length; k++) {
      const tunnel = tunnels[k];
      const number = tunnelNumber(tunnel.type, tunnel.id);
      let rows = nestedGet(this.tunnels, tunnel.src, tunnel.dst, number);
      if (rows === undefined) {
        if (this.tunnelCount >= this.maxTunnels) continue;
        rows = this.newTunnel(tunnel);
        nestedSet(this.tunnels, tunnel.src, tunnel.dst, number, rows);
        this.tunnelCount++;
      }
      rows.packets.push(n, false);
      if (k === 0) {
        const carrier = carrierOf(layers, tunnel);
        if (carrier !== null && isFirstFragment(carrier)) this.rememberFragmentOwner(carrier, rows);
      }
    }
  }

  /**
   * Files up to `budget` of a tunnel's packets not yet filed under their
   * flows, decoding each again through `redecode` (null when the packet is no
   * longer held). Returns how many are left.
   */
  fileFlows(rows: TunnelPackets, budget: number, redecode: (n: number) => RedecodedPacket | null): number {
    const numbers = rows.packets.view();
    let i = firstAbove(numbers, rows.filedThrough);
    const end = Math.min(numbers.length, i + budget);
    for (; i < end; i++) {
      const n = numbers[i];
      rows.filedThrough = n;
      const again = redecode(n);
      if (again === null) continue;
      const { layers, tunnels } = again.packet;
      const shownEnd = again.packet.quotedFrom ?? layers.length;
      const identity = rows.identity;
      if (identity === null) {
        this.fileFlow(rows, n, again.badChecksum, layers, 0, shownEnd);
        continue;
      }
      // A later fragment filed under its first fragment's tunnel shows no tunnel, and has no flow.
      for (let k = 0; k < tunnels.length; k++) {
        const tunnel = tunnels[k];
        if (tunnel.type !== identity.type || tunnel.id !== identity.id || tunnel.src !== identity.src || tunnel.dst !== identity.dst) continue;
        const segmentEnd = k + 1 < tunnels.length ? tunnels[k + 1].layer : shownEnd;
        this.fileFlow(rows, n, again.badChecksum, layers, innerLayerOf(layers, tunnel), segmentEnd);
        break;
      }
    }
    return numbers.length - end;
  }

  /** The packets of a tunnel row; undefined for rows without a list (the overflow row, beyond the caps). */
  tunnel(row: Pick<TunnelStats, 'type' | 'id' | 'src' | 'dst'>): TunnelPackets | undefined {
    if (row.type === 'none') return this.untunnelled ?? undefined;
    if (row.type === 'overflow') return undefined;
    return nestedGet(this.tunnels, row.src, row.dst, tunnelNumber(row.type, row.id));
  }

  /** The packets of a flow row of the tunnel `tunnel`. */
  flow(tunnel: TunnelPackets, row: FlowStats): PacketList | undefined {
    let kinds: number[];
    switch (row.proto) {
      case 'arp': kinds = [KIND_ARP]; break;
      case 'eth': kinds = [ETHERTYPE_BASE + (row.ethertype ?? 0)]; break;
      case 'other': kinds = [KIND_OTHER]; break;
      case 'overflow': return undefined;
      default: {
        const protocol = row.ipProtocol ?? 0;
        // Later fragments make a flow of their own under the same name and addresses, without ports.
        kinds = row.srcPort === undefined ? [protocol, LATER_FRAGMENT + protocol] : [protocol];
      }
    }
    const byKind = tunnel.flows.get(row.src)?.get(row.dst);
    if (byKind === undefined) return undefined;
    const candidates = kinds
      .map((kind) => byKind.get(flowNumber(kind, row.srcPort ?? 0, row.dstPort ?? 0)))
      .filter((list): list is PacketList => list !== undefined);
    return candidates.find((list) => list.total === row.packets) ?? candidates[0];
  }

  private newTunnel(identity: Tunnel | null): TunnelPackets {
    const rows = new TunnelPackets(identity === null ? null : { type: identity.type, id: identity.id, src: identity.src, dst: identity.dst });
    this.lists.push(rows.packets);
    return rows;
  }

  /** The flow of layers [start, end): the first IP or ARP header, else the Ethernet header. */
  private fileFlow(rows: TunnelPackets, n: number, bad: boolean, layers: Layer[], start: number, end: number): void {
    let eth: Layer | null = null;
    let kind = KIND_OTHER;
    let src = '';
    let dst = '';
    let srcPort = 0;
    let dstPort = 0;
    for (let i = start; i < end; i++) {
      const layer = layers[i];
      const proto = layer.proto;
      if (proto === 'ipv4' || proto === 'ipv6') {
        src = layer.src as string;
        dst = layer.dst as string;
        const protocol = typeof layer.protocol === 'number' ? layer.protocol : 0;
        if (isLaterFragment(layer)) {
          kind = LATER_FRAGMENT + protocol;
        } else {
          kind = protocol;
          const l4 = i + 1 < end ? layers[i + 1] : null;
          if ((protocol === TCP || protocol === UDP) && l4 !== null && (l4.proto === 'tcp' || l4.proto === 'udp') && typeof l4.dstPort === 'number') {
            srcPort = l4.srcPort as number;
            dstPort = l4.dstPort;
          }
        }
        break;
      }
      if (proto === 'arp') {
        kind = KIND_ARP;
        src = typeof layer.senderIp === 'string' ? layer.senderIp : eth !== null ? eth.src as string : '';
        dst = typeof layer.targetIp === 'string' ? layer.targetIp : '';
        break;
      }
      if (proto === 'eth' && eth === null) eth = layer;
    }
    if (kind === KIND_OTHER && eth !== null) {
      kind = ETHERTYPE_BASE + (typeof eth.type === 'number' ? eth.type : 0);
      src = typeof eth.src === 'string' ? eth.src : '';
      dst = typeof eth.dst === 'string' ? eth.dst : '';
    }
    const number = flowNumber(kind, srcPort, dstPort);
    let list = nestedGet(rows.flows, src, dst, number);
    if (list === undefined) {
      if (this.flowCount >= this.maxFlows) return;
      list = new PacketList();
      nestedSet(rows.flows, src, dst, number, list);
      this.lists.push(list);
      this.flowCount++;
    }
    list.push(n, bad);
  }

  private rememberFragmentOwner(ip: Layer, rows: TunnelPackets): void {
    if (this.fragmentOwnerCount >= FRAGMENT_OWNERS_MAX) {
      this.fragmentOwners.clear();
      this.fragmentOwnerCount = 0;
    }
    nestedSet(this.fragmentOwners, ip.src as string, ip.dst as string, fragmentId(ip), rows);
    this.fragmentOwnerCount++;
  }

  /** The tunnel an untunnelled later fragment belongs to, when its first fragment carried one. */
  private fragmentOwnerOf(layers: Layer[], end: number): TunnelPackets | null {
    if (this.fragmentOwnerCount === 0) return null;
    for (let i = 0; i < end; i++) {
      const layer = layers[i];
      if (layer.proto === 'ipv4' || layer.proto === 'ipv6') {
        if (!isLaterFragment(layer)) return null;
        return nestedGet(this.fragmentOwners, layer.src as string, layer.dst as string, fragmentId(layer)) ?? null;
      }
    }
    return null;
  }
}
