// The start of `tunscope capture`, up to `listening on`: its words read, its
// filter checked, every interface opened. Packets sent from that line on are
// captured, so it is said as soon as it can be: only what opening needs is
// loaded before it (the libpcap binding, the namespaces, and the filter's
// parser when there is a filter). Commander, the decoders, the printers and
// the terminal UI are loaded after it (capture.ts). command-line.ts reads a
// capture's words with CAPTURE_OPTIONS itself, and lets commander read them
// only when they hold something else (--help, an unknown option, a bad value).

import type { DecodeAs } from '../../decoders/registry.js';
import { linktypeName } from '../../decoders/linktypes.js';
import { UsageError } from '../errors.js';
import type { FilterNode } from '../filter/parse.js';
import type { PcapWriter } from '../output/capture-writer.js';
import { MAX_SNAPLEN } from '../sources/live.js';
import { LiveCapture, type LiveInterface } from '../sources/live-capture.js';
import { parseInterfaceSpec } from '../sources/netns.js';
import { DEFAULT_RING_PACKETS } from '../tui/packet-ring.js';
import {
  DECODE_OPTIONS, InvalidOptionValue, collect, positiveInteger, positiveNumber, readOptionWords, warn, type OptionSpec,
} from './option-values.js';
import { filterOf, type DecodeFlags } from './options.js';
import type { PrintFlags } from './read.js';

export interface CaptureFlags extends PrintFlags, DecodeFlags {
  interface?: string[];
  bpf?: string;
  write?: string;
  pcapng?: boolean;
  duration?: number;
  snaplen: number;
  promisc: boolean;
  buffer: number;
  stats?: boolean;
  tui?: boolean;
  tuiBuffer: number;
}

const LINKTYPE_ETHERNET = 1;
/**
 * The kernel ring buffer. libpcap's default (tcpdump's) is 2 MiB; tunscope decodes
 * and verifies every packet as it goes, so it keeps more in hand: with 32 MiB it
 * takes 100,000 VXLAN packets a second without a drop (`npm run bench -- --live`).
 */
const DEFAULT_BUFFER_MB = 32;
/** libpcap takes the ring size as an int of bytes. */
const MAX_BUFFER_MB = 2047;
/** Signals that end a capture with its summary and a whole file (exit 0). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function snaplen(value: string): number {
  const n = positiveInteger(value);
  if (n > MAX_SNAPLEN) throw new InvalidOptionValue(`expected at most ${MAX_SNAPLEN}.`);
  return n;
}

function bufferMegabytes(value: string): number {
  const n = positiveNumber(value);
  if (n > MAX_BUFFER_MB) throw new InvalidOptionValue(`expected at most ${MAX_BUFFER_MB}.`);
  return n;
}

/** capture's own options, in the order --help lists them; then DECODE_OPTIONS. */
export const CAPTURE_OPTIONS: OptionSpec[] = [
  { flags: '-i, --interface <iface>', description: 'an interface to capture on, as the arguments are given (repeatable)', parse: collect },
  { flags: '-v, --verbose', description: 'print every layer and field as a tree, indented by tunnel depth' },
  { flags: '-x, --hex', description: 'print a hex and ASCII dump under each packet' },
  { flags: '--json', description: 'print one JSON object per packet per line' },
  {
    flags: '-w, --write <file>',
    description: 'write the matching packets to a capture file instead of printing them: pcapng when FILE ends in .pcapng or with --pcapng (one interface block per interface, with its name and direction flags), else pcap',
  },
  { flags: '--pcapng', description: 'write pcapng rather than pcap' },
  { flags: '-c, --count <n>', description: 'stop after N matching packets', parse: positiveInteger },
  { flags: '--duration <seconds>', description: 'stop after this many seconds', parse: positiveNumber },
  { flags: '--bpf <expr>', description: 'the kernel filter, in libpcap syntax, instead of the one derived from --filter ("" for none)' },
  { flags: '--snaplen <n>', description: `capture at most N bytes of each packet (at most ${MAX_SNAPLEN})`, parse: snaplen, default: MAX_SNAPLEN },
  { flags: '--no-promisc', description: 'do not put the interface into promiscuous mode: only frames for this host' },
  {
    flags: '--buffer <MB>', description: 'kernel ring buffer per interface in MiB, shared evenly by its two rings (what it receives, what it sends)',
    parse: bufferMegabytes, default: DEFAULT_BUFFER_MB,
  },
  { flags: '--stats', description: 'at the end, print the tables of `tunscope stats` for what was captured (one JSON object with --json)' },
  { flags: '--tui', description: 'show the capture in the terminal UI of `tunscope tui` instead of printing it' },
  { flags: '--tui-buffer <packets>', description: 'packets the terminal UI keeps for its packet views', parse: positiveInteger, default: DEFAULT_RING_PACKETS },
];

/**
 * A capture's words (after `capture`) as commander would read them, its one
 * filter settled; null when commander must read them (see readOptionWords).
 */
export function readCaptureWords(words: string[]): { interfaces: string[]; flags: CaptureFlags } | null {
  const read = readOptionWords(words, [...CAPTURE_OPTIONS, ...DECODE_OPTIONS]);
  if (read === null) return null;
  const flags = read.opts as unknown as CaptureFlags;
  flags.filter = filterOf(flags);
  flags.displayFilter = undefined;
  return { interfaces: read.args, flags };
}

/** The interfaces as given: arguments, then -i; each once. */
function interfacesOf(positional: string[], flags: CaptureFlags): string[] {
  const given = [...positional, ...(flags.interface ?? [])];
  if (given.length === 0) throw new UsageError('capture needs an interface: tunscope capture IFACE [IFACE...] (see `tunscope interfaces`)');
  const seen = new Set<string>();
  for (const name of given) {
    if (seen.has(name)) throw new UsageError(`interface ${name} is given twice`);
    seen.add(name);
  }
  return given;
}

export type CaptureFileFormat = 'pcap' | 'pcapng';

/** pcapng when asked for, or when the file is named so. */
export function captureFormat(file: string, pcapng: boolean | undefined): CaptureFileFormat {
  return pcapng || /\.pcapng$/i.test(file) ? 'pcapng' : 'pcap';
}

/**
 * `listening on va, link type EN10MB, kernel filter: ...`; several interfaces
 * are listed with their link types when they differ.
 */
export function listeningLine(interfaces: LiveInterface[]): string {
  const types = new Set(interfaces.map((i) => i.linktype));
  const names = types.size === 1 ? interfaces.map((i) => i.spec.given).join(', ') + `, link type ${linktypeName(interfaces[0].linktype)}`
    : interfaces.map((i) => `${i.spec.given} (${linktypeName(i.linktype)})`).join(', ');
  const filters = new Set(interfaces.map((i) => i.kernelFilter));
  const filterText = filters.size > 1 ? interfaces.map((i) => `${i.spec.given}: ${i.kernelFilter || 'none'}`).join('; ')
    : interfaces[0].kernelFilter;
  return `listening on ${names}, ${filterText === '' ? 'no kernel filter' : `kernel filter${filters.size > 1 ? 's' : ''}: ${filterText}`}`;
}

/**
 * The kernel filter for the link type libpcap chose. On Ethernet it also looks
 * behind one VLAN tag kept in the frame (Linux moves the outermost one to metadata).
 */
async function kernelFilterFor(
  bpf: string | undefined, filter: FilterNode | null, decodeAs: DecodeAs[],
): Promise<string | ((linktype: number) => string)> {
  if (bpf !== undefined) return bpf;
  if (filter === null) return '';
  const { derivePrefilter } = await import('../filter/bpf.js');
  return (linktype) => derivePrefilter(filter, {
    decodeAs, vlanTags: linktype === LINKTYPE_ETHERNET ? 1 : 0, ethernet: linktype === LINKTYPE_ETHERNET,
  });
}

export interface StartedCapture {
  live: LiveCapture;
  /** The interfaces as given. */
  names: string[];
  format: CaptureFileFormat | null;
  /** A classic pcap file is opened before `listening on` (it may refuse the interfaces' link types). */
  writer: PcapWriter | null;
  /** The signal handlers and the --duration timer removed. */
  unlisten: () => void;
}

/**
 * Checks the filter, opens every interface (and a pcap file), says
 * `listening on`, and ends the capture on Ctrl-C, a hangup, SIGTERM or at the
 * end of --duration. A failure leaves no handle open.
 */
export async function startCapture(positional: string[], flags: CaptureFlags): Promise<StartedCapture> {
  const given = interfacesOf(positional, flags);
  let filter: FilterNode | null = null;
  let decodeAs: DecodeAs[] = [];
  if (flags.filter !== undefined || flags.decodeAs !== undefined) {
    const { checkedDecodeAs, checkedFilter } = await import('../decode-checks.js');
    decodeAs = checkedDecodeAs(flags.decodeAs);
    filter = checkedFilter(flags.filter);
  }
  const format = flags.write === undefined ? null : captureFormat(flags.write, flags.pcapng);
  const live = LiveCapture.open({
    interfaces: given.map(parseInterfaceSpec),
    kernelFilter: await kernelFilterFor(flags.bpf, filter, decodeAs),
    snaplen: flags.snaplen,
    promisc: flags.promisc,
    bufferBytes: Math.round(flags.buffer * 1024 * 1024),
  });
  let writer: PcapWriter | null = null;
  try {
    if (flags.write !== undefined && format === 'pcap') {
      const { openLiveWriter } = await import('./capture-report.js');
      writer = openLiveWriter(live, flags.write, format, flags.snaplen) as PcapWriter;
    }
  } catch (err) {
    live.stop();
    throw err;
  }
  // Ctrl-C from the moment `listening on` is said: what the rings hold by then is still read and written.
  // As tcpdump: a hangup (the terminal or the ssh session gone) ends the capture as SIGTERM does.
  const end = (): void => live.end();
  for (const signal of STOP_SIGNALS) process.on(signal, end);
  const timer = flags.duration === undefined ? null : setTimeout(end, flags.duration * 1000);
  const unlisten = (): void => {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, end);
    if (timer !== null) clearTimeout(timer);
  };
  for (const iface of live.interfaces) if (iface.warning !== null) warn(`${iface.spec.given}: ${iface.warning}`);
  warn(listeningLine(live.interfaces));
  live.onWarning = (message) => warn(`warning: ${message}`);
  return { live, names: live.interfaces.map((i) => i.spec.given), format, writer, unlisten };
}
