// Cutting a classic pcap file into parts at record boundaries, so that the
// parts can be read side by side (stats on several cores).
//
// A pcap record says nothing of where it starts, so the boundaries are found
// by walking the record headers from the file's header on, with the reader's
// own length checks: a walk never trusts a length the reader would refuse.
// The walk stops at the last boundary it needs; the last part runs to the end
// of the file, and reading it meets whatever damage or cut the file has there
// just as reading the whole file would.

import fs from 'node:fs';
import type { FileRange } from './file.js';
import { FATAL } from './format.js';
import { detect } from './parser.js';
import { PCAP_FILE_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH, PcapReader } from './pcap.js';

const WALK_CHUNK = 8 << 20;

/**
 * Up to `parts` ranges covering the classic pcap file `path`, the last one
 * open-ended; null when the file is not a classic pcap file of at least
 * `parts` records (pcapng, damaged early, too small), or cannot be read: the
 * caller then reads it whole, and reports what is wrong. The first range is
 * `firstShare` times the size of each other one (they are of about equal size).
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

    const starts: { start: number; recordsBefore: number }[] = [{ start: PCAP_FILE_HEADER_LENGTH, recordsBefore: 0 }];
    const buffer = new Uint8Array(WALK_CHUNK);
    let pos = PCAP_FILE_HEADER_LENGTH;
    let records = 0;
    walk: while (starts.length < parts) {
      const target = Math.floor((stat.size * (firstShare + starts.length - 1)) / (firstShare + parts - 1));
      const n = fs.readSync(fd, buffer, 0, WALK_CHUNK, pos);
      if (n < PCAP_RECORD_HEADER_LENGTH) break;
      let o = 0;
      for (;;) {
        const need = reader.need(buffer, o, n - o, pos);
        if (need === FATAL) break walk;
        if (need > n - o) {
          // A record longer than the buffer ends the walk too: there is no boundary in it.
          if (o === 0) break walk;
          break;
        }
        o += need;
        pos += need;
        records++;
        if (pos >= target && starts.length < parts && pos < stat.size) {
          starts.push({ start: pos, recordsBefore: records });
          if (starts.length === parts) break walk;
          continue walk;
        }
      }
    }
    if (starts.length < 2) return null;
    return starts.map((s, i) => ({
      header,
      start: s.start,
      recordsBefore: s.recordsBefore,
      end: i + 1 < starts.length ? starts[i + 1].start : Infinity,
    }));
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}
