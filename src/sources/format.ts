// The contract between CaptureParser (chunking, leftovers, summary) and the
// reader of one file format (pcap.ts, pcapng.ts).
//
// A format reader sees the file as a run of units: the pcap file header, then
// records; or pcapng blocks. For each unit the parser first asks need() how
// long it is, from whatever prefix is present, and only when that many bytes
// are contiguous hands them to take(). Lengths are validated inside need(), so
// the parser never buffers more than a length field that passed the checks.

import type { RecordSink } from './record.js';

/** need() returns this when the unit is unreadable; the reader's warning says why. */
export const FATAL = -1;

/** take() results. */
export const TAKE_OK = 0;
export const TAKE_STOP = 1;
export const TAKE_FATAL = 2;

/**
 * The largest packet tunscope will buffer. libpcap's sanity limit is
 * 262144 bytes per link type; 256 MiB leaves room for files written with a
 * larger snapshot length while still refusing a length field that is noise.
 */
export const MAX_CAPLEN = 256 * 1024 * 1024;

/** libpcap's default maximum snapshot length (MAXIMUM_SNAPLEN). */
export const LIBPCAP_MAX_SNAPLEN = 262144;

export interface FormatReader {
  readonly format: 'pcap' | 'pcapng';
  /** Records handed to the sink so far. */
  records: number;
  /** Set, with the byte offset and the fault, when a damaged unit stops reading. */
  warning: string | null;
  /**
   * Length of the unit starting at b[o], of which `avail` bytes are present
   * and which starts at byte `pos` of the file. A result larger than `avail`
   * asks for more bytes (possibly just enough to read the length). FATAL
   * stops reading; a fault in the file header throws CaptureError instead.
   */
  need(b: Uint8Array, o: number, avail: number, pos: number): number;
  /** Handle the complete unit b[o, o + n). */
  take(b: Uint8Array, o: number, n: number, pos: number, sink: RecordSink): number;
  /**
   * The warning for input that ends `avail` bytes into a unit of `need`
   * bytes; throws CaptureError when that unit is the file header.
   */
  partial(b: Uint8Array, avail: number, pos: number, need: number): string;
  /** pcapng: the name of an interface described so far ('' when it has none). */
  interfaceName?(id: number): string | undefined;
}

export function rd16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}

export function rd32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
    : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** The closing words of a warning about a cut or damaged file. */
export function packetsBefore(n: number): string {
  return n === 1 ? 'the 1 whole packet before it was read' : `the ${n} whole packets before it were read`;
}
