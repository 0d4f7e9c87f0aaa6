// Classic pcap (draft-ietf-opsawg-pcap, "PCAP Capture File Format").
//
// File header:
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  0 |                          Magic Number                         |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  4 |          Major Version        |         Minor Version         |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  8 |                           Reserved1                           |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 12 |                           Reserved2                           |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 16 |                            SnapLen                            |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 20 | FCS |f|0 0 0 0 0 0 0 0 0 0 0 0|         LinkType              |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Packet record:
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  0 |                      Timestamp (Seconds)                      |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  4 |            Timestamp (Microseconds or nanoseconds)            |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  8 |                    Captured Packet Length                     |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 12 |                    Original Packet Length                     |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 16 /                          Packet Data                          /
//    /                  variable length, not padded                  /
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import { CaptureError, type CaptureRecord, type LayoutListener, type RecordSink } from './record.js';
import {
  FATAL, LIBPCAP_MAX_SNAPLEN, MAX_CAPLEN, TAKE_OK, TAKE_STOP, packetsBefore, rd16, rd32,
  type FormatReader,
} from './format.js';

export const PCAP_FILE_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

export class PcapReader implements FormatReader {
  readonly format = 'pcap' as const;
  records = 0;
  warning: string | null = null;

  private inHeader = true;
  private linktype = 0;
  private snaplen = 0;
  private maxCaplen = MAX_CAPLEN;
  private readonly fracPerSec: number;
  private readonly nsPerFrac: number;

  constructor(
    private readonly name: string,
    readonly le: boolean,
    private readonly nano: boolean,
    private readonly layout?: LayoutListener,
  ) {
    this.fracPerSec = nano ? 1_000_000_000 : 1_000_000;
    this.nsPerFrac = nano ? 1 : 1000;
  }

  need(b: Uint8Array, o: number, avail: number, pos: number): number {
    if (this.inHeader) return PCAP_FILE_HEADER_LENGTH;
    if (avail < PCAP_RECORD_HEADER_LENGTH) return PCAP_RECORD_HEADER_LENGTH;
    const caplen = rd32(b, o + 8, this.le);
    if (caplen > this.maxCaplen) {
      this.warning =
        `packet ${this.records + 1} at byte offset ${pos} claims ${caplen} captured bytes, ` +
        `more than the ${this.maxCaplen} this file allows (snapshot length ${this.snaplen}); ` +
        packetsBefore(this.records);
      return FATAL;
    }
    return PCAP_RECORD_HEADER_LENGTH + caplen;
  }

  /**
   * Whether the 16 bytes at `o` look like a record header of this file: a
   * captured length this reader takes, no longer than the original length
   * (which is at least 1), and a fraction of a second below a whole second.
   * The length of the record if so, else -1. For finding a record boundary
   * at an arbitrary offset (sources/split.ts).
   */
  plausibleRecordLength(b: Uint8Array, o: number): number {
    const le = this.le;
    const caplen = rd32(b, o + 8, le);
    const len = rd32(b, o + 12, le);
    if (caplen > this.maxCaplen || len === 0 || caplen > len || rd32(b, o + 4, le) >= this.fracPerSec) return -1;
    return PCAP_RECORD_HEADER_LENGTH + caplen;
  }

  take(b: Uint8Array, o: number, n: number, _pos: number, sink: RecordSink): number {
    if (this.inHeader) {
      this.readFileHeader(b, o);
      return TAKE_OK;
    }
    const le = this.le;
    let sec = rd32(b, o, le);
    let frac = rd32(b, o + 4, le);
    // A writer that let the fraction reach a whole second still meant that second.
    if (frac >= this.fracPerSec) {
      sec += Math.floor(frac / this.fracPerSec);
      frac %= this.fracPerSec;
    }
    const caplen = n - PCAP_RECORD_HEADER_LENGTH;
    const record: CaptureRecord = {
      linktype: this.linktype,
      interfaceId: 0,
      sec,
      nsec: frac * this.nsPerFrac,
      tsDigits: this.nano ? 9 : 6,
      caplen,
      len: rd32(b, o + 12, le),
      bytes: b.subarray(o + PCAP_RECORD_HEADER_LENGTH, o + n),
    };
    this.records++;
    return sink(record) === false ? TAKE_STOP : TAKE_OK;
  }

  partial(_b: Uint8Array, avail: number, pos: number, need: number): string {
    if (this.inHeader) {
      throw new CaptureError(
        `${this.name} is cut short inside its pcap file header (${avail} of ${PCAP_FILE_HEADER_LENGTH} bytes)`,
      );
    }
    const n = this.records + 1;
    const needed = need === PCAP_RECORD_HEADER_LENGTH && avail < need ? `at least ${need}` : `${need}`;
    return (
      `capture ends in the middle of packet ${n} at byte offset ${pos} ` +
      `(needed ${needed} bytes, ${avail} present); ` +
      packetsBefore(n - 1)
    );
  }

  private readFileHeader(b: Uint8Array, o: number): void {
    const major = rd16(b, o + 4, this.le);
    const minor = rd16(b, o + 6, this.le);
    if (major !== 2) {
      throw new CaptureError(
        `${this.name} is a pcap file of version ${major}.${minor}, which tunscope does not read (it reads version 2.x)`,
      );
    }
    this.snaplen = rd32(b, o + 16, this.le);
    // The upper bits carry the FCS length (draft-ietf-opsawg-pcap section 4); the link type is the low 16.
    const linktypeField = rd32(b, o + 20, this.le);
    this.linktype = linktypeField & 0xffff;
    this.layout?.pcapHeader?.({ nano: this.nano, snaplen: this.snaplen, linktypeField });
    // As in libpcap: a record may exceed the snapshot length up to the usual maximum, never beyond both.
    this.maxCaplen = this.snaplen > 0 && this.snaplen <= MAX_CAPLEN
      ? Math.max(this.snaplen, LIBPCAP_MAX_SNAPLEN)
      : MAX_CAPLEN;
    this.inHeader = false;
  }
}
