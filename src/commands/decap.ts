// `tunscope decap FILE|- -o OUT`: write the frames inside tunnels as a capture
// of their own, for tools that do not look inside tunnels.
//
// The output format depends on every packet: pcap when all inner frames are
// of one kind (Ethernet, or IP), pcapng with one interface per kind when both
// occur. A file is therefore read twice: the first pass decodes, filters and
// notes where each inner frame lies; the second copies those bytes out
// without decoding again. Standard input, or a pipe, cannot be read twice:
// its inner frames are copied and held in memory until the input ends. With
// --link only one kind is written, the format is known from the start, and
// any input is read once, each frame written as it is found.

import fs from 'node:fs';
import { Option, type Command } from 'commander';
import type { Packet, Reassembled } from '../../decoders/types.js';
import { ipFragment } from '../../decoders/ip-common.js';
import { INNER_LINKTYPES, innerFrame, type InnerFrame, type InnerLink, type LeftOutReason } from '../analysis/decap.js';
import { PcapWriter, PcapngWriter, type WritableRecord } from '../output/capture-writer.js';
import { decodeRecords, fileSource, prepareDecode, type DecodeSummary } from '../pipeline.js';
import { readCaptureFile } from '../sources/file.js';
import { Progress, withProgress } from '../output/progress.js';
import type { CaptureRecord } from '../sources/record.js';
import { UsageError } from '../errors.js';
import { QUIET_OPTION, addDecodeOptions, decodeOptionsOf, positiveInteger, warn, type DecodeFlags } from './options.js';

interface DecapFlags extends DecodeFlags {
  output: string;
  depth: number;
  link?: InnerLink;
  quiet?: boolean;
}

const LINK_WORDS: Record<InnerLink, string> = { ethernet: 'Ethernet', ip: 'raw IP' };
const LINKS: InnerLink[] = ['ethernet', 'ip'];

/** Why a packet was left out: no inner frame, or one of the kind --link excludes. */
type LeftOut = LeftOutReason | 'other-link' | 'in-fragment';

/** Packets left out, by reason. */
class LeftOutTally {
  readonly counts: Record<LeftOut, number> = {
    'no-tunnel': 0, shallower: 0, 'not-ethernet-or-ip': 0, 'no-inner-bytes': 0, 'other-link': 0, 'in-fragment': 0,
  };

  add(reason: LeftOut): void {
    this.counts[reason]++;
  }

  describe(flags: DecapFlags): string | null {
    const words: Record<LeftOut, string> = {
      'no-tunnel': 'with no tunnel',
      shallower: `with fewer than ${flags.depth} nested tunnels`,
      'not-ethernet-or-ip': 'whose inner frame is neither Ethernet nor IP',
      'no-inner-bytes': 'with no inner bytes captured',
      'other-link': `whose inner frame is not ${LINK_WORDS[flags.link ?? 'ethernet']}`,
      'in-fragment': 'whose inner frame a fragment holds only part of (the reassembled datagram gives it whole)',
    };
    const present = (Object.keys(words) as LeftOut[]).filter((reason) => this.counts[reason] > 0);
    if (present.length === 0) return null;
    if (present.length === 1) return `left out ${plural(this.counts[present[0]], 'packet')} ${words[present[0]]}`;
    const total = present.reduce((sum, reason) => sum + this.counts[reason], 0);
    return `left out ${plural(total, 'packet')}: ${present.map((reason) => `${this.counts[reason]} ${words[reason]}`).join(', ')}`;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const PLAN_STRIDE = 5;

/**
 * Where each inner frame of a file lies, by packet number: the first pass's
 * result, five unsigned 32-bit integers a frame (a record's lengths are 32-bit
 * fields, and a damaged one may use all 32 bits).
 */
class FramePlan {
  private cells = new Uint32Array(PLAN_STRIDE * 1024);
  length = 0;
  readonly perLink: Record<InnerLink, number> = { ethernet: 0, ip: 0 };

  add(n: number, link: InnerLink, start: number, capturedEnd: number, wireLength: number): void {
    if ((this.length + 1) * PLAN_STRIDE > this.cells.length) {
      const grown = new Uint32Array(this.cells.length * 2);
      grown.set(this.cells);
      this.cells = grown;
    }
    const at = this.length * PLAN_STRIDE;
    this.cells[at] = n;
    this.cells[at + 1] = link === 'ethernet' ? 0 : 1;
    this.cells[at + 2] = start;
    this.cells[at + 3] = capturedEnd;
    this.cells[at + 4] = wireLength;
    this.length++;
    this.perLink[link]++;
  }

  packetNumber(i: number): number {
    return this.cells[i * PLAN_STRIDE];
  }

  link(i: number): InnerLink {
    return this.cells[i * PLAN_STRIDE + 1] === 0 ? 'ethernet' : 'ip';
  }

  start(i: number): number {
    return this.cells[i * PLAN_STRIDE + 2];
  }

  capturedEnd(i: number): number {
    return this.cells[i * PLAN_STRIDE + 3];
  }

  wireLength(i: number): number {
    return this.cells[i * PLAN_STRIDE + 4];
  }
}

/** An inner frame copied out of a stream, kept until the output format is known. */
interface HeldFrame extends WritableRecord {
  link: InnerLink;
}

/**
 * Writes inner frames as pcap (one kind) or pcapng (both kinds) and counts
 * them. The file is created with the first frame, or on closing, so input
 * that turns out unreadable leaves no output behind.
 */
class InnerFrameWriter {
  private writer: PcapWriter | PcapngWriter | null = null;
  readonly written: Record<InnerLink, number> = { ethernet: 0, ip: 0 };

  /** `emptyLink` is the link type a pcap with no frames is given. */
  constructor(readonly path: string, readonly format: 'pcap' | 'pcapng', private readonly emptyLink: InnerLink) {}

  private open(): PcapWriter | PcapngWriter {
    this.writer ??= this.format === 'pcapng' ? new PcapngWriter(this.path) : new PcapWriter(this.path);
    return this.writer;
  }

  /** The writer for frames whose kinds are all known: pcap unless both kinds occur. */
  static forKinds(path: string, counts: Record<InnerLink, number>): InnerFrameWriter {
    const both = counts.ethernet > 0 && counts.ip > 0;
    return new InnerFrameWriter(path, both ? 'pcapng' : 'pcap', counts.ip > 0 ? 'ip' : 'ethernet');
  }

  write(frame: WritableRecord, link: InnerLink): void {
    this.open().write(frame, INNER_LINKTYPES[link]);
    this.written[link]++;
  }

  close(): void {
    const writer = this.open();
    if (writer instanceof PcapWriter) writer.closeWithLinktype(INNER_LINKTYPES[this.emptyLink]);
    else writer.close();
  }

  /**
   * After an error: closes a file that was opened, keeping the whole frames
   * written so far, and creates none. The error that stopped the work is the
   * one reported, not one that closing may add.
   */
  abandon(): void {
    try {
      this.writer?.close();
    } catch {
      // Reported by the error in hand.
    }
  }

  describe(): string {
    const total = this.written.ethernet + this.written.ip;
    const what = this.format === 'pcapng'
      ? `pcapng: ${LINKS.map((link) => `${this.written[link]} ${LINK_WORDS[link]}`).join(', ')}`
      : `pcap, ${LINK_WORDS[this.written.ip > 0 ? 'ip' : this.written.ethernet > 0 ? 'ethernet' : this.emptyLink]}`;
    return `wrote ${plural(total, 'inner frame')} to ${this.path} (${what})`;
  }
}

/** A regular file can be read a second time; stdin and pipes cannot. */
function canReadTwice(input: string): boolean {
  if (input === '-') return false;
  try {
    return fs.statSync(input).isFile();
  } catch {
    // The reader reports what is wrong with the path, in its own words.
    return true;
  }
}

function refuseOverwritingInput(input: string, output: string): void {
  if (input === '-') return;
  try {
    const a = fs.statSync(input);
    const b = fs.statSync(output);
    if (a.dev === b.dev && a.ino === b.ino) {
      throw new UsageError(`the output ${output} is the input capture; choose another -o file`);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
  }
}

type Decapsulation = Promise<[DecodeSummary, InnerFrameWriter]>;

/** Whether an IP header before `start` is a fragment's: the inner frame there is cut where the fragment ends. */
function carriedInFragment(packet: Packet, start: number): boolean {
  return packet.layers.some((layer) => layer.offset < start && ipFragment(layer) !== null);
}

/**
 * Calls `keep` with each inner frame the flags ask for, and tallies the
 * packets left out. With reassembly on, an inner frame a fragment holds only
 * part of is left out: the whole datagram, handed on after its last
 * fragment, gives it whole (`whole` true; its bytes are no frame of the file).
 */
function innerFrames(
  flags: DecapFlags, tally: LeftOutTally, keep: (n: number, record: CaptureRecord, frame: InnerFrame, whole: boolean) => void,
): (n: number, record: CaptureRecord, packet: Packet) => void {
  return (n, record, packet) => {
    const frame = innerFrame(packet, record.bytes.length, record.len, flags.depth);
    const whole = packet.reassembled !== undefined;
    // A datagram made of fragments is no packet of the file: what it lacks is not tallied.
    if (typeof frame === 'string') {
      if (!whole) tally.add(frame);
    } else if (whole && packet.layers[(packet.reassembled as Reassembled).layer].offset >= frame.start) {
      // Fragments inside the tunnel: each fragment's inner frame was written as it came.
    } else if (flags.link !== undefined && frame.link !== flags.link) tally.add('other-link');
    else if (flags.reassemble !== false && !whole && carriedInFragment(packet, frame.start)) tally.add('in-fragment');
    else keep(n, record, frame, whole);
  };
}

/** With --link the format is known from the start: one pass, each frame written as it is found. */
async function decapOneKind(input: string, link: InnerLink, flags: DecapFlags, tally: LeftOutTally): Decapsulation {
  const prepared = prepareDecode(decodeOptionsOf(flags));
  const writer = new InnerFrameWriter(flags.output, 'pcap', link);
  const out: WritableRecord = { sec: 0, nsec: 0, len: 0, bytes: new Uint8Array(0) };
  try {
    const summary = await decodeRecords(withProgress(fileSource(input), Progress.forFile(input, flags.quiet)), prepared, innerFrames(flags, tally, (_n, record, frame) => {
      out.sec = record.sec;
      out.nsec = record.nsec;
      out.len = frame.wireLength;
      out.bytes = record.bytes.subarray(frame.start, frame.capturedEnd);
      writer.write(out, frame.link);
    }));
    writer.close();
    return [summary, writer];
  } finally {
    writer.abandon();
  }
}

/** A file: decode once to learn where the frames are and of what kinds, then copy them out. */
async function decapFile(input: string, flags: DecapFlags, tally: LeftOutTally): Decapsulation {
  const prepared = prepareDecode(decodeOptionsOf(flags));
  const plan = new FramePlan();
  // Reassembled datagrams are no frames of the file to copy from again: their inner frames are held, by place in the plan.
  const wholes = new Map<number, WritableRecord>();
  const summary = await decodeRecords(withProgress(fileSource(input), Progress.forFile(input, flags.quiet)), prepared, innerFrames(flags, tally, (n, record, frame, whole) => {
    if (whole) {
      wholes.set(plan.length, {
        sec: record.sec, nsec: record.nsec, len: frame.wireLength, bytes: record.bytes.slice(frame.start, frame.capturedEnd),
      });
    }
    plan.add(n, frame.link, frame.start, frame.capturedEnd, frame.wireLength);
  }));
  const writer = InnerFrameWriter.forKinds(flags.output, plan.perLink);
  try {
    if (plan.length > 0) {
      let n = 0;
      let next = 0;
      const out: WritableRecord = { sec: 0, nsec: 0, len: 0, bytes: new Uint8Array(0) };
      const writeWholes = (upTo: number): void => {
        for (let whole = wholes.get(next); whole !== undefined && plan.packetNumber(next) <= upTo; whole = wholes.get(next)) {
          writer.write(whole, plan.link(next));
          next++;
        }
      };
      writeWholes(0);
      readCaptureFile(input, (record) => {
        n++;
        if (next < plan.length && !wholes.has(next) && n === plan.packetNumber(next)) {
          out.sec = record.sec;
          out.nsec = record.nsec;
          out.len = plan.wireLength(next);
          out.bytes = record.bytes.subarray(plan.start(next), plan.capturedEnd(next));
          writer.write(out, plan.link(next));
          next++;
        }
        writeWholes(n);
        return next < plan.length;
      });
    }
    writer.close();
  } finally {
    writer.abandon();
  }
  return [summary, writer];
}

/** Standard input or a pipe: hold copies of the frames until the input ends and the kinds are known. */
async function decapStream(input: string, flags: DecapFlags, tally: LeftOutTally): Decapsulation {
  const prepared = prepareDecode(decodeOptionsOf(flags));
  const held: HeldFrame[] = [];
  const kinds: Record<InnerLink, number> = { ethernet: 0, ip: 0 };
  const summary = await decodeRecords(fileSource(input), prepared, innerFrames(flags, tally, (_n, record, frame) => {
    // record.bytes is a view into the reader's buffer; a held frame needs its own copy.
    held.push({
      sec: record.sec, nsec: record.nsec, len: frame.wireLength, link: frame.link,
      bytes: record.bytes.slice(frame.start, frame.capturedEnd),
    });
    kinds[frame.link]++;
  }));
  const writer = InnerFrameWriter.forKinds(flags.output, kinds);
  try {
    for (const frame of held) writer.write(frame, frame.link);
    writer.close();
  } finally {
    writer.abandon();
  }
  return [summary, writer];
}

async function runDecap(input: string, flags: DecapFlags): Promise<void> {
  if (flags.output === '-') throw new UsageError('decap writes a capture file: give -o a file name (standard output is not supported)');
  refuseOverwritingInput(input, flags.output);
  const tally = new LeftOutTally();
  let decapsulation: Decapsulation;
  if (flags.link !== undefined) decapsulation = decapOneKind(input, flags.link, flags, tally);
  else if (canReadTwice(input)) decapsulation = decapFile(input, flags, tally);
  else decapsulation = decapStream(input, flags, tally);
  const [summary, writer] = await decapsulation;
  if (summary.warning) warn(`warning: ${summary.warning}`);
  warn(writer.describe());
  if (writer.format === 'pcapng') {
    warn('note: tcpdump (libpcap) reads one link type per file; tshark reads this one, or split it with --link ethernet / --link ip');
  }
  const leftOut = tally.describe(flags);
  if (leftOut !== null) warn(leftOut);
  const unmatched = summary.records - summary.matched;
  if (flags.filter !== undefined && unmatched > 0) warn(`${plural(unmatched, 'packet')} did not match the filter`);
}

export function defineDecapCommand(program: Command): void {
  const command = program
    .command('decap')
    .description('write the frames inside tunnels as a capture of their own (pcap, or pcapng when Ethernet and IP frames mix)')
    .argument('<file>', 'a pcap or pcapng file, or - for standard input')
    .requiredOption('-o, --output <file>', 'the capture file to write')
    .option('--depth <n>', 'peel N levels of nested tunnels (packets with fewer are left out)', positiveInteger, 1)
    .addOption(new Option('--link <kind>', 'write only inner frames of one kind, as a pcap any libpcap tool reads')
      .choices(LINKS))
    .option(...QUIET_OPTION);
  addDecodeOptions(command).action(runDecap);
}
