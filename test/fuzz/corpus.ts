// The captures the fuzz and mutation tests start from: every fixture and
// every peer capture, with their records and a map of their units (file
// header, records, pcapng blocks) drawn by walking the file format here,
// apart from the reader under test.

import fs from 'node:fs';
import path from 'node:path';
import { CaptureParser } from '../../src/sources/parser.js';
import { CaptureError, type CaptureRecord } from '../../src/sources/record.js';
import { FIXTURES, PEER_CAPTURES, capturesIn, havePeerCaptures, requireOrSkip } from '../helpers/tools.js';

/** mulberry32 (scripts/seeded-random.mjs, as scripts/fuzz.mjs uses it), so sampled offsets are the same on every run. */
export { seededRandom } from '../../scripts/seeded-random.mjs';

export interface Unit {
  start: number;
  length: number;
  /** A record or a packet block: the reader hands it to the sink. */
  packet: boolean;
  /** Where its 32-bit length fields sit: a pcap record's captured length, a block's leading and trailing total length. */
  lengthFields: number[];
  /** A pcapng enhanced or obsolete packet block's captured length field. */
  caplenField?: number;
  /** The byte order of its fields (a pcapng section sets its own). */
  littleEndian: boolean;
}

export interface CorpusRecord {
  linktype: number;
  bytes: Uint8Array;
  len: number;
}

export interface CorpusFile {
  name: string;
  file: Uint8Array;
  format: 'pcap' | 'pcapng';
  littleEndian: boolean;
  /** The file header (pcap) or first section header block (pcapng) first. */
  units: Unit[];
  records: CorpusRecord[];
}

const PCAP_MAGICS = new Map<number, boolean>([
  [0xa1b2c3d4, false], [0xa1b23c4d, false], [0xd4c3b2a1, true], [0x4d3cb2a1, true],
]);
const SHB = 0x0a0d0d0a;
const EPB = 6;
const PB = 2;
const SPB = 3;

function mapUnits(name: string, file: Uint8Array): Pick<CorpusFile, 'format' | 'littleEndian' | 'units'> {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = view.getUint32(0, false);
  const units: Unit[] = [];
  const pcapLittle = PCAP_MAGICS.get(magic);
  if (pcapLittle !== undefined) {
    units.push({ start: 0, length: 24, packet: false, lengthFields: [], littleEndian: pcapLittle });
    for (let at = 24; at < file.length;) {
      const caplen = view.getUint32(at + 8, pcapLittle);
      units.push({ start: at, length: 16 + caplen, packet: true, lengthFields: [at + 8], littleEndian: pcapLittle });
      at += 16 + caplen;
    }
    return { format: 'pcap', littleEndian: pcapLittle, units };
  }
  if (magic !== SHB) throw new Error(`${name} is neither pcap nor pcapng`);
  let little = view.getUint32(8, true) === 0x1a2b3c4d;
  const firstLittle = little;
  for (let at = 0; at < file.length;) {
    if (view.getUint32(at, false) === SHB) little = view.getUint32(at + 8, true) === 0x1a2b3c4d;
    const type = view.getUint32(at, little);
    const length = view.getUint32(at + 4, little);
    const unit: Unit = {
      start: at, length, packet: type === EPB || type === PB || type === SPB, lengthFields: [at + 4, at + length - 4],
      littleEndian: little,
    };
    if (type === EPB || type === PB) unit.caplenField = at + 20;
    units.push(unit);
    at += length;
  }
  return { format: 'pcapng', littleEndian: firstLittle, units };
}

/** Every record of a capture, copied out of the reader's buffer. */
export function recordsOf(file: Uint8Array, name = 'capture'): CorpusRecord[] {
  const records: CorpusRecord[] = [];
  const parser = new CaptureParser(name);
  parser.push(file, (r) => {
    records.push({ linktype: r.linktype, bytes: r.bytes.slice(), len: r.len });
  });
  parser.finish();
  return records;
}

function load(file: string): CorpusFile {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const name = path.basename(file);
  return { name, file: bytes, ...mapUnits(name, bytes), records: recordsOf(bytes, name) };
}

/**
 * Every capture in fixtures/, then every peer capture. Without the peer
 * captures the corpus is fixtures/ alone, with a notice (a failure under CI).
 */
export function loadCorpus(): CorpusFile[] {
  requireOrSkip(havePeerCaptures, 'the peer captures (the corpus is fixtures/ alone)');
  return [...capturesIn(FIXTURES), ...capturesIn(PEER_CAPTURES)].map(load);
}

export const PEER_CAPTURE_COUNT = capturesIn(PEER_CAPTURES).length;

export interface ParseOutcome {
  records: Array<CorpusRecord & { caplen: number; interfaceId: number; sec: number; nsec: number; tsDigits: number }>;
  /** The summary's warning, or the CaptureError's message when reading failed. */
  warning: string | null;
  /** Set when the reader refused the input with a CaptureError. */
  error: string | null;
}

/**
 * Feeds `file` to a CaptureParser in chunks of the given sizes (cycled; one
 * chunk when none are given). Only a CaptureError may escape the parser: it
 * becomes `error`; anything else is rethrown.
 */
export function parseCapture(file: Uint8Array, chunkSizes: number[] = []): ParseOutcome {
  const records: ParseOutcome['records'] = [];
  const parser = new CaptureParser('fuzzed.pcap');
  const keep = (r: CaptureRecord) => {
    records.push({
      linktype: r.linktype, bytes: r.bytes.slice(), len: r.len, caplen: r.caplen, interfaceId: r.interfaceId,
      sec: r.sec, nsec: r.nsec, tsDigits: r.tsDigits,
    });
  };
  try {
    for (let at = 0, k = 0; at < file.length; k++) {
      const size = chunkSizes.length === 0 ? file.length : Math.max(1, chunkSizes[k % chunkSizes.length]);
      if (!parser.push(file.subarray(at, at + size), keep)) break;
      at += size;
    }
    return { records, warning: parser.finish().warning, error: null };
  } catch (err) {
    if (err instanceof CaptureError) return { records, warning: null, error: err.message };
    throw err;
  }
}
