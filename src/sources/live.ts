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
import { WorkError } from '../errors.js';
import { namespaceLinks, netnsText, type InterfaceSpec } from './netns.js';
import type { CaptureRecord, Direction } from './record.js';

export const LIBPCAP_HINT = 'live capture needs libpcap: apt-get install libpcap-dev && npm run native';

/** The largest snapshot length, and the default, as tcpdump's. */
export const MAX_SNAPLEN = 262144;

/** How long the kernel holds packets back to fill a block of the ring, at most. */
export const READ_TIMEOUT_MS = 100;
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
  open(device: string, options: {
    snaplen: number; promisc: boolean; bufferBytes: number; timeoutMs: number; netns?: string; direction?: Direction;
  }): Opened;
  setFilter(handle: Handle, expression: string, kernelExpression?: string): boolean;
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


function openError(spec: InterfaceSpec, err: Error & { code?: string }): WorkError {
  const { device, netns } = spec;
  const message = err.message;
  switch (err.code) {
    case 'NO_SUCH_DEVICE': {
      if (netns === null) {
        const names = listDevices().map((d) => d.name);
        return new WorkError(`no interface named "${device}"; libpcap can capture on: ${names.join(', ')}`);
      }
      const links = namespaceLinks(netns);
      const there = links === null ? '' : `; it has: ${links.map((l) => l.ifname).join(', ')}`;
      return new WorkError(`no interface named "${device}" in ${netnsText(netns)}${there}`);
    }
    case 'PERM_DENIED':
    case 'PROMISC_PERM_DENIED':
      return new WorkError(`cannot capture on ${spec.given}: permission denied (${message})\n` +
        'live capture needs root or the CAP_NET_RAW capability: run it with sudo');
    case 'IFACE_NOT_UP':
      return new WorkError(`cannot capture on ${spec.given}: the interface is down ` +
        `(ip ${netns === null || netns.name.startsWith('pid:') ? '' : `-n ${netns.name} `}link set ${device} up)`);
    case 'NETNS_PERM':
      return new WorkError(`cannot enter ${netnsText(netns)} to capture on ${spec.given}: permission denied ` +
        '(entering another network namespace needs root or the CAP_SYS_ADMIN capability: run it with sudo)');
    case 'NETNS_MISSING':
      return new WorkError(`cannot capture on ${spec.given}: ${netnsText(netns)} is gone (${message})`);
    case 'NETNS_NOT_NETNS':
      return new WorkError(`cannot capture on ${spec.given}: ${message}`);
    default:
      return new WorkError(`cannot capture on ${spec.given}: ${message}`);
  }
}

export interface HandleOptions {
  spec: InterfaceSpec;
  /** The packets Linux marks as sent by the interface ('out'), or all the others ('in'). */
  direction: Direction;
  /** Bytes of each packet the kernel captures (at most MAX_SNAPLEN). */
  snaplen: number;
  /** Promiscuous mode: also the frames addressed to other hosts. */
  promisc: boolean;
  /** Size of libpcap's ring buffer in bytes. */
  bufferBytes: number;
}

export interface HandleCounts {
  /** Dropped by the kernel because the ring was full (pcap_stats ps_drop). */
  dropped: number;
  /** Dropped by the interface (pcap_stats ps_ifdrop). */
  ifdropped: number;
}

/**
 * One libpcap handle: one interface, one direction. Records are handed to the
 * sink as the binding reads them, their bytes a view into the batch buffer
 * that the next batch overwrites.
 */
export class LiveHandle {
  readonly linktype: number;
  /** What libpcap warned of when it opened the device (promiscuous mode not supported, ...), or null. */
  readonly warning: string | null;
  private readonly pcap: PcapBinding;
  private readonly handle: Handle;
  private readonly tsDigits: 6 | 9;
  private readonly batch: Buffer;
  private closed = false;
  private finalCounts: HandleCounts | null = null;

  private constructor(private readonly options: HandleOptions, private readonly interfaceId: number) {
    this.pcap = loadBinding();
    let opened: Opened;
    const { spec } = options;
    try {
      opened = this.pcap.open(spec.device, {
        snaplen: options.snaplen, promisc: options.promisc, bufferBytes: options.bufferBytes, timeoutMs: READ_TIMEOUT_MS,
        netns: spec.netns?.file, direction: options.direction,
      });
    } catch (err) {
      throw openError(spec, err as Error);
    }
    this.handle = opened.handle;
    this.linktype = opened.linktype;
    this.tsDigits = opened.nano ? 9 : 6;
    this.warning = opened.warning ?? null;
    this.batch = Buffer.allocUnsafe(BATCH_BYTES + BATCH_HEADER + opened.snaplen);
  }

  static open(options: HandleOptions, interfaceId: number): LiveHandle {
    return new LiveHandle(options, interfaceId);
  }

  /**
   * Sets libpcap's filter ("" for none), and the kernel's alone when
   * `kernelExpression` is given; throws libpcap's error for `expression` (the
   * caller words it). Whether the kernel took `kernelExpression`.
   */
  setFilter(expression: string, kernelExpression?: string): boolean {
    return this.pcap.setFilter(this.handle, expression, kernelExpression);
  }

  /** Starts reading: every record to `sink`, a read error (the interface gone) to `failed`. */
  start(sink: (record: CaptureRecord) => void, failed: (err: Error) => void): void {
    const { batch, linktype, interfaceId, tsDigits } = this;
    const direction = this.options.direction;
    this.pcap.start(this.handle, batch, (countOrError, bytes = 0) => {
      if (countOrError instanceof Error) {
        failed(countOrError);
        return;
      }
      let at = 0;
      while (at < bytes && !this.closed) {
        const fraction = batch.readUInt32LE(at + 8);
        const caplen = batch.readUInt32LE(at + 12);
        sink({
          linktype,
          interfaceId,
          direction,
          sec: batch.readUInt32LE(at) + batch.readUInt32LE(at + 4) * 0x1_0000_0000,
          nsec: tsDigits === 9 ? fraction : fraction * 1000,
          tsDigits,
          caplen,
          len: batch.readUInt32LE(at + 16),
          bytes: batch.subarray(at + BATCH_HEADER, at + BATCH_HEADER + caplen),
        });
        at += (BATCH_HEADER + caplen + 3) & ~3;
      }
    });
  }

  /** The kernel's counts (kept from the moment of closing once closed); null when libpcap cannot tell. */
  counts(): HandleCounts | null {
    if (this.closed) return this.finalCounts;
    try {
      return this.pcap.stats(this.handle);
    } catch {
      return null;
    }
  }

  /** Stops reading and closes the handle. Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.finalCounts = this.counts();
    this.closed = true;
    this.pcap.close(this.handle);
  }
}
