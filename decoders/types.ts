// The decoder contract shared by every file under decoders/.
//
// A decoder is a pure function of (bytes, offset, end, ctx). It reads only
// inside [offset, end), never throws, and reports what is wrong through
// ctx.issue(). It returns its layer, where its payload ends and which table
// (or protocol) names what comes next. It never knows what comes next itself.

import type { Layer } from './layers.js';

/** A decoded layer: one interface per protocol, told apart by `proto` (see layers.ts). */
export type { Layer, LayerOf, IpLayer } from './layers.js';

/** The protocols with a layer: one name per interface of the `Layer` union (layers.ts). */
export type ProtoName = Layer['proto'];

/** Dispatch tables of the registry. */
export type TableName =
  | 'linktype'   // pcap/pcapng link-layer header type
  | 'ethertype'  // Ethernet, VLAN, SLL, Geneve protocol type
  | 'gre'        // GRE protocol type (ethertype values plus GRE-only ones)
  | 'ipproto'    // IPv4 protocol / IPv6 next header
  | 'udp'        // UDP port (destination first, then source)
  | 'tcp'        // TCP port (no entries by default)
  | 'ppp'        // PPP protocol number
  | 'gpe'        // VXLAN-GPE next protocol
  | 'af'         // BSD address family (NULL/LOOP link types)
  | 'ipversion'; // raw IP link types: the version nibble picks ipv4 or ipv6

export type NextProtocol =
  /** Look `key` up in `table`; when it misses, try `alt` (UDP: dst then src port). */
  | { table: TableName; key: number; alt?: number }
  /** The next protocol is fixed by this one (VXLAN always carries Ethernet). */
  | { proto: ProtoName };

export type IssueKind =
  | 'truncated'            // fewer bytes than the header or length field needs
  | 'malformed'            // a value the protocol does not allow
  | 'depth-exceeded'       // the engine's tunnel or layer limit was reached
  | 'unsupported-linktype' // the capture's link type has no decoder
  | 'bad-checksum'         // a checksum did not verify (not offload)
  | 'segmentation-offload' // a GSO/TSO/GRO super-packet: lengths cannot be checked
  | 'zero-checksum';       // UDP checksum 0 where RFC 6935/6936 does not allow it

export interface Issue {
  /** Index into Packet.layers of the layer the issue belongs to. */
  layer: number;
  kind: IssueKind;
  message: string;
  /** For length problems: how many bytes were needed and how many there were. */
  needed?: number;
  available?: number;
}

export type ChecksumStatus = 'good' | 'bad' | 'offload' | 'zero' | 'unverified';

export interface Checksum {
  status: ChecksumStatus;
  /** The value found in the packet. */
  value: number;
  /** The correct value, when status is `bad` (and for `offload`: what a NIC would have written). */
  expected?: number;
  /**
   * Why a checksum was left unverified: `snaplen`, `fragment`, `segmentation-offload`, `quoted`, `disabled`,
   * `no-ip-header`, `malformed`. For `offload`: absent when the field holds the pseudo-header sum
   * (CHECKSUM_PARTIAL), `local-checksum-offload` when it is right once the inner partial checksums are filled in.
   */
  reason?: string;
}

export type TunnelType =
  | 'vxlan' | 'vxlan-gpe' | 'geneve' | 'gre' | 'gretap' | 'erspan'
  | 'ipip' | 'sit' | 'ip4in6' | 'ip6in6';

export interface Tunnel {
  type: TunnelType;
  /** VNI, GRE key, ERSPAN session id, or null. */
  id: number | null;
  /** Outer (enclosing IP) source and destination; '' when decoded without detail, like the header's own. */
  src: string;
  dst: string;
  /** Index of the first layer of the tunnel (its header; the inner IP for IP-in-IP). */
  layer: number;
}

/** The IP header that encloses the layer being decoded; transport checksums need it. */
export interface IpContext {
  version: 4 | 6;
  /**
   * Offsets of the 4- or 16-byte addresses the transport pseudo-header takes, in the record's bytes: the
   * header's own, except over IPv6 the Routing header's final destination (RFC 8200 section 8.1) and the
   * Home Address option's address as source (RFC 6275 section 6.3).
   */
  srcOffset: number;
  dstOffset: number;
  /** The addresses as text; '' when decoded without detail. */
  src: string;
  dst: string;
  /** Upper-layer protocol number (after IPv6 extension headers). */
  protocol: number;
  /** Length of the upper-layer packet as the IP header states it. */
  upperLength: number;
  /** A fragment: non-first fragments carry no upper header; any fragment cannot be checksummed alone. */
  fragment: boolean;
  /** Fragment offset is not 0: the upper-layer header is not in this packet. */
  laterFragment: boolean;
  /** A segmentation-offload super-packet: lengths exceed what the link could carry. */
  superPacket: boolean;
}

export interface DecodeContext {
  /** Verify checksums (off with --no-verify). */
  verify: boolean;
  /**
   * Build the parts of a layer only a printer shows: the list of TCP options,
   * the text of an Ethernet II frame's MAC addresses, the text of a whole IP
   * header's addresses (its `src` and `dst` are then '', see ipLayerAddress).
   * Off for `stats`, which counts packets and never prints one. Off changes no
   * verdict, issue or number; a count or filter that needs an address reads
   * its bytes, or makes its text when it needs that.
   */
  detail: boolean;
  /** The nearest enclosing IP header, or null. */
  ip: IpContext | null;
  /** The layer decoded just before this one, or null. */
  prev: Layer | null;
  /** Inside at least one tunnel. */
  tunnelled: boolean;
  /** Inside the packet quoted by an ICMP/ICMPv6 error: truncation is expected, no tunnels are counted. */
  quoted: boolean;
  /** The original length of the frame on the wire (record.len). */
  wireLength: number;
  /** Report a problem with the current layer. */
  issue(kind: IssueKind, message: string, needed?: number, available?: number): void;
}

export interface DecodeResult {
  layer: Layer;
  /** Where the payload starts; defaults to layer.offset + layer.length. */
  payloadOffset?: number;
  /** Where the payload ends (IPv4 total length, UDP length, ... trim padding); defaults to `end`. */
  payloadEnd?: number;
  /** What comes next, or null when the payload is not another protocol this decoder can name. */
  next: NextProtocol | null;
  /** An IP decoder returns the context its payload's checksums need. */
  ip?: IpContext;
  /** This layer's payload is the packet quoted by an ICMP error. */
  quotes?: boolean;
}

export type Decoder = (bytes: Uint8Array, offset: number, end: number, ctx: DecodeContext) => DecodeResult;

export interface Packet {
  layers: Layer[];
  tunnels: Tunnel[];
  issues: Issue[];
  /** Index of the first layer of the packet an ICMP error quotes, when there is one. */
  quotedFrom?: number;
  /** A datagram put back together from fragments (see src/reassembly), not a frame of the capture. */
  reassembled?: Reassembled;
}

export interface Reassembled {
  /** Numbers of the frames whose fragments it was made of, in order. */
  frames: number[];
  /** Index of the IP layer whose fragments were put together. */
  layer: number;
}
