// Feeding a CaptureParser from a file (synchronously, one reused buffer) or
// from a stream such as stdin (as chunks arrive, so a capture that is still
// being written can be read).

import fs from 'node:fs';
import { CaptureError, type LayoutListener, type ReadSummary, type RecordSink } from './record.js';
import { CaptureParser } from './parser.js';

const SYSTEM_ERRORS: Record<string, (name: string) => string> = {
  ENOENT: (name) => `cannot read ${name}: no such file`,
  EISDIR: (name) => `${name} is a directory`,
  EACCES: (name) => `cannot read ${name}: permission denied`,
  EPERM: (name) => `cannot read ${name}: permission denied`,
  ENOTDIR: (name) => `cannot read ${name}: a part of the path is not a directory`,
  ELOOP: (name) => `cannot read ${name}: too many levels of symbolic links`,
  ENAMETOOLONG: (name) => `cannot read ${name}: file name too long`,
  EMFILE: (name) => `cannot read ${name}: too many open files`,
  EIO: (name) => `cannot read ${name}: input/output error`,
};

/** A CaptureError that names the file and says plainly what the system refused. */
export function readError(name: string, err: unknown): CaptureError {
  if (err instanceof CaptureError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const known = code === undefined ? undefined : SYSTEM_ERRORS[code];
  if (known !== undefined) return new CaptureError(known(name));
  return new CaptureError(`cannot read ${name}: ${err instanceof Error ? err.message : String(err)}`);
}

/** One part of a capture file, for reading its parts side by side (see split.ts). */
export interface FileRange {
  /** The file's header: pushed first, so that the parser knows the format. */
  header: Uint8Array;
  /** Byte offset of the part's first record. */
  start: number;
  /** How many records come before it: its packets are numbered from there (from 1 when not given). */
  recordsBefore?: number;
  /** Byte offset where the part ends: a record boundary, or the end of the file. */
  end: number;
}

/**
 * Bytes read at a time: 1 MiB reads from the page cache cost no more than
 * larger ones, and every thread of `stats` keeps its buffer resident.
 */
const CHUNK_SIZE = 1 << 20;

/** Reads a capture file (or one part of it) from start to end, or until the sink returns false. */
export function readCaptureFile(
  path: string, sink: RecordSink, chunkSize = CHUNK_SIZE, range?: FileRange, layout?: LayoutListener,
): ReadSummary {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunk size must be a positive integer, not ${chunkSize}`);
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    throw readError(path, err);
  }
  try {
    let size = chunkSize;
    try {
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) throw new CaptureError(`${path} is a directory`);
      // A small file needs no whole chunk; one that is still growing is read in smaller chunks.
      if (st.isFile()) size = Math.min(chunkSize, Math.max(st.size, 65536));
    } catch (err) {
      throw readError(path, err);
    }
    const buffer = new Uint8Array(size);
    const parser = new CaptureParser(path, layout);
    // Positional reads from `position` up to `end` for a part; plain reads to the end otherwise.
    let position: number | null = null;
    let end = Infinity;
    if (range !== undefined) {
      parser.push(range.header, sink);
      parser.skipTo(range.start, range.recordsBefore ?? 0);
      position = range.start;
      end = range.end;
    }
    for (;;) {
      let n: number;
      try {
        const want = position === null ? size : Math.min(size, end - position);
        n = want === 0 ? 0 : fs.readSync(fd, buffer, 0, want, position);
      } catch (err) {
        throw readError(path, err);
      }
      if (n === 0) break;
      if (position !== null) position += n;
      if (!parser.push(n === size ? buffer : buffer.subarray(0, n), sink)) break;
    }
    return parser.finish();
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads a capture from a stream as its chunks arrive; stops consuming it when the sink returns false. */
export async function readCaptureStream(
  stream: NodeJS.ReadableStream,
  sink: RecordSink,
  name = 'stdin',
  layout?: LayoutListener,
): Promise<ReadSummary> {
  const parser = new CaptureParser(name, layout);
  const chunks = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<string | Buffer>;
      try {
        next = await chunks.next();
      } catch (err) {
        throw readError(name, err);
      }
      if (next.done === true) break;
      if (typeof next.value === 'string') {
        throw new CaptureError(`${name} delivers text, not bytes; a capture must be read without an encoding`);
      }
      // A plain view, so records look the same whether they came from a file or a stream.
      const chunk = new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      if (!parser.push(chunk, sink)) break;
    }
  } finally {
    // Ending the iteration early destroys a Readable, so a writer upstream sees the pipe close.
    await chunks.return?.();
  }
  return parser.finish();
}

/** Reads `path`, or stdin when path is "-"; `layout` hears of the file's headers and interfaces. */
export async function readCapture(path: string, sink: RecordSink, layout?: LayoutListener): Promise<ReadSummary> {
  if (path === '-') return readCaptureStream(process.stdin, sink, 'stdin', layout);
  return readCaptureFile(path, sink, undefined, undefined, layout);
}
