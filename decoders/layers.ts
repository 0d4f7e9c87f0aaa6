// The layers the decoders make: one interface per protocol, told apart by
// `proto`. A reader narrows on `proto` (a switch, or `layer.proto === 'ipv4'`)
// and the compiler then knows every field the layer can have.
//
// Fields keep the names of the protocol's own document, camelCase. Nearly all
// are optional: a header cut short by the capture gives only the fields that
// were captured (see each decoder's partial case), and some fields belong to
// one variant of the header only. The order in which a decoder sets them is
// the order the JSON output prints them, so it never changes.

import type { Checksum } from './types.js';

interface LayerBase {
  /** Where the header starts in the record's bytes. */
  offset: number;
  /** How many bytes of header the layer covers (UDP: its Length field). */
  length: number;
}

/** The IEEE 802.2 LLC header after an 802.3 Length field (RFC 1042). */
export interface LlcHeader {
  dsap: number;
  ssap: number;
  control: number;
}

/** Ethernet II (RFC 894) or IEEE 802.3; `dst` and `src` only with detail. */
export interface EthLayer extends LayerBase {
  proto: 'eth';
  dst?: string;
  src?: string;
  /** The EtherType of an Ethernet II frame. */
  type?: number;
  /** The Length field of an 802.3 frame, in place of a type. */
  payloadLength?: number;
  llc?: LlcHeader;
}

/** IEEE 802.1Q tag: Priority Code Point, Drop Eligible Indicator, VLAN Identifier. */
export interface VlanLayer extends LayerBase {
  proto: 'vlan';
  pcp?: number;
  dei?: boolean;
  vid?: number;
  type?: number;
}

/** Linux cooked capture, LINKTYPE_LINUX_SLL. */
export interface SllLayer extends LayerBase {
  proto: 'sll';
  packetType?: number;
  arphrd?: number;
  addressLength?: number;
  address?: string;
  protocol?: number;
}

/** Linux cooked capture v2, LINKTYPE_LINUX_SLL2. */
export interface Sll2Layer extends LayerBase {
  proto: 'sll2';
  protocol?: number;
  ifindex?: number;
  arphrd?: number;
  packetType?: number;
  addressLength?: number;
  address?: string;
}

/** BSD loopback: the address family. */
export interface NullLayer extends LayerBase {
  proto: 'null';
  family?: number;
}

/** ARP (RFC 826) and RARP (RFC 903); the addresses as text only for 48-bit hardware and IPv4. */
export interface ArpLayer extends LayerBase {
  proto: 'arp';
  hardwareType?: number;
  protocolType?: number;
  hardwareSize?: number;
  protocolSize?: number;
  opcode?: number;
  senderMac?: string;
  senderIp?: string;
  targetMac?: string;
  targetIp?: string;
  /** Carried with RARP's EtherType. */
  reverse?: true;
}

/** An IPv4 option of RFC 791 section 3.1 (type and length octets; the data is not kept). */
export interface IPv4Option {
  type: number;
  length: number;
}

/** IPv4, RFC 791. `src` and `dst` are '' without detail (see ipLayerAddress). */
export interface IPv4Layer extends LayerBase {
  proto: 'ipv4';
  version?: number;
  headerLength?: number;
  dscp?: number;
  ecn?: number;
  totalLength?: number;
  /** Identification. */
  id?: number;
  /** Don't Fragment and More Fragments flags. */
  df?: boolean;
  mf?: boolean;
  /** In bytes (the header counts 8-octet units). */
  fragmentOffset?: number;
  ttl?: number;
  protocol?: number;
  checksum?: Checksum;
  src?: string;
  dst?: string;
  options?: IPv4Option[];
}

export type Ipv6ExtensionType = 'hop-by-hop' | 'routing' | 'fragment' | 'destination';

/** An IPv6 extension header (RFC 8200 section 4), with the fields of its kind. */
export interface Ipv6Extension {
  type: Ipv6ExtensionType;
  nextHeader: number;
  length: number;
  /** Fragment header: offset in bytes, M flag, Identification. */
  fragmentOffset?: number;
  mf?: boolean;
  id?: number;
  /** Hop-by-Hop Jumbo Payload option (RFC 2675). */
  jumboPayloadLength?: number;
  routingType?: number;
  segmentsLeft?: number;
  /** The address the transport pseudo-header takes as destination (RFC 8200 section 8.1). */
  finalDestination?: string;
  /** The Home Address option's address, the pseudo-header's source (RFC 6275 section 6.3). */
  homeAddress?: string;
}

/** IPv6, RFC 8200. `protocol` is the upper-layer protocol after the extension headers. */
export interface IPv6Layer extends LayerBase {
  proto: 'ipv6';
  version?: number;
  trafficClass?: number;
  flowLabel?: number;
  payloadLength?: number;
  nextHeader?: number;
  hopLimit?: number;
  src?: string;
  dst?: string;
  extensions?: Ipv6Extension[];
  protocol?: number;
}

/** A Source Route Entry of RFC 1701 section 2.2 (the null SRE that ends the list is not kept). */
export interface SourceRouteEntry {
  addressFamily: number;
  sreOffset: number;
  sreLength: number;
}

/** GRE: RFC 2784 and 2890, RFC 1701's routing, RFC 2637's enhanced GRE (version 1). */
export interface GreLayer extends LayerBase {
  proto: 'gre';
  version?: number;
  checksumPresent?: boolean;
  routingPresent?: boolean;
  keyPresent?: boolean;
  sequencePresent?: boolean;
  /** Version 1 only. */
  ackPresent?: boolean;
  reserved0?: number;
  protocolType?: number;
  checksum?: Checksum;
  routingOffset?: number;
  /** Version 1: the key field holds the payload length and the call ID. */
  payloadLength?: number;
  callId?: number;
  key?: number;
  sequence?: number;
  ack?: number;
  routing?: SourceRouteEntry[];
}

/** The optional platform specific subheader of ERSPAN type III, its 58 bits of information in two numbers. */
export interface PlatformSubheader {
  platformId: number;
  /** The 26 bits after the platform ID in the first word. */
  infoHigh: number;
  /** The second word. */
  infoLow: number;
}

/** ERSPAN (draft-foschiano-erspan-03): version 0 is type I, 1 type II, 2 type III. */
export interface ErspanLayer extends LayerBase {
  proto: 'erspan';
  version?: number;
  vlan?: number;
  cos?: number;
  /** Type II's En bits. */
  encapsulation?: number;
  /** Type III's BSO bits. */
  bso?: number;
  /** The T bit: the mirrored frame was truncated. */
  truncated?: boolean;
  sessionId?: number;
  /** Type II. */
  index?: number;
  /** Type III. */
  timestamp?: number;
  sgt?: number;
  p?: boolean;
  ft?: number;
  hwId?: number;
  d?: boolean;
  gra?: number;
  o?: boolean;
  platformSubheader?: PlatformSubheader;
}

/** PPP (RFC 1661, HDLC-like framing of RFC 1662): Address and Control when not compressed away. */
export interface PppLayer extends LayerBase {
  proto: 'ppp';
  address?: number;
  control?: number;
  protocol?: number;
}

/** UDP, RFC 768: `length` is its Length field. */
export interface UdpLayer extends LayerBase {
  proto: 'udp';
  srcPort?: number;
  dstPort?: number;
  checksum?: Checksum;
}

export interface TcpOption {
  kind: number;
  length: number;
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  sack?: [number, number][];
  timestamp?: { value: number; echo: number };
}

/** TCP, RFC 9293. `options` only with detail; `payloadLength` from the IP header's length. */
export interface TcpLayer extends LayerBase {
  proto: 'tcp';
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  /** Data Offset, in bytes. */
  headerLength?: number;
  /** The control bits, NS (RFC 3540) down to FIN. */
  flags?: number;
  window?: number;
  checksum?: Checksum;
  urgentPointer?: number;
  options?: TcpOption[];
  /** The first Maximum Segment Size option's value. */
  mss?: number;
  payloadLength?: number;
}

/** ICMP, RFC 792: the second word as the message type names it. */
export interface IcmpLayer extends LayerBase {
  proto: 'icmp';
  type?: number;
  code?: number;
  checksum?: Checksum;
  /** Echo and echo reply: Identifier and Sequence Number. */
  id?: number;
  seq?: number;
  /** Redirect: Gateway Internet Address. */
  gateway?: string;
  /** Fragmentation needed: Next-Hop MTU (RFC 1191). */
  mtu?: number;
}

/** ICMPv6, RFC 4443; Neighbor Solicitation and Advertisement's Target Address (RFC 4861). */
export interface Icmpv6Layer extends LayerBase {
  proto: 'icmpv6';
  type?: number;
  code?: number;
  checksum?: Checksum;
  id?: number;
  seq?: number;
  target?: string;
  /** Packet Too Big: MTU. */
  mtu?: number;
}

/** VXLAN, RFC 7348: `vniValid` is the I flag. */
export interface VxlanLayer extends LayerBase {
  proto: 'vxlan';
  flags?: number;
  vniValid?: boolean;
  vni?: number;
}

/** VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe): `oam` is the O flag. */
export interface VxlanGpeLayer extends LayerBase {
  proto: 'vxlan-gpe';
  flags?: number;
  version?: number;
  oam?: boolean;
  nextProtocol?: number;
  vni?: number;
}

export interface GeneveOption {
  class: number;
  /** The whole Type byte; its high bit is the critical bit. */
  type: number;
  critical: boolean;
  /** Bytes of option data, excluding the 4-byte option header. */
  length: number;
}

/** Geneve, RFC 8926: `optionsLength` in bytes, `oam` and `critical` the O and C bits. */
export interface GeneveLayer extends LayerBase {
  proto: 'geneve';
  version?: number;
  optionsLength?: number;
  oam?: boolean;
  critical?: boolean;
  protocolType?: number;
  vni?: number;
  options?: GeneveOption[];
}

/** Bytes no decoder took: a link type without one, or what a dispatch table did not name (`of`). */
export interface PayloadLayer extends LayerBase {
  proto: 'payload';
  linktype?: number;
  of?: string;
}

/** A decoded layer: a plain object, one of the interfaces above. */
export type Layer =
  | EthLayer | VlanLayer | SllLayer | Sll2Layer | NullLayer | ArpLayer
  | IPv4Layer | IPv6Layer | GreLayer | ErspanLayer | PppLayer
  | UdpLayer | TcpLayer | IcmpLayer | Icmpv6Layer
  | VxlanLayer | VxlanGpeLayer | GeneveLayer | PayloadLayer;

/** The layer of one protocol: `LayerOf<'ipv4'>` is IPv4Layer. */
export type LayerOf<P extends Layer['proto']> = Extract<Layer, { proto: P }>;

export type IpLayer = IPv4Layer | IPv6Layer;

export function isIpLayer(layer: Layer): layer is IpLayer {
  return layer.proto === 'ipv4' || layer.proto === 'ipv6';
}

/** The layers that carry a checksum field. */
export type ChecksummedLayer = IPv4Layer | GreLayer | UdpLayer | TcpLayer | IcmpLayer | Icmpv6Layer;

export function hasChecksum(layer: Layer): layer is ChecksummedLayer {
  switch (layer.proto) {
    case 'ipv4': case 'gre': case 'udp': case 'tcp': case 'icmp': case 'icmpv6': return true;
    default: return false;
  }
}

/** The layer's checksum verdict, if it has one. */
export function layerChecksum(layer: Layer): Checksum | undefined {
  return hasChecksum(layer) ? layer.checksum : undefined;
}

/**
 * The EtherType a link or tunnel layer names for its payload: Ethernet's and
 * VLAN's `type`, SLL's `protocol`, GRE's and Geneve's `protocolType`.
 */
export function carriedEthertype(layer: Layer): number | undefined {
  switch (layer.proto) {
    case 'eth': case 'vlan': return layer.type;
    case 'sll': case 'sll2': return layer.protocol;
    case 'gre': case 'geneve': return layer.protocolType;
    default: return undefined;
  }
}

/**
 * A layer's own properties, `proto`, `offset` and `length` among them, in the
 * order the decoder set them: for the printers that show every field.
 */
export function layerFields(layer: Layer): [string, unknown][] {
  return Object.entries(layer);
}
