// A mutation run over every fixture and every peer capture: each file cut at
// each offset, a bit flipped at each byte, each length field of the file and
// of every packet overwritten with 0, 0xffff and 0xffffffff, each packet cut
// at each length. Whole packets before the damage are kept; a damaged file
// ends with one warning; every record decodes with its invariants. Files
// larger than SAMPLE_LIMIT bytes are sampled at fixed, seeded offsets (plus
// every unit boundary), so a run is the same every time and stays near a minute.

import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { FIXTURES, PEER_CAPTURES, capturesIn, requireOrSkip } from '../helpers/tools.js';
import { PEER_CAPTURE_COUNT, loadCorpus, parseCapture, seededRandom, type CorpusFile, type CorpusRecord } from './corpus.js';
import { checkDissect } from './invariants.js';

/** Every offset of a file up to this size is tried; larger files get this many. */
const SAMPLE_LIMIT = 3000;
/** Every length of a packet up to this size is tried; longer packets get this many. */
const PACKET_SAMPLE_LIMIT = 600;

const corpus = loadCorpus();

function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** 0..n-1 when n is small; otherwise `limit` offsets from a generator seeded by `name`, with `always` among them. */
function offsets(n: number, limit: number, name: string, always: number[] = []): number[] {
  if (n <= limit) return Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(seedOf(name));
  const chosen = new Set(always.filter((o) => o >= 0 && o < n));
  while (chosen.size < limit) chosen.add(Math.floor(random() * n));
  return [...chosen].sort((a, b) => a - b);
}

/** Unit starts and the bytes around them: where length fields and cuts matter most. */
function boundaries(file: CorpusFile): number[] {
  return file.units.flatMap((u) => [u.start - 1, u.start, u.start + 1, u.start + 4, u.start + 8, u.start + 12, u.start + 16, u.start + 20]);
}

function packetsBefore(file: CorpusFile, at: number): number {
  return file.units.filter((u) => u.packet && u.start + u.length <= at).length;
}

function unitAt(file: CorpusFile, at: number): number {
  return file.units.findIndex((u) => u.start <= at && at < u.start + u.length);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

/** Decodes the records that differ from the file's own: the rest were decoded once already. */
function checkChanged(file: CorpusFile, got: CorpusRecord[]): void {
  got.forEach((r, i) => {
    const own = file.records[i];
    if (own !== undefined && own.linktype === r.linktype && own.len === r.len && sameBytes(own.bytes, r.bytes)) return;
    checkDissect(r.bytes, r.linktype, r.len);
  });
}

function expectKept(file: CorpusFile, got: CorpusRecord[], kept: number, what: string): void {
  expect(got.length, what).toBeGreaterThanOrEqual(kept);
  for (let i = 0; i < kept; i++) {
    if (!sameBytes(got[i].bytes, file.records[i].bytes)) throw new Error(`${what}: packet ${i + 1} before the damage changed`);
  }
}

/** Where each protocol keeps a length field: [offset in the layer, width in bytes]. */
const LENGTH_FIELDS: Record<string, [number, number][]> = {
  ipv4: [[0, 1], [2, 2]], // IHL (with the version), total length
  ipv6: [[4, 2]], // payload length
  udp: [[4, 2]],
  tcp: [[12, 1]], // data offset
  geneve: [[0, 1]], // Opt Len (with the version)
  arp: [[4, 1], [5, 1]], // hardware and protocol address sizes
  sll: [[4, 2]], // link-layer address length
  sll2: [[11, 1]],
  gre: [[4, 2]], // the payload length of enhanced GRE, or a checksum or key word
};

/** The bytes each overwrite writes over a field of this width: 0, all ones, and all ones for 32 bits. */
function overwrites(width: number): number[][] {
  return [new Array(width).fill(0), new Array(width).fill(0xff), [0xff, 0xff, 0xff, 0xff]];
}

describe('mutation run over every fixture and peer capture', () => {
  it('has the peer captures to run over', () => {
    if (!requireOrSkip(PEER_CAPTURE_COUNT > 0, `the peer captures at ${PEER_CAPTURES}`)) return;
    expect(corpus.length).toBe(capturesIn(FIXTURES).length + PEER_CAPTURE_COUNT);
  });

  describe.each(corpus.map((f) => [f.name, f] as const))('%s', (name, file) => {
    const headerEnd = file.units[0].start + file.units[0].length;

    it('decodes every packet as it is', () => {
      for (const r of file.records) checkDissect(r.bytes, r.linktype, r.len);
    });

    it('cut at each offset: the whole packets before the cut, then one warning naming where', () => {
      for (const at of offsets(file.file.length + 1, SAMPLE_LIMIT, `${name} cut`, boundaries(file))) {
        const outcome = parseCapture(file.file.subarray(0, at));
        if (at < headerEnd) {
          expect(outcome.error, `cut at ${at}`).not.toBeNull();
          continue;
        }
        expect(outcome.error).toBeNull();
        const kept = packetsBefore(file, at);
        expect(outcome.records.length, `cut at ${at}`).toBe(kept);
        expectKept(file, outcome.records, kept, `cut at ${at}`);
        const unit = unitAt(file, at);
        if (unit < 0 || file.units[unit].start === at) expect(outcome.warning, `cut at ${at}`).toBeNull();
        else expect(outcome.warning, `cut at ${at}`).toMatch(new RegExp(`at byte offset ${file.units[unit].start} \\(needed (at least )?\\d+ bytes, ${at - file.units[unit].start} present\\)`));
      }
    });

    it('a bit flipped at each byte: the packets before it kept, every record decoded', () => {
      for (const at of offsets(file.file.length, SAMPLE_LIMIT, `${name} flip`, boundaries(file))) {
        const damaged = file.file.slice();
        damaged[at] ^= 1 << (at & 7);
        const outcome = parseCapture(damaged);
        const unit = unitAt(file, at);
        if (unit === 0 && outcome.error !== null) continue;
        expect(outcome.error, `bit flipped at ${at}`).toBeNull();
        expectKept(file, outcome.records, packetsBefore(file, file.units[unit].start), `bit flipped at ${at}`);
        checkChanged(file, outcome.records);
      }
    });

    it('each length field of the file overwritten with 0, 0xffff and 0xffffffff', () => {
      const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      file.units.slice(1).forEach((unit, u) => {
        const kept = packetsBefore(file, unit.start);
        const fields = [...unit.lengthFields, ...(unit.caplenField === undefined ? [] : [unit.caplenField])];
        for (const field of fields) {
          for (const value of [0, 0xffff, 0xffffffff]) {
            const damaged = file.file.slice();
            view(damaged).setUint32(field, value, unit.littleEndian);
            const outcome = parseCapture(damaged);
            const what = `unit ${u + 1} at ${unit.start}, field at ${field} set to ${value}`;
            expect(outcome.error, what).toBeNull();
            expectKept(file, outcome.records, kept, what);
            checkChanged(file, outcome.records);
            const leading = file.format === 'pcapng' && field === unit.start + 4;
            const trailing = file.format === 'pcapng' && field === unit.start + unit.length - 4 && !leading;
            if (value === 0xffffffff && (file.format === 'pcap' || field === unit.caplenField)) {
              // A captured length no snapshot length and no block can hold.
              expect(outcome.records, what).toHaveLength(kept);
              expect(outcome.warning, what).toMatch(/claims 4294967295 captured bytes, more than/);
            } else if (leading && value !== unit.length) {
              // A block total length below the minimum or not a multiple of 4 (pcapng section 3.1).
              expect(outcome.records, what).toHaveLength(kept);
              expect(outcome.warning, what).toMatch(value === 0 ? /total length of 0, less than the/ : new RegExp(`total length of ${value}, not a multiple of 4`));
            } else if (trailing && value !== unit.length) {
              expect(outcome.records, what).toHaveLength(kept);
              expect(outcome.warning, what).toContain(`ends with a total length of ${value}, which disagrees with the ${unit.length} it starts with`);
            }
          }
        }
      });
    });

    it('each length field of every packet overwritten, and every packet cut at each length', () => {
      file.records.forEach((record, n) => {
        const packet = dissect(record.bytes, record.linktype, record.len);
        for (const layer of packet.layers) {
          for (const [at, width] of LENGTH_FIELDS[layer.proto] ?? []) {
            const field = layer.offset + at;
            if (field + width > record.bytes.length) continue;
            for (const value of overwrites(width)) {
              const damaged = record.bytes.slice();
              damaged.set(value.slice(0, damaged.length - field), field);
              checkDissect(damaged, record.linktype, record.len);
            }
          }
        }
        for (const k of offsets(record.bytes.length, PACKET_SAMPLE_LIMIT, `${name} packet ${n + 1}`)) {
          checkDissect(record.bytes.subarray(0, k), record.linktype, record.len);
        }
      });
    });
  });
});
