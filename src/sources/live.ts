// Live capture through libpcap, by way of tunscope's own binding
// (src/native/pcap.c), built at install time where libpcap's headers are
// present, so that installing tunscope never needs them.
//
// libpcap opens the device with the snapshot length, promiscuous mode and ring
// size asked for, stamps packets in the kernel (nanoseconds where it can), and
// counts what the kernel dropped (pcap_stats). The binding waits for the
// capture's descriptor on the event loop and hands over every packet waiting in
// the ring in one batch: one call into JavaScript per batch, not per packet.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, WorkError } from '../errors.js';
import type { RecordSource } from '../pipeline.js';
import type { CaptureRecord, ReadSummary, RecordSink } from './record.js';

export const LIBPCAP_HINT = 'live capture needs libpcap: apt-get install libpcap-dev && npm run native';

/** The largest snapshot length, and the default, as tcpdump's. */
export const MAX_SNAPLEN = 262144;

/** How long the kernel holds packets back to fill a block of the ring, at most. */
const READ_TIMEOUT_MS = 100;
/** How long end() goes on reading: the read timeout, and time for the event loop to see the block. */
const DRAIN_MS = 2 * READ_TIMEOUT_MS;
/** The batch buffer: what one wake-up hands over at most, beyond one packet. */
const BATCH_BYTES = 8 * 1024 * 1024;
/** A packet's header in the batch: seconds (low, high), fraction, captured length, original length. */
const BATCH_HEADER = 20;

// <pcap/pcap.h> PCAP_IF_* flags.
const PCAP_IF_LOOPBACK = 0x1;
const PCAP_IF_UP = 0x2;
const PCAP_IF_RUNNING = 0x4;
const PCAP_IF_WIRELESS = 0x8;

export interface PcapAddress {
  addr: string;
  netmask?: string;
  broadaddr?: string;
  dstaddr?: string;
}

export interface PcapDevice {
  name: string;
  description?: string;
  addresses: PcapAddress[];
  /** PCAP_IF_* bits. */
  flags: number;
}

/** The names of a device's PCAP_IF_* flags. */
export function deviceFlagNames(flags: number): string[] {
  const names: string[] = [];
  if (flags & PCAP_IF_UP) names.push('up');
  if (flags & PCAP_IF_RUNNING) names.push('running');
  if (flags & PCAP_IF_LOOPBACK) names.push('loopback');
  if (flags & PCAP_IF_WIRELESS) names.push('wireless');
  return names;
}

type Handle = object;

interface Opened {
  handle: Handle;
  linktype: number;
  snaplen: number;
  nano: boolean;
  warning?: string;
}

interface PcapBinding {
  version(): string;
  devices(): PcapDevice[];
  open(device: string, options: { snaplen: number; promisc: boolean; bufferBytes: number; timeoutMs: number }): Opened;
  setFilter(handle: Handle, expression: string): void;
  start(handle: Handle, buffer: Buffer, callback: (countOrError: number | Error, bytes?: number) => void): void;
  stats(handle: Handle): { received: number; dropped: number; ifdropped: number };
  close(handle: Handle): void;
}

/** The folder of package.json above this module, in dist/ or in the sources alike. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dir;
}

let binding: PcapBinding | null = null;

function loadBinding(): PcapBinding {
  if (binding !== null) return binding;
  try {
    binding = createRequire(import.meta.url)(path.join(packageRoot(), 'src', 'native', 'build', 'Release', 'tunscope_pcap.node')) as PcapBinding;
  } catch {
    // Not built, or built but libpcap.so is missing: the same remedy.
    throw new WorkError(LIBPCAP_HINT);
  }
  return binding;
}

/** Whether live capture is available: the binding is built and libpcap loads. */
export function liveCaptureAvailable(): boolean {
  try {
    loadBinding();
    return true;
  } catch {
    return false;
  }
}

/** The devices libpcap can capture on (pcap_findalldevs). */
export function listDevices(): PcapDevice[] {
  const pcap = loadBinding();
  try {
    return pcap.devices();
  } catch (err) {
    throw new WorkError(`cannot list interfaces: ${(err as Error).message}`);
  }
}

function openError(device: string, err: Error & { code?: string }): WorkError {
  const message = err.message;
  switch (err.code) {
    case 'NO_SUCH_DEVICE': {
      const names = listDevices().map((d) => d.name);
      return new WorkError(`no interface named "${device}"; libpcap can capture on: ${names.join(', ')}`);
    }
    case 'PERM_DENIED':
    case 'PROMISC_PERM_DENIED':
      return new WorkError(`cannot capture on ${device}: permission denied (${message})\n` +
        'live capture needs root or the CAP_NET_RAW capability: run it with sudo');
    case 'IFACE_NOT_UP':
      return new WorkError(`cannot capture on ${device}: the interface is down (ip link set ${device} up)`);
    default:
      return new WorkError(`cannot capture on ${device}: ${message}`);
  }
}

export interface LiveOptions {
  device: string;
  /**
   * The libpcap filter for the kernel ("" for none): given by the user (--bpf),
   * or derived from the link type libpcap chose.
   */
  kernelFilter: string | ((linktype: number) => string);
  /** Bytes of each packet the kernel captures (at most MAX_SNAPLEN). */
  snaplen: number;
  /** Promiscuous mode: also the frames addressed to other hosts. */
  promisc: boolean;
  /** Size of libpcap's ring buffer in bytes. */
  bufferBytes: number;
}

export interface LiveStats {
  /** Packets libpcap delivered: those that passed the kernel filter. */
  received: number;
  /** Dropped by the kernel because the ring was full (pcap_stats ps_drop); null when libpcap cannot tell. */
  droppedByKernel: number | null;
  /** Dropped by the interface (pcap_stats ps_ifdrop); null when libpcap cannot tell. */
  droppedByInterface: number | null;
}

/** An open live capture: one source of records, stopped by stop(), -c, or the sink. */
export class LiveCapture {
  /** The link type of every record. */
  readonly linktype: number;
  /** The filter the kernel runs, "" for none. */
  readonly kernelFilter: string;
  /** What libpcap warned of when it opened the device (promiscuous mode not supported, ...), or null. */
  readonly warning: string | null;
  private readonly pcap: PcapBinding;
  private readonly handle: Handle;
  private readonly tsDigits: 6 | 9;
  private readonly batch: Buffer;
  private received = 0;
  private kernelStats: { dropped: number; ifdropped: number } | null = null;
  private stopped = false;
  private started = false;
  private ending: NodeJS.Timeout | null = null;
  private sink: RecordSink | null = null;
  private finish: (() => void) | null = null;
  /** What a sink threw, or a read error: it ends the capture and rejects the source's promise. */
  private failure: unknown = null;

  private constructor(options: LiveOptions) {
    this.pcap = loadBinding();
    let opened: Opened;
    try {
      opened = this.pcap.open(options.device, {
        snaplen: options.snaplen, promisc: options.promisc, bufferBytes: options.bufferBytes, timeoutMs: READ_TIMEOUT_MS,
      });
    } catch (err) {
      throw openError(options.device, err as Error);
    }
    this.handle = opened.handle;
    this.linktype = opened.linktype;
    this.tsDigits = opened.nano ? 9 : 6;
    this.warning = opened.warning ?? null;
    this.batch = Buffer.allocUnsafe(BATCH_BYTES + BATCH_HEADER + opened.snaplen);
    // libpcap compiles the filter for the link type it chose when it opened the device.
    const given = options.kernelFilter;
    this.kernelFilter = typeof given === 'string' ? given : given(this.linktype);
    if (this.kernelFilter !== '') {
      try {
        this.pcap.setFilter(this.handle, this.kernelFilter);
      } catch (err) {
        this.pcap.close(this.handle);
        const message = (err as Error).message;
        if (typeof given === 'string') throw new UsageError(`bad --bpf filter: ${message}\n  ${this.kernelFilter}`);
        throw new WorkError(`the kernel prefilter does not compile for link type ${this.linktype}: ${message}\n` +
          `  ${this.kernelFilter}\n  capture without one with --bpf ''`);
      }
    }
  }

  static open(options: LiveOptions): LiveCapture {
    return new LiveCapture(options);
  }

  /** One batch from the binding: `count` packets in `bytes` bytes of the batch buffer, or a read error. */
  private deliver(countOrError: number | Error, bytes = 0): void {
    if (countOrError instanceof Error) {
      this.failure = new WorkError(`capture failed: ${countOrError.message}`);
      this.stop();
      return;
    }
    const sink = this.sink;
    const batch = this.batch;
    let at = 0;
    // The binding calls us from the event loop: an exception here would end the process.
    try {
      while (at < bytes && sink !== null && !this.stopped) {
        const fraction = batch.readUInt32LE(at + 8);
        const caplen = batch.readUInt32LE(at + 12);
        const record: CaptureRecord = {
          linktype: this.linktype,
          interfaceId: 0,
          sec: batch.readUInt32LE(at) + batch.readUInt32LE(at + 4) * 0x1_0000_0000,
          nsec: this.tsDigits === 9 ? fraction : fraction * 1000,
          tsDigits: this.tsDigits,
          caplen,
          len: batch.readUInt32LE(at + 16),
          bytes: batch.subarray(at + BATCH_HEADER, at + BATCH_HEADER + caplen),
        };
        at += (BATCH_HEADER + caplen + 3) & ~3;
        this.received++;
        if (sink(record) === false) this.stop();
      }
    } catch (err) {
      this.failure = err;
      this.stop();
    }
  }

  /** Records until stop() is called or the sink returns false. */
  readonly source: RecordSource = (sink) => new Promise<ReadSummary>((resolve, reject) => {
    const summary = (): ReadSummary => ({ format: 'live', records: this.received, warning: null, stopped: true });
    if (this.stopped) {
      resolve(summary());
      return;
    }
    this.sink = sink;
    this.finish = () => (this.failure === null ? resolve(summary()) : reject(this.failure));
    if (!this.started) {
      this.started = true;
      this.pcap.start(this.handle, this.batch, (countOrError, bytes) => this.deliver(countOrError, bytes));
    }
  });

  /**
   * Stop once the kernel has handed over what it holds: packets wait in the
   * ring's current block until it fills or the read timeout ends it, so Ctrl-C
   * or the end of --duration reads for one more timeout before closing. Asked
   * again meanwhile (a second Ctrl-C), it stops at once.
   */
  end(): void {
    if (this.stopped) return;
    if (!this.started || this.ending !== null) {
      this.stop();
      return;
    }
    this.ending = setTimeout(() => this.stop(), DRAIN_MS);
  }

  /** Stop capturing now; what was delivered so far stays delivered. Safe to call more than once. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ending !== null) clearTimeout(this.ending);
    this.kernelStats = this.readKernelStats();
    this.pcap.close(this.handle);
    this.finish?.();
  }

  private readKernelStats(): { dropped: number; ifdropped: number } | null {
    try {
      return this.pcap.stats(this.handle);
    } catch {
      return null;
    }
  }

  stats(): LiveStats {
    const counts = this.stopped ? this.kernelStats : this.readKernelStats();
    return {
      received: this.received,
      droppedByKernel: counts === null ? null : counts.dropped,
      droppedByInterface: counts === null ? null : counts.ifdropped,
    };
  }
}
