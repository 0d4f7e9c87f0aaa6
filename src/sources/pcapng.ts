// pcapng (draft-ietf-opsawg-pcapng, "PCAP Now Generic").
//
// Every block (section 3.1):
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  0 |                          Block Type                           |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  4 |                      Block Total Length                       |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  8 /                          Block Body                           /
//    /              variable length, padded to 32 bits               /
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |                      Block Total Length                       |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Section Header Block (4.1), type 0x0A0D0D0A:
//  8 |                      Byte-Order Magic (0x1A2B3C4D)            |
// 12 |          Major Version        |         Minor Version         |
// 16 |                        Section Length (64 bits)               |
// 24 /                      Options (variable)                       /
//
// Interface Description Block (4.2), type 1:
//  8 |           LinkType            |           Reserved            |
// 12 |                            SnapLen                            |
// 16 /                      Options (variable)                       /
//
// Enhanced Packet Block (4.3), type 6:
//  8 |                         Interface ID                          |
// 12 |                        Timestamp (High)                       |
// 16 |                        Timestamp (Low)                        |
// 20 |                    Captured Packet Length                     |
// 24 |                    Original Packet Length                     |
// 28 /                          Packet Data                          /
//    /              variable length, padded to 32 bits               /
//    /                      Options (variable)                       /
//
// Simple Packet Block (4.4), type 3:
//  8 |                    Original Packet Length                     |
// 12 /                          Packet Data                          /
//    /              variable length, padded to 32 bits               /
//
// Packet Block (appendix A, obsolete), type 2:
//  8 |         Interface ID          |          Drops Count          |
// 12 |                        Timestamp (High)                       |
// 16 |                        Timestamp (Low)                        |
// 20 |                    Captured Packet Length                     |
// 24 |                    Original Packet Length                     |
// 28 /                          Packet Data                          /
//    /                      Options (variable)                       /
//
// Option (3.5):
//    |      Option Code              |         Option Length         |
//    /                       Option Value                            /
//    /              variable length, padded to 32 bits               /

import { CaptureError, type CaptureRecord, type LayoutListener, type RecordSink } from './record.js';
import {
  FATAL, MAX_CAPLEN, TAKE_FATAL, TAKE_OK, TAKE_STOP, packetsBefore, rd16, rd32,
  type FormatReader,
} from './format.js';

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
export const BT_PB = 0x00000002;
export const BT_SPB = 0x00000003;
export const BT_NRB = 0x00000004;
export const BT_ISB = 0x00000005;
export const BT_EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const utf8 = new TextDecoder();

const OPT_ENDOFOPT = 0;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

const SHB_MIN = 28;
const IDB_MIN = 20;
const EPB_MIN = 32;
const SPB_MIN = 16;
const PB_MIN = 32;
const BLOCK_MIN = 12;
/** Room for a maximal packet plus its block's fields and options. */
const MAX_BLOCK = MAX_CAPLEN + (1 << 20);

const BLOCK_NAMES: Record<number, string> = {
  [BT_SHB]: 'section header block',
  [BT_IDB]: 'interface description block',
  [BT_PB]: 'packet block',
  [BT_SPB]: 'simple packet block',
  [BT_NRB]: 'name resolution block',
  [BT_ISB]: 'interface statistics block',
  [BT_EPB]: 'enhanced packet block',
};

function blockName(type: number): string {
  return BLOCK_NAMES[type] ?? `block of type 0x${type.toString(16).padStart(8, '0')}`;
}

interface Interface {
  linktype: number;
  snaplen: number;
  /** Timestamp units per second when small enough for number arithmetic, else 0. */
  units: number;
  unitsBig: bigint;
  /** nsec = floor(rem * nsMul / nsDiv), each step exact in a double. */
  nsMul: number;
  nsDiv: number;
  /** if_tsoffset, seconds. */
  offset: number;
  digits: 6 | 9;
  /** if_name, or '' when the block has none. */
  name: string;
}

export class PcapngReader implements FormatReader {
  readonly format = 'pcapng' as const;
  records = 0;
  warning: string | null = null;

  private le: boolean;
  private ifaces: Interface[] = [];
  private tsSec = 0;
  private tsNsec = 0;

  constructor(private readonly name: string, le: boolean, private readonly layout?: LayoutListener) {
    this.le = le;
  }

  /** The if_name of an interface of the current section ('' when it has none), or undefined. */
  interfaceName(id: number): string | undefined {
    return this.ifaces[id]?.name;
  }

  need(b: Uint8Array, o: number, avail: number, pos: number): number {
    if (avail < 8) return 8;
    const type = rd32(b, o, this.le);
    let len: number;
    if (type === BT_SHB) {
      // A new section may switch byte order, so its own magic says how to read its length.
      if (avail < 12) return 12;
      const le = this.sectionOrder(b, o);
      if (le === null) {
        return this.fail(pos, `section header block at byte offset ${pos} has no valid byte-order magic`);
      }
      len = rd32(b, o + 4, le);
      if (len < SHB_MIN) {
        return this.fail(pos, `section header block at byte offset ${pos} has a total length of ${len}, less than the ${SHB_MIN} its fields need`);
      }
    } else {
      len = rd32(b, o + 4, this.le);
      if (len < BLOCK_MIN) {
        return this.fail(pos, `${blockName(type)} at byte offset ${pos} has a total length of ${len}, less than the ${BLOCK_MIN}-byte minimum`);
      }
    }
    if (len % 4 !== 0) {
      return this.fail(pos, `${blockName(type)} at byte offset ${pos} has a total length of ${len}, not a multiple of 4`);
    }
    if (len > MAX_BLOCK) {
      return this.fail(pos, `${blockName(type)} at byte offset ${pos} claims ${len} bytes, more than the ${MAX_BLOCK} tunscope accepts`);
    }
    return len;
  }

  take(b: Uint8Array, o: number, n: number, pos: number, sink: RecordSink): number {
    const type = rd32(b, o, this.le);
    const le = type === BT_SHB ? this.sectionOrder(b, o) === true : this.le;
    const trailing = rd32(b, o + n - 4, le);
    if (trailing !== n) {
      this.fail(pos, `${blockName(type)} at byte offset ${pos} ends with a total length of ${trailing}, which disagrees with the ${n} it starts with`);
      return TAKE_FATAL;
    }
    switch (type) {
      case BT_EPB: return this.enhancedPacket(b, o, n, pos, sink);
      case BT_SPB: return this.simplePacket(b, o, n, pos, sink);
      case BT_PB: return this.obsoletePacket(b, o, n, pos, sink);
      case BT_IDB: return this.interfaceDescription(b, o, n, pos);
      case BT_SHB: return this.sectionHeader(b, o, pos, le);
      // Name resolution, statistics, decryption secrets, custom blocks: nothing a packet needs.
      default: return TAKE_OK;
    }
  }

  partial(b: Uint8Array, avail: number, pos: number, need: number): string {
    if (pos === 0) {
      throw new CaptureError(
        `${this.name} is cut short inside its pcapng section header block (${avail} bytes present)`,
      );
    }
    const type = avail >= 4 ? rd32(b, 0, this.le) : -1;
    const lengthKnown = avail >= 8 && (type !== BT_SHB || avail >= 12);
    const needed = lengthKnown ? `${need}` : `at least ${need}`;
    const counts = `(needed ${needed} bytes, ${avail} present)`;
    if (type === BT_EPB || type === BT_SPB || type === BT_PB) {
      const n = this.records + 1;
      return `capture ends in the middle of packet ${n} at byte offset ${pos} ${counts}; ${packetsBefore(n - 1)}`;
    }
    const what = type === -1 ? 'block' : blockName(type);
    const article = /^[aeiou]/.test(what) ? 'an' : 'a';
    return `capture ends in the middle of ${article} ${what} at byte offset ${pos} ${counts}; ${packetsBefore(this.records)}`;
  }

  /** true for little-endian, false for big-endian, null when the magic is neither. */
  private sectionOrder(b: Uint8Array, o: number): boolean | null {
    const bom = rd32(b, o + 8, true);
    if (bom === BYTE_ORDER_MAGIC) return true;
    if (bom === 0x4d3c2b1a) return false;
    return null;
  }

  /** In the file's first block a fault means this is no capture; later, it ends the reading. */
  private fail(pos: number, what: string): number {
    if (pos === 0) throw new CaptureError(`${this.name} is not a readable pcapng file: ${what}`);
    this.warning = `${what}; ${packetsBefore(this.records)}`;
    return FATAL;
  }

  private sectionHeader(b: Uint8Array, o: number, pos: number, le: boolean): number {
    const major = rd16(b, o + 12, le);
    const minor = rd16(b, o + 14, le);
    if (major !== 1) {
      this.fail(pos, `section header block at byte offset ${pos} is of pcapng version ${major}.${minor}, which tunscope does not read (it reads version 1.x)`);
      return TAKE_FATAL;
    }
    // Section 4.1: interface IDs are local to their section.
    this.le = le;
    this.ifaces = [];
    this.layout?.pcapngSection?.();
    return TAKE_OK;
  }

  private interfaceDescription(b: Uint8Array, o: number, n: number, pos: number): number {
    if (n < IDB_MIN) return this.tooShort(BT_IDB, pos, n, IDB_MIN);
    const le = this.le;
    let tsresol = 6;
    let binary = false;
    let offset = 0;
    let name = '';
    const end = o + n - 4;
    for (let p = o + 16; p + 4 <= end;) {
      const code = rd16(b, p, le);
      const length = rd16(b, p + 2, le);
      if (code === OPT_ENDOFOPT) break;
      if (p + 4 + length > end) {
        this.fail(pos, `interface description block at byte offset ${pos} has an option (code ${code}, ${length} bytes) running past the block's end`);
        return TAKE_FATAL;
      }
      if (code === IF_NAME) {
        name = utf8.decode(b.subarray(p + 4, p + 4 + length)).replace(/\0+$/, '');
      } else if (code === IF_TSRESOL && length >= 1) {
        // Section 4.2: the high bit picks a power of two, otherwise a power of ten.
        binary = (b[p + 4] & 0x80) !== 0;
        tsresol = b[p + 4] & 0x7f;
      } else if (code === IF_TSOFFSET && length >= 8) {
        const lo = rd32(b, p + 4 + (le ? 0 : 4), le);
        const hi = rd32(b, p + 4 + (le ? 4 : 0), le) | 0;
        offset = hi * 4294967296 + lo;
      }
      p += 4 + ((length + 3) & ~3);
    }
    const iface = makeInterface(rd16(b, o + 8, le), rd32(b, o + 12, le), tsresol, binary, offset, name);
    this.ifaces.push(iface);
    if (this.layout?.pcapngInterface !== undefined) {
      const options = b.slice(o + 16, o + n - 4);
      if (!le) optionsToLittleEndian(options);
      this.layout.pcapngInterface({
        linktype: iface.linktype, snaplen: iface.snaplen, options, unitsPerSecond: iface.unitsBig, offset: iface.offset,
      });
    }
    return TAKE_OK;
  }

  private enhancedPacket(b: Uint8Array, o: number, n: number, pos: number, sink: RecordSink): number {
    if (n < EPB_MIN) return this.tooShort(BT_EPB, pos, n, EPB_MIN);
    const le = this.le;
    const interfaceId = rd32(b, o + 8, le);
    const caplen = rd32(b, o + 20, le);
    if (caplen > n - EPB_MIN) return this.tooLong(BT_EPB, pos, n, caplen);
    return this.emit(b, o + 28, interfaceId, rd32(b, o + 12, le), rd32(b, o + 16, le), caplen, rd32(b, o + 24, le), pos, BT_EPB, sink);
  }

  private obsoletePacket(b: Uint8Array, o: number, n: number, pos: number, sink: RecordSink): number {
    if (n < PB_MIN) return this.tooShort(BT_PB, pos, n, PB_MIN);
    const le = this.le;
    const interfaceId = rd16(b, o + 8, le);
    const caplen = rd32(b, o + 20, le);
    if (caplen > n - PB_MIN) return this.tooLong(BT_PB, pos, n, caplen);
    return this.emit(b, o + 28, interfaceId, rd32(b, o + 12, le), rd32(b, o + 16, le), caplen, rd32(b, o + 24, le), pos, BT_PB, sink);
  }

  private simplePacket(b: Uint8Array, o: number, n: number, pos: number, sink: RecordSink): number {
    if (n < SPB_MIN) return this.tooShort(BT_SPB, pos, n, SPB_MIN);
    const iface = this.ifaces[0];
    if (iface === undefined) return this.noInterface(BT_SPB, pos, 0);
    const len = rd32(b, o + 8, this.le);
    // Section 4.4: the captured length is implied by the block, the original length and the snapshot length.
    let caplen = Math.min(len, n - SPB_MIN);
    if (iface.snaplen !== 0 && iface.snaplen < caplen) caplen = iface.snaplen;
    const record: CaptureRecord = {
      linktype: iface.linktype,
      interfaceId: 0,
      sec: 0,
      nsec: 0,
      tsDigits: iface.digits,
      caplen,
      len,
      bytes: b.subarray(o + 12, o + 12 + caplen),
    };
    this.records++;
    return sink(record) === false ? TAKE_STOP : TAKE_OK;
  }

  private emit(
    b: Uint8Array, data: number, interfaceId: number, high: number, low: number,
    caplen: number, len: number, pos: number, type: number, sink: RecordSink,
  ): number {
    const iface = this.ifaces[interfaceId];
    if (iface === undefined) return this.noInterface(type, pos, interfaceId);
    this.timestamp(iface, high, low);
    const record: CaptureRecord = {
      linktype: iface.linktype,
      interfaceId,
      sec: this.tsSec,
      nsec: this.tsNsec,
      tsDigits: iface.digits,
      caplen,
      len,
      bytes: b.subarray(data, data + caplen),
    };
    this.records++;
    return sink(record) === false ? TAKE_STOP : TAKE_OK;
  }

  /** Splits a 64-bit count of the interface's units into tsSec and tsNsec without rounding. */
  private timestamp(iface: Interface, high: number, low: number): void {
    const units = iface.units;
    if (units === 0) {
      const ts = (BigInt(high) << 32n) | BigInt(low);
      const rem = ts % iface.unitsBig;
      this.tsSec = Number(ts / iface.unitsBig) + iface.offset;
      this.tsNsec = Number((rem * 1_000_000_000n) / iface.unitsBig);
      return;
    }
    let sec: number;
    let rem: number;
    if (high < 0x200000) {
      // Below 2^53 the count itself is exact.
      const ts = high * 4294967296 + low;
      sec = Math.floor(ts / units);
      rem = ts - sec * units;
      if (rem < 0) { sec--; rem += units; } else if (rem >= units) { sec++; rem -= units; }
    } else {
      // Long division by 16-bit digits: every partial dividend stays below units * 2^16 <= 2^53.
      sec = 0;
      rem = 0;
      for (let shift = 48; shift >= 0; shift -= 16) {
        const digit = shift >= 32 ? (high >>> (shift - 32)) & 0xffff : (low >>> shift) & 0xffff;
        const cur = rem * 65536 + digit;
        let q = Math.floor(cur / units);
        rem = cur - q * units;
        if (rem < 0) { q--; rem += units; } else if (rem >= units) { q++; rem -= units; }
        sec = sec * 65536 + q;
      }
    }
    const x = rem * iface.nsMul;
    this.tsSec = sec + iface.offset;
    this.tsNsec = iface.nsDiv === 1 ? x : (x - (x % iface.nsDiv)) / iface.nsDiv;
  }

  private tooShort(type: number, pos: number, n: number, min: number): number {
    this.fail(pos, `${blockName(type)} at byte offset ${pos} is ${n} bytes long, less than the ${min} its fields need`);
    return TAKE_FATAL;
  }

  private tooLong(type: number, pos: number, n: number, caplen: number): number {
    this.fail(pos, `${blockName(type)} at byte offset ${pos} claims ${caplen} captured bytes, more than its ${n}-byte block can hold`);
    return TAKE_FATAL;
  }

  private noInterface(type: number, pos: number, id: number): number {
    this.fail(pos, `${blockName(type)} at byte offset ${pos} refers to interface ${id}, but its section describes ${this.ifaces.length === 0 ? 'no interface' : `only ${this.ifaces.length}`}`);
    return TAKE_FATAL;
  }
}

/**
 * The number path of timestamp() needs units per second of at most 2^37 (10^11
 * and 2^32 are the largest it is given); finer resolutions take the BigInt path.
 */
function makeInterface(linktype: number, snaplen: number, tsresol: number, binary: boolean, offset: number, name = ''): Interface {
  const unitsBig = binary ? 1n << BigInt(tsresol) : 10n ** BigInt(tsresol);
  let units = 0;
  let nsMul = 1;
  let nsDiv = 1;
  if (!binary && tsresol <= 9) {
    units = 10 ** tsresol;
    nsMul = 10 ** (9 - tsresol);
  } else if (!binary && tsresol <= 11) {
    units = 10 ** tsresol;
    nsDiv = 10 ** (tsresol - 9);
  } else if (binary && tsresol <= 9) {
    units = 2 ** tsresol;
    nsMul = 1_000_000_000 / units;
  } else if (binary && tsresol <= 32) {
    // 10^9 = 2^9 * 1953125, so rem * 1953125 < 2^(tsresol + 21) <= 2^53 and the division is by a power of two.
    units = 2 ** tsresol;
    nsMul = 1953125;
    nsDiv = 2 ** (tsresol - 9);
  }
  const finerThanMicro = binary ? 2 ** tsresol > 1_000_000 : tsresol > 6;
  return { linktype, snaplen, units, unitsBig, nsMul, nsDiv, offset, digits: finerThanMicro ? 9 : 6, name };
}

/** Interface options whose value is a 64-bit number (section 4.2): if_speed, if_tsoffset, if_txspeed, if_rxspeed. */
const IF_U64_OPTIONS = new Set([8, IF_TSOFFSET, 16, 17]);
/** Custom options (section 3.5.1) start with a 32-bit Private Enterprise Number. */
const CUSTOM_OPTIONS = new Set([2988, 2989, 19372, 19373]);

/**
 * Rewrites, in place, the options of an interface description block of a
 * big-endian section in little-endian order: codes, lengths and the numbers
 * among the values (strings, addresses and single bytes read the same either way).
 */
export function optionsToLittleEndian(options: Uint8Array): void {
  const swap = (at: number, width: number) => options.subarray(at, at + width).reverse();
  for (let p = 0; p + 4 <= options.length;) {
    const code = rd16(options, p, false);
    const length = rd16(options, p + 2, false);
    swap(p, 2);
    swap(p + 2, 2);
    if (code === OPT_ENDOFOPT || p + 4 + length > options.length) break;
    if (IF_U64_OPTIONS.has(code) && length === 8) swap(p + 4, 8);
    else if (CUSTOM_OPTIONS.has(code) && length >= 4) swap(p + 4, 4);
    p += 4 + ((length + 3) & ~3);
  }
}
