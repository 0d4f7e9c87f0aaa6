// Reading several captures side by side, in timestamp order: each file is read
// a chunk at a time into a short queue of records, and the merge always takes
// the earliest record at the head of any queue. Each chunk is a fresh buffer,
// so a record inside it keeps its view; a record the reader put together across
// two chunks is copied (the reader reuses that space). Memory is a chunk or two
// per file, whatever the files' lengths.

import fs from 'node:fs';
import { CaptureParser } from './parser.js';
import { readError } from './file.js';
import { CaptureError, type CaptureRecord } from './record.js';

const CHUNK_SIZE = 1 << 20;

/** A capture file read on demand, one record at a time. */
export class RecordCursor {
  private readonly fd: number;
  private readonly parser: CaptureParser;
  private queue: CaptureRecord[] = [];
  private head = 0;
  private ended = false;
  /** Why reading stopped before the end of the file, when it did. */
  warning: string | null = null;
  /** Records read so far. */
  records = 0;

  constructor(readonly path: string) {
    try {
      this.fd = fs.openSync(path, 'r');
    } catch (err) {
      throw readError(path, err);
    }
    if (fs.fstatSync(this.fd).isDirectory()) {
      fs.closeSync(this.fd);
      throw new CaptureError(`${path} is a directory`);
    }
    this.parser = new CaptureParser(path);
  }

  /** The next record without taking it, or null at the end of the file. */
  peek(): CaptureRecord | null {
    while (this.head === this.queue.length) {
      if (this.ended) return null;
      this.fill();
    }
    return this.queue[this.head];
  }

  /** Takes the record peek() returned. */
  next(): CaptureRecord | null {
    const record = this.peek();
    if (record !== null) this.head++;
    return record;
  }

  /** The name the file gives an interface (pcapng: '' when it has none); undefined when not described. */
  interfaceName(id: number): string | undefined {
    return this.parser.interfaceName(id);
  }

  close(): void {
    if (!this.ended) this.end();
  }

  private fill(): void {
    this.queue = [];
    this.head = 0;
    const chunk = new Uint8Array(CHUNK_SIZE);
    let n: number;
    try {
      n = fs.readSync(this.fd, chunk, 0, chunk.length, null);
    } catch (err) {
      this.end();
      throw readError(this.path, err);
    }
    const more = n > 0 && this.parser.push(chunk.subarray(0, n), (record) => {
      const bytes = record.bytes.buffer === chunk.buffer ? record.bytes : record.bytes.slice();
      this.queue.push({ ...record, bytes });
    });
    this.records += this.queue.length;
    if (!more) this.end();
  }

  private end(): void {
    this.ended = true;
    fs.closeSync(this.fd);
    this.warning = this.parser.finish().warning;
  }
}

/**
 * Seconds since `base` (a whole second) as one number: counted from a nearby
 * base, a double keeps nanoseconds, which it cannot at today's epoch seconds.
 */
export function recordTime(record: CaptureRecord, base = 0): number {
  return (record.sec - base) + record.nsec / 1e9;
}

/** The whole second of the earliest first record of the cursors (0 when none has a record). */
export function baseSecond(cursors: RecordCursor[]): number {
  const firsts = cursors.map((c) => c.peek()?.sec).filter((sec): sec is number => sec !== undefined);
  return firsts.length === 0 ? 0 : Math.min(...firsts);
}

/**
 * Hands the records of every cursor to the sink in timestamp order (each
 * cursor's time, from `base`, shifted by its offset in seconds); a tie goes
 * to the cursor given first. Returning false from the sink stops.
 */
export function mergeByTime(
  cursors: RecordCursor[],
  offsets: number[],
  base: number,
  sink: (record: CaptureRecord, cursor: number, time: number) => boolean | void,
): void {
  for (;;) {
    let best = -1;
    let bestTime = Infinity;
    for (let i = 0; i < cursors.length; i++) {
      const record = cursors[i].peek();
      if (record === null) continue;
      const t = recordTime(record, base) + offsets[i];
      if (t < bestTime) {
        best = i;
        bestTime = t;
      }
    }
    if (best < 0) return;
    const record = cursors[best].next() as CaptureRecord;
    if (sink(record, best, bestTime) === false) return;
  }
}
