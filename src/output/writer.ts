// Buffered, synchronous writes to a file descriptor. Printing a million lines
// through process.stdout.write would queue a million callbacks; one write per
// 64 KiB does not. A closed pipe (`tunscope read f.pcap | head -1`) ends the
// output quietly: the writer notes it, and the caller stops reading.

import fs from 'node:fs';
import { WorkError } from '../errors.js';

const FLUSH_AT = 1 << 16;

export class OutputWriter {
  private pending: string[] = [];
  private pendingLength = 0;
  /** True once the reader of our output has gone away (EPIPE). */
  closed = false;

  constructor(private readonly fd = 1) {}

  line(text: string): void {
    if (this.closed) return;
    this.pending.push(text, '\n');
    this.pendingLength += text.length + 1;
    if (this.pendingLength >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.closed || this.pendingLength === 0) return;
    const chunk = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingLength = 0;
    let written = 0;
    while (written < chunk.length) {
      try {
        written += fs.writeSync(this.fd, chunk, written);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          // A non-blocking pipe that is full: wait a moment for the reader.
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        if (code === 'EPIPE') {
          this.closed = true;
          return;
        }
        // A full disk or a vanished output: the work failed, not tunscope.
        throw new WorkError(`cannot write the output: ${(err as Error).message}`);
      }
    }
  }
}
