// The readers against implementations that share no code with them: the
// pcap-parser package, and Wireshark's tshark and editcap.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/sources/file.js';
import { CaptureError, type ReadSummary } from '../../src/sources/record.js';
import {
  PCAP_MAGIC_NS, keep, mixedPcapng, parseBytes, payload, pcapFile, tempDir, writeTemp, type Kept,
} from '../helpers/capture-files.js';
import { PEER_CAPTURES, hasCommand, havePeerCaptures, haveTshark, peerCapture, requireOrSkip, run } from '../helpers/tools.js';

const haveEditcap = hasCommand('editcap');

interface OraclePacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}
interface OracleParser {
  on(event: 'globalHeader', f: (h: { linkLayerType: number; snapshotLength: number }) => void): OracleParser;
  on(event: 'packet', f: (p: OraclePacket) => void): OracleParser;
  on(event: 'error', f: (e: Error) => void): OracleParser;
  on(event: 'end', f: () => void): OracleParser;
}
const pcapParser = createRequire(import.meta.url)('pcap-parser') as { parse(file: string): OracleParser };

function oracle(file: string): Promise<{ linktype: number; packets: OraclePacket[] }> {
  return new Promise((resolve, reject) => {
    const packets: OraclePacket[] = [];
    let linktype = -1;
    let failed = false;
    pcapParser.parse(file)
      .on('globalHeader', (h) => { linktype = h.linkLayerType; })
      .on('packet', (p) => { packets.push(p); })
      .on('error', (e) => { failed = true; reject(e); })
      .on('end', () => { if (!failed) resolve({ linktype, packets }); });
  });
}

function read(file: string): { records: Kept[]; summary: ReadSummary } {
  const records: Kept[] = [];
  const summary = readCaptureFile(file, (r) => { records.push(keep(r)); });
  return { records, summary };
}

/** tshark's view of a file: one row of the given fields per frame. */
function tshark(file: string, fields: string[]): string[][] {
  const out = run('tshark', ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])]);
  return out.split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
}

/** "1288278734.670533000" (or with fewer digits) as seconds and nanoseconds. */
function epoch(text: string): [number, number] {
  const [sec, frac = ''] = text.split('.');
  return [Number(sec), Number(frac.padEnd(9, '0').slice(0, 9))];
}

const classicPeers = havePeerCaptures ? fs.readdirSync(PEER_CAPTURES).filter((n) => n.endsWith('.pcap')) : [];
const PEERS = 'the peer captures';
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('classic pcap against pcap-parser', () => {
  it('finds the peer captures', (ctx) => {
    if (!requireOrSkip(havePeerCaptures, PEERS)) return ctx.skip();
    expect(classicPeers.length).toBeGreaterThanOrEqual(15);
  });

  for (const name of classicPeers) {
    it(name, async () => {
      const file = peerCapture(name);
      const expected = await oracle(file);
      const { records, summary } = read(file);
      expect(summary).toEqual({ format: 'pcap', records: expected.packets.length, warning: null, stopped: false });
      records.forEach((r, i) => {
        const { header, data } = expected.packets[i];
        expect(r.linktype).toBe(expected.linktype & 0xffff);
        expect([r.sec, r.nsec, r.tsDigits]).toEqual([header.timestampSeconds, header.timestampMicroseconds * 1000, 6]);
        expect([r.caplen, r.len]).toEqual([header.capturedLength, header.originalLength]);
        expect(r.bytes).toEqual(new Uint8Array(data));
      });
    });
  }

  it('keeps every whole packet of vxlan.pcap cut at every offset, and warns exactly when a packet is cut', async (ctx) => {
    if (!requireOrSkip(havePeerCaptures, PEERS)) return ctx.skip();
    const file = peerCapture('vxlan.pcap');
    const bytes = new Uint8Array(fs.readFileSync(file));
    const ends: number[] = [];
    let at = 24;
    for (const p of (await oracle(file)).packets) ends.push(at += 16 + p.header.capturedLength);
    expect(ends.at(-1)).toBe(bytes.length);
    for (let k = 24; k <= bytes.length; k++) {
      const { records, summary } = parseBytes(bytes.subarray(0, k), 13);
      const whole = ends.filter((e) => e <= k).length;
      expect(records.length).toBe(whole);
      if (k === 24 || ends.includes(k)) expect(summary.warning).toBeNull();
      else expect(summary.warning).toMatch(new RegExp(`^capture ends in the middle of packet ${whole + 1} at byte offset ${whole === 0 ? 24 : ends[whole - 1]} `));
    }
  });
});

describe('pcapng peers', () => {
  it('empty.pcapng has no records and no warning', (ctx) => {
    if (!requireOrSkip(havePeerCaptures, PEERS)) return ctx.skip();
    expect(read(peerCapture('empty.pcapng')).summary).toEqual({ format: 'pcapng', records: 0, warning: null, stopped: false });
  });

  it('icmp-cksum-oobr-3.pcapng agrees with tshark', (ctx) => {
    if (!requireOrSkip(havePeerCaptures, PEERS)) return ctx.skip();
    if (!requireOrSkip(haveTshark, 'tshark')) return ctx.skip();
    const file = peerCapture('icmp-cksum-oobr-3.pcapng');
    const rows = tshark(file, ['frame.len', 'frame.cap_len', 'frame.time_epoch']);
    const { records, summary } = read(file);
    expect(summary).toEqual({ format: 'pcapng', records: rows.length, warning: null, stopped: false });
    expect(rows.length).toBeGreaterThan(0);
    records.forEach((r, i) => {
      const [len, caplen, time] = rows[i];
      expect([r.len, r.caplen]).toEqual([Number(len), Number(caplen)]);
      expect([r.sec, r.nsec]).toEqual(epoch(time));
    });
  });
});

describe('files built by hand agree with tshark', () => {
  for (const le of [true, false]) {
    it(`the two-section pcapng, ${le ? 'little' : 'big'}-endian first`, (ctx) => {
      if (!requireOrSkip(haveTshark, 'tshark')) return ctx.skip();
      const file = writeTemp(dir, `mixed-${le}.pcapng`, mixedPcapng(le));
      const rows = tshark(file, ['frame.len', 'frame.cap_len', 'frame.time_epoch', 'frame.interface_id']);
      const { records, summary } = read(file);
      expect(summary.warning).toBeNull();
      expect(records).toHaveLength(rows.length);
      records.forEach((r, i) => {
        const [len, caplen, time, iface] = rows[i];
        expect([r.len, r.caplen]).toEqual([Number(len), Number(caplen)]);
        // A Simple Packet Block has no time stamp; tshark leaves the field empty.
        if (time === '') expect([r.sec, r.nsec]).toEqual([0, 0]);
        else expect([r.sec, r.nsec]).toEqual(epoch(time));
        // tshark numbers interfaces across sections; within the first section the numbers agree.
        if (i < 4) expect(r.interfaceId).toBe(Number(iface));
      });
    });
  }

  it('a big-endian nanosecond pcap', (ctx) => {
    if (!requireOrSkip(haveTshark, 'tshark')) return ctx.skip();
    const file = writeTemp(dir, 'ns-be.pcap', pcapFile({ le: false, magic: PCAP_MAGIC_NS, linktype: 1 }, [
      { sec: 1_600_000_000, frac: 1, data: payload(60) },
      { sec: 1_600_000_000, frac: 999_999_999, data: payload(61), len: 1500 },
    ]));
    const rows = tshark(file, ['frame.len', 'frame.cap_len', 'frame.time_epoch']);
    const { records } = read(file);
    expect(records.map((r) => [r.len, r.caplen, r.sec, r.nsec]))
      .toEqual(rows.map(([len, caplen, time]) => [Number(len), Number(caplen), ...epoch(time)]));
  });
});

describe('files rewritten by editcap read as their original', () => {
  const source = peerCapture('vxlan.pcap');

  it('as nanosecond pcap: the same records with nine digits', (ctx) => {
    if (!requireOrSkip(havePeerCaptures, PEERS)) return ctx.skip();
    if (!requireOrSkip(haveEditcap, 'editcap')) return ctx.skip();
    const out = path.join(dir, 'vxlan-ns.pcap');
    run('editcap', ['-F', 'nsecpcap', source, out]);
    const original = read(source).records;
    const converted = read(out).records;
    expect(converted).toEqual(original.map((r) => ({ ...r, tsDigits: 9 })));
  });

  it('as pcapng: the same records', (ctx) => {
    if (!requireOrSkip(havePeerCaptures, PEERS)) return ctx.skip();
    if (!requireOrSkip(haveEditcap, 'editcap')) return ctx.skip();
    const out = path.join(dir, 'vxlan.pcapng');
    run('editcap', ['-F', 'pcapng', source, out]);
    const converted = read(out);
    expect(converted.summary.format).toBe('pcapng');
    expect(converted.records).toEqual(read(source).records);
  });

  it('with another link type, in pcap and in pcapng', (ctx) => {
    if (!requireOrSkip(havePeerCaptures, PEERS)) return ctx.skip();
    if (!requireOrSkip(haveEditcap, 'editcap')) return ctx.skip();
    for (const format of ['pcap', 'pcapng']) {
      const out = path.join(dir, `vxlan-raw.${format}`);
      // Wireshark's "rawip" encapsulation is written as LINKTYPE_RAW, 101.
      run('editcap', ['-F', format, '-T', 'rawip', source, out]);
      const { records, summary } = read(out);
      expect(summary).toMatchObject({ format, records: 10, warning: null });
      expect(records.every((r) => r.linktype === 101)).toBe(true);
    }
  });

  it('as a modified pcap: a CaptureError that names it', (ctx) => {
    if (!requireOrSkip(havePeerCaptures, PEERS)) return ctx.skip();
    if (!requireOrSkip(haveEditcap, 'editcap')) return ctx.skip();
    const out = path.join(dir, 'vxlan-mod.pcap');
    run('editcap', ['-F', 'modpcap', source, out]);
    expect(() => read(out)).toThrow(CaptureError);
    expect(() => read(out)).toThrow(`${out} is a modified (Kuznetzov) pcap file, which tunscope does not read; convert it with editcap -F pcap`);
  });
});
