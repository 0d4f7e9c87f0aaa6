// Live capture through libpcap, by way of the `cap` binding (an optional
// dependency, so that installing tunscope never needs libpcap headers).
//
// What the binding gives: each packet copied into one buffer we own, in the
// order libpcap reads them from the kernel's ring, with a BPF filter compiled
// by libpcap. What it does not give, and what tunscope does instead:
// - no pcap_pkthdr: neither the kernel's timestamp nor the original length.
//   Timestamps are taken when tunscope receives the packet (microseconds);
//   the length libpcap captured is the original length, since the binding
//   asks for 65535 bytes, more than any frame on links up to 64 KiB MTU.
// - no pcap_stats: the kernel's drops (ring full) cannot be read. Drops by the
//   interface are read from sysfs, the counters libpcap itself sums for them
//   (rx_missed_errors + rx_fifo_errors).
// - no choice of promiscuous mode (always on) or of the kernel snaplen (65535):
//   a shorter --snaplen is applied here, to what is kept and written.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { UsageError, WorkError } from '../errors.js';
import type { RecordSource } from '../pipeline.js';
import type { CaptureRecord, ReadSummary, RecordSink } from './record.js';

export const LIBPCAP_HINT = 'live capture needs libpcap: apt-get install libpcap-dev && npm rebuild cap';

/** The most bytes of a packet the binding asks libpcap for. */
export const CAP_SNAPLEN = 65535;

export interface CapAddress {
  addr: string;
  netmask?: string;
  broadaddr?: string;
  dstaddr?: string;
}

export interface CapDevice {
  name: string;
  description?: string;
  addresses: CapAddress[];
  flags?: string;
}

interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  close(): boolean;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
}

interface CapBinding {
  Cap: { new(): CapHandle; deviceList(): CapDevice[] };
}

let binding: CapBinding | null = null;

function loadCap(): CapBinding {
  if (binding !== null) return binding;
  try {
    binding = createRequire(import.meta.url)('cap') as CapBinding;
  } catch {
    // Not installed, not built, or built but libpcap.so is missing: the same remedy.
    throw new WorkError(LIBPCAP_HINT);
  }
  return binding;
}

/** The devices libpcap can capture on (pcap_findalldevs). */
export function listDevices(): CapDevice[] {
  const cap = loadCap();
  try {
    return cap.Cap.deviceList();
  } catch (err) {
    throw new WorkError(`cannot list interfaces: ${(err as Error).message}`);
  }
}

/**
 * Handles whose open() failed. The binding's destructor stops a libuv poll
 * handle that a failed open never started, which aborts the process; kept
 * reachable here, they are never collected.
 */
const failedHandles = new Set<CapHandle>();

// The binding names the link types it knows; any other comes as "Unknown linktype N".
const CAP_LINKTYPES: Record<string, number> = {
  NULL: 0, ETHERNET: 1, IEEE802_11_RADIO: 127, LINKTYPE_LINUX_SLL: 113, RAW: 101,
};

function linktypeOf(name: string): number {
  const known = CAP_LINKTYPES[name];
  if (known !== undefined) return known;
  const m = /(\d+)$/.exec(name);
  return m ? Number(m[1]) : -1;
}

function openError(device: string, message: string): WorkError {
  if (/permi|not permitted|EPERM|EACCES/i.test(message)) {
    return new WorkError(`cannot capture on ${device}: permission denied (${message})\n` +
      'live capture needs root or the CAP_NET_RAW capability: run it with sudo');
  }
  if (/not up|network is down/i.test(message)) {
    return new WorkError(`cannot capture on ${device}: the interface is down (ip link set ${device} up)`);
  }
  if (/no such device/i.test(message)) {
    return new WorkError(`cannot capture on ${device}: the interface is gone (${message})`);
  }
  return new WorkError(`cannot capture on ${device}: ${message}`);
}

function readCounter(file: string): number | null {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

const SYSFS_NET = '/sys/class/net';

/** rx_missed_errors + rx_fifo_errors of the device (all devices for "any"), or null when sysfs has none. */
function interfaceDrops(device: string): number | null {
  let names: string[];
  if (device === 'any') {
    try {
      names = fs.readdirSync(SYSFS_NET);
    } catch {
      return null;
    }
  } else {
    names = [device];
  }
  let total: number | null = null;
  for (const name of names) {
    const dir = path.join(SYSFS_NET, name, 'statistics');
    const missed = readCounter(path.join(dir, 'rx_missed_errors'));
    const fifo = readCounter(path.join(dir, 'rx_fifo_errors'));
    if (missed === null || fifo === null) continue;
    total = (total ?? 0) + missed + fifo;
  }
  return total;
}

export interface LiveOptions {
  device: string;
  /**
   * The libpcap filter for the kernel ("" for none): given by the user (--bpf),
   * or derived from the link type libpcap chose.
   */
  kernelFilter: string | ((linktype: number) => string);
  /** Bytes of each packet kept (at most CAP_SNAPLEN are captured). */
  snaplen: number;
  /** Size of libpcap's ring buffer in bytes. */
  bufferBytes: number;
}

export interface LiveStats {
  /** Packets libpcap delivered: those that passed the kernel filter. */
  received: number;
  /** Dropped by the kernel because the ring was full; null: not available through the binding. */
  droppedByKernel: number | null;
  /** Dropped by the interface (rx_missed_errors + rx_fifo_errors) while capturing; null when unknown. */
  droppedByInterface: number | null;
}

/** An open live capture: one source of records, stopped by stop(), -c, or the sink. */
export class LiveCapture {
  /** The link type of every record. */
  readonly linktype: number;
  /** The filter the kernel runs, "" for none. */
  readonly kernelFilter: string;
  private readonly handle: CapHandle;
  private readonly buffer = Buffer.alloc(CAP_SNAPLEN);
  private readonly dropsAtStart: number | null;
  private dropsAtStop: number | null = null;
  private received = 0;
  private stopped = false;
  private sink: RecordSink | null = null;
  private finish: (() => void) | null = null;
  /** What a sink threw: it ends the capture and rejects the source's promise. */
  private failure: unknown = null;

  private constructor(private readonly options: LiveOptions) {
    const cap = loadCap();
    const names = listDevices().map((d) => d.name);
    if (!names.includes(options.device)) {
      throw new WorkError(`no interface named "${options.device}"; libpcap can capture on: ${names.join(', ')}`);
    }
    // libpcap compiles the filter for the link type it picks when it opens the
    // device, so the device is opened once without a filter to learn it. A
    // failure of the second open is then the filter's, not the device's.
    const probe = this.openHandle(cap, '');
    this.linktype = linktypeOf(probe.linktype);
    const given = options.kernelFilter;
    this.kernelFilter = typeof given === 'string' ? given : given(this.linktype);
    if (this.kernelFilter === '') {
      this.handle = probe.handle;
    } else {
      probe.handle.close();
      this.handle = this.openHandle(cap, this.kernelFilter).handle;
    }
    this.dropsAtStart = interfaceDrops(options.device);
    this.handle.on('packet', (nbytes) => this.deliver(nbytes));
  }

  static open(options: LiveOptions): LiveCapture {
    return new LiveCapture(options);
  }

  private openHandle(cap: CapBinding, filter: string): { handle: CapHandle; linktype: string } {
    const handle = new cap.Cap();
    try {
      return { handle, linktype: handle.open(this.options.device, filter, this.options.bufferBytes, this.buffer) };
    } catch (err) {
      failedHandles.add(handle);
      const message = (err as Error).message;
      if (filter !== '' && typeof this.options.kernelFilter === 'string') {
        throw new UsageError(`bad --bpf filter: ${message}\n  ${filter}`);
      }
      if (filter !== '') {
        throw new WorkError(`the kernel prefilter does not compile for link type ${this.linktype}: ${message}\n` +
          `  ${filter}\n  capture without one with --bpf ''`);
      }
      throw openError(this.options.device, message);
    }
  }

  private deliver(nbytes: number): void {
    const sink = this.sink;
    if (sink === null || this.stopped) return;
    this.received++;
    const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
    const sec = Math.floor(micros / 1e6);
    const caplen = nbytes < this.options.snaplen ? nbytes : this.options.snaplen;
    const record: CaptureRecord = {
      linktype: this.linktype,
      interfaceId: 0,
      sec,
      nsec: (micros - sec * 1e6) * 1000,
      tsDigits: 6,
      caplen,
      len: nbytes,
      bytes: this.buffer.subarray(0, caplen),
    };
    // The binding calls us from a libuv callback: an exception here would end the process.
    try {
      if (sink(record) === false) this.stop();
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
  });

  /** Stop capturing; what was delivered so far stays delivered. Safe to call more than once. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.handle.close();
    this.dropsAtStop = interfaceDrops(this.options.device);
    this.finish?.();
  }

  stats(): LiveStats {
    const end = this.stopped ? this.dropsAtStop : interfaceDrops(this.options.device);
    const droppedByInterface = this.dropsAtStart === null || end === null ? null : Math.max(0, end - this.dropsAtStart);
    return { received: this.received, droppedByKernel: null, droppedByInterface };
  }
}
