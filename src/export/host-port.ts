// HOST:PORT as --metrics and --ipfix take it: an IPv4 address or a host name,
// or an IPv6 address in brackets ([::1]:9100), then a port from 1 to 65535.

import net from 'node:net';
import { UsageError } from '../errors.js';

export interface HostPort {
  host: string;
  port: number;
  /** As given, for messages. */
  text: string;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Parses HOST:PORT; a UsageError (exit 2) naming the option when it is not one. */
export function parseHostPort(option: string, text: string): HostPort {
  const bad = (why: string) => new UsageError(`${option} ${JSON.stringify(text)}: ${why}; expected HOST:PORT, e.g. 127.0.0.1:9100 or [::1]:9100`);
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (match === null) throw bad('not HOST:PORT');
  const host = match[1] ?? match[2];
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw bad('the port is not from 1 to 65535');
  if (match[1] !== undefined ? net.isIPv6(host) === false : host === '' || (net.isIPv4(host) === false && !HOST_NAME.test(host))) {
    throw bad('not an IP address or host name');
  }
  if (match[1] === undefined && /^[\d.]+$/.test(host) && !net.isIPv4(host)) throw bad('not an IPv4 address');
  return { host, port, text };
}
