// What a tunnel row learns of each packet beside its flow: the inner IP
// packet against the path MTU (and the MSS the path fits), inner fragments,
// bad inner checksums, and VXLAN's flags and ports.

import { layerChecksum } from '../../decoders/layers.js';
import type { IpLayer } from '../../decoders/layers.js';
import type { Layer, Tunnel } from '../../decoders/types.js';
import type { TunnelEntry } from './entries.js';
import {
  IPV4_FIXED_HEADER, IPV6_FIXED_HEADER, LATER_FRAGMENT_STATE, NOT_FRAGMENT, datagramLengthOfLastFragment, fragmentState,
  ipPacketLength, ipv6FragmentHeader,
} from './packet-layers.js';

const TCP_FIXED_HEADER = 20;
const VXLAN_LINUX_PORT = 8472;

/** Inner fragments, inner size against the path MTU; returns the largest MSS the path fits. */
export function checkInnerPacket(
entry: TunnelEntry, layers: Layer[], ipLayer: IpLayer, outerIp: number, carrier: number, fragment: number,
superPacket: boolean, mtu: number,
): number {
  const size = ipPacketLength(ipLayer);
  if (fragment !== NOT_FRAGMENT) {
    entry.innerFragments++;
    if (size > entry.largestInnerFragment) entry.largestInnerFragment = size;
    const more = ipLayer.proto === 'ipv4' ? ipLayer.mf === true : ipv6FragmentHeader(ipLayer)?.mf === true;
    if (fragment === LATER_FRAGMENT_STATE && !more) {
      const datagram = datagramLengthOfLastFragment(ipLayer);
      if (datagram > entry.largestFragmentedDatagram) entry.largestFragmentedDatagram = datagram;
    }
  }
  if (superPacket) return Infinity;
  if (size > entry.largestInnerPacket) entry.largestInnerPacket = size;
  const encapsulation = ipLayer.offset - layers[outerIp].offset;
  if (encapsulation <= 0) return Infinity;
  if (encapsulation > entry.encapsulation) entry.encapsulation = encapsulation;
  if (size + encapsulation > mtu) {
    entry.overMtu++;
    if (size > entry.overMtuLargest) entry.overMtuLargest = size;
    if (carrier >= 0) {
      const carrierLayer = layers[carrier];
      if (fragmentState(carrierLayer) !== NOT_FRAGMENT) entry.overMtuOuterFragmented++;
      else if (carrierLayer.proto === 'ipv4' && carrierLayer.df === true) entry.overMtuDf++;
    }
  }
  // RFC 879: the MSS is the MTU less the fixed IP and TCP headers.
  const fixed = (ipLayer.proto === 'ipv4' ? IPV4_FIXED_HEADER : IPV6_FIXED_HEADER) + TCP_FIXED_HEADER;
  return mtu - encapsulation - fixed;
}

export function countInnerBad(entry: TunnelEntry, layers: Layer[], inner: number, shownEnd: number): void {
  for (let i = inner; i < shownEnd; i++) {
    const checksum = layerChecksum(layers[i]);
    if (checksum === undefined || checksum.status !== 'bad') continue;
    const byProto = entry.innerBadByProto ?? (entry.innerBadByProto = new Map());
    byProto.set(layers[i].proto, (byProto.get(layers[i].proto) ?? 0) + 1);
  }
}

export function countVxlan(entry: TunnelEntry, layers: Layer[], tunnel: Tunnel): void {
  const vxlan = layers[tunnel.layer];
  if (vxlan.proto === 'vxlan' && vxlan.vniValid === false) entry.vniFlagClear++;
  const udp = tunnel.layer > 0 ? layers[tunnel.layer - 1] : null;
  if (udp !== null && udp.proto === 'udp' && (udp.dstPort === VXLAN_LINUX_PORT || udp.srcPort === VXLAN_LINUX_PORT)) {
    entry.port8472++;
  }
}
