// Segmentation-offload super-packets whose lengths alone do not give them
// away. A capture taken above the NIC (on a veth, a bridge, a tunnel's
// underlay device) sees TCP as the stack hands it to GSO/TSO, or as GRO
// merged it: one packet of several segments, larger than the MTU yet never on
// a wire that size. The decoders catch those that no link could carry (past
// 9 KB jumbo frames, or with a length field of 0); a super-packet of a few
// segments fits a jumbo frame and needs what TCP says of itself:
//
// - its data is longer than the MSS its receiver announced in its SYN (RFC
//   9293 section 3.7.1: a sender never sends a segment larger than that), or
// - its checksum holds only the pseudo-header sum (CHECKSUM_PARTIAL): the
//   stack left it for whatever cuts the segments, so the packet had not yet
//   been cut (or GRO merged it and wrote it so, tcp_gro_complete).
//
// Either, on a packet larger than the MTU, is a super-packet, not an
// oversize packet: it is never held against the MTU.

import { isIpLayer } from '../../decoders/layers.js';
import type { IpLayer, TcpLayer } from '../../decoders/layers.js';
import type { Packet } from '../../decoders/types.js';

/** Connections whose MSS is remembered at most; past that the table starts over. */
const MAX_REMEMBERED = 65536;

function hexOf(bytes: Uint8Array, start: number, length: number): string {
  let out = '';
  for (let i = start; i < start + length; i++) out += bytes[i].toString(16).padStart(2, '0');
  return out;
}

/** One end of the connection: its address bytes and port. */
function endOf(bytes: Uint8Array, ip: IpLayer, tcp: TcpLayer, source: boolean): string {
  const v4 = ip.proto === 'ipv4';
  const at = ip.offset + (v4 ? (source ? 12 : 16) : (source ? 8 : 24));
  return `${hexOf(bytes, at, v4 ? 4 : 16)}.${source ? tcp.srcPort : tcp.dstPort}`;
}

function ipPacketLength(ip: IpLayer): number {
  return ip.proto === 'ipv4' ? ip.totalLength ?? 0 : 40 + (ip.payloadLength ?? 0);
}

export class SuperPacketJudge {
  /** The MSS each receiving end announced, by "receiver>sender". */
  private readonly mss = new Map<string, number>();

  /**
   * Whether the packet is a super-packet that its lengths did not give away:
   * its outermost IP packet exceeds `mtu`, and its innermost TCP segment is
   * longer than its receiver's MSS or carries a partial checksum.
   */
  judge(bytes: Uint8Array, packet: Packet, mtu: number): boolean {
    const layers = packet.layers;
    const shownEnd = packet.quotedFrom ?? layers.length;
    let tcp = -1;
    let ip = -1;
    let outer = -1;
    for (let i = 0; i < shownEnd; i++) {
      const proto = layers[i].proto;
      if (proto === 'ipv4' || proto === 'ipv6') {
        if (outer < 0) outer = i;
        ip = i;
      } else if (proto === 'tcp') {
        tcp = i;
      }
    }
    if (tcp < 0 || ip < 0 || ip > tcp) return false;
    const tcpLayer = layers[tcp];
    const ipLayer = layers[ip];
    const outerLayer = layers[outer];
    if (tcpLayer.proto !== 'tcp' || !isIpLayer(ipLayer) || !isIpLayer(outerLayer)) return false;
    if (tcpLayer.flags === undefined || tcpLayer.srcPort === undefined) return false;
    if ((tcpLayer.flags & 0x02) !== 0) {
      // A SYN's MSS option bounds what the other end sends to this one.
      if (tcpLayer.mss !== undefined && tcpLayer.mss > 0) {
        if (this.mss.size >= MAX_REMEMBERED) this.mss.clear();
        this.mss.set(`${endOf(bytes, ipLayer, tcpLayer, true)}>${endOf(bytes, ipLayer, tcpLayer, false)}`, tcpLayer.mss);
      }
      return false;
    }
    if (!(ipPacketLength(outerLayer) > mtu)) return false;
    if (tcpLayer.checksum?.status === 'offload' && tcpLayer.checksum.reason === undefined) return true;
    const payload = tcpLayer.payloadLength;
    if (payload === undefined || payload === 0) return false;
    const mss = this.mss.get(`${endOf(bytes, ipLayer, tcpLayer, false)}>${endOf(bytes, ipLayer, tcpLayer, true)}`);
    return mss !== undefined && payload > mss;
  }
}
