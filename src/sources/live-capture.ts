// A live capture on one or more interfaces, in any network namespaces, as one
// stream of records in timestamp order.
//
// Each interface is opened twice: one handle for what Linux marks as sent by
// the interface (PACKET_OUTGOING) and one for everything else. The kernel
// filter of each says so (libpcap's `outbound` / `inbound`, which reads the
// packet type the kernel keeps beside each packet), so every packet is copied
// out of the kernel once and its direction is known exactly, while the frame
// stays as the interface had it (libpcap offers the packet type only on the
// "any" device's cooked headers).
//
// Rings hand packets over a block at a time, a block at most READ_TIMEOUT_MS
// after its first packet. Records are therefore held for a moment and handed
// on in timestamp order once every ring has had time to give up anything
// older: a record stamped before (now - HOLD_MS) is released.

import { UsageError, WorkError } from '../errors.js';
import { LiveHandle, READ_TIMEOUT_MS, type HandleCounts } from './live.js';
import type { InterfaceSpec } from './netns.js';
import type { CaptureRecord, Direction, ReadSummary, RecordSink, RecordSource } from './record.js';

/** How long a record is held for the records of other rings that may be older. */
const HOLD_MS = READ_TIMEOUT_MS + 60;
/** How often held records are looked at. */
const RELEASE_EVERY_MS = 40;
/** How long end() goes on reading: the read timeout, and time for the event loop to see the block. */
const DRAIN_MS = 2 * READ_TIMEOUT_MS;
const DIRECTIONS: Direction[] = ['in', 'out'];
/** Linux cooked capture (LINUX_SLL, LINUX_SLL2): the packet type is in the header. */
const COOKED_LINKTYPES = new Set([113, 276]);

export interface LiveOptions {
  interfaces: InterfaceSpec[];
  /**
   * The libpcap filter for the kernel ("" for none): given by the user (--bpf),
   * or derived from the link type libpcap chose.
   */
  kernelFilter: string | ((linktype: number) => string);
  /** Bytes of each packet the kernel captures (at most MAX_SNAPLEN). */
  snaplen: number;
  /** Promiscuous mode: also the frames addressed to other hosts. */
  promisc: boolean;
  /** Bytes of libpcap's ring buffers for each interface, shared evenly by its two rings (one per direction). */
  bufferBytes: number;
}

export interface LiveInterface {
  spec: InterfaceSpec;
  linktype: number;
  /** The filter the kernel runs for this interface, "" for none (besides the direction). */
  kernelFilter: string;
  /** What libpcap warned of when it opened the device, or null. */
  warning: string | null;
  /** Why capture on this interface stopped early (it disappeared), or null. */
  gone: string | null;
}

export interface LiveStats {
  /**
   * Packets libpcap delivered (those that passed the kernel filter) and that
   * were handed on: not those read after -c or the sink had enough.
   */
  received: number;
  /** Dropped by the kernel because a ring was full (pcap_stats ps_drop); null when libpcap cannot tell. */
  droppedByKernel: number | null;
  /** Dropped by the interface (pcap_stats ps_ifdrop); null when libpcap cannot tell (an interface in another namespace). */
  droppedByInterface: number | null;
}

function sumOrNull(values: (number | null)[]): number | null {
  return values.some((v) => v === null) ? null : values.reduce<number>((a, b) => a + (b as number), 0);
}

function withDirection(filter: string, direction: Direction): string {
  const word = direction === 'in' ? 'inbound' : 'outbound';
  return filter === '' ? word : `(${filter}) and ${word}`;
}

function earlier(a: CaptureRecord, b: CaptureRecord): number {
  return a.sec - b.sec || a.nsec - b.nsec;
}

/** An open live capture: one source of records, stopped by end(), stop(), -c, or the sink. */
export class LiveCapture {
  readonly interfaces: LiveInterface[] = [];
  /** Told when an interface disappears and the others go on. */
  onWarning: (message: string) => void = () => undefined;
  /** handles[i] = the interface's [in, out] handles. */
  private readonly handles: LiveHandle[][] = [];
  private readonly received: number[] = [];
  private held: CaptureRecord[] = [];
  private sink: RecordSink | null = null;
  private finish: (() => void) | null = null;
  private releaser: NodeJS.Timeout | null = null;
  private ending: NodeJS.Timeout | null = null;
  private started = false;
  private stopped = false;
  /** end() was called before reading began. */
  private endAsked = false;
  /** The sink asked to stop, or threw: nothing more is handed to it. */
  private sinkDone = false;
  /** What a sink threw, or the last interface gone: it ends the capture and rejects the source's promise. */
  private failure: unknown = null;

  private constructor(options: LiveOptions) {
    try {
      options.interfaces.forEach((spec, id) => this.openInterface(spec, id, options));
    } catch (err) {
      for (const pair of this.handles) for (const handle of pair) handle.close();
      throw err;
    }
  }

  /** Opens every interface, or none: a failure closes what was opened. */
  static open(options: LiveOptions): LiveCapture {
    return new LiveCapture(options);
  }

  private openInterface(spec: InterfaceSpec, id: number, options: LiveOptions): void {
    const pair: LiveHandle[] = [];
    this.handles.push(pair);
    this.received.push(0);
    let kernelFilter = '';
    for (const direction of DIRECTIONS) {
      // Promiscuous mode is the interface's, for what it receives: asked for once.
      const promisc = options.promisc && direction === 'in';
      const handle = LiveHandle.open({ spec, direction, snaplen: options.snaplen, promisc, bufferBytes: Math.ceil(options.bufferBytes / 2) }, id);
      pair.push(handle);
      // libpcap compiles the filter for the link type it chose when it opened the device.
      const given = options.kernelFilter;
      kernelFilter = typeof given === 'string' ? given : given(handle.linktype);
      this.setFilter(handle, kernelFilter, direction, typeof given === 'string');
    }
    this.interfaces.push({ spec, linktype: pair[0].linktype, kernelFilter, warning: pair[0].warning, gone: null });
  }

  /**
   * The filter, and the direction. libpcap checks the direction in user space
   * (pcap_setdirection); the kernel checks it too, so that it copies each
   * packet into one ring only. On a cooked device (any) the packet type is in
   * the header libpcap builds, and libpcap's filter can test it; elsewhere it
   * is ancillary data only the kernel can read, so the kernel gets a program
   * of its own.
   */
  private setFilter(handle: LiveHandle, filter: string, direction: Direction, userGiven: boolean): void {
    const cooked = COOKED_LINKTYPES.has(handle.linktype);
    try {
      if (cooked) handle.setFilter(withDirection(filter, direction));
      else handle.setFilter(filter, withDirection(filter, direction));
      return;
    } catch (err) {
      if (!cooked) this.filterError(handle, filter, err as Error, userGiven);
    }
    try {
      handle.setFilter(filter);
    } catch (err) {
      this.filterError(handle, filter, err as Error, userGiven);
    }
  }

  private filterError(handle: LiveHandle, filter: string, err: Error, userGiven: boolean): never {
    if (userGiven) throw new UsageError(`bad --bpf filter: ${err.message}\n  ${filter}`);
    throw new WorkError(`the kernel prefilter does not compile for link type ${handle.linktype}: ${err.message}\n` +
      `  ${filter}\n  capture without one with --bpf ''`);
  }

  /** Records in timestamp order until stop() or end(), or the sink returns false. */
  readonly source: RecordSource = (sink) => new Promise<ReadSummary>((resolve, reject) => {
    const summary = (): ReadSummary => ({ format: 'live', records: this.stats().received, warning: null, stopped: true });
    if (this.stopped) {
      resolve(summary());
      return;
    }
    this.sink = sink;
    this.finish = () => (this.failure === null ? resolve(summary()) : reject(this.failure));
    if (this.started) return;
    this.started = true;
    this.handles.forEach((pair, id) => {
      for (const handle of pair) {
        handle.start((record) => this.hold(record), (err) => this.interfaceGone(id, err));
      }
    });
    this.releaser = setInterval(() => {
      // Released after the event loop's poll phase, so that every ring that is readable has been read.
      const cutoff = Date.now() - HOLD_MS;
      setImmediate(() => this.release(cutoff));
    }, RELEASE_EVERY_MS);
    if (this.endAsked) this.ending = setTimeout(() => this.stop(), DRAIN_MS);
  });

  private hold(record: CaptureRecord): void {
    this.held.push({ ...record, bytes: new Uint8Array(record.bytes) });
  }

  /** Hands on, oldest first, the held records stamped before `cutoffMs` (every one when null). */
  private release(cutoffMs: number | null): void {
    if (this.held.length === 0 || this.sink === null) return;
    const held = this.held.sort(earlier);
    let n = 0;
    try {
      for (; n < held.length && !this.sinkDone; n++) {
        const record = held[n];
        if (cutoffMs !== null && record.sec * 1000 + record.nsec / 1e6 > cutoffMs) break;
        this.received[record.interfaceId]++;
        if (this.sink(record) === false) this.sinkDone = true;
      }
    } catch (err) {
      this.failure = err;
      this.sinkDone = true;
    }
    this.held = n >= held.length ? [] : held.slice(n);
    if (this.sinkDone) this.stop();
  }

  private interfaceGone(id: number, err: Error): void {
    const iface = this.interfaces[id];
    if (iface.gone !== null) return;
    iface.gone = err.message;
    for (const handle of this.handles[id]) handle.close();
    const left = this.interfaces.filter((i) => i.gone === null).length;
    if (left > 0) {
      this.onWarning(`${iface.spec.given} stopped: ${err.message}; the capture goes on on ${left} other interface${left === 1 ? '' : 's'}`);
      return;
    }
    this.failure = new WorkError(`capture failed: ${iface.spec.given}: ${err.message}`);
    this.end();
  }

  /**
   * Stop once the kernel has handed over what it holds: packets wait in a
   * ring's current block until it fills or the read timeout ends it, so Ctrl-C
   * or the end of --duration reads for one more timeout before closing. Asked
   * again meanwhile (a second Ctrl-C), it stops at once.
   */
  end(): void {
    if (this.stopped) return;
    if (this.ending !== null || (!this.started && this.endAsked)) {
      this.stop();
      return;
    }
    // Before reading has begun, the drain starts with it.
    if (!this.started) this.endAsked = true;
    else this.ending = setTimeout(() => this.stop(), DRAIN_MS);
  }

  /** Stop capturing now: what was read is handed on, in order, unless the sink asked to stop. Safe to call more than once. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ending !== null) clearTimeout(this.ending);
    if (this.releaser !== null) clearInterval(this.releaser);
    for (const pair of this.handles) for (const handle of pair) handle.close();
    this.release(null);
    this.held = [];
    this.finish?.();
  }

  /** The counts of one interface: its two rings together. */
  interfaceStats(id: number): LiveStats {
    const [inbound, outbound] = this.handles[id];
    const counts: (HandleCounts | null)[] = [inbound.counts(), outbound.counts()];
    return {
      received: this.received[id],
      droppedByKernel: sumOrNull(counts.map((c) => (c === null ? null : c.dropped))),
      // libpcap reads an interface's own drops from sysfs, which shows tunscope's own namespace.
      droppedByInterface: this.interfaces[id].spec.netns !== null || counts[0] === null ? null : counts[0].ifdropped,
    };
  }

  /** The counts of every interface together. */
  stats(): LiveStats {
    const each = this.interfaces.map((_, id) => this.interfaceStats(id));
    return {
      received: each.reduce((a, s) => a + s.received, 0),
      droppedByKernel: sumOrNull(each.map((s) => s.droppedByKernel)),
      droppedByInterface: sumOrNull(each.map((s) => s.droppedByInterface)),
    };
  }
}
