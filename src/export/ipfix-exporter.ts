// Sends IPFIX messages to one collector over UDP (RFC 7011 section 10.3): the
// templates at the start and every 10 minutes, then the flows the flow cache
// ends. A collector that is down costs nothing but the datagrams: one warning,
// and each datagram the kernel reports refused (ICMP port unreachable) or could
// not send is counted as dropped.

import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';
import { UsageError } from '../errors.js';
import type { HostPort } from './host-port.js';
import { IpfixEncoder, type FlowRecord } from './ipfix.js';

/** RFC 7011 section 10.3.6: templates are sent again every 10 minutes over UDP. */
export const TEMPLATE_INTERVAL_MS = 600_000;

export interface ExporterCounts {
  datagramsSent: number;
  datagramsDropped: number;
  records: number;
}

export class IpfixExporter implements ExporterCounts {
  datagramsSent = 0;
  datagramsDropped = 0;
  records = 0;
  private readonly encoder = new IpfixEncoder();
  private lastTemplates = -Infinity;
  private warned = false;
  private pending = 0;
  private drained: (() => void) | null = null;

  private constructor(private readonly socket: dgram.Socket, readonly target: HostPort, private readonly warn: (message: string) => void) {
    // A refusal (ICMP port unreachable) arrives after its datagram was handed to the kernel as sent.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.datagramsSent > 0) this.datagramsSent--;
      this.dropped(err);
    });
  }

  /** A socket connected to the collector (a host name is looked up once); a UsageError when the host cannot be found. */
  static async open(target: HostPort, warn: (message: string) => void): Promise<IpfixExporter> {
    let address = target.host;
    if (net.isIP(address) === 0) {
      try {
        address = (await dns.lookup(target.host)).address;
      } catch {
        throw new UsageError(`--ipfix ${target.text}: cannot find host ${target.host}`);
      }
    }
    const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(target.port, address, () => {
        socket.removeListener('error', reject);
        resolve();
      });
    });
    socket.unref();
    return new IpfixExporter(socket, target, warn);
  }

  private dropped(err: NodeJS.ErrnoException): void {
    this.datagramsDropped++;
    if (this.warned) return;
    this.warned = true;
    this.warn(`warning: IPFIX collector ${this.target.text}: ${err.code ?? err.message}; capture goes on, datagrams are dropped and counted`);
  }

  private send(message: Uint8Array): void {
    this.pending++;
    this.socket.send(message, (err) => {
      this.pending--;
      if (err) this.dropped(err as NodeJS.ErrnoException);
      else this.datagramsSent++;
      if (this.pending === 0 && this.drained !== null) this.drained();
    });
  }

  /** The templates, when they were never sent or were sent 10 minutes ago or more. */
  templatesDue(nowMs: number): void {
    if (nowMs - this.lastTemplates < TEMPLATE_INTERVAL_MS) return;
    this.lastTemplates = nowMs;
    this.send(this.encoder.templates(nowMs / 1000));
  }

  export(flows: FlowRecord[], nowMs = Date.now()): void {
    this.templatesDue(nowMs);
    if (flows.length === 0) return;
    this.records += flows.length;
    for (const message of this.encoder.data(flows, nowMs / 1000)) this.send(message);
  }

  /** Waits for the datagrams handed to the kernel, then closes the socket. */
  async close(): Promise<void> {
    if (this.pending > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    // An ICMP refusal of the last datagrams arrives a moment later.
    await new Promise((resolve) => setTimeout(resolve, 50));
    this.socket.close();
  }
}
