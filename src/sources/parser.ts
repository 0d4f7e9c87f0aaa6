// A push parser for capture files: bytes arrive in chunks of any size, records
// leave through the sink. The format comes from the magic number, never from
// the file name.
//
// Between chunks it keeps at most the start of one unit (a record or a block),
// copied out of the caller's chunk because the caller may reuse that buffer.
// The copy grows by doubling as bytes arrive, so memory follows the bytes that
// are present, not what a length field claims.

import { CaptureError, type LayoutListener, type ReadSummary, type RecordSink } from './record.js';
import { FATAL, TAKE_OK, TAKE_STOP, type FormatReader } from './format.js';
import { PcapReader } from './pcap.js';
import { PcapngReader } from './pcapng.js';

/** Magic numbers as the first four bytes read big-endian. */
const PCAP_MAGIC = 0xa1b2c3d4;
const PCAP_SWAPPED_MAGIC = 0xd4c3b2a1;
const PCAP_NSEC_MAGIC = 0xa1b23c4d;
const PCAP_SWAPPED_NSEC_MAGIC = 0x4d3cb2a1;
const PCAPNG_SHB = 0x0a0d0d0a;

/** Variants with the pcap layout in spirit but other record headers; Wireshark converts the ones it knows. */
const CONVERT = 'convert it with editcap -F pcap';
const VARIANTS: Record<number, [what: string, advice: string]> = {
  0xa1b2cd34: ['a modified (Kuznetzov) pcap file', CONVERT],
  0x34cdb2a1: ['a modified (Kuznetzov) pcap file', CONVERT],
  0x1c0001ac: ['an IXIA hardware lcap file', CONVERT],
  0xac01001c: ['an IXIA hardware lcap file', CONVERT],
  0x1c0001ab: ['an IXIA software lcap file', CONVERT],
  0xab01001c: ['an IXIA software lcap file', CONVERT],
  0x736e6f6f: ['a snoop capture', CONVERT],
  0xa1b234cd: ['a modified (Mesquita) pcap file', 'it needs the tool that wrote it'],
  0xcd34b2a1: ['a modified (Mesquita) pcap file', 'it needs the tool that wrote it'],
  0xa12b3c4d: ['a Navtel pcap file', 'it needs the tool that wrote it'],
  0x4d3c2ba1: ['a Navtel pcap file', 'it needs the tool that wrote it'],
};

const COMPRESSED: Array<[mask: number, magic: number, tool: string]> = [
  [0xffff0000, 0x1f8b0000, 'gzip'],
  [0xffffffff, 0x28b52ffd, 'zstd'],
  [0xffffffff, 0xfd377a58, 'xz'],
  [0xffffffff, 0x04224d18, 'lz4'],
  [0xffffff00, 0x425a6800, 'bzip2'],
];

const MAGIC_LENGTH = 4;

function hex(b: Uint8Array, o: number, n: number): string {
  return Array.from(b.subarray(o, o + n), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

function isText(b: Uint8Array, o: number, n: number): boolean {
  for (let i = o; i < o + n; i++) {
    const c = b[i];
    if (!((c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d)) return false;
  }
  return true;
}

/** The reader for the format whose magic number starts at b[o]; throws CaptureError for anything else. */
export function detect(name: string, b: Uint8Array, o: number, layout?: LayoutListener): FormatReader {
  const magic = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  switch (magic) {
    case PCAP_MAGIC: return new PcapReader(name, false, false, layout);
    case PCAP_SWAPPED_MAGIC: return new PcapReader(name, true, false, layout);
    case PCAP_NSEC_MAGIC: return new PcapReader(name, false, true, layout);
    case PCAP_SWAPPED_NSEC_MAGIC: return new PcapReader(name, true, true, layout);
    // The block type is a palindrome; the byte-order magic inside decides.
    case PCAPNG_SHB: return new PcapngReader(name, true, layout);
  }
  const variant = VARIANTS[magic];
  if (variant !== undefined) {
    throw new CaptureError(`${name} is ${variant[0]}, which tunscope does not read; ${variant[1]}`);
  }
  for (const [mask, value, tool] of COMPRESSED) {
    if (((magic & mask) >>> 0) === value) {
      throw new CaptureError(`${name} is ${tool}-compressed; decompress it first`);
    }
  }
  if (isText(b, o, MAGIC_LENGTH)) {
    const start = String.fromCharCode(...b.subarray(o, o + MAGIC_LENGTH));
    throw new CaptureError(`${name} is not a pcap or pcapng capture file: it starts with text (${JSON.stringify(start)})`);
  }
  throw new CaptureError(`${name} is not a pcap or pcapng capture file (it starts with bytes ${hex(b, o, MAGIC_LENGTH)}, not a known magic number)`);
}

/** True when `b` starts with the magic number of a capture this parser reads (pcap or pcapng). */
export function hasCaptureMagic(b: Uint8Array): boolean {
  if (b.length < MAGIC_LENGTH) return false;
  const magic = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  return magic === PCAP_MAGIC || magic === PCAP_SWAPPED_MAGIC || magic === PCAP_NSEC_MAGIC
    || magic === PCAP_SWAPPED_NSEC_MAGIC || magic === PCAPNG_SHB;
}

export class CaptureParser {
  private reader: FormatReader | null = null;
  /** The start of the unit that straddles chunks, in left[0, leftLen). */
  private left = new Uint8Array(0);
  private leftLen = 0;
  /** File offset of the next unit. */
  private pos = 0;
  private bytesIn = 0;
  private ended = false;
  private stopped = false;
  /** Input offset of the unit being taken, and where that unit starts in its buffer: see recordOffset(). */
  private unitPos = 0;
  private unitBase = 0;

  /** `name` is how messages refer to the input (a path, or "stdin"); `layout` hears of its headers and interfaces. */
  constructor(private readonly name = 'input', private readonly layout?: LayoutListener) {}

  /** Feeds the next bytes of the input. False once the sink asked to stop or the input proved unreadable. */
  push(chunk: Uint8Array, sink: RecordSink): boolean {
    if (this.ended) return false;
    this.bytesIn += chunk.length;
    const end = chunk.length;
    let off = 0;

    while (this.leftLen > 0) {
      const need = this.need(this.left, 0, this.leftLen);
      if (need === FATAL) return this.end(false);
      if (need <= this.leftLen) {
        const done = this.take(this.left, 0, need, sink);
        this.leftLen = 0;
        if (done !== TAKE_OK) return this.end(done === TAKE_STOP);
        break;
      }
      if (off === end) return true;
      const n = Math.min(need - this.leftLen, end - off);
      this.reserve(need, this.leftLen + n);
      this.left.set(chunk.subarray(off, off + n), this.leftLen);
      this.leftLen += n;
      off += n;
    }

    while (off < end) {
      const avail = end - off;
      const need = this.need(chunk, off, avail);
      if (need === FATAL) return this.end(false);
      if (need > avail) {
        this.reserve(need, avail);
        this.left.set(chunk.subarray(off, end), 0);
        this.leftLen = avail;
        return true;
      }
      const done = this.take(chunk, off, need, sink);
      off += need;
      if (done !== TAKE_OK) return this.end(done === TAKE_STOP);
    }
    return true;
  }

  /** The name the file gives an interface (pcapng if_name: '' when it has none); undefined for an interface not described (so far). */
  interfaceName(id: number): string | undefined {
    return this.reader?.interfaceName?.(id);
  }

  /** Ends the input: reports a cut-off last unit, or throws when there never was a capture header. */
  finish(): ReadSummary {
    const reader = this.reader;
    if (reader === null) {
      if (this.bytesIn === 0) throw new CaptureError(`${this.name}: empty file (0 bytes)`);
      throw new CaptureError(`${this.name} is too short to be a capture file (${this.bytesIn} bytes)`);
    }
    let warning = reader.warning;
    if (warning === null && !this.stopped && this.leftLen > 0) {
      const need = reader.need(this.left, 0, this.leftLen, this.pos);
      warning = reader.partial(this.left, this.leftLen, this.pos, need);
    }
    return { format: reader.format, records: reader.records, warning, stopped: this.stopped };
  }

  private need(b: Uint8Array, o: number, avail: number): number {
    let reader = this.reader;
    if (reader === null) {
      if (avail < MAGIC_LENGTH) return MAGIC_LENGTH;
      reader = this.reader = detect(this.name, b, o, this.layout);
    }
    return reader.need(b, o, avail, this.pos);
  }

  /**
   * Continue as if the input went on at byte `pos`, after `records` records:
   * for reading one part of a file whose header was pushed first (see
   * readCaptureFile's range). Messages then name packets and offsets of the whole file.
   */
  skipTo(pos: number, records: number): void {
    if (this.reader === null || this.leftLen > 0) throw new Error('skipTo() needs the whole file header pushed, and nothing more');
    this.pos = pos;
    this.reader.records = records;
  }

  /**
   * Byte offset in the input of a record's `bytes`, for the record the sink is
   * being handed now. Lets a caller come back for the packet later without
   * keeping a copy (the terminal UI's index of a large file).
   */
  recordOffset(bytes: Uint8Array): number {
    return this.unitPos + bytes.byteOffset - this.unitBase;
  }

  private take(b: Uint8Array, o: number, n: number, sink: RecordSink): number {
    this.unitPos = this.pos;
    this.unitBase = b.byteOffset + o;
    const done = (this.reader as FormatReader).take(b, o, n, this.pos, sink);
    this.pos += n;
    return done;
  }

  /** Makes room for `have` bytes of a unit of `need`, doubling rather than trusting `need`. */
  private reserve(need: number, have: number): void {
    if (this.left.length >= have) return;
    const size = Math.min(need, Math.max(have, this.left.length * 2, 256));
    const grown = new Uint8Array(size);
    grown.set(this.left.subarray(0, this.leftLen), 0);
    this.left = grown;
  }

  private end(stopped: boolean): boolean {
    this.ended = true;
    this.stopped = stopped;
    return false;
  }
}
