// The capture writers take any record a reader hands over, even from a
// damaged file: an original length below the captured length or using all 32
// bits, a time before 1970 or past what the fields hold. Read back by our
// reader and by tshark.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCaptureWriter, type CaptureFormat, type WritableRecord } from '../../src/output/capture-writer.js';
import { readCaptureFile } from '../../src/sources/file.js';
import { haveTshark, requireOrSkip } from '../helpers/tools.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-writer-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const frame = new Uint8Array(60).fill(0xab);
const records: WritableRecord[] = [
  { sec: 1700000000, nsec: 5, len: 10, bytes: frame }, // len below caplen
  { sec: 1700000000, nsec: 6, len: 0xfffffffe, bytes: frame }, // len using all 32 bits
  { sec: -5, nsec: 7, len: 60, bytes: frame }, // before 1970
  { sec: 2 ** 64 + 2 ** 63, nsec: 2e9, len: 60, bytes: frame }, // past any field
];

describe.each(['pcap', 'pcapng'] as CaptureFormat[])('the %s writer on values a damaged capture gives', (format) => {
  const file = path.join(work, `clamped.${format}`);

  it('writes every record, its original length never below the captured one nor past 32 bits', () => {
    const writer = openCaptureWriter(file, format);
    for (const record of records) writer.write(record, 1);
    writer.close();
    expect(writer.packets).toBe(4);
    const lens: number[] = [];
    const secs: number[] = [];
    const summary = readCaptureFile(file, (r) => {
      lens.push(r.len);
      secs.push(r.sec);
    });
    expect(summary.warning).toBeNull();
    expect(lens).toEqual([60, 0xfffffffe, 60, 60]);
    expect(secs.slice(0, 3)).toEqual([1700000000, 1700000000, 0]);
    // pcap holds 32-bit seconds, pcapng 64-bit nanoseconds: each at its largest.
    expect(secs[3]).toBe(format === 'pcap' ? 0xffffffff : Math.floor(Number((1n << 64n) - 1n) / 1e9));
  });

  it('is read by tshark without a complaint', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const result = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.cap_len'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual(['60', '60', '60', '60']);
  });
});
