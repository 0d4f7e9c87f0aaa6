// Writing captures: classic pcap (nanosecond magic) and pcapng with one
// interface per link type. Both buffer and write synchronously, so a writer
// that is closed has put every packet on disk.

import fs from 'node:fs';
import { WorkError } from '../errors.js';

export interface WritableRecord {
  sec: number;
  nsec: number;
  len: number;
  bytes: Uint8Array;
}

export type CaptureFormat = 'pcap' | 'pcapng';

const FLUSH_AT = 1 << 20;
const PCAP_NSEC_MAGIC = 0xa1b23c4d;
const DEFAULT_SNAPLEN = 262144;

function openForWriting(path: string): number {
  try {
    return fs.openSync(path, 'w');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'ENOENT' ? 'no such directory'
        : code === 'EISDIR' ? 'it is a directory'
          : (err as Error).message;
    throw new WorkError(`cannot write ${path}: ${why}`);
  }
}

abstract class BufferedFileWriter {
  private chunks: Buffer[] = [];
  private pending = 0;
  private readonly fd: number;
  /** Packets written so far. */
  packets = 0;

  constructor(readonly path: string) {
    this.fd = openForWriting(path);
  }

  protected put(buffer: Buffer): void {
    this.chunks.push(buffer);
    this.pending += buffer.length;
    if (this.pending >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.pending === 0) return;
    const all = Buffer.concat(this.chunks, this.pending);
    this.chunks = [];
    this.pending = 0;
    try {
      fs.writeSync(this.fd, all);
    } catch (err) {
      throw new WorkError(`cannot write ${this.path}: ${(err as Error).message}`);
    }
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
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
    h.writeUInt32LE(record.sec >>> 0, 0);
    h.writeUInt32LE(record.nsec, 4);
    h.writeUInt32LE(record.bytes.length, 8);
    h.writeUInt32LE(record.len, 12);
    this.put(h);
    this.put(Buffer.from(record.bytes));
    this.packets++;
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
    const ticks = BigInt(record.sec) * 1_000_000_000n + BigInt(record.nsec);
    epb.writeUInt32LE(Number(ticks >> 32n), 12);
    epb.writeUInt32LE(Number(ticks & 0xffffffffn), 16);
    epb.writeUInt32LE(caplen, 20);
    epb.writeUInt32LE(record.len, 24);
    this.put(epb);
    const body = Buffer.alloc(padded + 4);
    body.set(record.bytes, 0);
    body.writeUInt32LE(total, padded);
    this.put(body);
    this.packets++;
  }
}

export function openCaptureWriter(path: string, format: CaptureFormat, snaplen?: number): PcapWriter | PcapngWriter {
  return format === 'pcapng' ? new PcapngWriter(path, snaplen) : new PcapWriter(path, snaplen);
}
