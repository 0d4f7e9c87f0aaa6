// What a capture reader hands to the rest of tunscope: one packet at a time,
// with its link type and an exact timestamp, whatever the file format was.

/** A packet received by its interface, or sent by it. */
export type Direction = 'in' | 'out';

export interface CaptureRecord {
  /** Link-layer header type of this packet (per pcapng interface). */
  linktype: number;
  /** pcapng interface index (0 for classic pcap). */
  interfaceId: number;
  /** Whether the interface received or sent the packet, where the source knows it (live capture, pcapng epb_flags). */
  direction?: Direction;
  /** Timestamp, whole seconds (UTC). */
  sec: number;
  /** Nanoseconds within the second (0..999999999), exact, derived from the file's resolution. */
  nsec: number;
  /** Digits worth printing: 9 when the file's resolution is finer than a microsecond. */
  tsDigits: 6 | 9;
  /** Bytes captured. */
  caplen: number;
  /** Original length on the wire. */
  len: number;
  /** A view into the reader's buffer, valid only during the callback. */
  bytes: Uint8Array;
}

/** Returning false from the callback stops reading. */
export type RecordSink = (record: CaptureRecord) => boolean | void;

/** Anything that delivers capture records: a file, stdin, a live interface. */
export type RecordSource = (sink: RecordSink) => Promise<ReadSummary>;

/** A file that is not a capture, or is unreadable: the CLI prints err.message and exits 1. */
export class CaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureError';
  }
}

export interface ReadSummary {
  format: 'pcap' | 'pcapng' | 'live';
  /** Records handed to the sink. */
  records: number;
  /** Why reading ended before the end of the file, when the file is damaged or cut short. */
  warning: string | null;
  /** The sink asked to stop. */
  stopped: boolean;
}

/** A classic pcap file's header, as a copy of the file needs it. */
export interface PcapLayout {
  /** Nanosecond time stamps (else microseconds). */
  nano: boolean;
  snaplen: number;
  /** The whole link type field: the link type in the low 16 bits, FCS bits above. */
  linktypeField: number;
}

/** A pcapng interface description, as a copy of the file needs it. */
export interface PcapngInterfaceLayout {
  linktype: number;
  snaplen: number;
  /** The block's options, little-endian, ending with opt_endofopt (empty when the block has none). */
  options: Uint8Array;
  /** Time stamp units per second (if_tsresol). */
  unitsPerSecond: bigint;
  /** if_tsoffset, seconds. */
  offset: number;
}

/**
 * Told about what a capture file holds besides its packets, in file order,
 * before the packets that depend on it: for writing a subset of the file in
 * its own format (`read -w`).
 */
export interface LayoutListener {
  pcapHeader?(header: PcapLayout): void;
  /** A pcapng section begins: the interfaces described after it are numbered from 0 again. */
  pcapngSection?(): void;
  pcapngInterface?(iface: PcapngInterfaceLayout): void;
}
