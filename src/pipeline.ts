// One source, one dissect function, one filter: every command that reads a
// capture goes through here and differs only in what it does with each packet.

import { dissect } from '../decoders/dissect.js';
import { Registry } from '../decoders/registry.js';
import type { Packet } from '../decoders/types.js';
import type { FilterNode } from './filter/parse.js';
import { matchesFilter } from './filter/evaluate.js';
import { readCapture, readCaptureFile, type FileRange } from './sources/file.js';
import type { CaptureRecord, LayoutListener, ReadSummary, RecordSource } from './sources/record.js';
import { checkedDecodeAs, checkedFilter } from './decode-checks.js';
import { Reassembler, type ReassemblyCounts } from './reassembly/reassembler.js';

export interface DecodeOptions {
  filter?: string;
  decodeAs?: string[];
  verify?: boolean;
  /** Build what only printers show (default true): off for sinks that only count. */
  detail?: boolean;
  /** Stop after this many matching packets. */
  count?: number;
  /**
   * Put IP fragments back together. Off unless asked: every command that reads
   * packets asks, as tshark does, unless given --no-reassemble (options.ts).
   */
  reassemble?: boolean;
}

export interface PreparedDecode {
  registry: Registry;
  filter: FilterNode | null;
  verify: boolean;
  detail: boolean;
  count: number;
  reassemble: boolean;
}

/** Check the options once, before any packet is read: a bad filter or decode-as is a usage error. */
export function prepareDecode(options: DecodeOptions): PreparedDecode {
  const overrides = checkedDecodeAs(options.decodeAs);
  const filter = checkedFilter(options.filter);
  const count = options.count ?? Infinity;
  return {
    registry: new Registry(overrides), filter, verify: options.verify ?? true, detail: options.detail ?? true, count,
    reassemble: options.reassemble ?? false,
  };
}

/** Called for each packet that passes the filter, with its 1-based number in the capture; false stops. */
export type PacketSink = (n: number, record: CaptureRecord, packet: Packet) => boolean | void;

export interface DecodeSummary extends ReadSummary {
  matched: number;
  /** What reassembly did; null with --no-reassemble. */
  reassembly: ReassemblyCounts | null;
}

/** Anything that delivers capture records (sources/record.ts). */
export type { RecordSource };

/** A capture file, or standard input for "-"; or one part of a file (see sources/split.ts). */
export function fileSource(path: string, range?: FileRange, layout?: LayoutListener): RecordSource {
  if (range !== undefined) return (sink) => Promise.resolve(readCaptureFile(path, sink, undefined, range, layout));
  return (sink) => readCapture(path, sink, layout);
}

/**
 * Read every record of the source, dissect it, filter it, and hand what
 * matches to the sink. A datagram made whole from fragments is handed on
 * right after the frame that completed it, under that frame's number, with
 * `packet.reassembled` set (see src/reassembly).
 */
export async function decodeRecords(source: RecordSource, prepared: PreparedDecode, sink: PacketSink): Promise<DecodeSummary> {
  const { registry, filter, verify, detail, count } = prepared;
  let n = 0;
  let matched = 0;
  const options = { registry, verify, detail };
  const reassembler = prepared.reassemble ? new Reassembler(options) : null;
  const hand = (record: CaptureRecord, packet: Packet): boolean => {
    if (filter !== null && !matchesFilter(filter, packet, record.bytes, record.len)) return true;
    matched++;
    return sink(n, record, packet) !== false && matched < count;
  };
  const summary = await source((record) => {
    n++;
    const packet = dissect(record.bytes, record.linktype, record.len, options);
    if (!hand(record, packet)) return false;
    if (reassembler === null) return true;
    for (const whole of reassembler.add(n, record, packet)) if (!hand(whole.record, whole.packet)) return false;
    return true;
  });
  return { ...summary, matched, reassembly: reassembler?.finish() ?? null };
}

/** `layout` hears of the file's headers and interfaces, each before the packets that follow it. */
export function decodeCapture(path: string, prepared: PreparedDecode, sink: PacketSink, layout?: LayoutListener): Promise<DecodeSummary> {
  return decodeRecords(fileSource(path, undefined, layout), prepared, sink);
}
