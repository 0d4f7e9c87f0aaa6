// Writing captures: classic pcap (nanosecond magic unless told otherwise) and
// pcapng with one interface per link type, or the interfaces of the file a
// subset is taken from. Both buffer and write synchronously, so a writer that
// is closed has put every packet on disk.

import fs from 'node:fs';
import { WorkError } from '../errors.js';
import type { PcapngInterfaceLayout } from '../sources/record.js';

export interface WritableRecord {
  sec: number;
  nsec: number;
  len: number;
  bytes: Uint8Array;
}

export type CaptureFormat = 'pcap' | 'pcapng';

const FLUSH_AT = 1 << 20;
const PCAP_MAGIC = 0xa1b2c3d4;
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
 * Classic pcap, nanosecond resolution unless `nano` is false (then
 * microseconds). Every packet must have the link type of the first one (pcap
 * has one link type per file).
 */
export class PcapWriter extends BufferedFileWriter {
  private linktype: number | null = null;

  constructor(path: string, private readonly snaplen = DEFAULT_SNAPLEN, private readonly nano = true) {
    super(path);
  }

  /**
   * Writes the file header now, with this link type field (the FCS bits of
   * draft-ietf-opsawg-pcap above the link type are kept), so that a file
   * that gets no packet still has one.
   */
  begin(linktypeField: number): void {
    if (this.linktype === null) this.header(linktypeField);
  }

  private header(linktypeField: number): void {
    const h = Buffer.alloc(24);
    h.writeUInt32LE(this.nano ? PCAP_NSEC_MAGIC : PCAP_MAGIC, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(this.snaplen, 16);
    h.writeUInt32LE(linktypeField >>> 0, 20);
    this.put(h);
    this.linktype = linktypeField & 0xffff;
  }

  write(record: WritableRecord, linktype: number): void {
    if (this.linktype === null) this.header(linktype);
    else if (linktype !== this.linktype) {
      throw new WorkError(`cannot write link type ${linktype} into a pcap file of link type ${this.linktype}; use pcapng`);
    }
    const h = Buffer.alloc(16);
    h.writeUInt32LE(record.sec >>> 0, 0);
    h.writeUInt32LE(this.nano ? record.nsec : Math.floor(record.nsec / 1000), 4);
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

/** Time stamp units of an interface this writer described. */
interface WrittenInterface {
  unitsPerSecond: bigint;
  offset: number;
}

const NANOSECONDS: WrittenInterface = { unitsPerSecond: 1_000_000_000n, offset: 0 };

/**
 * pcapng: one section, enhanced packet blocks, and either an interface
 * (if_tsresol 10^-9) for each link type, or the interfaces of another file
 * (addInterface), options and time stamp resolution kept.
 */
export class PcapngWriter extends BufferedFileWriter {
  private readonly interfaces = new Map<number, number>();
  private readonly described: WrittenInterface[] = [];

  constructor(path: string, private readonly snaplen = DEFAULT_SNAPLEN) {
    super(path);
    this.section();
  }

  /** Starts a section (the first, or another): interfaces described after it are numbered from 0 again. */
  section(): void {
    this.interfaces.clear();
    this.described.length = 0;
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

  /** An interface description block: its id. `options` are little-endian, with or without opt_endofopt. */
  private describe(linktype: number, snaplen: number, options: Uint8Array, units: WrittenInterface): number {
    const padded = (options.length + 3) & ~3;
    const total = 20 + padded;
    const idb = Buffer.alloc(total);
    idb.writeUInt32LE(1, 0);
    idb.writeUInt32LE(total, 4);
    idb.writeUInt16LE(linktype, 8);
    idb.writeUInt32LE(snaplen, 12);
    idb.set(options, 16);
    idb.writeUInt32LE(total, total - 4);
    this.put(idb);
    this.described.push(units);
    return this.described.length - 1;
  }

  /** The interface id for a link type, adding its interface description block the first time. */
  interfaceFor(linktype: number): number {
    const known = this.interfaces.get(linktype);
    if (known !== undefined) return known;
    // One option, if_tsresol = 9 (nanoseconds), then opt_endofopt.
    const options = Buffer.alloc(12);
    options.writeUInt16LE(9, 0); // if_tsresol
    options.writeUInt16LE(1, 2);
    options.writeUInt8(9, 4);
    const id = this.describe(linktype, this.snaplen, options, NANOSECONDS);
    this.interfaces.set(linktype, id);
    return id;
  }

  /** Describes an interface as another file did (its options, so its name and time stamp resolution, kept): its id. */
  addInterface(iface: PcapngInterfaceLayout): number {
    return this.describe(iface.linktype, iface.snaplen, iface.options, iface);
  }

  write(record: WritableRecord, linktype: number): void {
    this.writeOn(this.interfaceFor(linktype), record);
  }

  /** A packet of an interface given by addInterface (or interfaceFor), its time stamp in that interface's units. */
  writeOn(id: number, record: WritableRecord): void {
    const iface = this.described[id];
    if (iface === undefined) throw new Error(`interface ${id} was never described`);
    const caplen = record.bytes.length;
    const padded = (caplen + 3) & ~3;
    const total = 32 + padded;
    const epb = Buffer.alloc(28);
    epb.writeUInt32LE(6, 0);
    epb.writeUInt32LE(total, 4);
    epb.writeUInt32LE(id, 8);
    const ticks = timestampUnits(record, iface);
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

/**
 * A time stamp in an interface's units. Where a unit is at least a
 * nanosecond, the reader's nanoseconds (rounded down from units) give back
 * the very units the file held: the smallest count of units that reaches them.
 */
function timestampUnits(record: WritableRecord, iface: WrittenInterface): bigint {
  const units = iface.unitsPerSecond;
  const nsec = BigInt(record.nsec);
  const fraction = units <= 1_000_000_000n ? (nsec * units + 999_999_999n) / 1_000_000_000n : (nsec * units) / 1_000_000_000n;
  return BigInt(record.sec - iface.offset) * units + fraction;
}

export function openCaptureWriter(path: string, format: CaptureFormat, snaplen?: number): PcapWriter | PcapngWriter {
  return format === 'pcapng' ? new PcapngWriter(path, snaplen) : new PcapWriter(path, snaplen);
}
