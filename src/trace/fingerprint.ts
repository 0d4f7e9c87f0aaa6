// What makes one packet recognisable at every capture point: its innermost IP
// packet (or ARP message), read the same way whether it is seen plain on a pod's
// interface, inside VXLAN on the underlay, or with its TTL lowered by a router.
//
// Two keys: `key` holds the addresses and ports as well; `loose` leaves them out,
// so a packet whose source or destination a NAT rewrote is still found
// (protocol, IPv4 id, ICMP sequence, TCP sequence and acknowledgement, UDP
// length and a hash of the payload's first bytes are what NAT leaves alone).
// Linux sends IPv4 with id 0 when DF is set on some paths; the rest of the key
// carries such packets.

import type { ChecksumStatus, Layer, Packet, TunnelType } from '../../decoders/types.js';

export type TraceKind =
  | 'icmp-echo-request' | 'icmp-echo-reply' | 'tcp-syn' | 'tcp-data' | 'udp'
  | 'arp-request' | 'arp-reply' | 'other';

/** A tunnel the packet is inside at this point, outermost first. */
export interface TunnelSeen {
  type: TunnelType;
  id: number | null;
  src: string;
  dst: string;
  /** UDP destination port of a UDP-borne tunnel. */
  port: number | null;
}

/** An ICMP or ICMPv6 error: what it says, and the keys of the packet it quotes. */
export interface ErrorSeen {
  text: string;
  /** The reporting router's or host's address. */
  from: string;
  /** The tunnel port, when the quoted packet is a UDP tunnel packet. */
  key: string;
  loose: string;
  mtu: number | null;
  portUnreachable: boolean;
}

export interface Fingerprint {
  kind: TraceKind;
  key: string;
  loose: string;
  /** Innermost addresses and ports, as seen here. */
  src: string;
  dst: string;
  srcPort: number | null;
  dstPort: number | null;
  /** Innermost IP packet's length (total length, or IPv6 payload plus 40); ARP: 28. */
  size: number;
  ttl: number | null;
  tos: number | null;
  tunnels: TunnelSeen[];
  /** The innermost transport checksum's verdict. */
  checksum: ChecksumStatus | null;
  /** TCP: the sequence range the segment covers, for GSO/GRO. */
  tcpFlow: string | null;
  seq: number;
  payloadLength: number;
  /** A fragmented IP layer (the innermost one that is): src|dst|protocol|id. */
  fragment: string | null;
  laterFragment: boolean;
  /** A request: the key its reply will answer with. A reply: the key of its request. */
  awaits: string | null;
  answers: string | null;
  error: ErrorSeen | null;
}

const num = (layer: Layer, field: string): number => (typeof layer[field] === 'number' ? (layer[field] as number) : -1);
const str = (layer: Layer, field: string): string => (typeof layer[field] === 'string' ? (layer[field] as string) : '');

const PAYLOAD_HASHED = 16;

/** FNV-1a over the first bytes of a transport payload, as 8 hex digits. */
function payloadHash(bytes: Uint8Array, start: number, end: number): string {
  let h = 0x811c9dc5;
  const stop = Math.min(end, start + PAYLOAD_HASHED, bytes.length);
  for (let i = start; i < stop; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16);
}

function isIp(layer: Layer): boolean {
  return layer.proto === 'ipv4' || layer.proto === 'ipv6';
}

/** Where the IP packet's bytes end, by its own length field. */
function ipEnd(layer: Layer, bytes: Uint8Array): number {
  const total = layer.proto === 'ipv4' ? num(layer, 'totalLength') : num(layer, 'payloadLength') + 40;
  return total > 0 ? Math.min(layer.offset + total, bytes.length) : bytes.length;
}

interface FragmentHeader { type?: string; fragmentOffset?: number; mf?: boolean; id?: number }

function ipv6Fragment(layer: Layer): FragmentHeader | undefined {
  const ext = Array.isArray(layer.extensions) ? (layer.extensions as FragmentHeader[]) : [];
  return ext.find((e) => e.type === 'fragment');
}

function isFragment(layer: Layer): boolean {
  if (layer.proto === 'ipv4') return layer.mf === true || num(layer, 'fragmentOffset') > 0;
  const frag = ipv6Fragment(layer);
  return frag !== undefined && (frag.mf === true || (frag.fragmentOffset ?? 0) > 0);
}

function fragmentOffset(layer: Layer): number {
  return layer.proto === 'ipv4' ? num(layer, 'fragmentOffset') : ipv6Fragment(layer)?.fragmentOffset ?? 0;
}

function fragmentId(layer: Layer): number {
  return layer.proto === 'ipv4' ? num(layer, 'id') : ipv6Fragment(layer)?.id ?? -1;
}

const ECHO: Record<string, [request: number, reply: number]> = { icmp: [8, 0], icmpv6: [128, 129] };

/** The keys and facts of the packet in layers[from, to): its innermost IP packet or ARP message. */
function innermost(packet: Packet, bytes: Uint8Array, from: number, to: number): Omit<Fingerprint, 'tunnels' | 'error'> | null {
  const layers = packet.layers;
  let ipAt = -1;
  let arpAt = -1;
  let fragAt = -1;
  for (let i = from; i < to; i++) {
    const layer = layers[i];
    if (isIp(layer)) {
      ipAt = i;
      if (isFragment(layer)) fragAt = i;
    } else if (layer.proto === 'arp') {
      arpAt = i;
    }
  }
  if (arpAt > ipAt) {
    const arp = layers[arpAt];
    const op = num(arp, 'opcode');
    const kind: TraceKind = op === 1 ? 'arp-request' : op === 2 ? 'arp-reply' : 'other';
    const sender = str(arp, 'senderIp');
    const target = str(arp, 'targetIp');
    const key = `arp|${op}|${sender}|${target}|${str(arp, 'senderMac')}`;
    return {
      kind, key, loose: key, src: sender, dst: target, srcPort: null, dstPort: null, size: 28, ttl: null, tos: null,
      checksum: null, tcpFlow: null, seq: 0, payloadLength: 0, fragment: null, laterFragment: false,
      awaits: op === 1 ? `arp|${target}|${sender}` : null,
      answers: op === 2 ? `arp|${sender}|${target}` : null,
    };
  }
  if (ipAt < 0) return null;
  const ip = layers[ipAt];
  const v4 = ip.proto === 'ipv4';
  const src = str(ip, 'src');
  const dst = str(ip, 'dst');
  const protocol = num(ip, 'protocol');
  const id = v4 ? num(ip, 'id') : num(ip, 'flowLabel');
  const end = ipEnd(ip, bytes);
  const fragment = fragAt < 0 ? null : `${str(layers[fragAt], 'src')}|${str(layers[fragAt], 'dst')}|${protocol}|${fragmentId(layers[fragAt])}`;
  const later = fragAt >= 0 && fragmentOffset(layers[fragAt]) > 0;
  const base = {
    src, dst, srcPort: null as number | null, dstPort: null as number | null,
    size: end - ip.offset, ttl: v4 ? num(ip, 'ttl') : num(ip, 'hopLimit'),
    tos: v4 ? (num(ip, 'dscp') << 2) | num(ip, 'ecn') : num(ip, 'trafficClass'),
    checksum: null as ChecksumStatus | null, tcpFlow: null as string | null, seq: 0, payloadLength: 0,
    fragment, laterFragment: later, awaits: null as string | null, answers: null as string | null,
  };
  const upper = ipAt + 1 < to ? layers[ipAt + 1] : undefined;
  if (later || upper === undefined || !(upper.proto === 'tcp' || upper.proto === 'udp' || upper.proto === 'icmp' || upper.proto === 'icmpv6')) {
    const at = ip.offset + ip.length;
    const tail = later ? `|frag ${fragmentOffset(layers[fragAt])}` : '';
    const hash = payloadHash(bytes, at, end);
    return { ...base, kind: 'other', key: `${protocol}|${src}|${dst}|${id}|${hash}${tail}`, loose: `${protocol}|${id}|${hash}${tail}` };
  }
  const payloadStart = upper.offset + upper.length;
  const hash = payloadHash(bytes, payloadStart, end);
  base.checksum = upper.checksum?.status ?? null;
  if (upper.proto === 'tcp') {
    const flags = num(upper, 'flags');
    const syn = (flags & 0x02) !== 0;
    const seq = num(upper, 'seq');
    const ack = num(upper, 'ack');
    base.srcPort = num(upper, 'srcPort');
    base.dstPort = num(upper, 'dstPort');
    base.seq = seq;
    base.payloadLength = Math.max(0, end - payloadStart);
    base.tcpFlow = `${src}|${dst}|${base.srcPort}|${base.dstPort}`;
    // PSH and FIN ride on the last segment of a GSO super-packet only: the key keeps SYN and RST.
    const loose = `6|${id}|${seq}|${ack}|${flags & 0x06}|${hash}`;
    if (syn && (flags & 0x10) === 0) base.awaits = `syn|${(seq + 1) >>> 0}`;
    if (syn && (flags & 0x10) !== 0) base.answers = `syn|${ack}`;
    return { ...base, kind: syn ? 'tcp-syn' : 'tcp-data', key: `${loose}|${src}|${dst}|${base.srcPort}|${base.dstPort}`, loose };
  }
  if (upper.proto === 'udp') {
    base.srcPort = num(upper, 'srcPort');
    base.dstPort = num(upper, 'dstPort');
    const loose = `17|${id}|${num(upper, 'length')}|${hash}`;
    return { ...base, kind: 'udp', key: `${loose}|${src}|${dst}|${base.srcPort}|${base.dstPort}`, loose };
  }
  const type = num(upper, 'type');
  const [request, reply] = ECHO[upper.proto];
  const icmpId = num(upper, 'id');
  const seq = num(upper, 'seq');
  const loose = `${protocol}|${type}|${num(upper, 'code')}|${id}|${seq}|${hash}`;
  const key = `${loose}|${src}|${dst}|${icmpId}`;
  if (type === request) {
    return { ...base, kind: 'icmp-echo-request', key, loose, awaits: `echo|${seq}|${hash}` };
  }
  if (type === reply) {
    return { ...base, kind: 'icmp-echo-reply', key, loose, answers: `echo|${seq}|${hash}` };
  }
  return { ...base, kind: 'other', key, loose };
}

const UNREACHABLE: Record<number, string> = {
  0: 'network unreachable', 1: 'host unreachable', 2: 'protocol unreachable', 3: 'port unreachable',
  4: 'fragmentation needed', 9: 'network prohibited', 10: 'host prohibited', 13: 'administratively prohibited',
};

/** The words for an ICMP or ICMPv6 error, or null when the layer is no error. */
function errorText(layer: Layer): string | null {
  const type = num(layer, 'type');
  const code = num(layer, 'code');
  if (layer.proto === 'icmp') {
    if (type === 3) return `icmp ${UNREACHABLE[code] ?? `destination unreachable (code ${code})`}`;
    if (type === 11) return code === 0 ? 'icmp ttl exceeded' : 'icmp fragment reassembly time exceeded';
    if (type === 12) return 'icmp parameter problem';
    return null;
  }
  if (type === 1) return code === 4 ? 'icmp6 port unreachable' : `icmp6 destination unreachable (code ${code})`;
  if (type === 2) return 'icmp6 packet too big';
  if (type === 3) return 'icmp6 hop limit exceeded';
  if (type === 4) return 'icmp6 parameter problem';
  return null;
}

/** The ICMP error this packet is, with the keys of the packet it quotes. */
function quotedError(packet: Packet, bytes: Uint8Array): ErrorSeen | null {
  const from = packet.quotedFrom;
  if (from === undefined || from < 2) return null;
  const icmp = packet.layers[from - 1];
  const words = errorText(icmp);
  if (words === null) return null;
  const quoted = innermost(packet, bytes, from, packet.layers.length);
  if (quoted === null) return null;
  const sender = packet.layers[from - 2];
  const mtu = num(icmp, 'mtu');
  // A tunnel port in the quote: the outermost quoted UDP header names it.
  const udp = packet.layers.slice(from).find((l) => l.proto === 'udp');
  const about = udp !== undefined ? ` for udp port ${num(udp, 'dstPort')}` : '';
  const text = `${words}${mtu > 0 ? ` (mtu ${mtu})` : ''} from ${str(sender, 'src')}${about}`;
  const portUnreachable = (icmp.proto === 'icmp' && num(icmp, 'type') === 3 && num(icmp, 'code') === 3)
    || (icmp.proto === 'icmpv6' && num(icmp, 'type') === 1 && num(icmp, 'code') === 4);
  return { text, from: str(sender, 'src'), key: quoted.key, loose: quoted.loose, mtu: mtu > 0 ? mtu : null, portUnreachable };
}

/** The fingerprint of a decoded packet, or null when it carries no IP packet or ARP message. */
export function fingerprint(packet: Packet, bytes: Uint8Array): Fingerprint | null {
  const to = packet.quotedFrom ?? packet.layers.length;
  const inner = innermost(packet, bytes, 0, to);
  if (inner === null) return null;
  const tunnels = packet.tunnels.map((t): TunnelSeen => {
    const before = packet.layers[t.layer - 1];
    return { type: t.type, id: t.id, src: t.src, dst: t.dst, port: before?.proto === 'udp' ? num(before, 'dstPort') : null };
  });
  return { ...inner, tunnels, error: quotedError(packet, bytes) };
}
