// Test helpers for the transport decoders (UDP, TCP, ICMP, ICMPv6): hex
// packets, hand-built decode contexts and a small capture-file reader.

import { readFileSync } from 'node:fs';
import type { DecodeContext, IpContext, Issue, IssueKind } from '../../decoders/types.js';

/** Bytes from hex text; whitespace is ignored. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * An IpContext for a packet that starts with a 20-byte IPv4 header (no
 * options): the addresses sit at bytes 12 and 16.
 */
export function ipv4Context(src: string, dst: string, protocol: number, upperLength: number, extra: Partial<IpContext> = {}): IpContext {
  return {
    version: 4, srcOffset: 12, dstOffset: 16, src, dst, protocol, upperLength,
    fragment: false, laterFragment: false, superPacket: false, ...extra,
  };
}

/** An IpContext for a packet that starts with a 40-byte IPv6 header: addresses at bytes 8 and 24. */
export function ipv6Context(src: string, dst: string, protocol: number, upperLength: number, extra: Partial<IpContext> = {}): IpContext {
  return {
    version: 6, srcOffset: 8, dstOffset: 24, src, dst, protocol, upperLength,
    fragment: false, laterFragment: false, superPacket: false, ...extra,
  };
}

export interface TestContext {
  ctx: DecodeContext;
  /** Issues the decoder raised, in order (layer is always 0). */
  issues: Issue[];
}

/** A DecodeContext that records issues, as the engine does, for calling one decoder directly. */
export function context(ip: IpContext | null, extra: Partial<Omit<DecodeContext, 'issue'>> = {}): TestContext {
  const issues: Issue[] = [];
  const ctx: DecodeContext = {
    verify: true, ip, prev: null, tunnelled: false, quoted: false, wireLength: 0, ...extra,
    issue(kind: IssueKind, message: string, needed?: number, available?: number) {
      const issue: Issue = { layer: 0, kind, message };
      if (needed !== undefined) issue.needed = needed;
      if (available !== undefined) issue.available = available;
      issues.push(issue);
    },
  };
  return { ctx, issues };
}

export interface CaptureRecord {
  linktype: number;
  data: Uint8Array;
  wireLength: number;
}

/**
 * The records of a pcap file (either byte order, micro- or nanosecond) or a
 * pcapng file (section header, interface description and enhanced packet
 * blocks; other blocks are skipped).
 */
export function readCapture(file: string): CaptureRecord[] {
  const buf = new Uint8Array(readFileSync(file));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const records: CaptureRecord[] = [];
  const magic = view.getUint32(0, false);
  if (magic === 0x0a0d0d0a) {
    let little = true;
    const linktypes: number[] = [];
    let at = 0;
    while (at + 12 <= buf.length) {
      if (view.getUint32(at, false) === 0x0a0d0d0a) {
        little = view.getUint32(at + 8, true) === 0x1a2b3c4d;
        linktypes.length = 0;
      }
      const type = view.getUint32(at, little);
      const length = view.getUint32(at + 4, little);
      if (length < 12 || at + length > buf.length) break;
      if (type === 1) linktypes.push(view.getUint16(at + 8, little));
      if (type === 6) {
        const captured = view.getUint32(at + 20, little);
        records.push({
          linktype: linktypes[view.getUint32(at + 8, little)] ?? -1,
          data: buf.slice(at + 28, at + 28 + captured),
          wireLength: view.getUint32(at + 24, little),
        });
      }
      at += length;
    }
    return records;
  }
  const little = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  const linktype = view.getUint32(20, little) & 0x0fffffff;
  let at = 24;
  while (at + 16 <= buf.length) {
    const captured = view.getUint32(at + 8, little);
    const wireLength = view.getUint32(at + 12, little);
    if (at + 16 + captured > buf.length) break;
    records.push({ linktype, data: buf.slice(at + 16, at + 16 + captured), wireLength });
    at += 16 + captured;
  }
  return records;
}
