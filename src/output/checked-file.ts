// Writing a file so that nothing is lost in silence. Every write(2) result is
// checked: a short write is continued, a failed one (a full disk, a quota, an
// I/O error) ends the writing with an error that names the file and says how
// many packets are whole in it. What is on disk is whole units only: the bytes
// of a unit cut short are cut back with ftruncate(2), so the file stays
// readable to its last whole packet. Closing flushes, asks the kernel to put
// the data on disk (where a full disk may only then show), and checks close(2).

import fs from 'node:fs';
import { WorkError } from '../errors.js';

const FLUSH_AT = 1 << 20;

/** What the system said, in words a user reads; the code's own text otherwise. */
const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for this file system',
  EIO: 'input/output error',
  EROFS: 'read-only file system',
  EPIPE: 'the reader of the pipe went away',
  EBADF: 'the file is no longer open',
};

/** fsync(2) on what cannot be synced (a pipe, a terminal, /dev/null) says so; nothing was lost. */
const NOT_SYNCABLE = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EROFS', 'EBADF']);

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

export function systemWords(err: unknown): string {
  const code = codeOf(err);
  return (code !== undefined ? WRITE_ERRORS[code] : undefined) ?? (err instanceof Error ? err.message : String(err));
}

/** Opens `path` for writing (created or emptied), or says in one line why it cannot be. */
export function openForWriting(path: string): number {
  try {
    return fs.openSync(path, 'w');
  } catch (err) {
    const code = codeOf(err);
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'ENOENT' ? 'no such directory'
        : code === 'EISDIR' ? 'it is a directory'
          : code === 'ENAMETOOLONG' ? 'file name too long'
            : code === 'ENOTDIR' ? 'a part of the path is not a directory'
              : systemWords(err);
    throw new WorkError(`cannot write ${path}: ${why}`);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * A file written in whole units (a file header, a block, a packet record),
 * buffered and written with write(2). `noun` names what the packet units
 * are in messages ("packet", "line").
 */
export class CheckedFile {
  private readonly fd: number;
  private chunks: Uint8Array[] = [];
  private pending = 0;
  /** End of each whole unit in the pending bytes, and packets up to and including it. */
  private unitEnds: number[] = [];
  private unitPackets: number[] = [];
  /** Bytes on disk, all of them whole units. */
  private bytesOnDisk = 0;
  private failure: WorkError | null = null;
  /** What the system said when the writing failed, in words. */
  reason: string | null = null;
  private open = true;
  /** Packet units handed over, on disk or pending. */
  packets = 0;
  /** Packet units whole on disk. */
  packetsOnDisk = 0;

  constructor(readonly path: string, private readonly noun = 'packet', private readonly flushAt = FLUSH_AT) {
    this.fd = openForWriting(path);
  }

  /** The error that ended the writing, if one did. */
  get failed(): WorkError | null {
    return this.failure;
  }

  /** One unit, from its parts; `packet` counts it as a packet. Flushes when enough is pending. */
  unit(parts: readonly Uint8Array[], packet: boolean): void {
    if (this.failure !== null) throw this.failure;
    for (const part of parts) {
      this.chunks.push(part);
      this.pending += part.length;
    }
    if (packet) this.packets++;
    this.unitEnds.push(this.pending);
    this.unitPackets.push(this.packets);
    if (this.pending >= this.flushAt) this.flush();
  }

  flush(): void {
    if (this.failure !== null) throw this.failure;
    if (this.pending === 0) return;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.pending);
    let written = 0;
    try {
      while (written < all.length) {
        const n = fs.writeSync(this.fd, all, written, all.length - written);
        if (n <= 0) throw new Error('the system wrote nothing');
        written += n;
      }
    } catch (err) {
      this.fail(err, written);
    }
    this.bytesOnDisk += all.length;
    this.packetsOnDisk = this.packets;
    this.chunks = [];
    this.pending = 0;
    this.unitEnds = [];
    this.unitPackets = [];
  }

  /** Cuts the unit the failed write left half-written, and ends the writing with an error. */
  private fail(err: unknown, written: number): never {
    let whole = 0;
    let packets = this.packetsOnDisk;
    for (let i = 0; i < this.unitEnds.length && this.unitEnds[i] <= written; i++) {
      whole = this.unitEnds[i];
      packets = this.unitPackets[i];
    }
    let cut = '';
    if (whole < written) {
      try {
        fs.ftruncateSync(this.fd, this.bytesOnDisk + whole);
      } catch {
        // A pipe or a device cannot be cut back: what went out is gone.
        cut = ` and ${written - whole} bytes of the next`;
      }
    }
    this.bytesOnDisk += whole;
    this.packetsOnDisk = packets;
    this.chunks = [];
    this.pending = 0;
    this.reason = systemWords(err);
    this.failure = new WorkError(`cannot write ${this.path}: ${this.reason}; it holds ${plural(packets, `complete ${this.noun}`)}${cut}`);
    throw this.failure;
  }

  /**
   * Writes what is pending, has the kernel put it on disk, and closes the
   * file. After a failure it only closes: the failure was reported already.
   */
  close(): void {
    if (!this.open) return;
    try {
      if (this.failure === null) {
        this.flush();
        try {
          fs.fdatasyncSync(this.fd);
        } catch (err) {
          if (!NOT_SYNCABLE.has(codeOf(err) ?? '')) this.fail(err, 0);
        }
      }
    } finally {
      this.open = false;
      try {
        fs.closeSync(this.fd);
      } catch (err) {
        // close(2) is where NFS reports a write that failed.
        if (this.failure === null) this.fail(err, 0);
      }
    }
  }
}
