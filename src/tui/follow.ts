// Following a stream: the payload of one TCP connection or UDP exchange,
// both directions in capture order, as text or as a hex dump. A stream is
// named by its innermost TCP or UDP header, the IP addresses around it and
// the tunnels it travels in (either direction of each), so the same ports
// in another VNI are another stream.

import { isIpLayer } from '../../decoders/layers.js';
import type { Packet } from '../../decoders/types.js';
import type { CaptureRecord } from '../sources/record.js';

export interface StreamSegment {
  /** Packet number. */
  n: number;
  /** Sent by side A (the one that sent the stream's first packet). */
  fromA: boolean;
  payload: Uint8Array;
}

export interface FollowedStream {
  proto: 'tcp' | 'udp';
  a: string;
  b: string;
  /** Every packet of the stream, payload or not. */
  packets: number[];
  /** Payload-carrying packets; TCP segments seen before (retransmissions) are left out. */
  segments: StreamSegment[];
}

interface StreamPoint {
  key: string;
  proto: 'tcp' | 'udp';
  src: string;
  dst: string;
  /** The payload's bytes. */
  start: number;
  end: number;
  seq: number | null;
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function ordered(x: string, y: string): string {
  return x < y ? `${x} ${y}` : `${y} ${x}`;
}

/**
 * Where a packet's TCP or UDP payload is, and which stream it belongs to;
 * null unless its innermost IP header carries TCP or UDP (an ICMP echo in a
 * VXLAN tunnel is no stream of the tunnel's UDP).
 */
export function streamPoint(record: CaptureRecord, packet: Packet): StreamPoint | null {
  const layers = packet.layers;
  // The innermost IP header, outside any packet an ICMP error quotes: its payload must be TCP or UDP.
  let i = (packet.quotedFrom ?? layers.length) - 1;
  while (i >= 0 && !isIpLayer(layers[i])) i--;
  const t = i + 1;
  if (i < 0 || t >= layers.length) return null;
  const ip = layers[i];
  const layer = layers[t];
  if (!isIpLayer(ip) || (layer.proto !== 'tcp' && layer.proto !== 'udp')) return null;
  const proto = layer.proto;
  const src = endpoint(ip.src ?? '', layer.srcPort ?? 0);
  const dst = endpoint(ip.dst ?? '', layer.dstPort ?? 0);
  const tunnels = packet.tunnels.filter((tunnel) => tunnel.layer < t)
    .map((tunnel) => `${tunnel.type} ${tunnel.id ?? '-'} ${ordered(tunnel.src, tunnel.dst)}`);
  const captured = record.bytes.length;
  let start: number;
  let end: number;
  if (layer.proto === 'tcp') {
    start = layer.offset + layer.length;
    end = start + (layer.payloadLength ?? 0);
  } else {
    start = layer.offset + 8;
    end = layer.offset + layer.length;
  }
  start = Math.min(start, captured);
  end = Math.max(start, Math.min(end, captured));
  return {
    key: `${tunnels.join(' | ')} | ${proto} ${ordered(src, dst)}`, proto, src, dst, start, end,
    seq: layer.proto === 'tcp' ? layer.seq ?? 0 : null,
  };
}

/**
 * The stream packet `n` belongs to, gathered from `candidates` (packet
 * numbers in capture order); null when packet n has no TCP or UDP header.
 */
export function followStream(
  n: number, candidates: ArrayLike<number>, open: (n: number) => { record: CaptureRecord; packet: Packet } | null,
): FollowedStream | null {
  const opened = open(n);
  const start = opened === null ? null : streamPoint(opened.record, opened.packet);
  if (start === null) return null;
  const stream: FollowedStream = { proto: start.proto, a: '', b: '', packets: [], segments: [] };
  const seen = new Set<string>();
  for (let i = 0; i < candidates.length; i++) {
    const other = open(candidates[i]);
    if (other === null) continue;
    const point = streamPoint(other.record, other.packet);
    if (point === null || point.key !== start.key) continue;
    if (stream.packets.length === 0) {
      stream.a = point.src;
      stream.b = point.dst;
    }
    stream.packets.push(candidates[i]);
    if (point.end <= point.start) continue;
    const fromA = point.src === stream.a;
    if (point.seq !== null) {
      const segment = `${fromA} ${point.seq} ${point.end - point.start}`;
      if (seen.has(segment)) continue;
      seen.add(segment);
    }
    stream.segments.push({ n: candidates[i], fromA, payload: other.record.bytes.subarray(point.start, point.end) });
  }
  return stream;
}

export interface StreamLine {
  text: string;
  fromA: boolean;
}

function printable(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.';
}

/** The stream as text: each segment's bytes cut into lines at its newlines, other unprintable bytes as dots. */
export function asciiLines(stream: FollowedStream): StreamLine[] {
  const lines: StreamLine[] = [];
  for (const { payload, fromA } of stream.segments) {
    let text = '';
    for (let i = 0; i < payload.length; i++) {
      const byte = payload[i];
      if (byte === 0x0a) {
        lines.push({ text, fromA });
        text = '';
      } else if (byte !== 0x0d) {
        text += printable(byte);
      }
    }
    if (text !== '') lines.push({ text, fromA });
  }
  return lines;
}

/** The stream as a hex dump, 16 bytes a line, offsets counting each direction on its own; side B indented. */
export function hexLines(stream: FollowedStream): StreamLine[] {
  const lines: StreamLine[] = [];
  const offsets = { a: 0, b: 0 };
  for (const { payload, fromA } of stream.segments) {
    for (let row = 0; row < payload.length; row += 16) {
      const bytes = payload.subarray(row, row + 16);
      const offset = (fromA ? offsets.a : offsets.b) + row;
      const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ').padEnd(47);
      const ascii = Array.from(bytes, printable).join('');
      lines.push({ text: `${fromA ? '' : '    '}${offset.toString(16).padStart(8, '0')}  ${hex}  ${ascii}`, fromA });
    }
    if (fromA) offsets.a += payload.length;
    else offsets.b += payload.length;
  }
  return lines;
}

/** Bytes each way. */
export function streamTotals(stream: FollowedStream): { a: number; b: number } {
  let a = 0;
  let b = 0;
  for (const segment of stream.segments) {
    if (segment.fromA) a += segment.payload.length;
    else b += segment.payload.length;
  }
  return { a, b };
}
