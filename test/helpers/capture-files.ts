// Capture files built byte by byte with chosen field values, for tests of the
// capture readers. Layouts: draft-ietf-opsawg-pcap and draft-ietf-opsawg-pcapng.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { CaptureParser } from '../../src/sources/parser.js';
import { CaptureError, type CaptureRecord, type ReadSummary } from '../../src/sources/record.js';
import { concat } from './bytes.js';

/** Bytes 0, 1, 2, ... of the given length, offset by `seed` so packets differ. */
export function payload(length: number, seed = 0): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (i + seed * 37) & 0xff;
  return b;
}

function u16(le: boolean, v: number): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v); else b.writeUInt16BE(v);
  return b;
}

function u32(le: boolean, v: number): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v >>> 0); else b.writeUInt32BE(v >>> 0);
  return b;
}

function u64(le: boolean, v: bigint): Buffer {
  const b = Buffer.alloc(8);
  if (le) b.writeBigUInt64LE(BigInt.asUintN(64, v)); else b.writeBigUInt64BE(BigInt.asUintN(64, v));
  return b;
}

// ---- classic pcap ----

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_MAGIC_KUZNETZOV = 0xa1b2cd34;

export interface PcapHeaderSpec {
  le?: boolean;
  magic?: number;
  major?: number;
  minor?: number;
  snaplen?: number;
  /** The whole 32-bit field, FCS bits included. */
  linktype?: number;
}

export function pcapHeader(spec: PcapHeaderSpec = {}): Uint8Array {
  const le = spec.le ?? true;
  return concat(
    u32(le, spec.magic ?? PCAP_MAGIC_US),
    u16(le, spec.major ?? 2),
    u16(le, spec.minor ?? 4),
    u32(le, 0),
    u32(le, 0),
    u32(le, spec.snaplen ?? 65535),
    u32(le, spec.linktype ?? 1),
  );
}

export interface PcapRecordSpec {
  sec: number;
  /** Microseconds or nanoseconds, as the magic says. */
  frac: number;
  data: Uint8Array;
  /** Defaults to data.length; set to lie. */
  caplen?: number;
  len?: number;
}

export function pcapRecord(le: boolean, r: PcapRecordSpec): Uint8Array {
  return concat(
    u32(le, r.sec),
    u32(le, r.frac),
    u32(le, r.caplen ?? r.data.length),
    u32(le, r.len ?? r.data.length),
    r.data,
  );
}

export function pcapFile(spec: PcapHeaderSpec, records: PcapRecordSpec[]): Uint8Array {
  const le = spec.le ?? true;
  return concat(pcapHeader(spec), ...records.map((r) => pcapRecord(le, r)));
}

// ---- pcapng ----

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 1;
export const BT_PB = 2;
export const BT_SPB = 3;
export const BT_EPB = 6;

export interface OptionSpec { code: number; value: Uint8Array }

function pad4(b: Uint8Array): Uint8Array {
  const rest = (4 - (b.length % 4)) % 4;
  return rest === 0 ? b : concat(b, new Uint8Array(rest));
}

export function options(le: boolean, opts: OptionSpec[]): Uint8Array {
  if (opts.length === 0) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  for (const o of opts) parts.push(u16(le, o.code), u16(le, o.value.length), pad4(o.value));
  parts.push(u16(le, 0), u16(le, 0));
  return concat(...parts);
}

/** A block with its body padded; `totalLength`/`trailingLength` override the computed ones to lie. */
export function block(
  le: boolean, type: number, body: Uint8Array,
  lie: { totalLength?: number; trailingLength?: number } = {},
): Uint8Array {
  const padded = pad4(body);
  const total = 12 + padded.length;
  return concat(u32(le, type), u32(le, lie.totalLength ?? total), padded, u32(le, lie.trailingLength ?? lie.totalLength ?? total));
}

export function shb(le: boolean, spec: { major?: number; minor?: number; options?: OptionSpec[] } = {}): Uint8Array {
  return block(le, BT_SHB, concat(
    u32(le, 0x1a2b3c4d),
    u16(le, spec.major ?? 1),
    u16(le, spec.minor ?? 0),
    u64(le, -1n),
    options(le, spec.options ?? []),
  ));
}

export interface IdbSpec {
  linktype: number;
  snaplen?: number;
  /** The raw if_tsresol byte: 9 is 10^-9, 0x80 | 20 is 2^-20. */
  tsresol?: number;
  /** if_tsoffset, seconds. */
  tsoffset?: bigint;
  extra?: OptionSpec[];
}

export function idb(le: boolean, spec: IdbSpec): Uint8Array {
  const opts: OptionSpec[] = [...(spec.extra ?? [])];
  if (spec.tsresol !== undefined) opts.push({ code: 9, value: Uint8Array.of(spec.tsresol) });
  if (spec.tsoffset !== undefined) opts.push({ code: 14, value: u64(le, spec.tsoffset) });
  return block(le, BT_IDB, concat(u16(le, spec.linktype), u16(le, 0), u32(le, spec.snaplen ?? 0), options(le, opts)));
}

export interface EpbSpec {
  interfaceId: number;
  /** In the interface's units. */
  ts: bigint;
  data: Uint8Array;
  caplen?: number;
  len?: number;
  options?: OptionSpec[];
}

function tsWords(le: boolean, ts: bigint): Uint8Array {
  return concat(u32(le, Number(ts >> 32n)), u32(le, Number(ts & 0xffffffffn)));
}

export function epb(le: boolean, spec: EpbSpec, lie: { totalLength?: number; trailingLength?: number } = {}): Uint8Array {
  return block(le, BT_EPB, concat(
    u32(le, spec.interfaceId),
    tsWords(le, spec.ts),
    u32(le, spec.caplen ?? spec.data.length),
    u32(le, spec.len ?? spec.data.length),
    pad4(spec.data),
    options(le, spec.options ?? []),
  ), lie);
}

/** The obsolete Packet Block (type 2). */
export function pb(le: boolean, spec: EpbSpec & { drops?: number }): Uint8Array {
  return block(le, BT_PB, concat(
    u16(le, spec.interfaceId),
    u16(le, spec.drops ?? 0),
    tsWords(le, spec.ts),
    u32(le, spec.caplen ?? spec.data.length),
    u32(le, spec.len ?? spec.data.length),
    pad4(spec.data),
    options(le, spec.options ?? []),
  ));
}

export function spb(le: boolean, spec: { len: number; data: Uint8Array }): Uint8Array {
  return block(le, BT_SPB, concat(u32(le, spec.len), spec.data));
}

// ---- reading ----

/** A record copied out of the callback, so it outlives the reader's buffer. */
export type Kept = Omit<CaptureRecord, 'bytes'> & { bytes: Uint8Array };

export function keep(r: CaptureRecord): Kept {
  return { ...r, bytes: r.bytes.slice() };
}

/** Feeds `bytes` to a CaptureParser in chunks of `chunkSize` and keeps every record. */
export function parseBytes(bytes: Uint8Array, chunkSize = bytes.length || 1, name = 'test.pcap'): { records: Kept[]; summary: ReadSummary } {
  const records: Kept[] = [];
  const parser = new CaptureParser(name);
  for (let o = 0; o < bytes.length; o += chunkSize) {
    if (!parser.push(bytes.subarray(o, o + chunkSize), (r) => { records.push(keep(r)); })) break;
  }
  return { records, summary: parser.finish() };
}

/** The CaptureError that `read` throws; the test fails when it throws nothing, or something else. */
export function captureErrorOf(read: () => unknown): CaptureError {
  try {
    read();
  } catch (err) {
    expect(err).toBeInstanceOf(CaptureError);
    return err as CaptureError;
  }
  throw new Error('expected a CaptureError');
}

// ---- files ----

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-sources-'));
}

export function writeTemp(dir: string, name: string, bytes: Uint8Array | string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

// ---- a pcapng that exercises every block the reader handles ----

/**
 * Two sections, the second in the other byte order. Section 1: interface 0
 * is Ethernet at 10^-9 s with snaplen 80, interface 1 is Linux SLL at 2^-20 s
 * with a one-hour if_tsoffset; an EPB on each, a block of unknown type, an
 * obsolete Packet Block and a Simple Packet Block. Section 2: one raw-IP
 * interface at the default 10^-6 s and two EPBs.
 */
export function mixedPcapngBlocks(le: boolean, unknownType = 0x12345678): Array<{ bytes: Uint8Array; packet: boolean }> {
  const meta = (bytes: Uint8Array) => ({ bytes, packet: false });
  const packet = (bytes: Uint8Array) => ({ bytes, packet: true });
  return [
    meta(shb(le)),
    meta(idb(le, { linktype: 1, snaplen: 80, tsresol: 9 })),
    meta(idb(le, { linktype: 113, snaplen: 64, tsresol: 0x80 | 20, tsoffset: 3600n })),
    packet(epb(le, { interfaceId: 0, ts: 1_700_000_000_123_456_789n, data: payload(60, 1) })),
    packet(epb(le, { interfaceId: 1, ts: (1_700_000_000n << 20n) + 1n, data: payload(50, 2), len: 200 })),
    meta(block(le, unknownType, payload(12, 3))),
    packet(pb(le, { interfaceId: 1, ts: (1_700_000_001n << 20n) + 524_288n, data: payload(33, 4), drops: 2 })),
    packet(spb(le, { len: 100, data: payload(80, 5) })),
    meta(shb(!le)),
    meta(idb(!le, { linktype: 101, snaplen: 0 })),
    packet(epb(!le, { interfaceId: 0, ts: 1_700_000_002_000_001n, data: payload(20, 6) })),
    packet(epb(!le, { interfaceId: 0, ts: 1_700_000_002_000_002n, data: payload(21, 7) })),
  ];
}

export function mixedPcapng(le: boolean, unknownType = 0x12345678): Uint8Array {
  return concat(...mixedPcapngBlocks(le, unknownType).map((b) => b.bytes));
}
