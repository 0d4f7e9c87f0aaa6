// splitPcapFile finds each cut by looking where it should be for a chain of
// records, not by walking from the file's start. These tests hold its cuts
// against a walk of every record header written here, and show that a cut a
// packet's payload led astray, or a file damaged before its last part, is
// caught: the parts are not used and the count is the one thread's.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { splitPcapFile } from '../../src/sources/split.js';
import { readCaptureFile } from '../../src/sources/file.js';
import { pcapFile, payload, type PcapRecordSpec } from '../helpers/capture-files.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, PEER_CAPTURES, PROJECT_ROOT, havePeerCaptures, requireOrSkip } from '../helpers/tools.js';

type ParallelModule = typeof import('../../src/analysis/parallel.js');
const { parallelStats } = (await import(
  pathToFileURL(path.join(PROJECT_ROOT, 'dist/src/analysis/parallel.js')).href
)) as ParallelModule;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-split-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Offsets of every record of a classic pcap file, from its header on; null for any other file. */
function recordStarts(file: string): number[] | null {
  const b = fs.readFileSync(file);
  if (b.length < 24) return null;
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && b.readUInt32BE(0) !== 0xa1b2c3d4 && b.readUInt32BE(0) !== 0xa1b23c4d) return null;
  const starts: number[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    starts.push(o);
    o += 16 + (le ? b.readUInt32LE(o + 8) : b.readUInt32BE(o + 8));
  }
  return starts;
}

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

const small = (n: number, sec = 1_700_000_000): PcapRecordSpec[] =>
  Array.from({ length: n }, (_, i) => ({ sec, frac: i, data: payload(60 + (i % 7), i) }));

describe('splitPcapFile', () => {
  const captures = fs.readdirSync(FIXTURES).filter((name) => name.endsWith('.pcap')).map((name) => path.join(FIXTURES, name));
  if (havePeerCaptures) {
    captures.push(...fs.readdirSync(PEER_CAPTURES).filter((name) => name.endsWith('.pcap')).map((name) => path.join(PEER_CAPTURES, name)));
  }

  it('takes in the peer captures as well as the fixtures', (ctx) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return ctx.skip();
    expect(captures.filter((file) => file.startsWith(PEER_CAPTURES)).length).toBeGreaterThan(10);
  });

  it('cuts every capture at the first record boundary at or after each share of the file', () => {
    let cuts = 0;
    for (const file of captures) {
      const starts = recordStarts(file);
      if (starts === null) continue;
      const size = fs.statSync(file).size;
      for (const parts of [2, 3, 5]) {
        const ranges = splitPcapFile(file, parts);
        if (ranges === null) continue;
        expect(ranges[0].start, file).toBe(24);
        for (let i = 1; i < ranges.length; i++) {
          const target = Math.floor((size * i) / parts);
          const expected = starts.find((s) => s >= Math.max(target, ranges[i - 1].start + 1));
          expect(ranges[i].start, `${path.basename(file)}, part ${i + 1} of ${parts}`).toBe(expected);
          expect(ranges[i - 1].end).toBe(ranges[i].start);
          cuts++;
        }
        expect(ranges[ranges.length - 1].end).toBe(Infinity);
      }
    }
    // Most captures have records enough to be cut.
    expect(cuts).toBeGreaterThan(captures.length);
  });

  it('cuts big-endian and nanosecond files, and gives the first part its share', () => {
    const records = small(400);
    for (const spec of [{ le: false }, { magic: 0xa1b23c4d }]) {
      const file = write('order.pcap', pcapFile(spec, records));
      const ranges = splitPcapFile(file, 2, 1.5)!;
      const size = fs.statSync(file).size;
      expect(ranges[1].start).toBe(recordStarts(file)!.find((s) => s >= Math.floor(size * 0.6)));
    }
  });

  it('leaves what it cannot cut to one thread (null)', () => {
    expect(splitPcapFile(path.join(FIXTURES, 'two-interfaces.pcapng'), 2)).toBeNull();
    expect(splitPcapFile(path.join(dir, 'missing.pcap'), 2)).toBeNull();
    // One record: nowhere to cut.
    expect(splitPcapFile(write('one.pcap', pcapFile({}, small(1))), 2)).toBeNull();
  });
});

describe('cuts that are not record boundaries', () => {
  it('a payload that looks like records: the cut falls in it, and the parts are not used', async () => {
    // A 60,000-byte packet whose payload is 16-byte records of 16 bytes, in the middle of the file.
    const fake = new Uint8Array(60_000);
    const view = new DataView(fake.buffer);
    for (let o = 0; o + 32 <= fake.length; o += 32) {
      view.setUint32(o, 1_700_000_000, true);
      view.setUint32(o + 8, 16, true);
      view.setUint32(o + 12, 16, true);
    }
    const file = write('mimic.pcap', pcapFile({}, [...small(20), { sec: 1_700_000_000, frac: 50, data: fake }, ...small(20)]));
    const ranges = splitPcapFile(file, 2)!;
    expect(recordStarts(file)).not.toContain(ranges[1].start);
    expect(await parallelStats(file, {}, {}, 2)).toBeNull();
    const one = runCli(['stats', file, '--json', '--threads', '1']);
    const two = runCli(['stats', file, '--json', '--threads', '2']);
    expect(JSON.parse(one.stdout).packets).toBe(41);
    expect(two.stdout).toBe(one.stdout);
  });

  it('a file damaged in its first part: the parts are not used, and the one thread stops where it would', async () => {
    const records = small(200);
    records[10] = { ...records[10], caplen: 0x7ffffff0 };
    const file = write('damaged.pcap', pcapFile({}, records));
    expect(splitPcapFile(file, 2)).not.toBeNull();
    expect(await parallelStats(file, {}, {}, 2)).toBeNull();
    const one = runCli(['stats', file, '--json', '--threads', '1']);
    const two = runCli(['stats', file, '--json', '--threads', '2']);
    expect(one.stderr).toMatch(/packet 11 at byte offset \d+ claims/);
    expect(two.stdout).toBe(one.stdout);
    expect(two.stderr).toBe(one.stderr);
  });

  it('a file cut short in its last part: the warning numbers the packet in the whole file', async () => {
    const bytes = pcapFile({}, small(300));
    const file = write('cut.pcap', bytes.subarray(0, bytes.length - 30));
    const whole = readCaptureFile(file, () => true);
    expect(whole.warning).toMatch(/^capture ends in the middle of packet 300 at byte offset/);
    for (const threads of [2, 3]) {
      const result = await parallelStats(file, {}, {}, threads);
      expect(result, `${threads} threads`).not.toBeNull();
      expect(result!.summary.records).toBe(whole.records);
      expect(result!.summary.warning).toBe(whole.warning);
    }
  });
});
