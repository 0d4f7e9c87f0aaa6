// What the aggregator reads of a decoded packet's layers: whether a layer is
// IP, its fragment state and lengths, where a tunnel's payload begins, MAC
// address text, and what an ICMP error quotes.

import { formatMac, ipLayerAddress } from '../../decoders/address.js';
import { ipFragment } from '../../decoders/ip-common.js';
import { isIpLayer } from '../../decoders/layers.js';
import type { EthLayer, IpLayer, Ipv6Extension } from '../../decoders/layers.js';
import type { Layer, Tunnel } from '../../decoders/types.js';
import type { TooBigEntry } from './entries.js';

export const IPV4_FIXED_HEADER = 20;
export const IPV6_FIXED_HEADER = 40;

export const NOT_FRAGMENT = 0;
export const FIRST_FRAGMENT = 1;
export const LATER_FRAGMENT_STATE = 2;

export const isIp = isIpLayer;

export function ipv6FragmentHeader(layer: Layer): Ipv6Extension | null {
  if (layer.proto !== 'ipv6') return null;
  const extensions = layer.extensions;
  if (extensions === undefined) return null;
  for (let i = 0; i < extensions.length; i++) if (extensions[i].type === 'fragment') return extensions[i];
  return null;
}

export function fragmentState(layer: Layer): number {
  const fragment = ipFragment(layer);
  if (fragment === null) return NOT_FRAGMENT;
  return fragment.offset > 0 ? LATER_FRAGMENT_STATE : FIRST_FRAGMENT;
}

/** The IP packet's length by its own header: total length, or the fixed header plus the payload length. */
export function ipPacketLength(layer: IpLayer): number {
  if (layer.proto === 'ipv4') return layer.totalLength ?? 0;
  return layer.payloadLength !== undefined ? IPV6_FIXED_HEADER + layer.payloadLength : 0;
}

/** For the last fragment: the length of the whole datagram it ends. */
export function datagramLengthOfLastFragment(layer: IpLayer): number {
  // A fragment (ipFragment) was decoded far enough to hold these fields.
  if (layer.proto === 'ipv4') return (layer.fragmentOffset ?? 0) + (layer.totalLength ?? 0);
  const fragmentOffset = ipv6FragmentHeader(layer)?.fragmentOffset ?? 0;
  const fragmentData = IPV6_FIXED_HEADER + (layer.payloadLength ?? 0) - layer.length;
  return IPV6_FIXED_HEADER + fragmentOffset + fragmentData;
}

/** Index of the first layer of the tunnel's payload: past the header, and past an ERSPAN header under GRE. */
export function innerLayerOf(layers: Layer[], tunnel: Tunnel): number {
  const type = tunnel.type;
  if (type === 'ipip' || type === 'sit' || type === 'ip4in6' || type === 'ip6in6') return tunnel.layer;
  let j = tunnel.layer + 1;
  while (j < layers.length && layers[j].proto === 'erspan') j++;
  return j;
}

/** The 32-bit word of the IPv4 address at `a`. */
export function wordAt(bytes: Uint8Array, a: number): number {
  return ((bytes[a] << 24) | (bytes[a + 1] << 16) | (bytes[a + 2] << 8) | bytes[a + 3]) >>> 0;
}

/** The source or destination address of a whole IP header as four words of `key` from `at` (IPv4: one, then zeros). */
export function writeAddressWords(key: Uint32Array, at: number, bytes: Uint8Array, ip: IpLayer, which: 'src' | 'dst'): void {
  const v4 = ip.proto === 'ipv4';
  const start = ip.offset + (v4 ? (which === 'src' ? 12 : 16) : (which === 'src' ? 8 : 24));
  for (let k = 0; k < 4; k++) key[at + k] = v4 && k > 0 ? 0 : wordAt(bytes, start + 4 * k);
}

/** Bytes an Ethernet layer needs to hold its source MAC address (the destination is bytes 0-5, the source 6-11). */
export const MAC_TEXT_END = 12;

/**
 * The destination (at 0) or source (at 6) MAC address of an Ethernet layer as
 * the decoder writes it, from the layer or, when it was decoded without detail,
 * from the frame; '' when the capture cut it off.
 */
export function macText(bytes: Uint8Array, eth: EthLayer, at: 0 | 6): string {
  const text = at === 0 ? eth.dst : eth.src;
  if (text !== undefined) return text;
  return eth.length >= at + 6 ? formatMac(bytes, eth.offset + at) : '';
}

/** A header that names the tunnel it opens: its type and the id it names it by (the VNI, or GRE's key). */
export interface TunnelHeader {
  type: 'vxlan' | 'vxlan-gpe' | 'geneve' | 'gre';
  id: number | null;
}

/** The tunnel a VXLAN, VXLAN-GPE, Geneve or GRE layer opens; null for any other layer. */
export function tunnelHeader(layer: Layer): TunnelHeader | null {
  if (layer.proto === 'vxlan' || layer.proto === 'vxlan-gpe' || layer.proto === 'geneve') {
    return { type: layer.proto, id: layer.vni ?? null };
  }
  if (layer.proto === 'gre') return { type: layer.proto, id: layer.key ?? null };
  return null;
}

/** What the packet an ICMP error quotes was: its addresses, length, and the tunnel it carried. */
export function describeQuotedPacket(entry: TooBigEntry, bytes: Uint8Array, layers: Layer[], quotedFrom: number): void {
  const quoted = layers[quotedFrom];
  if (quotedFrom >= layers.length || !isIp(quoted)) return;
  entry.quotedSrc = ipLayerAddress(bytes, quoted, 'src') as string;
  entry.quotedDst = ipLayerAddress(bytes, quoted, 'dst') as string;
  entry.quotedLength = ipPacketLength(quoted);
  for (let i = quotedFrom + 1; i < layers.length; i++) {
    const layer = layers[i];
    if (entry.quotedTunnel === null) {
      const header = tunnelHeader(layer);
      if (header !== null) {
        entry.quotedTunnel = header.type;
        entry.quotedTunnelId = header.id;
      }
    } else if (isIp(layer)) {
      entry.quotedEncapsulation = layer.offset - quoted.offset;
      return;
    }
  }
}
