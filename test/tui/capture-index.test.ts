// The index behind the terminal UI's views: each packet's file offset, found
// while the file is read once, lets a view read any packet again.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureParser } from '../../src/sources/parser.js';
import { IndexedCaptureFile } from '../../src/tui/capture-index.js';
import { concat } from '../helpers/bytes.js';
import {
  BT_EPB, epb, idb, payload, pcapFile, shb, tempDir, writeTemp,
} from '../helpers/capture-files.js';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const PCAP_FILE_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
/** pcapng EPB: type, total length, interface, two timestamp words, caplen, len (RFC draft-ietf-opsawg-pcapng 4.3). */
const EPB_FIXED = 28;

/** Offsets worked out from the formats' header sizes, independently of the reader. */
function pcapOffsets(lengths: number[]): number[] {
  const offsets: number[] = [];
  let at = PCAP_FILE_HEADER;
  for (const length of lengths) {
    offsets.push(at + PCAP_RECORD_HEADER);
    at += PCAP_RECORD_HEADER + length;
  }
  return offsets;
}

function offsetsByParser(bytes: Uint8Array, chunkSize: number): number[] {
  const parser = new CaptureParser('test');
  const offsets: number[] = [];
  for (let o = 0; o < bytes.length; o += chunkSize) {
    parser.push(bytes.subarray(o, o + chunkSize), (record) => {
      offsets.push(parser.recordOffset(record.bytes));
    });
  }
  return offsets;
}

async function readAll(file: IndexedCaptureFile): Promise<number> {
  let records = 0;
  await file.source()(() => {
    records++;
  });
  return records;
}

describe('CaptureParser.recordOffset', () => {
  const lengths = [60, 1, 1514, 42, 333];
  const bytes = pcapFile({}, lengths.map((length, i) => ({ sec: i, frac: 0, data: payload(length, i) })));

  it('places each record of a pcap file, in chunks of any size', () => {
    for (const size of [bytes.length, 1, 7, 64, 1000]) {
      expect(offsetsByParser(bytes, size)).toEqual(pcapOffsets(lengths));
    }
  });

  it('places each packet of a pcapng file after its block\'s fixed fields', () => {
    const le = true;
    const head = concat(shb(le), idb(le, { linktype: 1 }));
    const blocks = [payload(61, 1), payload(100, 2)].map((data, i) => epb(le, { interfaceId: 0, ts: BigInt(i), data }));
    const file = concat(head, ...blocks);
    const expected = [head.length + EPB_FIXED, head.length + blocks[0].length + EPB_FIXED];
    expect(new DataView(blocks[0].buffer, blocks[0].byteOffset).getUint32(0, true)).toBe(BT_EPB);
    for (const size of [file.length, 1, 5, 33]) expect(offsetsByParser(file, size)).toEqual(expected);
  });
});

describe('IndexedCaptureFile', () => {
  it('indexes every packet of a file larger than its read chunk and reads any of them again', async () => {
    // 1,500 packets of 1,000 bytes: about 1.5 MB, so records straddle the 1 MiB chunks.
    const lengths = Array.from({ length: 1500 }, (_, i) => 900 + (i % 200));
    const records = lengths.map((length, i) => ({ sec: 1_700_000_000 + i, frac: i, data: payload(length, i) }));
    const name = writeTemp(dir, 'many.pcap', pcapFile({}, records));
    const file = new IndexedCaptureFile(name);
    try {
      expect(await readAll(file)).toBe(1500);
      expect(file.index.count).toBe(1500);
      const offsets = pcapOffsets(lengths);
      for (const n of [1, 2, 700, 1048, 1049, 1500]) {
        expect(file.index.offsetOf(n)).toBe(offsets[n - 1]);
        const again = file.record(n);
        expect(again?.bytes).toEqual(records[n - 1].data);
        expect(again).toMatchObject({ sec: 1_700_000_000 + n - 1, nsec: (n - 1) * 1000, caplen: lengths[n - 1], len: lengths[n - 1], linktype: 1 });
      }
      expect(file.record(0)).toBeNull();
      expect(file.record(1501)).toBeNull();
      expect(file.bytesRead).toBe(file.size);
    } finally {
      file.close();
    }
  });

  it('indexes a second pass only where the first left off', async () => {
    const records = [10, 20, 30].map((length, i) => ({ sec: i, frac: 0, data: payload(length, i) }));
    const file = new IndexedCaptureFile(writeTemp(dir, 'three.pcap', pcapFile({}, records)));
    try {
      let seen = 0;
      await file.source()(() => ++seen < 2);
      expect(file.index.count).toBe(2);
      expect(await readAll(file)).toBe(3);
      expect(file.index.count).toBe(3);
      expect(file.record(3)?.bytes).toEqual(records[2].data);
    } finally {
      file.close();
    }
  });

  it('reports a missing file as a capture error', () => {
    expect(() => new IndexedCaptureFile(path.join(dir, 'missing.pcap'))).toThrow(/cannot read .*missing\.pcap/);
  });
});
