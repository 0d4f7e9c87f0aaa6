// A capture file the terminal UI can come back to: one pass reads it in
// chunks, yielding to the event loop between them so the screen stays live,
// and notes where each packet's bytes are. A view that needs a packet reads
// those bytes again; nothing but the index stays in memory, so a file of a
// million packets costs about 35 bytes a packet.

import fs from 'node:fs';
import { CaptureParser } from '../sources/parser.js';
import { CaptureError, type CaptureRecord, type ReadSummary, type RecordSink } from '../sources/record.js';
import type { RecordSource } from '../sources/record.js';

const CHUNK_SIZE = 1 << 20;

/** What a view can ask of the packets behind it: a file index or a live ring buffer. */
export interface PacketStorage {
  /** Packet n (1-based), with its own copy of the bytes, or null when it is not (or no longer) held. */
  record(n: number): CaptureRecord | null;
}

function grown<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(array: T, size: number): T {
  const bigger = new (array.constructor as new (size: number) => T)(size);
  bigger.set(array);
  return bigger;
}

/** Per-packet record fields and file offsets, in typed arrays that double as they fill. */
export class CaptureIndex {
  /** Packets indexed so far: 1..count. */
  count = 0;
  private offsets = new Float64Array(1024);
  private secs = new Float64Array(1024);
  private nsecs = new Uint32Array(1024);
  private caplens = new Uint32Array(1024);
  private lens = new Uint32Array(1024);
  private interfaces = new Uint32Array(1024);
  private linktypes = new Uint16Array(1024);
  private digits = new Uint8Array(1024);

  add(record: CaptureRecord, offset: number): void {
    const i = this.count;
    if (i === this.offsets.length) this.grow(i * 2);
    this.offsets[i] = offset;
    this.secs[i] = record.sec;
    this.nsecs[i] = record.nsec;
    this.caplens[i] = record.caplen;
    this.lens[i] = record.len;
    this.interfaces[i] = record.interfaceId;
    this.linktypes[i] = record.linktype;
    this.digits[i] = record.tsDigits;
    this.count = i + 1;
  }

  /** Where packet n's bytes start in the file. */
  offsetOf(n: number): number {
    return this.offsets[n - 1];
  }

  /** Packet n's record fields, with `bytes` left for the caller to fill. */
  header(n: number): Omit<CaptureRecord, 'bytes'> {
    const i = n - 1;
    return {
      linktype: this.linktypes[i], interfaceId: this.interfaces[i], sec: this.secs[i], nsec: this.nsecs[i],
      tsDigits: this.digits[i] as 6 | 9, caplen: this.caplens[i], len: this.lens[i],
    };
  }

  private grow(size: number): void {
    this.offsets = grown(this.offsets, size);
    this.secs = grown(this.secs, size);
    this.nsecs = grown(this.nsecs, size);
    this.caplens = grown(this.caplens, size);
    this.lens = grown(this.lens, size);
    this.interfaces = grown(this.interfaces, size);
    this.linktypes = grown(this.linktypes, size);
    this.digits = grown(this.digits, size);
  }
}

function readFailure(path: string, err: unknown): CaptureError {
  if (err instanceof CaptureError) return err;
  return new CaptureError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** An open capture file, its index, and passes over it that fill the index as they go. */
export class IndexedCaptureFile implements PacketStorage {
  readonly index = new CaptureIndex();
  /** File size in bytes when it was opened. */
  readonly size: number;
  /** Bytes consumed by the pass in progress (or the last one). */
  bytesRead = 0;
  private readonly fd: number;
  /** Passes started: a pass goes on only while it is the latest. */
  private passes = 0;

  constructor(readonly path: string) {
    try {
      this.fd = fs.openSync(path, 'r');
      this.size = fs.fstatSync(this.fd).size;
    } catch (err) {
      throw readFailure(path, err);
    }
  }

  /**
   * One pass from the start of the file. Packets not yet in the index are
   * added to it before the sink sees them, so a pass that is abandoned for a
   * new one (a new filter) loses no work. Starting a pass ends the one before
   * it, at its next chunk.
   */
  source(): RecordSource {
    return async (sink: RecordSink): Promise<ReadSummary> => {
      const pass = ++this.passes;
      const parser = new CaptureParser(this.path);
      const buffer = new Uint8Array(CHUNK_SIZE);
      const index = this.index;
      let n = 0;
      const indexing: RecordSink = (record) => {
        n++;
        if (n > index.count) index.add(record, parser.recordOffset(record.bytes));
        return sink(record);
      };
      let position = 0;
      this.bytesRead = 0;
      while (pass === this.passes) {
        let got: number;
        try {
          got = fs.readSync(this.fd, buffer, 0, CHUNK_SIZE, position);
        } catch (err) {
          throw readFailure(this.path, err);
        }
        if (got === 0) break;
        position += got;
        this.bytesRead = position;
        if (!parser.push(got === CHUNK_SIZE ? buffer : buffer.subarray(0, got), indexing)) break;
        await nextTurn();
      }
      return parser.finish();
    };
  }

  record(n: number): CaptureRecord | null {
    if (!Number.isInteger(n) || n < 1 || n > this.index.count) return null;
    const header = this.index.header(n);
    const bytes = new Uint8Array(header.caplen);
    let got = 0;
    try {
      while (got < bytes.length) {
        const more = fs.readSync(this.fd, bytes, got, bytes.length - got, this.index.offsetOf(n) + got);
        if (more === 0) return null;
        got += more;
      }
    } catch {
      return null;
    }
    return { ...header, bytes };
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
