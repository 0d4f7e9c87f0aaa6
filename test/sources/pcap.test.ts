import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/sources/record.js';
import { concat } from '../helpers/bytes.js';
import {
  PCAP_MAGIC_KUZNETZOV, PCAP_MAGIC_NS, PCAP_MAGIC_US, parseBytes, payload, pcapFile, pcapHeader, pcapRecord,
} from '../helpers/capture-files.js';

describe('classic pcap', () => {
  for (const le of [true, false]) {
    const order = le ? 'little-endian' : 'big-endian';

    it(`reads microsecond timestamps, lengths and bytes (${order})`, () => {
      const a = payload(60, 1);
      const b = payload(42, 2);
      const file = pcapFile({ le, magic: PCAP_MAGIC_US, linktype: 113, snaplen: 65535 }, [
        { sec: 1_700_000_000, frac: 123_456, data: a, len: 1514 },
        { sec: 1_700_000_001, frac: 999_999, data: b },
      ]);
      const { records, summary } = parseBytes(file);
      expect(summary).toEqual({ format: 'pcap', records: 2, warning: null, stopped: false });
      expect(records[0]).toEqual({
        linktype: 113, interfaceId: 0, sec: 1_700_000_000, nsec: 123_456_000, tsDigits: 6,
        caplen: 60, len: 1514, bytes: a,
      });
      expect(records[1]).toMatchObject({ sec: 1_700_000_001, nsec: 999_999_000, caplen: 42, len: 42, bytes: b });
    });

    it(`reads nanosecond timestamps exactly (${order})`, () => {
      const file = pcapFile({ le, magic: PCAP_MAGIC_NS }, [
        { sec: 1_700_000_000, frac: 123_456_789, data: payload(20) },
        { sec: 4_294_967_295, frac: 999_999_999, data: payload(1) },
      ]);
      const { records, summary } = parseBytes(file);
      expect(summary.warning).toBeNull();
      expect(records.map((r) => [r.sec, r.nsec, r.tsDigits])).toEqual([
        [1_700_000_000, 123_456_789, 9],
        [4_294_967_295, 999_999_999, 9],
      ]);
    });
  }

  it('carries a fraction of a whole second or more into the seconds', () => {
    const us = parseBytes(pcapFile({ magic: PCAP_MAGIC_US }, [{ sec: 10, frac: 2_500_000, data: payload(4) }]));
    expect(us.records[0]).toMatchObject({ sec: 12, nsec: 500_000_000 });
    const ns = parseBytes(pcapFile({ magic: PCAP_MAGIC_NS }, [{ sec: 10, frac: 1_000_000_001, data: payload(4) }]));
    expect(ns.records[0]).toMatchObject({ sec: 11, nsec: 1 });
  });

  it('takes the link type from the low 16 bits, leaving the FCS bits aside', () => {
    // 0x30000001: FCS length 3 in the top bits, Ethernet underneath (tcpdump's gre-heapoverflow files look like this).
    const { records } = parseBytes(pcapFile({ linktype: 0x30000001 }, [{ sec: 1, frac: 0, data: payload(14) }]));
    expect(records[0].linktype).toBe(1);
  });

  it('reads a header with no records as zero records and no warning', () => {
    expect(parseBytes(pcapHeader({ le: false })).summary).toEqual({ format: 'pcap', records: 0, warning: null, stopped: false });
  });

  it('keeps a zero-length record', () => {
    const { records } = parseBytes(pcapFile({}, [{ sec: 5, frac: 0, data: new Uint8Array(0), len: 64 }]));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ caplen: 0, len: 64 });
    expect(records[0].bytes.length).toBe(0);
  });

  it('rejects a version other than 2.x', () => {
    expect(() => parseBytes(pcapHeader({ major: 1, minor: 0 }))).toThrow(CaptureError);
    expect(() => parseBytes(pcapHeader({ major: 1, minor: 0 }))).toThrow(/version 1\.0.*does not read/);
  });

  it('rejects a modified (Kuznetzov) pcap in both byte orders, naming the conversion', () => {
    for (const le of [true, false]) {
      const file = pcapHeader({ le, magic: PCAP_MAGIC_KUZNETZOV });
      expect(() => parseBytes(file, file.length, 'old.pcap')).toThrow(
        'old.pcap is a modified (Kuznetzov) pcap file, which tunscope does not read; convert it with editcap -F pcap',
      );
    }
  });

  describe('length fields are checked before anything is buffered', () => {
    it('accepts a record longer than the snapshot length up to 262144 bytes, as tcpdump does', () => {
      const big = payload(100_000, 3);
      const { records, summary } = parseBytes(pcapFile({ snaplen: 65535 }, [{ sec: 1, frac: 0, data: big }]));
      expect(summary.warning).toBeNull();
      expect(records[0].caplen).toBe(100_000);
      expect(records[0].bytes).toEqual(big);
    });

    it('stops at a record longer than both the snapshot length and 262144 bytes, naming its offset', () => {
      const first = pcapRecord(true, { sec: 1, frac: 0, data: payload(30) });
      const liar = pcapRecord(true, { sec: 2, frac: 0, data: payload(8), caplen: 300_000 });
      const { records, summary } = parseBytes(concat(pcapHeader({ snaplen: 65535 }), first, liar));
      expect(records).toHaveLength(1);
      // 24-byte header + 16 + 30 bytes of the first record.
      expect(summary.warning).toMatch(/^packet 2 at byte offset 70 claims 300000 captured bytes, more than the 262144 .*snapshot length 65535/);
      expect(summary.warning).toMatch(/the 1 whole packet before it was read$/);
    });

    it('honours a snapshot length above 262144', () => {
      const big = payload(300_000);
      const { records, summary } = parseBytes(pcapFile({ snaplen: 400_000 }, [{ sec: 1, frac: 0, data: big }]));
      expect(summary.warning).toBeNull();
      expect(records[0].caplen).toBe(300_000);
    });

    it('stops at a record claiming more than 256 MiB even when the snapshot length is not set', () => {
      const liar = pcapRecord(false, { sec: 2, frac: 0, data: payload(8), caplen: 0x10000001 });
      const { records, summary } = parseBytes(concat(pcapHeader({ le: false, snaplen: 0 }), liar));
      expect(records).toHaveLength(0);
      expect(summary.warning).toMatch(/^packet 1 at byte offset 24 claims 268435457 captured bytes, more than the 268435456/);
    });
  });
});
