// tcpdump as an oracle: which frames of a capture file a libpcap expression keeps.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCaptureFile } from '../../src/sources/file.js';
import { hasCommand } from './tools.js';

export const haveTcpdump = hasCommand('tcpdump');

/** The link type of a capture file's first record (-1 when it has none). */
export function linktypeOf(file: string): number {
  let linktype = -1;
  readCaptureFile(file, (record) => {
    linktype = record.linktype;
    return false;
  });
  return linktype;
}

/** The bytes of every record of a capture file, in order. */
export function recordBytes(file: string): Buffer[] {
  const frames: Buffer[] = [];
  readCaptureFile(file, (record) => {
    frames.push(Buffer.from(record.bytes));
  });
  return frames;
}

/**
 * Numbers of the frames tcpdump's filter passes ("" passes all). tcpdump -#
 * numbers the packets it prints, not the file's frames, so the frames it
 * writes are found again in the file, in order.
 */
export function tcpdumpFrames(file: string, expression: string): number[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-tcpdump-'));
  try {
    const out = path.join(dir, 'passed.pcap');
    const result = spawnSync('tcpdump', ['-nn', '-r', file, '-w', out, expression], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`tcpdump -r ${path.basename(file)} '${expression}': ${result.stderr}`);
    const all = recordBytes(file);
    const frames: number[] = [];
    let i = 0;
    for (const passed of recordBytes(out)) {
      while (i < all.length && !all[i].equals(passed)) i++;
      if (i === all.length) throw new Error(`tcpdump wrote a frame that is not in ${path.basename(file)}`);
      frames.push(++i);
    }
    return frames;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
