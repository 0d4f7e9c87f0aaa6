// Writing captures: classic pcap (nanosecond magic) and pcapng with one
// interface per link type. Both write through a CheckedFile: a writer that
// is closed has put every packet on disk, and one that failed holds whole
// packets only. Values a reader took from a damaged file are clamped to what
// the format's fields hold, so any record read can be written.

import { WorkError } from '../errors.js';
import { CheckedFile } from './checked-file.js';

export interface WritableRecord {
  sec: number;
  nsec: number;
  len: number;
  bytes: Uint8Array;
}

export type CaptureFormat = 'pcap' | 'pcapng';

const PCAP_NSEC_MAGIC = 0xa1b23c4d;
const DEFAULT_SNAPLEN = 262144;
const UINT32_MAX = 0xffffffff;
const UINT64_MAX = (1n << 64n) - 1n;

/**
 * The original length as a record field can hold it: never less than what
 * was captured (a reader's file may say less), never more than 32 bits.
 */
function wireLengthOf(record: WritableRecord): number {
  const len = Number.isFinite(record.len) ? Math.trunc(record.len) : 0;
  return Math.min(Math.max(len, record.bytes.length), UINT32_MAX);
}

/** Nanoseconds within the second, whole and in range, whatever a reader computed. */
function nanosecondsOf(record: WritableRecord): number {
  const nsec = Number.isFinite(record.nsec) ? Math.trunc(record.nsec) : 0;
  return Math.min(Math.max(nsec, 0), 999_999_999);
}

/** Whole seconds since 1970, never negative: both formats count from 1970 without sign. */
function secondsOf(record: WritableRecord): number {
  return Number.isFinite(record.sec) ? Math.max(Math.trunc(record.sec), 0) : 0;
}

abstract class BufferedFileWriter {
  private readonly file: CheckedFile;

  constructor(readonly path: string) {
    this.file = new CheckedFile(path);
  }

  /** Packets handed to the writer (whole on disk once it is closed without an error). */
  get packets(): number {
    return this.file.packets;
  }

  /** Packets whole on disk now. */
  get packetsOnDisk(): number {
    return this.file.packetsOnDisk;
  }

  /** A file header or block that is not a packet. */
  protected put(buffer: Uint8Array): void {
    this.file.unit([buffer], false);
  }

  protected putPacket(parts: Uint8Array[]): void {
    this.file.unit(parts, true);
  }

  flush(): void {
    this.file.flush();
  }

  close(): void {
    this.file.close();
  }

  abstract write(record: WritableRecord, linktype: number): void;
}

/**
 * Classic pcap, nanosecond resolution. Every packet must have the link type
 * of the first one (pcap has one link type per file).
 */
export class PcapWriter extends BufferedFileWriter {
  private linktype: number | null = null;

  constructor(path: string, private readonly snaplen = DEFAULT_SNAPLEN) {
    super(path);
  }

  private header(linktype: number): void {
    const h = Buffer.alloc(24);
    h.writeUInt32LE(PCAP_NSEC_MAGIC, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(this.snaplen, 16);
    h.writeUInt32LE(linktype, 20);
    this.put(h);
    this.linktype = linktype;
  }

  write(record: WritableRecord, linktype: number): void {
    if (this.linktype === null) this.header(linktype);
    else if (linktype !== this.linktype) {
      throw new WorkError(`cannot write link type ${linktype} into a pcap file of link type ${this.linktype}; use pcapng`);
    }
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.min(secondsOf(record), UINT32_MAX), 0);
    h.writeUInt32LE(nanosecondsOf(record), 4);
    h.writeUInt32LE(record.bytes.length, 8);
    h.writeUInt32LE(wireLengthOf(record), 12);
    this.putPacket([h, Buffer.from(record.bytes)]);
  }

  /** An empty capture still gets a header, of the link type the caller expected. */
  closeWithLinktype(defaultLinktype: number): void {
    if (this.linktype === null) this.header(defaultLinktype);
    this.close();
  }
}

/** pcapng: one section, an interface (if_tsresol 10^-9) for each link type, enhanced packet blocks. */
export class PcapngWriter extends BufferedFileWriter {
  private readonly interfaces = new Map<number, number>();

  constructor(path: string, private readonly snaplen = DEFAULT_SNAPLEN) {
    super(path);
    const shb = Buffer.alloc(28);
    shb.writeUInt32LE(0x0a0d0d0a, 0);
    shb.writeUInt32LE(28, 4);
    shb.writeUInt32LE(0x1a2b3c4d, 8);
    shb.writeUInt16LE(1, 12);
    shb.writeUInt16LE(0, 14);
    shb.writeBigInt64LE(-1n, 16); // section length not given
    shb.writeUInt32LE(28, 24);
    this.put(shb);
  }

  /** The interface id for a link type, adding its interface description block the first time. */
  interfaceFor(linktype: number): number {
    const known = this.interfaces.get(linktype);
    if (known !== undefined) return known;
    const id = this.interfaces.size;
    // IDB with one option, if_tsresol = 9 (nanoseconds), then opt_endofopt.
    const idb = Buffer.alloc(32);
    idb.writeUInt32LE(1, 0);
    idb.writeUInt32LE(32, 4);
    idb.writeUInt16LE(linktype, 8);
    idb.writeUInt32LE(this.snaplen, 12);
    idb.writeUInt16LE(9, 16); // if_tsresol
    idb.writeUInt16LE(1, 18);
    idb.writeUInt8(9, 20);
    idb.writeUInt32LE(0, 24); // opt_endofopt
    idb.writeUInt32LE(32, 28);
    this.put(idb);
    this.interfaces.set(linktype, id);
    return id;
  }

  write(record: WritableRecord, linktype: number): void {
    const id = this.interfaceFor(linktype);
    const caplen = record.bytes.length;
    const padded = (caplen + 3) & ~3;
    const total = 32 + padded;
    const epb = Buffer.alloc(28);
    epb.writeUInt32LE(6, 0);
    epb.writeUInt32LE(total, 4);
    epb.writeUInt32LE(id, 8);
    let ticks = BigInt(secondsOf(record)) * 1_000_000_000n + BigInt(nanosecondsOf(record));
    if (ticks > UINT64_MAX) ticks = UINT64_MAX;
    epb.writeUInt32LE(Number(ticks >> 32n), 12);
    epb.writeUInt32LE(Number(ticks & 0xffffffffn), 16);
    epb.writeUInt32LE(caplen, 20);
    epb.writeUInt32LE(wireLengthOf(record), 24);
    const body = Buffer.alloc(padded + 4);
    body.set(record.bytes, 0);
    body.writeUInt32LE(total, padded);
    this.putPacket([epb, body]);
  }
}

export function openCaptureWriter(path: string, format: CaptureFormat, snaplen?: number): PcapWriter | PcapngWriter {
  return format === 'pcapng' ? new PcapngWriter(path, snaplen) : new PcapWriter(path, snaplen);
}
