// The shape of `tunscope stats --json` (README, "JSON output"): what the
// aggregator produces and what the tables, the CSV and the terminal UI show.

import type { ReassemblyCounts } from '../reassembly/reassembler.js';
import type { TunnelType } from '../../decoders/types.js';

export interface ChecksumCounts {
  bad: number;
  offload: number;
}

/** Checksum verdicts of the layers at one tunnel depth: 0 outside every tunnel, 1 inside one, ... */
export interface DepthChecksums {
  depth: number;
  good: number;
  bad: number;
  offload: number;
  zero: number;
  unverified: number;
}

export interface TunnelStats {
  /**
   * `none` is the row that sums untunnelled traffic; `overflow` sums the
   * packets of tunnels beyond the aggregator's tunnel cap.
   */
  type: TunnelType | 'none' | 'overflow';
  /** Outer source and destination: a tunnel entry is one direction. */
  src: string;
  dst: string;
  id: number | null;
  packets: number;
  /** Sum of the original frame lengths (`len`); a packet inside nested tunnels counts in each of them. */
  bytes: number;
  /** Bytes from the start of the tunnel's payload (the inner frame or inner IP header) to the end of the frame. */
  innerBytes: number;
  /** bytes − innerBytes: everything in front of the payload, link header included. */
  overheadBytes: number;
  overheadPercent: number;
  flows: number;
  firstTs: number;
  lastTs: number;
  /** firstTs and lastTs exactly, as ISO 8601 UTC text with the capture's digits (a JSON number cannot hold nanoseconds). */
  firstTime: string;
  lastTime: string;
  /** Over lastTs − firstTs; null for a single instant. */
  bitsPerSecond: number | null;
  packetsPerSecond: number | null;
  /** All depths of the tunnel's packets together. */
  checksums: ChecksumCounts;
  checksumsByDepth: DepthChecksums[];
  /** Outer: fragments of the IP header that carries the tunnel. Inner: fragments of the first IP header inside. */
  fragments: { outer: number; inner: number };
  maxOuterLength: number;
  /** IPv4 outer headers with Don't Fragment set and clear (IPv6 has no such bit). */
  df: { set: number; clear: number };
  /** Bytes from the outermost IP header to the inner IP header: what the tunnel takes out of the path MTU. */
  encapsulation: number | null;
  /** The largest inner IP packet, by its own length field. */
  largestInnerPacket: number;
}

export interface TcpFlowStats {
  /** Packets with each flag set. */
  syn: number;
  fin: number;
  rst: number;
  /** The largest MSS option seen on a SYN. */
  mss?: number;
}

export interface FlowStats {
  /** Index into StatsReport.tunnels. */
  tunnel: number;
  /**
   * `tcp`, `udp`, `icmp`, `icmpv6`, `gre`, `ipv4`/`ipv6` (IP in IP), `ip` (another IP protocol, see ipProtocol),
   * `arp`, `eth` (another ethertype, see ethertype), `other`, or `overflow` (flows beyond the cap).
   */
  proto: string;
  /** IP addresses; the ARP sender and target addresses; MAC addresses for `eth`. */
  src: string;
  srcPort?: number;
  dst: string;
  dstPort?: number;
  packets: number;
  /** Sum of the original frame lengths of its packets. */
  bytes: number;
  firstTs: number;
  lastTs: number;
  firstTime: string;
  lastTime: string;
  ipProtocol?: number;
  ethertype?: number;
  /** Packets that were IP fragments. */
  fragments: number;
  /** A flow of non-first fragments: they carry no transport header, so no ports, and make a flow of their own. */
  laterFragments?: boolean;
  tcp?: TcpFlowStats;
}

/** What a bridge forwarding table and a neighbour table learn from one inner MAC address. */
export interface LearnedAddress {
  mac: string;
  /** The outer source (tunnel endpoint) it was first seen behind. */
  vtep: string;
  /** Another endpoint it was seen behind later, if any. */
  movedTo?: string;
  /** Sender IPs of its ARP packets and source IPs of its IP packets (at most 16). */
  ips: string[];
  packets: number;
}

/** One virtual network: every direction of every tunnel with the same type and id. */
export interface VniStats {
  type: TunnelType;
  id: number;
  /** Indices into StatsReport.tunnels. */
  tunnels: number[];
  packets: number;
  bytes: number;
  flows: number;
  macs: LearnedAddress[];
  arp: { requests: number; replies: number };
}

export type FindingKind =
  | 'inner-mtu'           // inner packets larger than the tunnel's inner MTU
  | 'inner-fragments'     // inner packets fragmented before encapsulation
  | 'outer-fragments'     // outer packets fragmented on the underlay
  | 'frag-needed'         // ICMP fragmentation needed / ICMPv6 packet too big
  | 'mss'                 // a SYN's MSS does not fit the tunnel
  | 'bad-inner-checksum'  // inner checksums wrong on arrival
  | 'bad-outer-checksum'  // outer checksums wrong on arrival
  | 'checksum-offload'    // checksums left for the NIC (CHECKSUM_PARTIAL)
  | 'udp-8472'            // VXLAN on Linux's default port
  | 'vxlan-i-flag'        // VXLAN with the I flag clear
  | 'one-way'             // a tunnel seen in one direction only
  | 'mac-moved'           // an inner MAC seen behind two tunnel endpoints
  | 'super-packets'       // GSO/GRO super-packets: captured above the NIC
  | 'table-full'          // a table cap was reached
  | 'vni-mismatch'        // two VTEPs sending each other different VNIs (causes.ts)
  | 'tunnel-port-unreachable' // ICMP port unreachable for a tunnel port: a dstport mismatch
  | 'vtep-unreachable'    // ICMP host/net unreachable for a remote VTEP
  | 'tunnel-prohibited'   // ICMP administratively prohibited for tunnel traffic
  | 'vtep-arp-unanswered' // underlay ARP for a remote VTEP never answered
  | 'arp-unanswered'      // ARP inside a tunnel never answered
  | 'echo-unanswered'     // echo requests without a reply
  | 'syn-unanswered'      // SYNs without a SYN-ACK or reset
  | 'vxlan-gpe-next-protocol-0'; // VXLAN-GPE next protocol 0: probably plain VXLAN on 4790

export interface Finding {
  kind: FindingKind;
  severity: 'info' | 'warning' | 'error';
  /** Index into StatsReport.tunnels, when the finding is about one tunnel. */
  tunnel?: number;
  /** Index into StatsReport.flows, when the finding is about one flow. */
  flow?: number;
  message: string;
  /** The numbers behind the message. */
  figures: Record<string, number>;
}

export interface StatsReport {
  packets: number;
  bytes: number;
  linktypes: Record<string, number>;
  firstTs: number | null;
  lastTs: number | null;
  firstTime: string | null;
  lastTime: string | null;
  /** Sorted by bytes, largest first. */
  tunnels: TunnelStats[];
  /** Sorted by bytes, largest first. */
  flows: FlowStats[];
  /** Sorted by bytes, largest first. */
  vnis: VniStats[];
  /** Checksum verdicts of every packet by tunnel depth. */
  checksums: DepthChecksums[];
  /** Decode issues by kind. */
  issues: Record<string, number>;
  /** Segmentation-offload (GSO/TSO/GRO) super-packets: never held against the MTU. */
  superPackets: number;
  /** What IP reassembly did (null with --no-reassemble). */
  reassembly: ReassemblyCounts | null;
  findings: Finding[];
}
