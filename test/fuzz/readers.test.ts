// Property tests for the capture readers (src/sources/parser.ts with the pcap
// and pcapng formats): any bytes, in chunks of any size, end in records and
// at most one warning, or in a CaptureError when the file header itself is
// unreadable; never in another exception. Whole packets before damage are
// kept, and a length field is never trusted for an allocation.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureParser } from '../../src/sources/parser.js';
import { loadCorpus, parseCapture, type CorpusFile, type ParseOutcome } from './corpus.js';
import { checkDissect } from './invariants.js';

const RUNS = { numRuns: 800 };
const MAX_CAPLEN = 256 * 1024 * 1024;

/**
 * Each property parses its pick whole several times (or in chunks of up to 97
 * bytes) 800 times over: the lab captures of bulk TCP (400 KB) add time, not
 * structure, so the properties pick among the captures up to 128 KB.
 */
const MAX_CORPUS_BYTES = 128 * 1024;
const corpus = loadCorpus().filter((f) => f.file.length <= MAX_CORPUS_BYTES);
const corpusFile = fc.nat(corpus.length - 1).map((i) => corpus[i]);

function u32(le: boolean, v: number): number[] {
  const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  return le ? b.reverse() : b;
}

/** Starts that get random bytes past the magic number: pcap headers of each kind, a pcapng section and interface. */
const PREFIXES: number[][] = [
  [],
  [...u32(false, 0xa1b2c3d4), 0, 2, 0, 4, ...u32(false, 0), ...u32(false, 0), ...u32(false, 65535), ...u32(false, 1)],
  [...u32(true, 0xa1b23c4d), 2, 0, 4, 0, ...u32(true, 0), ...u32(true, 0), ...u32(true, 0), ...u32(true, 147)],
  [...u32(true, 0x0a0d0d0a), ...u32(true, 28), ...u32(true, 0x1a2b3c4d), 1, 0, 0, 0, ...new Array(8).fill(0xff), ...u32(true, 28),
    ...u32(true, 1), ...u32(true, 20), 1, 0, 0, 0, ...u32(true, 0), ...u32(true, 20)],
];

/** Records as a reader may hand them out: lengths that agree, timestamps in range. */
function expectSaneRecords(outcome: ParseOutcome): void {
  for (const r of outcome.records) {
    expect(r.bytes.length).toBe(r.caplen);
    expect(r.caplen).toBeLessThanOrEqual(MAX_CAPLEN);
    expect(Number.isInteger(r.len) && r.len >= 0).toBe(true);
    expect(Number.isInteger(r.linktype) && r.linktype >= 0 && r.linktype <= 0xffff).toBe(true);
    expect(Number.isFinite(r.sec)).toBe(true);
    expect(Number.isInteger(r.nsec) && r.nsec >= 0 && r.nsec < 1e9).toBe(true);
    expect([6, 9]).toContain(r.tsDigits);
  }
}

/** The packets in units that end at or before `at`. */
function packetsBefore(file: CorpusFile, at: number): number {
  return file.units.filter((u) => u.packet && u.start + u.length <= at).length;
}

function unitAt(file: CorpusFile, at: number): number {
  return file.units.findIndex((u) => u.start <= at && at < u.start + u.length);
}

describe('CaptureParser on hostile bytes', () => {
  it('reads any bytes after any start into sane records, or refuses them with a CaptureError', () => {
    fc.assert(fc.property(fc.nat(PREFIXES.length - 1), fc.uint8Array({ maxLength: 600 }), (p, tail) => {
      const outcome = parseCapture(Uint8Array.from([...PREFIXES[p], ...tail]));
      expectSaneRecords(outcome);
      for (const r of outcome.records) checkDissect(r.bytes, r.linktype, r.len);
    }), { numRuns: 3000 });
  });

  it('gives the same records, warning and error whatever the chunk sizes', () => {
    const input = fc.oneof(
      fc.tuple(fc.nat(PREFIXES.length - 1), fc.uint8Array({ maxLength: 400 })).map(([p, t]) => Uint8Array.from([...PREFIXES[p], ...t])),
      fc.tuple(corpusFile, fc.array(fc.nat(), { maxLength: 6 })).map(([f, flips]) => {
        const bytes = f.file.slice();
        for (const x of flips) bytes[(x >> 3) % bytes.length] ^= 1 << (x & 7);
        return bytes;
      }),
    );
    fc.assert(fc.property(input, fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 5 }), (bytes, chunks) => {
      expect(parseCapture(bytes, chunks)).toEqual(parseCapture(bytes));
    }), RUNS);
  });

  it('keeps every whole packet of a file cut anywhere, and warns exactly when the cut splits one', () => {
    fc.assert(fc.property(corpusFile, fc.nat(), (file, n) => {
      const at = n % (file.file.length + 1);
      const outcome = parseCapture(file.file.subarray(0, at));
      const first = file.units[0];
      if (at < first.start + first.length) {
        // Inside the file header (or first section header block) nothing can be read.
        expect(outcome.error).not.toBeNull();
        return;
      }
      expect(outcome.error).toBeNull();
      expect(outcome.records.map((r) => r.bytes)).toEqual(file.records.slice(0, packetsBefore(file, at)).map((r) => r.bytes));
      const cut = unitAt(file, at);
      if (cut < 0 || file.units[cut].start === at) {
        expect(outcome.warning).toBeNull();
      } else {
        expect(outcome.warning).toContain(`at byte offset ${file.units[cut].start} `);
        expect(outcome.warning).toContain(`${at - file.units[cut].start} present`);
      }
    }), RUNS);
  });

  it('keeps every whole packet before a flipped bit, and decodes whatever follows it', () => {
    fc.assert(fc.property(corpusFile, fc.nat(), (file, n) => {
      const bit = n % (file.file.length * 8);
      const damaged = file.file.slice();
      damaged[bit >> 3] ^= 1 << (bit & 7);
      const outcome = parseCapture(damaged);
      const damagedUnit = unitAt(file, bit >> 3);
      if (damagedUnit === 0 && outcome.error !== null) return;
      expect(outcome.error).toBeNull();
      expectSaneRecords(outcome);
      const kept = file.units.slice(0, damagedUnit).filter((u) => u.packet).length;
      expect(outcome.records.slice(0, kept).map((r) => r.bytes)).toEqual(file.records.slice(0, kept).map((r) => r.bytes));
      for (const r of outcome.records) checkDissect(r.bytes, r.linktype, r.len);
    }), RUNS);
  });

  it('stops at a length field set to any value, keeping the packets before it', () => {
    const lengthField = corpusFile.chain((file) => fc.tuple(
      fc.constant(file),
      fc.constantFrom(...file.units.slice(1).flatMap((u) => [...u.lengthFields, ...(u.caplenField === undefined ? [] : [u.caplenField])])),
      fc.oneof(fc.constantFrom(0, 1, 0xffff, 0xffffffff, MAX_CAPLEN, MAX_CAPLEN + 1), fc.nat(), fc.nat(300)),
    )).filter(([file]) => file.units.length > 1);
    fc.assert(fc.property(lengthField, ([file, at, value]) => {
      const damaged = file.file.slice();
      const view = new DataView(damaged.buffer);
      view.setUint32(at, value >>> 0, file.units[unitAt(file, at)].littleEndian);
      const outcome = parseCapture(damaged);
      expect(outcome.error).toBeNull();
      expectSaneRecords(outcome);
      const kept = packetsBefore(file, file.units[unitAt(file, at)].start);
      expect(outcome.records.slice(0, kept).map((r) => r.bytes)).toEqual(file.records.slice(0, kept).map((r) => r.bytes));
      for (const r of outcome.records) checkDissect(r.bytes, r.linktype, r.len);
    }), RUNS);
  });
});

describe('CaptureParser memory', () => {
  /** Feeds `file` in 64-byte chunks and reports how far ArrayBuffer memory grew while the parser still held it. */
  function growthWhileReading(file: Uint8Array): { growth: number; warning: string | null } {
    const before = process.memoryUsage().arrayBuffers;
    const parser = new CaptureParser('lying.pcap');
    for (let at = 0; at < file.length; at += 64) parser.push(file.subarray(at, at + 64), () => {});
    const growth = process.memoryUsage().arrayBuffers - before;
    return { growth, warning: parser.finish().warning };
  }

  it('does not allocate the 256 MiB a pcap record claims when 1 KiB arrives', () => {
    // Snapshot length 0 lets a record be as large as the 256 MiB limit.
    const header = [...u32(true, 0xa1b2c3d4), 2, 0, 4, 0, ...u32(true, 0), ...u32(true, 0), ...u32(true, 0), ...u32(true, 1)];
    const record = [...u32(true, 1), ...u32(true, 0), ...u32(true, MAX_CAPLEN), ...u32(true, MAX_CAPLEN), ...new Array(1024).fill(0x45)];
    const { growth, warning } = growthWhileReading(Uint8Array.from([...header, ...record]));
    expect(growth).toBeLessThan(8 << 20);
    expect(warning).toBe(`capture ends in the middle of packet 1 at byte offset 24 (needed ${MAX_CAPLEN + 16} bytes, 1040 present); ` +
      'the 0 whole packets before it were read');
  });

  it('does not allocate the 257 MiB a pcapng block claims when 1 KiB arrives', () => {
    const claimed = MAX_CAPLEN + (1 << 20);
    const block = [...u32(true, 6), ...u32(true, claimed), ...new Array(1024).fill(0x45)];
    const { growth, warning } = growthWhileReading(Uint8Array.from([...PREFIXES[3], ...block]));
    expect(growth).toBeLessThan(8 << 20);
    expect(warning).toBe(`capture ends in the middle of packet 1 at byte offset 48 (needed ${claimed} bytes, 1032 present); ` +
      'the 0 whole packets before it were read');
  });
});
