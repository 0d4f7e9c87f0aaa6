// Test helpers for the tunnel decoders: a decode context that records issues,
// an IPv4 context for checksums, the Internet checksum written out the long
// way, and a small reader of classic pcap files for the peer captures.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';
import type { DecodeContext, IpContext, Issue, IssueKind, Layer } from '../../decoders/types.js';

export interface TestContext extends DecodeContext {
  issues: Issue[];
}

/** A decode context that keeps what decoders report in `issues`. */
export function testContext(options: Partial<Omit<DecodeContext, 'issue'>> = {}): TestContext {
  const issues: Issue[] = [];
  return {
    verify: options.verify ?? true,
    ip: options.ip ?? null,
    prev: options.prev ?? null,
    tunnelled: options.tunnelled ?? false,
    quoted: options.quoted ?? false,
    wireLength: options.wireLength ?? 0,
    issues,
    issue(kind: IssueKind, message: string, needed?: number, available?: number) {
      const issue: Issue = { layer: 0, kind, message };
      if (needed !== undefined) issue.needed = needed;
      if (available !== undefined) issue.available = available;
      issues.push(issue);
    },
  };
}

/** An IPv4 context as the IPv4 decoder would hand it on, for an upper packet of `upperLength` bytes. */
export function ipv4Context(upperLength: number, extra: Partial<IpContext> = {}): IpContext {
  return {
    version: 4, srcOffset: 0, dstOffset: 4, src: '0.0.0.0', dst: '0.0.0.0', protocol: 47,
    upperLength, fragment: false, laterFragment: false, superPacket: false, ...extra,
  };
}

/** A GRE layer as decoders/gre.ts returns it, to stand in for ctx.prev. */
export function greLayer(protocolType: number, sequencePresent: boolean): Layer {
  return {
    proto: 'gre', offset: 0, length: sequencePresent ? 8 : 4, version: 0, checksumPresent: false,
    routingPresent: false, keyPresent: false, sequencePresent, reserved0: 0, protocolType,
  };
}

/** Bytes from a hex string; spaces are ignored. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** RFC 1071 checksum computed word by word with no shortcuts, to set checksum fields in built packets. */
export function rfc1071(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) {
    const word = (bytes[i] << 8) | (i + 1 < end ? bytes[i + 1] : 0);
    sum += word;
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

export interface PcapRecord {
  data: Uint8Array;
  wireLength: number;
}

export interface PcapFile {
  linktype: number;
  records: PcapRecord[];
}

/**
 * Read a classic pcap file: a 24-byte file header, then records of a 16-byte
 * header (seconds, fraction, captured length, wire length) and the captured
 * bytes. The magic number's byte order tells the byte order of the file.
 */
export function readPcap(file: string): PcapFile {
  const buf = fs.readFileSync(file);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicLE = view.getUint32(0, true);
  let little: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) little = true;
  else if (view.getUint32(0, false) === 0xa1b2c3d4 || view.getUint32(0, false) === 0xa1b23c4d) little = false;
  else throw new Error(`${file}: not a classic pcap file (magic 0x${magicLE.toString(16)})`);
  const linktype = view.getUint32(20, little) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let pos = 24;
  while (pos + 16 <= bytes.length) {
    const caplen = view.getUint32(pos + 8, little);
    const wireLength = view.getUint32(pos + 12, little);
    pos += 16;
    if (pos + caplen > bytes.length) throw new Error(`${file}: record at ${pos - 16} runs past the end`);
    records.push({ data: bytes.slice(pos, pos + caplen), wireLength });
    pos += caplen;
  }
  return { linktype, records };
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** tcpdump's test captures, kept beside the project and read in place. */
export const PEER_CAPTURES = path.resolve(here, '../../../shared/peer-captures/tcpdump');

export function peerCapture(name: string): string {
  return path.join(PEER_CAPTURES, name);
}

let warned = false;

/**
 * `it` for tests that read the peer captures. Without them the tests are
 * skipped with a notice, except under CI, where they run and fail.
 */
export function peerIt(): (name: string, fn: () => void) => void {
  if (fs.existsSync(PEER_CAPTURES) || process.env.CI) return it;
  if (!warned) {
    console.warn(`peer captures not found at ${PEER_CAPTURES}: skipping the tests that read them`);
    warned = true;
  }
  return it.skip;
}
