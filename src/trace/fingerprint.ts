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

import { ipLayerAddress } from '../../decoders/address.js';
import { isIpLayer as isIp } from '../../decoders/layers.js';
import type { ArpLayer, IcmpLayer, Icmpv6Layer, IpLayer, Ipv6Extension, UdpLayer } from '../../decoders/layers.js';
import type { ChecksumStatus, Packet, TunnelType } from '../../decoders/types.js';

export const KINDS = [
  'icmp-echo-request', 'icmp-echo-reply', 'tcp-syn', 'tcp-data', 'udp', 'arp-request', 'arp-reply', 'other',
] as const;
export type TraceKind = (typeof KINDS)[number];

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
  /** The keys of the quoted packet. */
  key: number;
  loose: number;
  mtu: number | null;
  portUnreachable: boolean;
}

/** Keys are 53-bit hashes of the fields they name (see KeyHash): numbers, for cheap maps. */
export interface Fingerprint {
  kind: TraceKind;
  key: number;
  loose: number;
  /** Protocol, addresses and ports here, hashed: the flow direction as this point sees it. */
  flow: number;
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
  /** TCP: the connection direction (addresses and ports), for GSO/GRO. */
  tcpFlow: number | null;
  seq: number;
  payloadLength: number;
  /** A fragmented IP layer (the innermost one that is): its addresses, protocol and id. */
  fragment: number | null;
  laterFragment: boolean;
  /** A request: the key its reply will answer with. A reply: the key of its request. */
  awaits: number | null;
  answers: number | null;
  error: ErrorSeen | null;
}

const PAYLOAD_HASHED = 16;

/** Shared by every packet outside any tunnel: never changed. */
const NO_TUNNELS: TunnelSeen[] = [];

/**
 * A 53-bit hash of a run of 32-bit values, in two multiplicative lanes: at a
 * million packets in the window the chance that two differ and still collide
 * is about 1 in 10^10. One running hash at a time (the fingerprint is built
 * synchronously); `value()` may be read midway and the run continued.
 */
const KeyHash = {
  a: 0,
  b: 0,
  start(tag: number): void {
    KeyHash.a = Math.imul(0x811c9dc5 ^ tag, 0x01000193);
    KeyHash.b = Math.imul(0x1b873593 ^ tag, 0x5bd1e995);
  },
  add(v: number): void {
    KeyHash.a = Math.imul(KeyHash.a ^ v, 0x01000193);
    KeyHash.b = Math.imul(KeyHash.b ^ v, 0x5bd1e995);
    KeyHash.b ^= KeyHash.b >>> 15;
  },
  value(): number {
    return (KeyHash.a >>> 0) * 0x200000 + (KeyHash.b >>> 11);
  },
};

function word(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
}

/** The first bytes of a payload into the running hash, four at a time, and how many there were. */
function addPayload(bytes: Uint8Array, start: number, end: number): void {
  const stop = Math.max(start, Math.min(end, start + PAYLOAD_HASHED, bytes.length));
  let i = start;
  for (; i + 4 <= stop; i += 4) KeyHash.add(word(bytes, i));
  let rest = 0;
  for (; i < stop; i++) rest = (rest << 8) | bytes[i];
  KeyHash.add(rest);
  KeyHash.add(stop - start);
}

/** An IP layer's addresses into the running hash, from its bytes. */
function addAddresses(bytes: Uint8Array, ip: IpLayer): void {
  const v4 = ip.proto === 'ipv4';
  const at = ip.offset + (v4 ? 12 : 8);
  const words = v4 ? 2 : 8;
  for (let i = 0; i < words; i++) KeyHash.add(at + 4 * i + 4 <= bytes.length ? word(bytes, at + 4 * i) : -1);
}

function addText(text: string): void {
  for (let i = 0; i < text.length; i++) KeyHash.add(text.charCodeAt(i));
  KeyHash.add(-1);
}

function addressText(bytes: Uint8Array, ip: IpLayer, which: 'src' | 'dst'): string {
  return ipLayerAddress(bytes, ip, which) ?? '';
}

/** Where the IP packet's bytes end, by its own length field. */
function ipEnd(layer: IpLayer, bytes: Uint8Array): number {
  const total = layer.proto === 'ipv4' ? layer.totalLength ?? -1 : (layer.payloadLength ?? -1) + 40;
  return total > 0 ? Math.min(layer.offset + total, bytes.length) : bytes.length;
}

function ipv6Fragment(layer: IpLayer): Ipv6Extension | undefined {
  if (layer.proto !== 'ipv6' || layer.extensions === undefined) return undefined;
  return layer.extensions.find((e) => e.type === 'fragment');
}

function isFragment(layer: IpLayer): boolean {
  if (layer.proto === 'ipv4') return layer.mf === true || (layer.fragmentOffset ?? -1) > 0;
  const frag = ipv6Fragment(layer);
  return frag !== undefined && (frag.mf === true || (frag.fragmentOffset ?? 0) > 0);
}

function fragmentOffset(layer: IpLayer): number {
  return layer.proto === 'ipv4' ? layer.fragmentOffset ?? -1 : ipv6Fragment(layer)?.fragmentOffset ?? 0;
}

function fragmentId(layer: IpLayer): number {
  return layer.proto === 'ipv4' ? layer.id ?? -1 : ipv6Fragment(layer)?.id ?? -1;
}

const ECHO: Record<string, [request: number, reply: number]> = { icmp: [8, 0], icmpv6: [128, 129] };

const ARP_TAG = 0x10000;
const FRAGMENT_TAG = 0x20000;
const REPLY_TAG = 0x30000;

/** The keys and facts of the packet in layers[from, to): its innermost IP packet or ARP message. */
function innermost(packet: Packet, bytes: Uint8Array, from: number, to: number): Fingerprint | null {
  const layers = packet.layers;
  let ipAt = -1;
  let arpAt = -1;
  let ip: IpLayer | null = null;
  let arp: ArpLayer | null = null;
  let fragmented: IpLayer | null = null;
  for (let i = from; i < to; i++) {
    const layer = layers[i];
    if (isIp(layer)) {
      ipAt = i;
      ip = layer;
      if (isFragment(layer)) fragmented = layer;
    } else if (layer.proto === 'arp') {
      arpAt = i;
      arp = layer;
    }
  }
  if (arp !== null && arpAt > ipAt) return arpFacts(arp, bytes);
  if (ip === null) return null;
  const protocol = ip.protocol ?? -1;
  const id = (ip.proto === 'ipv4' ? ip.id : ip.flowLabel) ?? -1;
  const end = ipEnd(ip, bytes);
  let fragment: number | null = null;
  let later = false;
  if (fragmented !== null) {
    KeyHash.start(FRAGMENT_TAG);
    addAddresses(bytes, fragmented);
    KeyHash.add(protocol);
    KeyHash.add(fragmentId(fragmented));
    fragment = KeyHash.value();
    later = fragmentOffset(fragmented) > 0;
  }
  // One object of one shape for every packet: the branches below fill it in.
  const base: Fingerprint = {
    kind: 'other', key: 0, loose: 0, flow: 0,
    src: addressText(bytes, ip, 'src'), dst: addressText(bytes, ip, 'dst'), srcPort: null, dstPort: null,
    size: end - ip.offset, ttl: (ip.proto === 'ipv4' ? ip.ttl : ip.hopLimit) ?? -1,
    tos: ip.proto === 'ipv4' ? ((ip.dscp ?? -1) << 2) | (ip.ecn ?? -1) : ip.trafficClass ?? -1,
    tunnels: NO_TUNNELS, checksum: null, tcpFlow: null, seq: 0, payloadLength: 0,
    fragment, laterFragment: later, awaits: null, answers: null, error: null,
  };
  const upper = ipAt + 1 < to ? layers[ipAt + 1] : undefined;
  KeyHash.start(protocol);
  KeyHash.add(id);
  if (later || upper === undefined || !(upper.proto === 'tcp' || upper.proto === 'udp' || upper.proto === 'icmp' || upper.proto === 'icmpv6')) {
    if (later && fragmented !== null) KeyHash.add(fragmentOffset(fragmented));
    addPayload(bytes, ip.offset + ip.length, end);
    return filled(base, 'other', ip, bytes);
  }
  // A UDP layer's length is the datagram's Length field; its header is 8 bytes.
  const payloadStart = upper.offset + (upper.proto === 'udp' ? 8 : upper.length);
  base.checksum = upper.checksum?.status ?? null;
  if (upper.proto === 'tcp') {
    const flags = upper.flags ?? -1;
    const syn = (flags & 0x02) !== 0;
    const seq = upper.seq ?? -1;
    const ack = upper.ack ?? -1;
    base.srcPort = upper.srcPort ?? -1;
    base.dstPort = upper.dstPort ?? -1;
    base.seq = seq;
    base.payloadLength = Math.max(0, end - payloadStart);
    // PSH and FIN ride on the last segment of a GSO super-packet only: the key keeps SYN and RST.
    KeyHash.add(seq);
    KeyHash.add(ack);
    KeyHash.add(flags & 0x06);
    addPayload(bytes, payloadStart, end);
    filled(base, syn ? 'tcp-syn' : 'tcp-data', ip, bytes);
    KeyHash.start(6);
    addAddresses(bytes, ip);
    KeyHash.add((base.srcPort << 16) | base.dstPort);
    base.tcpFlow = KeyHash.value();
    if (syn) {
      KeyHash.start(REPLY_TAG + 6);
      KeyHash.add((flags & 0x10) === 0 ? seq + 1 : ack);
      if ((flags & 0x10) === 0) base.awaits = KeyHash.value();
      else base.answers = KeyHash.value();
    }
    return base;
  }
  if (upper.proto === 'udp') {
    base.srcPort = upper.srcPort ?? -1;
    base.dstPort = upper.dstPort ?? -1;
    KeyHash.add(upper.length);
    addPayload(bytes, payloadStart, end);
    return filled(base, 'udp', ip, bytes);
  }
  const type = upper.type ?? -1;
  const [request, reply] = ECHO[upper.proto];
  const seq = upper.seq ?? -1;
  KeyHash.add((type << 8) | (upper.code ?? -1));
  KeyHash.add(seq);
  addPayload(bytes, payloadStart, end);
  base.loose = KeyHash.value();
  addAddresses(bytes, ip);
  KeyHash.add(upper.id ?? -1);
  base.key = KeyHash.value();
  if (type !== request && type !== reply) return base;
  // A reply echoes the request's sequence number and data (RFC 792, RFC 4443 section 4.2).
  KeyHash.start(REPLY_TAG + protocol);
  KeyHash.add(seq);
  addPayload(bytes, payloadStart, end);
  base.kind = type === request ? 'icmp-echo-request' : 'icmp-echo-reply';
  if (type === request) base.awaits = KeyHash.value();
  else base.answers = KeyHash.value();
  return base;
}

/**
 * The kind and the two keys, from the running hash: `loose` is what it holds
 * now, `key` adds the addresses and ports.
 */
function filled(fp: Fingerprint, kind: TraceKind, ip: IpLayer, bytes: Uint8Array): Fingerprint {
  fp.kind = kind;
  fp.loose = KeyHash.value();
  addAddresses(bytes, ip);
  if (fp.srcPort !== null) KeyHash.add((fp.srcPort << 16) | (fp.dstPort as number));
  fp.key = KeyHash.value();
  return fp;
}

/** An ARP message: requests repeat every second with the same bytes; each is another journey at the same point. */
function arpFacts(arp: ArpLayer, bytes: Uint8Array): Fingerprint {
  const op = arp.opcode ?? -1;
  const kind: TraceKind = op === 1 ? 'arp-request' : op === 2 ? 'arp-reply' : 'other';
  const sender = arp.senderIp ?? '';
  const target = arp.targetIp ?? '';
  const whole = arp.offset + 28 <= bytes.length;
  const senderIp = whole ? word(bytes, arp.offset + 14) : -1;
  const targetIp = whole ? word(bytes, arp.offset + 24) : -1;
  KeyHash.start(ARP_TAG + op);
  KeyHash.add(senderIp);
  KeyHash.add(targetIp);
  KeyHash.add(whole ? word(bytes, arp.offset + 8) : -1);
  const key = KeyHash.value();
  // A reply is from the target to the sender of the request it answers.
  KeyHash.start(REPLY_TAG);
  KeyHash.add(op === 1 ? targetIp : senderIp);
  KeyHash.add(op === 1 ? senderIp : targetIp);
  const pair = KeyHash.value();
  return {
    kind, key, loose: key, flow: 0, src: sender, dst: target, srcPort: null, dstPort: null, size: 28, ttl: null, tos: null,
    tunnels: NO_TUNNELS, checksum: null, tcpFlow: null, seq: 0, payloadLength: 0, fragment: null, laterFragment: false,
    awaits: op === 1 ? pair : null,
    answers: op === 2 ? pair : null,
    error: null,
  };
}

const UNREACHABLE: Record<number, string> = {
  0: 'network unreachable', 1: 'host unreachable', 2: 'protocol unreachable', 3: 'port unreachable',
  4: 'fragmentation needed', 9: 'network prohibited', 10: 'host prohibited', 13: 'administratively prohibited',
};

/** The words for an ICMP or ICMPv6 error, or null when the layer is no error. */
function errorText(layer: IcmpLayer | Icmpv6Layer): string | null {
  const type = layer.type ?? -1;
  const code = layer.code ?? -1;
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
  const quotedAt = packet.quotedFrom;
  if (quotedAt === undefined || quotedAt < 2) return null;
  const icmp = packet.layers[quotedAt - 1];
  if (icmp.proto !== 'icmp' && icmp.proto !== 'icmpv6') return null;
  const words = errorText(icmp);
  if (words === null) return null;
  const quoted = innermost(packet, bytes, quotedAt, packet.layers.length);
  if (quoted === null) return null;
  const sender = packet.layers[quotedAt - 2];
  const mtu = icmp.mtu ?? -1;
  // A tunnel port in the quote: the outermost quoted UDP header names it.
  const udp = packet.layers.slice(quotedAt).find((l): l is UdpLayer => l.proto === 'udp');
  const about = udp !== undefined ? ` for udp port ${udp.dstPort ?? -1}` : '';
  const from = isIp(sender) ? addressText(bytes, sender, 'src') : '';
  const text = `${words}${mtu > 0 ? ` (mtu ${mtu})` : ''} from ${from}${about}`;
  const portUnreachable = (icmp.proto === 'icmp' && icmp.type === 3 && icmp.code === 3)
    || (icmp.proto === 'icmpv6' && icmp.type === 1 && icmp.code === 4);
  return { text, from, key: quoted.key, loose: quoted.loose, mtu: mtu > 0 ? mtu : null, portUnreachable };
}

/** The kind, addresses and ports as one number (address texts come from the decoders' cache, so hashing them is cheap). */
function flowHash(kind: TraceKind, src: string, dst: string, srcPort: number | null, dstPort: number | null): number {
  KeyHash.start(KINDS.indexOf(kind));
  addText(src);
  addText(dst);
  KeyHash.add(((srcPort ?? 0) << 16) | (dstPort ?? 0));
  return KeyHash.value();
}

/** The fingerprint of a decoded packet, or null when it carries no IP packet or ARP message. */
export function fingerprint(packet: Packet, bytes: Uint8Array): Fingerprint | null {
  const to = packet.quotedFrom ?? packet.layers.length;
  const inner = innermost(packet, bytes, 0, to);
  if (inner === null) return null;
  inner.flow = flowHash(inner.kind, inner.src, inner.dst, inner.srcPort, inner.dstPort);
  inner.error = quotedError(packet, bytes);
  if (packet.tunnels.length === 0) return inner;
  inner.tunnels = packet.tunnels.map((t): TunnelSeen => {
    const before = packet.layers[t.layer - 1];
    // Decoded without detail, a tunnel's addresses are read from the IP header that carries it.
    let src = t.src;
    let dst = t.dst;
    if (src === '') {
      for (let at = t.layer - 1; at >= 0; at--) {
        const carrier = packet.layers[at];
        if (!isIp(carrier)) continue;
        src = addressText(bytes, carrier, 'src');
        dst = addressText(bytes, carrier, 'dst');
        break;
      }
    }
    return { type: t.type, id: t.id, src, dst, port: before?.proto === 'udp' ? before.dstPort ?? -1 : null };
  });
  return inner;
}
