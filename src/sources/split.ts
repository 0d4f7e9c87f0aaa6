// Cutting a classic pcap file into parts at record boundaries, so that the
// parts can be read side by side (stats on several cores).
//
// A pcap record says nothing of where it starts, and walking the record
// headers from the file's header to each cut reads half the file before a
// second thread can start (a tenth of a second per 400 MB). Instead the
// boundary is looked for where the cut should be: the first offset there
// where several records in a row each look like a record of this file
// (sources/pcap.ts, plausibleRecordLength) and follow on from one another.
// A packet's payload could still mimic such a chain; that is caught after
// the count, not guessed at here: the part before a cut is read from a true
// boundary, record by record, and ends exactly at the cut only if the cut is
// a boundary too. Every part but the last must end so (no warning), or the
// parts are not used (analysis/parallel.ts). The last part runs to the end of
// the file, and reading it meets whatever damage or cut the file has there
// just as reading the whole file would.

import fs from 'node:fs';
import type { FileRange } from './file.js';
import { rd32 } from './format.js';
import { detect } from './parser.js';
import { PCAP_FILE_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH, PcapReader } from './pcap.js';

/** Records in a row that must look right (or reach the end of the file) for their start to be taken as a boundary. */
const CHAIN = 8;
/** Bytes read where a cut should be: room for the chain of the first boundary even of the largest records libpcap writes. */
const SEARCH_BYTES = 4 << 20;
/**
 * Most seconds between the timestamp of a chain's record and that of the
 * file's first record (a year). Reading a true chain 4 bytes late, a record's
 * microseconds pass for its seconds and its length for the fraction: the
 * lengths still add up when each record is whole, and only the time tells.
 */
const MAX_SPREAD = 366 * 86_400;

/**
 * Whether a chain of records starts at `o` in the first `n` bytes of `b`;
 * `atEnd` when those bytes run to the end of the file, where a shorter chain
 * that ends exactly there will do. A record the end of the file cuts short
 * ends no chain: a cut near the end is simply not made.
 */
function chainAt(reader: PcapReader, firstSec: number, b: Uint8Array, o: number, n: number, atEnd: boolean): boolean {
  for (let k = 0; k < CHAIN; k++) {
    if (o === n && atEnd) return k > 0;
    if (o + PCAP_RECORD_HEADER_LENGTH > n) return false;
    const length = reader.plausibleRecordLength(b, o);
    if (length < 0 || Math.abs(rd32(b, o, reader.le) - firstSec) > MAX_SPREAD) return false;
    o += length;
    if (o > n) return false;
  }
  return true;
}

/** The first offset from `from` at which a chain of records starts; -1 if none does within SEARCH_BYTES. */
function boundaryFrom(fd: number, size: number, reader: PcapReader, firstSec: number, buffer: Uint8Array, from: number): number {
  const n = fs.readSync(fd, buffer, 0, buffer.length, from);
  const atEnd = from + n >= size;
  for (let o = 0; o + PCAP_RECORD_HEADER_LENGTH <= n; o++) {
    if (chainAt(reader, firstSec, buffer, o, n, atEnd)) return from + o;
  }
  return -1;
}

/**
 * Up to `parts` ranges covering the classic pcap file `path`, the last one
 * open-ended; null when the file is not a classic pcap file, no boundary was
 * found where a cut should be, or the file cannot be read: the caller then
 * reads it whole, and reports what is wrong. The first range is `firstShare`
 * times the size of each other one (they are of about equal size). The ranges
 * do not say how many records come before them: a cut is found without
 * reading what precedes it.
 */
export function splitPcapFile(path: string, parts: number, firstShare = 1): FileRange[] | null {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.size < PCAP_FILE_HEADER_LENGTH) return null;
    const header = new Uint8Array(PCAP_FILE_HEADER_LENGTH);
    if (fs.readSync(fd, header, 0, PCAP_FILE_HEADER_LENGTH, 0) !== PCAP_FILE_HEADER_LENGTH) return null;
    let reader;
    try {
      reader = detect(path, header, 0);
      if (!(reader instanceof PcapReader)) return null;
      reader.take(header, 0, PCAP_FILE_HEADER_LENGTH, 0, () => true);
    } catch {
      return null;
    }
    const buffer = new Uint8Array(Math.min(SEARCH_BYTES, stat.size));
    if (fs.readSync(fd, buffer, 0, 4, PCAP_FILE_HEADER_LENGTH) !== 4) return null;
    const firstSec = rd32(buffer, 0, reader.le);

    const starts = [PCAP_FILE_HEADER_LENGTH];
    for (let i = 1; i < parts; i++) {
      const target = Math.floor((stat.size * (firstShare + i - 1)) / (firstShare + parts - 1));
      const start = boundaryFrom(fd, stat.size, reader, firstSec, buffer, Math.max(target, starts[i - 1] + 1));
      if (start < 0 || start >= stat.size) break;
      starts.push(start);
    }
    if (starts.length < 2) return null;
    return starts.map((start, i) => ({ header, start, end: i + 1 < starts.length ? starts[i + 1] : Infinity }));
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}
