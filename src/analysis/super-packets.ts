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
import { ipPacketLength, writeAddressWords } from './packet-layers.js';
import { WordIndex } from './word-index.js';

/** Connections whose MSS is remembered at most; past that the table starts over. */
const MAX_REMEMBERED = 65536;

/**
 * Writes into `key` the two ends of a connection, `to` (where the MSS
 * applies) then `from`: the IP version, each end's address words (an IPv4
 * address in the first of four) and both ports.
 */
function writeEnds(key: Uint32Array, bytes: Uint8Array, ip: IpLayer, tcp: TcpLayer, toIsSource: boolean): void {
  key[0] = ip.proto === 'ipv4' ? 4 : 6;
  writeAddressWords(key, 1, bytes, ip, toIsSource ? 'src' : 'dst');
  writeAddressWords(key, 5, bytes, ip, toIsSource ? 'dst' : 'src');
  // The caller has read the source port; the destination port comes with it in the header.
  const srcPort = tcp.srcPort ?? 0;
  const dstPort = tcp.dstPort ?? 0;
  key[9] = toIsSource ? ((srcPort << 16) | dstPort) >>> 0 : ((dstPort << 16) | srcPort) >>> 0;
}

export class SuperPacketJudge {
  /** Connections by their receiving end, then sending end (writeEnds()). */
  private readonly ends = new WordIndex(10);
  /** The MSS each receiving end announced, by the connection's number in `ends`. */
  private mss = new Int32Array(1024);

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
        if (this.ends.count >= MAX_REMEMBERED) this.ends.clear();
        writeEnds(this.ends.key, bytes, ipLayer, tcpLayer, true);
        const id = this.ends.findOrAdd();
        if (id >= this.mss.length) {
          const grown = new Int32Array(this.mss.length * 2);
          grown.set(this.mss);
          this.mss = grown;
        }
        this.mss[id] = tcpLayer.mss;
      }
      return false;
    }
    if (!(ipPacketLength(outerLayer) > mtu)) return false;
    if (tcpLayer.checksum?.status === 'offload' && tcpLayer.checksum.reason === undefined) return true;
    const payload = tcpLayer.payloadLength;
    if (payload === undefined || payload === 0) return false;
    writeEnds(this.ends.key, bytes, ipLayer, tcpLayer, false);
    const id = this.ends.find();
    return id >= 0 && payload > this.mss[id];
  }
}
