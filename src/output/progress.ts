// Progress of reading a capture file, on one line of standard error: bytes
// done in percent, packets per second, time left. Shown only on a terminal,
// redrawn at most ten times a second, and erased when reading ends, so that
// what the command prints is left as it would be without it.

import fs from 'node:fs';
import type { RecordSource } from '../pipeline.js';
import { groupDigits } from './tables.js';

/** Most redraws a second. */
const REDRAWS_PER_SECOND = 10;
/** Packets between looks at the clock. */
const PACKETS_PER_LOOK = 256;
/** A record's header in a classic pcap file; pcapng's blocks are a little larger, so the percent is near, not exact. */
const RECORD_HEADER_BYTES = 16;
const FILE_HEADER_BYTES = 24;
const ERASE = '\r\x1b[K';

export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): boolean;
}

/** Seconds as m:ss, or h:mm:ss from an hour. */
export function clockText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export class Progress {
  private packets = 0;
  private done = FILE_HEADER_BYTES;
  private readonly started: number;
  private lastDraw: number;
  private drawn = false;

  /** `total`: bytes to read (0 when unknown: no percent, no time left). */
  constructor(
    private readonly stream: ProgressStream, private total: number, private readonly now: () => number = Date.now,
  ) {
    this.started = now();
    this.lastDraw = this.started;
  }

  /**
   * Progress over reading `file`, or null where none is shown: with `quiet`,
   * when the stream is not a terminal, or for standard input.
   */
  static forFile(file: string, quiet = false, stream: ProgressStream = process.stderr): Progress | null {
    if (quiet || stream.isTTY !== true || file === '-') return null;
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch {
      return null;
    }
    return new Progress(stream, size);
  }

  /** Bytes of the file this progress measures (a part of it, when the others are read elsewhere). */
  setTotal(bytes: number): void {
    this.total = bytes;
  }

  /** One record of `caplen` bytes read. */
  record(caplen: number): void {
    this.packets++;
    this.done += caplen + RECORD_HEADER_BYTES;
    if (this.packets % PACKETS_PER_LOOK !== 0) return;
    const now = this.now();
    if (now - this.lastDraw < 1000 / REDRAWS_PER_SECOND) return;
    this.lastDraw = now;
    this.draw(now);
  }

  /** Reading ended: the line is erased. */
  end(): void {
    if (this.drawn) this.stream.write(ERASE);
    this.drawn = false;
  }

  /** The line as it is drawn at `now`. */
  text(now: number): string {
    const seconds = (now - this.started) / 1000;
    const parts: string[] = [];
    const fraction = this.total > 0 ? Math.min(this.done / this.total, 1) : 0;
    if (this.total > 0) parts.push(`${Math.min(99, Math.floor(fraction * 100))}%`);
    parts.push(`${groupDigits(this.packets)} packets`);
    if (seconds > 0) parts.push(`${groupDigits(Math.round(this.packets / seconds))} packets/s`);
    if (this.total > 0 && fraction > 0 && seconds > 0) parts.push(`${clockText((seconds / fraction) * (1 - fraction))} left`);
    return parts.join(' · ');
  }

  private draw(now: number): void {
    this.stream.write(`${ERASE}${this.text(now)}`);
    this.drawn = true;
  }
}

/** `source` with each record told to `progress` (the source itself when there is none). */
export function withProgress(source: RecordSource, progress: Progress | null): RecordSource {
  if (progress === null) return source;
  return async (sink) => {
    try {
      return await source((record) => {
        progress.record(record.caplen);
        return sink(record);
      });
    } finally {
      progress.end();
    }
  };
}
