import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/sources/record.js';
import { concat } from '../helpers/bytes.js';
import {
  BT_EPB, BT_IDB, block, epb, idb, mixedPcapng, parseBytes, payload, pb, shb, spb,
} from '../helpers/capture-files.js';

/** One interface with the given if_tsresol byte (and offset), one EPB at `ts`. */
function oneTimestamp(tsresol: number | undefined, ts: bigint, tsoffset?: bigint) {
  const { records, summary } = parseBytes(concat(
    shb(true),
    idb(true, { linktype: 1, tsresol, tsoffset }),
    epb(true, { interfaceId: 0, ts, data: payload(4) }),
  ));
  expect(summary.warning).toBeNull();
  expect(records).toHaveLength(1);
  return records[0];
}

// SHB without options: 28 bytes; IDB without options: 20; so the first EPB starts at 48.
const HEAD = (le: boolean) => concat(shb(le), idb(le, { linktype: 1 }));
const FIRST = (le: boolean) => epb(le, { interfaceId: 0, ts: 1_000_000n, data: payload(60) });
const AFTER_FIRST = 48 + 12 + 20 + 60;

describe('pcapng', () => {
  for (const le of [true, false]) {
    const order = le ? 'little-endian' : 'big-endian';

    it(`reads two sections, two interfaces, EPB, PB and SPB, skipping an unknown block (${order} first)`, () => {
      const { records, summary } = parseBytes(mixedPcapng(le));
      expect(summary).toEqual({ format: 'pcapng', records: 6, warning: null, stopped: false });
      expect(records.map(({ bytes: _bytes, ...r }) => r)).toEqual([
        // 10^-9: the 64-bit count splits exactly.
        { linktype: 1, interfaceId: 0, sec: 1_700_000_000, nsec: 123_456_789, tsDigits: 9, caplen: 60, len: 60 },
        // 2^-20 plus 3600 s of if_tsoffset: one tick is 953.67 ns, truncated.
        { linktype: 113, interfaceId: 1, sec: 1_700_003_600, nsec: 953, tsDigits: 9, caplen: 50, len: 200 },
        // The obsolete Packet Block: half a second in 2^-20 units.
        { linktype: 113, interfaceId: 1, sec: 1_700_003_601, nsec: 500_000_000, tsDigits: 9, caplen: 33, len: 33 },
        // The Simple Packet Block has no timestamp; its 80 bytes are all interface 0's snaplen allows.
        { linktype: 1, interfaceId: 0, sec: 0, nsec: 0, tsDigits: 9, caplen: 80, len: 100 },
        // The second section starts its interface list again: its interface 0 is raw IP at 10^-6.
        { linktype: 101, interfaceId: 0, sec: 1_700_000_002, nsec: 1000, tsDigits: 6, caplen: 20, len: 20 },
        { linktype: 101, interfaceId: 0, sec: 1_700_000_002, nsec: 2000, tsDigits: 6, caplen: 21, len: 21 },
      ]);
      expect(records.map((r) => r.bytes)).toEqual([
        payload(60, 1), payload(50, 2), payload(33, 4), payload(80, 5), payload(20, 6), payload(21, 7),
      ]);
    });
  }

  it('skips custom, name resolution and statistics blocks too', () => {
    for (const type of [0x00000bad, 0x40000bad, 0x00000004, 0x00000005, 0x0000000a]) {
      expect(parseBytes(mixedPcapng(true, type)).summary.records).toBe(6);
    }
  });

  describe('timestamps', () => {
    it('defaults to microseconds', () => {
      expect(oneTimestamp(undefined, 1_700_000_000_654_321n)).toMatchObject({ sec: 1_700_000_000, nsec: 654_321_000, tsDigits: 6 });
    });

    it('uses milliseconds with six digits', () => {
      expect(oneTimestamp(3, 1_700_000_000_123n)).toMatchObject({ sec: 1_700_000_000, nsec: 123_000_000, tsDigits: 6 });
    });

    it('splits the largest 64-bit nanosecond count exactly', () => {
      // 2^64 - 1 = 18446744073 s + 709551615 ns.
      expect(oneTimestamp(9, 0xffff_ffff_ffff_ffffn)).toMatchObject({ sec: 18_446_744_073, nsec: 709_551_615 });
    });

    it('splits microsecond counts at 2^53 exactly', () => {
      expect(oneTimestamp(6, 2n ** 53n - 1n)).toMatchObject({ sec: 9_007_199_254, nsec: 740_991_000 });
      expect(oneTimestamp(6, 2n ** 53n + 1n)).toMatchObject({ sec: 9_007_199_254, nsec: 740_993_000 });
    });

    it('truncates resolutions finer than a nanosecond', () => {
      expect(oneTimestamp(11, 7n * 10n ** 11n + 12_345_678_901n)).toMatchObject({ sec: 7, nsec: 123_456_789, tsDigits: 9 });
      expect(oneTimestamp(12, 1_000_000n * 10n ** 12n + 123_456_789_999n)).toMatchObject({ sec: 1_000_000, nsec: 123_456_789 });
    });

    it('reads binary resolutions coarse and fine', () => {
      // 2^-3: 3 eighths of a second; 2^-19 is coarser than a microsecond, 2^-20 finer.
      expect(oneTimestamp(0x80 | 3, 100n * 8n + 3n)).toMatchObject({ sec: 100, nsec: 375_000_000, tsDigits: 6 });
      expect(oneTimestamp(0x80 | 19, (9n << 19n) + 1n)).toMatchObject({ sec: 9, nsec: 1907, tsDigits: 6 });
      expect(oneTimestamp(0x80 | 20, (9n << 20n) + 3n)).toMatchObject({ sec: 9, nsec: 2861, tsDigits: 9 });
      expect(oneTimestamp(0x80 | 32, (1_700_000_000n << 32n) + (1n << 31n) + 1n)).toMatchObject({ sec: 1_700_000_000, nsec: 500_000_000 });
      expect(oneTimestamp(0x80 | 40, (5n << 40n) + (3n << 38n))).toMatchObject({ sec: 5, nsec: 750_000_000, tsDigits: 9 });
    });

    it('adds a negative if_tsoffset', () => {
      expect(oneTimestamp(6, 1_700_000_000_000_005n, -7200n)).toMatchObject({ sec: 1_699_992_800, nsec: 5000 });
    });
  });

  describe('simple packet blocks', () => {
    const file = (snaplen: number, len: number, data: Uint8Array) => parseBytes(concat(
      shb(true), idb(true, { linktype: 1, snaplen }), spb(true, { len, data }),
    ));

    it('take the original length when the block holds more (its padding)', () => {
      const { records } = file(0, 10, payload(12));
      expect(records[0]).toMatchObject({ caplen: 10, len: 10, bytes: payload(10) });
    });

    it('take the snapshot length when it is the smallest', () => {
      const { records } = file(8, 100, payload(12));
      expect(records[0]).toMatchObject({ caplen: 8, len: 100, bytes: payload(8) });
    });

    it('take what the block holds when the snapshot length is unset', () => {
      const { records } = file(0, 100, payload(20));
      expect(records[0]).toMatchObject({ caplen: 20, len: 100, bytes: payload(20) });
    });

    it('need an interface 0', () => {
      const { records, summary } = parseBytes(concat(shb(true), spb(true, { len: 4, data: payload(4) })));
      expect(records).toHaveLength(0);
      expect(summary.warning).toMatch(/^simple packet block at byte offset 28 refers to interface 0, but its section describes no interface/);
    });
  });

  it('keeps the options after the packet data out of the bytes', () => {
    const { records } = parseBytes(concat(HEAD(true),
      epb(true, { interfaceId: 0, ts: 1n, data: payload(5), options: [{ code: 1, value: new TextEncoder().encode('a comment') }] })));
    expect(records[0]).toMatchObject({ caplen: 5, bytes: payload(5) });
  });

  it('stops at a packet of an interface that the current section does not describe', () => {
    // Interface 1 exists in the first section only; the second section's EPB starts at 28+20+20+36+28+20 = 152.
    const { records, summary } = parseBytes(concat(
      shb(true), idb(true, { linktype: 1 }), idb(true, { linktype: 1 }), epb(true, { interfaceId: 1, ts: 1n, data: payload(4) }),
      shb(true), idb(true, { linktype: 1 }), epb(true, { interfaceId: 1, ts: 2n, data: payload(4) }),
    ));
    expect(records).toHaveLength(1);
    expect(summary.warning).toMatch(/^enhanced packet block at byte offset 152 refers to interface 1, but its section describes only 1; the 1 whole packet before it was read$/);
  });

  describe('lying lengths after the first block stop reading with a warning and keep the packets before', () => {
    for (const le of [true, false]) {
      const order = le ? 'little-endian' : 'big-endian';
      const expectStop = (tail: Uint8Array, pattern: RegExp) => {
        const { records, summary } = parseBytes(concat(HEAD(le), FIRST(le), tail));
        expect(records).toHaveLength(1);
        expect(records[0].bytes).toEqual(payload(60));
        expect(summary.warning).toMatch(pattern);
        expect(summary.warning).toMatch(/the 1 whole packet before it was read$/);
      };

      it(`a total length under 12 (${order})`, () => {
        expectStop(block(le, BT_EPB, payload(8), { totalLength: 8 }),
          new RegExp(`^enhanced packet block at byte offset ${AFTER_FIRST} has a total length of 8, less than the 12-byte minimum`));
      });

      it(`a total length that is not a multiple of 4 (${order})`, () => {
        expectStop(block(le, BT_EPB, payload(36), { totalLength: 46 }),
          new RegExp(`^enhanced packet block at byte offset ${AFTER_FIRST} has a total length of 46, not a multiple of 4`));
      });

      it(`a trailing length that disagrees with the leading one (${order})`, () => {
        expectStop(epb(le, { interfaceId: 0, ts: 2n, data: payload(8) }, { trailingLength: 44 }),
          new RegExp(`^enhanced packet block at byte offset ${AFTER_FIRST} ends with a total length of 44, which disagrees with the 40 it starts with`));
      });

      it(`a captured length larger than the block (${order})`, () => {
        expectStop(epb(le, { interfaceId: 0, ts: 2n, data: payload(8), caplen: 9 }),
          new RegExp(`^enhanced packet block at byte offset ${AFTER_FIRST} claims 9 captured bytes, more than its 40-byte block can hold`));
      });

      it(`a packet block too short for its fixed fields (${order})`, () => {
        expectStop(block(le, BT_EPB, payload(8)),
          new RegExp(`^enhanced packet block at byte offset ${AFTER_FIRST} is 20 bytes long, less than the 32 its fields need`));
      });

      it(`a total length of 2 GiB (${order})`, () => {
        const before = process.memoryUsage().arrayBuffers;
        expectStop(block(le, BT_EPB, payload(24), { totalLength: 0x7ffffff0 }),
          new RegExp(`^enhanced packet block at byte offset ${AFTER_FIRST} claims 2147483632 bytes, more than the \\d+ tunscope accepts`));
        expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
      });

      it(`a later section header without a byte-order magic (${order})`, () => {
        const bad = shb(le);
        bad.fill(0x55, 8, 12);
        expectStop(bad, new RegExp(`^section header block at byte offset ${AFTER_FIRST} has no valid byte-order magic`));
      });

      it(`an option running past the end of an interface description (${order})`, () => {
        const bad = idb(le, { linktype: 1, tsresol: 9 });
        // The if_tsresol option's length (1) becomes 200.
        if (le) bad.set([200, 0], 18); else bad.set([0, 200], 18);
        expectStop(bad, new RegExp(`^interface description block at byte offset ${AFTER_FIRST} has an option \\(code 9, 200 bytes\\) running past the block's end`));
      });

      it(`an interface description too short for its fields (${order})`, () => {
        expectStop(block(le, BT_IDB, payload(4)),
          new RegExp(`^interface description block at byte offset ${AFTER_FIRST} is 16 bytes long, less than the 20 its fields need`));
      });
    }
  });

  describe('faults in the first section header mean the input is no capture', () => {
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['a bad byte-order magic', (() => { const b = shb(true); b.fill(0, 8, 12); return concat(b, idb(true, { linktype: 1 })); })(),
        /x\.pcapng is not a readable pcapng file: section header block at byte offset 0 has no valid byte-order magic/],
      ['a total length under 28', block(true, 0x0a0d0d0a, Uint8Array.of(0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0), {}),
        /section header block at byte offset 0 has a total length of 20, less than the 28 its fields need/],
      ['a total length not a multiple of 4', (() => { const b = concat(shb(false), new Uint8Array(4)); b.set([0, 0, 0, 30], 4); return b; })(),
        /section header block at byte offset 0 has a total length of 30, not a multiple of 4/],
      ['a disagreeing trailing length', block(true, 0x0a0d0d0a, shb(true).subarray(8, 24), { trailingLength: 32 }),
        /section header block at byte offset 0 ends with a total length of 32, which disagrees with the 28/],
      ['major version 2', shb(true, { major: 2 }),
        /section header block at byte offset 0 is of pcapng version 2\.0, which tunscope does not read/],
    ];
    for (const [what, bytes, pattern] of cases) {
      it(what, () => {
        let err: unknown;
        try { parseBytes(bytes, bytes.length, 'x.pcapng'); } catch (e) { err = e; }
        expect(err).toBeInstanceOf(CaptureError);
        expect((err as Error).message).toMatch(pattern);
      });
    }
  });

  it('accepts version 1.2 and section header options', () => {
    const { summary } = parseBytes(concat(
      shb(true, { minor: 2, options: [{ code: 4, value: new TextEncoder().encode('some writer') }] }),
      idb(true, { linktype: 1 }),
      pb(true, { interfaceId: 0, ts: 5n, data: payload(3) }),
    ));
    expect(summary).toEqual({ format: 'pcapng', records: 1, warning: null, stopped: false });
  });
});
