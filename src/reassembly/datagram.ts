// One fragment's place in its datagram, read from a decoded packet, and the
// whole datagram built from its fragments and decoded: the layers before the
// fragmented IP header are the first fragment's, as that frame showed them;
// the IP header and all it carries are decoded anew over the whole datagram.

import { dissect, type DissectOptions } from '../../decoders/dissect.js';
import { verifyPlain } from '../../decoders/checksum.js';
import { ipFragment } from '../../decoders/ip-common.js';
import type { Ipv6Extension } from '../../decoders/layers.js';
import type { Layer, Packet } from '../../decoders/types.js';
import type { CaptureRecord } from '../sources/record.js';

/** LINKTYPE_RAW: the datagram alone is decoded, starting at its IP header. */
const LINKTYPE_RAW = 101;
const IPV6_FIXED = 40;
const IPV6_FRAGMENT_HEADER = 8;
/** RFC 791 and RFC 8200: neither total length nor payload length goes past 65535. */
export const MAX_DATAGRAM = 0xffff;

/** A fragment as reassembly needs it. */
export interface FragmentPiece {
  /** Index of the fragmented IP layer in the packet. */
  layer: number;
  key: string;
  /** Where its data goes in the datagram, in bytes, and whether more follow. */
  offset: number;
  more: boolean;
  /** Its data, copied out of the frame. */
  data: Uint8Array;
  /** The bytes before the data: link and enclosing headers, the IP header (and unfragmentable part). */
  headerEnd: number;
  /** IPv6: where the Fragment header starts (-1 for IPv4). */
  fragmentHeader: number;
}

function hexOf(bytes: Uint8Array, start: number, length: number): string {
  let out = '';
  for (let i = start; i < start + length && i < bytes.length; i++) out += bytes[i].toString(16).padStart(2, '0');
  return out;
}

/** The address bytes of an IP layer: what tells two datagrams with one id apart (RFC 791 section 3.2). */
function addressesOf(bytes: Uint8Array, layer: Layer): string {
  return layer.proto === 'ipv4' ? hexOf(bytes, layer.offset + 12, 8) : hexOf(bytes, layer.offset + 8, 32);
}

/** The extension headers of an IPv6 layer (none for any other layer). */
function ipv6Extensions(layer: Layer): Ipv6Extension[] {
  return layer.proto === 'ipv6' ? layer.extensions ?? [] : [];
}

/** Where an IPv6 layer's Fragment header starts, from the lengths of the extension headers before it. */
function ipv6FragmentHeaderStart(layer: Layer): number {
  let at = layer.offset + IPV6_FIXED;
  for (const extension of ipv6Extensions(layer)) {
    if (extension.type === 'fragment') return at;
    at += extension.length;
  }
  return -1;
}

/**
 * The first fragment at or after layer `from` that the frame holds whole, or
 * null. Inside what an ICMP error quotes nothing is reassembled.
 */
export function fragmentPiece(record: CaptureRecord, packet: Packet, from: number): FragmentPiece | null {
  const layers = packet.layers;
  const shownEnd = packet.quotedFrom ?? layers.length;
  const bytes = record.bytes;
  for (let i = from; i < shownEnd; i++) {
    const layer = layers[i];
    if (layer.proto !== 'ipv4' && layer.proto !== 'ipv6') continue;
    const fragment = ipFragment(layer);
    if (fragment === null) continue;
    let headerEnd: number;
    let dataEnd: number;
    let fragmentHeader = -1;
    let protocol: number;
    if (layer.proto === 'ipv4') {
      // A fragment's header was decoded past its length fields; one cut before its protocol ends past the capture below.
      headerEnd = layer.offset + (layer.headerLength ?? 0);
      dataEnd = layer.offset + (layer.totalLength ?? 0);
      protocol = layer.protocol ?? -1;
    } else {
      fragmentHeader = ipv6FragmentHeaderStart(layer);
      headerEnd = fragmentHeader + IPV6_FRAGMENT_HEADER;
      dataEnd = layer.offset + IPV6_FIXED + (layer.payloadLength ?? 0);
      protocol = bytes[fragmentHeader];
    }
    // A fragment the capture cut short cannot be put back: its datagram stays incomplete.
    if (dataEnd > bytes.length || dataEnd < headerEnd) return null;
    // The IP layers enclosing this one tell datagrams with one id in different tunnels apart.
    let enclosing = `${record.interfaceId}`;
    for (let j = 0; j < i; j++) {
      if (layers[j].proto === 'ipv4' || layers[j].proto === 'ipv6') enclosing += `|${addressesOf(bytes, layers[j])}`;
    }
    const tunnels = packet.tunnels.filter((t) => t.layer <= i).map((t) => `${t.type}:${t.id}`).join(',');
    return {
      layer: i,
      key: `${enclosing}|${tunnels}|${layer.proto}|${addressesOf(bytes, layer)}|${protocol}|${fragment.id}`,
      offset: fragment.offset,
      more: fragment.more,
      data: bytes.slice(headerEnd, dataEnd),
      headerEnd,
      fragmentHeader,
    };
  }
  return null;
}

/** The IP header of the whole datagram: the first fragment's, its lengths and fragment fields made whole. */
function wholeHeader(bytes: Uint8Array, layer: Layer, piece: FragmentPiece, dataLength: number): Uint8Array {
  if (layer.proto === 'ipv4') {
    const header = bytes.slice(layer.offset, piece.headerEnd);
    const total = header.length + dataLength;
    header[2] = total >> 8;
    header[3] = total & 0xff;
    // Reserved and DF stay; MF and the offset go (RFC 791 section 3.2: the datagram as sent).
    header[6] &= 0xc0;
    header[7] = 0;
    // A header checksum that was right is right again; a wrong one stays wrong.
    if (layer.checksum?.status !== 'bad') {
      header[10] = 0;
      header[11] = 0;
      const sum = verifyPlain(header, 0, header.length, 10).expected ?? 0;
      header[10] = sum >> 8;
      header[11] = sum & 0xff;
    }
    return header;
  }
  // IPv6: the unfragmentable part, the Fragment header taken out (RFC 8200 section 4.5).
  const header = bytes.slice(layer.offset, piece.fragmentHeader);
  const nextHeader = bytes[piece.fragmentHeader];
  if (piece.fragmentHeader === layer.offset + IPV6_FIXED) {
    header[6] = nextHeader;
  } else {
    // The extension header just before the Fragment header names what follows it.
    let at = IPV6_FIXED;
    let previous = IPV6_FIXED;
    for (const extension of ipv6Extensions(layer)) {
      if (extension.type === 'fragment') break;
      previous = at;
      at += extension.length;
    }
    header[previous] = nextHeader;
  }
  const payload = header.length - IPV6_FIXED + dataLength;
  header[4] = payload >> 8;
  header[5] = payload & 0xff;
  return header;
}

/** Something the decode of a whole datagram starts from: the first fragment's frame and layers. */
export interface FirstFragment {
  record: CaptureRecord;
  packet: Packet;
  piece: FragmentPiece;
}

/**
 * The whole datagram, as a record (the first fragment's link and enclosing
 * headers, then the datagram) and its decode; `frames` are the numbers of
 * the frames it was made from, `last` the record of the one that ended it.
 */
export function decodeWhole(
  first: FirstFragment, data: Uint8Array, frames: number[], last: CaptureRecord, options: DissectOptions,
): { record: CaptureRecord; packet: Packet } {
  const { record, packet, piece } = first;
  const layerIndex = piece.layer;
  const ipLayer = packet.layers[layerIndex];
  const header = wholeHeader(record.bytes, ipLayer, piece, data.length);
  const prefixLength = ipLayer.offset;
  const datagram = new Uint8Array(header.length + data.length);
  datagram.set(header, 0);
  datagram.set(data, header.length);
  const inner = dissect(datagram, LINKTYPE_RAW, datagram.length, {
    ...options,
    maxLayers: (options.maxLayers ?? 32) - layerIndex,
    maxTunnels: (options.maxTunnels ?? 8) - packet.tunnels.filter((t) => t.layer <= layerIndex).length,
  });
  const bytes = new Uint8Array(prefixLength + datagram.length);
  bytes.set(record.bytes.subarray(0, prefixLength), 0);
  bytes.set(datagram, prefixLength);
  const layers = packet.layers.slice(0, layerIndex);
  for (const layer of inner.layers) layers.push({ ...layer, offset: layer.offset + prefixLength });
  const whole: Packet = {
    layers,
    tunnels: [
      ...packet.tunnels.filter((t) => t.layer <= layerIndex),
      ...inner.tunnels.map((t) => ({ ...t, layer: t.layer + layerIndex })),
    ],
    issues: [
      ...packet.issues.filter((issue) => issue.layer < layerIndex),
      ...inner.issues.map((issue) => ({ ...issue, layer: issue.layer + layerIndex })),
    ],
    reassembled: { frames, layer: layerIndex },
  };
  if (inner.quotedFrom !== undefined) whole.quotedFrom = inner.quotedFrom + layerIndex;
  return {
    record: { ...last, bytes, caplen: bytes.length, len: bytes.length },
    packet: whole,
  };
}
