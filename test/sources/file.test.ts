import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readCapture, readCaptureFile, readCaptureStream } from '../../src/sources/file.js';
import { CaptureError, type CaptureRecord, type ReadSummary } from '../../src/sources/record.js';
import {
  PCAP_MAGIC_KUZNETZOV, captureErrorOf, keep, mixedPcapng, parseBytes, payload, pcapFile, pcapHeader, tempDir, writeTemp,
  type Kept,
} from '../helpers/capture-files.js';
import { PEER_CAPTURES, havePeerCaptures, isRoot, peerCapture, requireOrSkip } from '../helpers/tools.js';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const MANY = pcapFile({}, Array.from({ length: 50 }, (_, i) => ({ sec: 100 + i, frac: i, data: payload(40 + i, i) })));
const manyPath = writeTemp(dir, 'many.pcap', MANY);
const mixedPath = writeTemp(dir, 'mixed.pcapng', mixedPcapng(false));

function readFile(file: string, chunkSize?: number): { records: Kept[]; summary: ReadSummary } {
  const records: Kept[] = [];
  const summary = readCaptureFile(file, (r) => { records.push(keep(r)); }, chunkSize);
  return { records, summary };
}

async function readStream(stream: NodeJS.ReadableStream, stopAfter = Infinity) {
  const records: Kept[] = [];
  const summary = await readCaptureStream(stream, (r) => { records.push(keep(r)); return records.length < stopAfter; }, 'stdin');
  return { records, summary };
}

function split(bytes: Uint8Array, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o < bytes.length; o += size) out.push(Buffer.from(bytes.subarray(o, o + size)));
  return out;
}

describe('readCaptureFile', () => {
  it('reads what the parser reads from the same bytes, whatever the chunk size', () => {
    for (const [file, bytes] of [[manyPath, MANY], [mixedPath, mixedPcapng(false)]] as const) {
      const expected = parseBytes(bytes);
      expect(expected.summary.warning).toBeNull();
      for (const size of [undefined, 1, 7, 64, 4096]) {
        expect(readFile(file, size)).toEqual(expected);
      }
    }
  });

  it('reads every peer capture alike in chunks of 1, 7 and 64 bytes', (ctx) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return ctx.skip();
    const names = fs.readdirSync(PEER_CAPTURES).filter((n) => /\.pcap(ng)?$/.test(n));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      const file = peerCapture(name);
      const whole = readFile(file);
      expect(whole.summary.warning).toBeNull();
      for (const size of [1, 7, 64]) expect(readFile(file, size)).toEqual(whole);
    }
  });

  it('stops reading the file when the sink returns false', () => {
    const readSync = vi.spyOn(fs, 'readSync');
    try {
      let seen = 0;
      const summary = readCaptureFile(manyPath, () => ++seen < 2, 64);
      expect(summary).toEqual({ format: 'pcap', records: 2, warning: null, stopped: true });
      // Two records of 40 and 41 bytes end within the first 64 * 3 bytes of the file.
      expect(readSync.mock.calls.length).toBe(3);
    } finally {
      readSync.mockRestore();
    }
  });

  it('hands over each record\'s bytes intact while its reused buffer holds them', () => {
    const sums: number[] = [];
    readCaptureFile(manyPath, (r: CaptureRecord) => { sums.push(r.bytes.reduce((a, b) => a + b, 0)); }, 7);
    expect(sums).toEqual(Array.from({ length: 50 }, (_, i) => payload(40 + i, i).reduce((a, b) => a + b, 0)));
  });

  describe('unreadable inputs are CaptureErrors with a clear message', () => {
    it('a missing file', () => {
      const file = path.join(dir, 'nope.pcap');
      expect(captureErrorOf(() => readCaptureFile(file, () => {})).message).toBe(`cannot read ${file}: no such file`);
    });

    it('a directory', () => {
      expect(captureErrorOf(() => readCaptureFile(dir, () => {})).message).toBe(`${dir} is a directory`);
    });

    it('a path through a file', () => {
      const file = path.join(manyPath, 'x');
      expect(captureErrorOf(() => readCaptureFile(file, () => {})).message).toBe(`cannot read ${file}: a part of the path is not a directory`);
    });

    it('an empty file', () => {
      const file = writeTemp(dir, 'empty.pcap', new Uint8Array(0));
      expect(captureErrorOf(() => readCaptureFile(file, () => {})).message).toBe(`${file}: empty file (0 bytes)`);
    });

    it('a text file', () => {
      const file = writeTemp(dir, 'notes.pcap', 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n');
      expect(captureErrorOf(() => readCaptureFile(file, () => {})).message).toBe(
        `${file} is not a pcap or pcapng capture file: it starts with text ("GET ")`,
      );
    });

    it('a modified pcap', () => {
      const file = writeTemp(dir, 'kuz.pcap', pcapHeader({ magic: PCAP_MAGIC_KUZNETZOV }));
      expect(captureErrorOf(() => readCaptureFile(file, () => {})).message).toBe(
        `${file} is a modified (Kuznetzov) pcap file, which tunscope does not read; convert it with editcap -F pcap`,
      );
    });

    it('a file cut inside its header', () => {
      const file = writeTemp(dir, 'cut.pcap', pcapHeader().subarray(0, 20));
      expect(captureErrorOf(() => readCaptureFile(file, () => {})).message).toBe(`${file} is cut short inside its pcap file header (20 of 24 bytes)`);
    });

    it('a system error, by its code', () => {
      const openSync = vi.spyOn(fs, 'openSync').mockImplementation(() => {
        throw Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' });
      });
      try {
        expect(captureErrorOf(() => readCaptureFile('locked.pcap', () => {})).message).toBe('cannot read locked.pcap: permission denied');
      } finally {
        openSync.mockRestore();
      }
    });

    it('a file without read permission', (ctx) => {
      if (isRoot) {
        console.warn('running as root, so file permissions do not apply: skipping the permission test');
        ctx.skip();
      }
      const file = writeTemp(dir, 'secret.pcap', MANY);
      fs.chmodSync(file, 0o000);
      expect(captureErrorOf(() => readCaptureFile(file, () => {})).message).toBe(`cannot read ${file}: permission denied`);
    });
  });
});

describe('readCaptureStream', () => {
  it('reads chunks of any size as they come', async () => {
    const expected = parseBytes(MANY);
    for (const size of [1, 7, 64, MANY.length]) {
      expect(await readStream(Readable.from(split(MANY, size)))).toEqual(expected);
    }
    expect(await readStream(Readable.from(split(mixedPcapng(true), 5)))).toEqual(parseBytes(mixedPcapng(true)));
  });

  it('hands records over while the writer is still writing', async () => {
    const pipe = new PassThrough();
    const seen: number[] = [];
    const done = readCaptureStream(pipe, (r) => { seen.push(r.sec); }, 'stdin');
    const bytes = pcapFile({}, [{ sec: 1, frac: 0, data: payload(10) }, { sec: 2, frac: 0, data: payload(10) }]);
    pipe.write(bytes.subarray(0, 24 + 26 + 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual([1]);
    pipe.end(bytes.subarray(24 + 26 + 5));
    expect(await done).toEqual({ format: 'pcap', records: 2, warning: null, stopped: false });
    expect(seen).toEqual([1, 2]);
  });

  it('stops consuming and destroys the stream when the sink returns false', async () => {
    let pulled = 0;
    let closed = false;
    const chunks = split(MANY, 16);
    const stream = Readable.from((function* () {
      try {
        for (const c of chunks) { pulled++; yield c; }
      } finally {
        closed = true;
      }
    })(), { highWaterMark: 1 });
    const { records, summary } = await readStream(stream, 1);
    expect(records).toHaveLength(1);
    expect(summary).toEqual({ format: 'pcap', records: 1, warning: null, stopped: true });
    expect(stream.destroyed).toBe(true);
    expect(closed).toBe(true);
    expect(pulled).toBeLessThan(chunks.length / 2);
  });

  it('reports a stream error as a CaptureError', async () => {
    const stream = new Readable({ read() { this.destroy(Object.assign(new Error('device gone'), { code: 'EIO' })); } });
    await expect(readCaptureStream(stream, () => {}, 'stdin')).rejects.toThrow(new CaptureError('cannot read stdin: input/output error'));
    const other = new Readable({ read() { this.destroy(new Error('boom')); } });
    await expect(readCaptureStream(other, () => {})).rejects.toThrow(new CaptureError('cannot read stdin: boom'));
  });

  it('refuses a stream that delivers text', async () => {
    await expect(readCaptureStream(Readable.from(['abcd']), () => {}, 'stdin')).rejects.toThrow(CaptureError);
  });

  it('lets an error thrown by the sink through unchanged', async () => {
    const failure = new TypeError('sink failed');
    await expect(readCaptureStream(Readable.from([Buffer.from(MANY)]), () => { throw failure; })).rejects.toBe(failure);
  });

  it('reports an empty stream and a cut one as a file would be', async () => {
    await expect(readCaptureStream(Readable.from([]), () => {}, 'stdin')).rejects.toThrow('stdin: empty file (0 bytes)');
    const { summary } = await readStream(Readable.from([Buffer.from(MANY.subarray(0, 24 + 16 + 3))]));
    expect(summary.warning).toBe('capture ends in the middle of packet 1 at byte offset 24 (needed 56 bytes, 19 present); the 0 whole packets before it were read');
  });
});

describe('readCapture', () => {
  it('reads a file by its path', async () => {
    const records: Kept[] = [];
    const summary = await readCapture(manyPath, (r) => { records.push(keep(r)); });
    expect({ records, summary }).toEqual(parseBytes(MANY));
  });

  it('rejects, rather than throws, for an unreadable path', async () => {
    const pending = readCapture(path.join(dir, 'missing.pcap'), () => {});
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toBeInstanceOf(CaptureError);
  });

  it('reads stdin for "-"', async () => {
    const stdin = Object.getOwnPropertyDescriptor(process, 'stdin');
    Object.defineProperty(process, 'stdin', { value: Readable.from(split(MANY, 100)), configurable: true });
    try {
      const records: Kept[] = [];
      const summary = await readCapture('-', (r) => { records.push(keep(r)); });
      expect({ records, summary }).toEqual(parseBytes(MANY));
    } finally {
      if (stdin !== undefined) Object.defineProperty(process, 'stdin', stdin);
    }
  });

  it('names stdin in its messages', async () => {
    const stdin = Object.getOwnPropertyDescriptor(process, 'stdin');
    Object.defineProperty(process, 'stdin', { value: Readable.from([Buffer.from('hello')]), configurable: true });
    try {
      await expect(readCapture('-', () => {})).rejects.toThrow('stdin is not a pcap or pcapng capture file: it starts with text ("hell")');
    } finally {
      if (stdin !== undefined) Object.defineProperty(process, 'stdin', stdin);
    }
  });
});
