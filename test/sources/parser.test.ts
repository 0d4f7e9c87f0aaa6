import { describe, expect, it } from 'vitest';
import { CaptureParser } from '../../src/sources/parser.js';
import { concat } from '../helpers/bytes.js';
import {
  PCAP_MAGIC_NS, captureErrorOf, mixedPcapng, mixedPcapngBlocks, parseBytes, payload, pcapFile, pcapHeader, pcapRecord,
} from '../helpers/capture-files.js';

interface Unit { start: number; length: number; packet: boolean; kind: string }

const CLASSIC_RECORDS = [
  { sec: 1_000, frac: 1, data: payload(1, 1) },
  { sec: 1_001, frac: 2, data: payload(17, 2) },
  { sec: 1_002, frac: 3, data: payload(60, 3) },
];
const CLASSIC = pcapFile({ le: false, magic: PCAP_MAGIC_NS }, CLASSIC_RECORDS);
// Header 24, then records of 16 + 1, 16 + 17, 16 + 60 bytes.
const CLASSIC_UNITS: Unit[] = [
  { start: 24, length: 17, packet: true, kind: 'packet' },
  { start: 41, length: 33, packet: true, kind: 'packet' },
  { start: 74, length: 76, packet: true, kind: 'packet' },
];

const PCAPNG_KINDS = [
  'section header block', 'interface description block', 'interface description block',
  'packet', 'packet', 'block of type 0x12345678', 'packet', 'packet',
  'section header block', 'interface description block', 'packet', 'packet',
];

function pcapngUnits(le: boolean): Unit[] {
  const units: Unit[] = [];
  let start = 0;
  mixedPcapngBlocks(le).forEach((b, i) => {
    units.push({ start, length: b.bytes.length, packet: b.packet, kind: PCAPNG_KINDS[i] });
    start += b.bytes.length;
  });
  return units.slice(1);
}

/**
 * Cuts `file` after every byte count and checks: a CaptureError inside the
 * file header, otherwise every whole packet before the cut and a warning
 * exactly when the cut falls inside a unit, naming its offset and byte counts.
 */
function checkEveryCut(file: Uint8Array, headerLength: number, units: Unit[], headerMessage: RegExp, format: 'pcap' | 'pcapng') {
  const whole = parseBytes(file).records;
  for (let k = 0; k <= file.length; k++) {
    const cut = file.subarray(0, k);
    if (k < headerLength) {
      const message = captureErrorOf(() => parseBytes(cut)).message;
      if (k === 0) expect(message).toMatch(/empty file/);
      else if (k < 4) expect(message).toMatch(/too short to be a capture file \(\d bytes\)/);
      else expect(message).toMatch(headerMessage);
      continue;
    }
    for (const chunk of [k || 1, 7]) {
      const { records, summary } = parseBytes(cut, chunk);
      const wholeUnits = units.filter((u) => u.start + u.length <= k);
      const packets = wholeUnits.filter((u) => u.packet).length;
      expect(summary.records).toBe(packets);
      expect(records).toEqual(whole.slice(0, packets));
      const inside = units.find((u) => u.start < k && k < u.start + u.length);
      if (inside === undefined) {
        expect(summary.warning).toBeNull();
        continue;
      }
      const present = k - inside.start;
      // A record's length is known from its 16-byte header; a block's from 8 bytes, a section header's from 12.
      const lengthAt = format === 'pcap' ? 16 : inside.kind === 'section header block' ? 12 : 8;
      const needed = present >= lengthAt ? `${inside.length}` : `at least ${format === 'pcapng' && present < 8 ? 8 : lengthAt}`;
      // A pcapng block is only known by its type from its fourth byte on; a classic record is always a packet.
      const what = format === 'pcapng' && present < 4 ? 'a block'
        : inside.packet ? `packet ${packets + 1}` : `${/^[aeiou]/.test(inside.kind) ? 'an' : 'a'} ${inside.kind}`;
      const before = packets === 1 ? 'the 1 whole packet before it was read' : `the ${packets} whole packets before it were read`;
      expect(summary.warning).toMatch(new RegExp(
        `^capture ends in the middle of ${what} at byte offset ${inside.start} \\(needed ${needed} bytes, ${present} present\\); ${before}$`,
      ));
    }
  }
}

describe('CaptureParser', () => {
  describe('input cut at every offset', () => {
    it('classic pcap', () => {
      checkEveryCut(CLASSIC, 24, CLASSIC_UNITS, /^test\.pcap is cut short inside its pcap file header \(\d+ of 24 bytes\)$/, 'pcap');
    });

    for (const le of [true, false]) {
      it(`pcapng, ${le ? 'little' : 'big'}-endian first`, () => {
        // The SHB's length is known from 12 bytes on (type, length, byte-order magic); other blocks' from 8.
        checkEveryCut(mixedPcapng(le), 28, pcapngUnits(le), /^test\.pcap is cut short inside its pcapng section header block \(\d+ bytes present\)$/, 'pcapng');
      });
    }
  });

  describe('chunk boundaries do not matter', () => {
    const files: Array<[string, Uint8Array]> = [
      ['classic pcap', CLASSIC],
      ['pcapng little-endian', mixedPcapng(true)],
      ['pcapng big-endian', mixedPcapng(false)],
      ['a record longer than a chunk', pcapFile({}, [{ sec: 1, frac: 0, data: payload(5000) }, { sec: 2, frac: 0, data: payload(3) }])],
    ];
    for (const [name, file] of files) {
      it(name, () => {
        const one = parseBytes(file);
        expect(one.summary.warning).toBeNull();
        expect(one.records.length).toBeGreaterThan(1);
        for (const size of [1, 2, 3, 7, 64, 1000]) {
          expect(parseBytes(file, size)).toEqual(one);
        }
      });
    }
  });

  describe('a sink returning false', () => {
    it('stops reading at once, even inside a chunk', () => {
      const parser = new CaptureParser('x');
      const seen: number[] = [];
      const sink = (r: { sec: number }) => { seen.push(r.sec); return seen.length < 2; };
      expect(parser.push(CLASSIC, sink)).toBe(false);
      expect(parser.push(CLASSIC, sink)).toBe(false);
      expect(seen).toEqual([1_000, 1_001]);
      expect(parser.finish()).toEqual({ format: 'pcap', records: 2, warning: null, stopped: true });
    });

    it('stops reading when the record came from bytes of several chunks', () => {
      const parser = new CaptureParser('x');
      let calls = 0;
      const results: boolean[] = [];
      for (let o = 0; o < CLASSIC.length; o++) results.push(parser.push(CLASSIC.subarray(o, o + 1), () => { calls++; return false; }));
      expect(calls).toBe(1);
      // The first record ends at byte 41: the push of its last byte returns false, as does every later one.
      expect(results.indexOf(false)).toBe(40);
      expect(results.slice(40).every((r) => r === false)).toBe(true);
      expect(parser.finish()).toMatchObject({ records: 1, stopped: true, warning: null });
    });

    it('also stops pcapng', () => {
      const linktypes: number[] = [];
      const parser = new CaptureParser('x');
      expect(parser.push(mixedPcapng(true), (r) => { linktypes.push(r.linktype); return r.linktype !== 113; })).toBe(false);
      expect(linktypes).toEqual([1, 113]);
      expect(parser.finish()).toEqual({ format: 'pcapng', records: 2, warning: null, stopped: true });
    });
  });

  describe('not a capture', () => {
    const cases: Array<[string, Uint8Array, string]> = [
      ['an empty input', new Uint8Array(0), 'in.bin: empty file (0 bytes)'],
      ['three bytes', Uint8Array.of(0xd4, 0xc3, 0xb2), 'in.bin is too short to be a capture file (3 bytes)'],
      ['text', new TextEncoder().encode('hello, world\n'), 'in.bin is not a pcap or pcapng capture file: it starts with text ("hell")'],
      ['random bytes', Uint8Array.of(0x00, 0x01, 0xfe, 0xff, 9, 9, 9, 9), 'in.bin is not a pcap or pcapng capture file (it starts with bytes 00 01 fe ff, not a known magic number)'],
      ['a gzip file', Uint8Array.of(0x1f, 0x8b, 0x08, 0x00), 'in.bin is gzip-compressed; decompress it first'],
      ['a zstd file', Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd), 'in.bin is zstd-compressed; decompress it first'],
      ['a snoop file', new TextEncoder().encode('snoop\0\0\0'), 'in.bin is a snoop capture, which tunscope does not read; convert it with editcap -F pcap'],
      ['an IXIA lcap file', Uint8Array.of(0x1c, 0x00, 0x01, 0xac), 'in.bin is an IXIA hardware lcap file, which tunscope does not read; convert it with editcap -F pcap'],
      ['a Navtel pcap file', Uint8Array.of(0xa1, 0x2b, 0x3c, 0x4d), 'in.bin is a Navtel pcap file, which tunscope does not read; it needs the tool that wrote it'],
      ['a little-endian Kuznetzov pcap', Uint8Array.of(0x34, 0xcd, 0xb2, 0xa1), 'in.bin is a modified (Kuznetzov) pcap file, which tunscope does not read; convert it with editcap -F pcap'],
    ];
    for (const [what, bytes, message] of cases) {
      it(what, () => {
        for (const chunk of [bytes.length || 1, 1]) {
          expect(captureErrorOf(() => parseBytes(bytes, chunk, 'in.bin')).message).toBe(message);
        }
      });
    }

    it('is decided by the magic number, not the name', () => {
      expect(parseBytes(CLASSIC, CLASSIC.length, 'capture.pcapng').summary.format).toBe('pcap');
      expect(parseBytes(mixedPcapng(true), 64, 'capture.pcap').summary.format).toBe('pcapng');
    });
  });

  describe('memory follows the bytes present, not the lengths claimed', () => {
    it('a record claiming 200 MiB in a file of a few hundred bytes', () => {
      // With the snapshot length unset, up to 256 MiB per record is plausible.
      const file = concat(pcapHeader({ snaplen: 0 }), pcapRecord(true, { sec: 1, frac: 0, data: payload(1000), caplen: 200 << 20 }));
      for (const chunk of [1, 100, file.length]) {
        const before = process.memoryUsage().arrayBuffers;
        const { summary } = parseBytes(file, chunk);
        expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
        expect(summary.warning).toBe(
          'capture ends in the middle of packet 1 at byte offset 24 (needed 209715216 bytes, 1016 present); the 0 whole packets before it were read',
        );
      }
    });
  });
});
