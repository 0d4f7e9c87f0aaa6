// Writing captures: classic pcap (nanosecond magic unless told otherwise) and
// pcapng with one interface per link type, or the interfaces of the file a
// subset is taken from. Both write through a CheckedFile: a writer that is
// closed has put every packet on disk, and one that failed holds whole packets
// only. Values a reader took from a damaged file are clamped to what the
// format's fields hold, so any record read can be written.

import { WorkError } from '../errors.js';
import type { PcapngInterfaceLayout } from '../sources/record.js';
import { CheckedFile } from './checked-file.js';

export interface WritableRecord {
  sec: number;
  nsec: number;
  len: number;
  bytes: Uint8Array;
  /** The interface, for a pcapng writer whose interfaces were declared (addInterface). */
  interfaceId?: number;
  /** Written as the direction bits of epb_flags, in pcapng. */
  direction?: 'in' | 'out';
}

/** An interface of a pcapng file: its interface description block. */
export interface PcapngInterface {
  linktype: number;
  /** if_name */
  name?: string;
  /** if_description */
  description?: string;
}

export type CaptureFormat = 'pcap' | 'pcapng';

const PCAP_MAGIC = 0xa1b2c3d4;
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
    const nsec = nanosecondsOf(record);
    h.writeUInt32LE(Math.min(secondsOf(record), UINT32_MAX), 0);
    h.writeUInt32LE(this.nano ? nsec : Math.floor(nsec / 1000), 4);
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

// pcapng option codes (draft-ietf-opsawg-pcapng, 4.2 and 4.3).
const OPT_ENDOFOPT = 0;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;
/** epb_flags bits 0-1: 01 inbound, 10 outbound. */
const EPB_DIRECTION = { in: 1, out: 2 } as const;

/** Options as pcapng lays them out: code, length, value padded to 32 bits; then opt_endofopt. */
function optionsBlock(options: [number, Uint8Array][]): Buffer {
  const parts: Buffer[] = [];
  for (const [code, value] of options) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(code, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, Buffer.from(value), Buffer.alloc((4 - (value.length % 4)) % 4));
  }
  parts.push(Buffer.alloc(4, OPT_ENDOFOPT));
  return Buffer.concat(parts);
}

/** Time stamp units of an interface this writer described. */
interface WrittenInterface {
  unitsPerSecond: bigint;
  offset: number;
}

const NANOSECONDS: WrittenInterface = { unitsPerSecond: 1_000_000_000n, offset: 0 };

/**
 * pcapng: one section (or several: section()) and enhanced packet blocks.
 * Interfaces are either declared (addInterface: a live capture's, with their
 * names, nanosecond time stamps; each record says its interfaceId), copied
 * from another file (copyInterface: options and time stamp resolution kept;
 * writeOn), or made as packets come, one per link type.
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

  /** Writes an interface description block (if_tsresol 10^-9, and the name and description given); returns its id. */
  addInterface(iface: PcapngInterface): number {
    const options: [number, Uint8Array][] = [];
    if (iface.name !== undefined) options.push([IF_NAME, Buffer.from(iface.name)]);
    if (iface.description !== undefined) options.push([IF_DESCRIPTION, Buffer.from(iface.description)]);
    options.push([IF_TSRESOL, Uint8Array.of(9)]);
    return this.describe(iface.linktype, this.snaplen, optionsBlock(options), NANOSECONDS);
  }

  /** The interface id for a link type, adding its interface description block the first time. */
  interfaceFor(linktype: number): number {
    const known = this.interfaces.get(linktype);
    if (known !== undefined) return known;
    const id = this.addInterface({ linktype });
    this.interfaces.set(linktype, id);
    return id;
  }

  /** Describes an interface as another file did (its options, so its name and time stamp resolution, kept): its id. */
  copyInterface(iface: PcapngInterfaceLayout): number {
    return this.describe(iface.linktype, iface.snaplen, iface.options, iface);
  }

  write(record: WritableRecord, linktype: number): void {
    const id = record.interfaceId !== undefined && this.interfaces.size === 0 && record.interfaceId < this.described.length
      ? record.interfaceId : this.interfaceFor(linktype);
    this.writeOn(id, record);
  }

  /** A packet of an interface given by addInterface, copyInterface or interfaceFor, its time stamp in that interface's units. */
  writeOn(id: number, record: WritableRecord): void {
    const iface = this.described[id];
    if (iface === undefined) throw new Error(`interface ${id} was never described`);
    const caplen = record.bytes.length;
    const padded = (caplen + 3) & ~3;
    const options = record.direction === undefined ? 0 : 12; // epb_flags, then opt_endofopt
    const total = 32 + padded + options;
    const epb = Buffer.alloc(28);
    epb.writeUInt32LE(6, 0);
    epb.writeUInt32LE(total, 4);
    epb.writeUInt32LE(id, 8);
    const ticks = timestampUnits(record, iface);
    epb.writeUInt32LE(Number(ticks >> 32n), 12);
    epb.writeUInt32LE(Number(ticks & 0xffffffffn), 16);
    epb.writeUInt32LE(caplen, 20);
    epb.writeUInt32LE(wireLengthOf(record), 24);
    const body = Buffer.alloc(padded + options + 4);
    body.set(record.bytes, 0);
    if (record.direction !== undefined) {
      body.writeUInt16LE(EPB_FLAGS, padded);
      body.writeUInt16LE(4, padded + 2);
      body.writeUInt32LE(EPB_DIRECTION[record.direction], padded + 4);
    }
    body.writeUInt32LE(total, padded + options);
    this.putPacket([epb, body]);
  }
}

/**
 * A time stamp in an interface's units. Where a unit is at least a
 * nanosecond, the reader's nanoseconds (rounded down from units) give back
 * the very units the file held: the smallest count of units that reaches them.
 */
function timestampUnits(record: WritableRecord, iface: WrittenInterface): bigint {
  const units = iface.unitsPerSecond;
  const nsec = BigInt(nanosecondsOf(record));
  const fraction = units <= 1_000_000_000n ? (nsec * units + 999_999_999n) / 1_000_000_000n : (nsec * units) / 1_000_000_000n;
  const ticks = BigInt(Math.max(secondsOf(record) - iface.offset, 0)) * units + fraction;
  return ticks > UINT64_MAX ? UINT64_MAX : ticks;
}

export function openCaptureWriter(path: string, format: CaptureFormat, snaplen?: number): PcapWriter | PcapngWriter {
  return format === 'pcapng' ? new PcapngWriter(path, snaplen) : new PcapWriter(path, snaplen);
}
