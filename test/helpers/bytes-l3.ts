// Test helpers for the link- and network-layer decoders: byte arrays from hex,
// a DecodeContext that records issues, and a minimal classic pcap reader for
// the peer captures.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DecodeContext, IssueKind } from '../../decoders/types.js';

/** ../shared/peer-captures/tcpdump, relative to the project root. */
export const PEER_CAPTURES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)), '../../../shared/peer-captures/tcpdump',
);

/** Bytes from hex text; spaces and line breaks are ignored. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd hex length ${clean.length}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concat(...parts: ArrayLike<number>[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface RecordedIssue {
  kind: IssueKind;
  message: string;
  needed?: number;
  available?: number;
}

/**
 * A context for calling one decoder directly. wireLength 0 means "as
 * captured": the decoders take the larger of it and the captured bytes.
 */
export function makeContext(overrides: Partial<Omit<DecodeContext, 'issue'>> = {}): { ctx: DecodeContext; issues: RecordedIssue[] } {
  const issues: RecordedIssue[] = [];
  const ctx: DecodeContext = {
    verify: true,
    ip: null,
    prev: null,
    tunnelled: false,
    quoted: false,
    wireLength: 0,
    ...overrides,
    issue(kind, message, needed, available) {
      const issue: RecordedIssue = { kind, message };
      if (needed !== undefined) issue.needed = needed;
      if (available !== undefined) issue.available = available;
      issues.push(issue);
    },
  };
  return { ctx, issues };
}

export interface PcapRecord {
  linktype: number;
  data: Uint8Array;
  wireLength: number;
}

/** Records of a classic (libpcap) capture file, either byte order. */
export function readPcap(file: string): PcapRecord[] {
  const buf = fs.readFileSync(file);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) {
    throw new Error(`${file} is not a classic pcap file`);
  }
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linktype = u32(20) & 0xffff;
  const records: PcapRecord[] = [];
  for (let off = 24; off + 16 <= buf.length;) {
    const caplen = u32(off + 8);
    const wireLength = u32(off + 12);
    records.push({ linktype, data: new Uint8Array(buf.subarray(off + 16, off + 16 + caplen)), wireLength });
    off += 16 + caplen;
  }
  return records;
}
