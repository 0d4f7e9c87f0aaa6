// Network namespaces for live capture and `interfaces --netns`: an interface
// is written IFACE (tunscope's own namespace) or NETNS/IFACE, where NETNS is a
// name `ip netns` knows (a file in /run/netns) or pid:PID (the namespace of a
// process, /proc/PID/ns/net: a container's). The libpcap binding enters the
// namespace only to open the handle (src/native/netns.c); what the kernel says
// of a namespace's links is read with iproute2 run inside it.

import type * as ChildProcess from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UsageError, WorkError } from '../errors.js';

export const NETNS_DIR = '/run/netns';

/**
 * spawnSync, loaded when iproute2 is first run: a capture opens its
 * interfaces, and says `listening on`, without it.
 */
function spawnSync(command: string, args: string[], options: ChildProcess.SpawnSyncOptionsWithStringEncoding): ChildProcess.SpawnSyncReturns<string> {
  const childProcess = createRequire(import.meta.url)('node:child_process') as typeof ChildProcess;
  return childProcess.spawnSync(command, args, options);
}

export interface Netns {
  /** As given: a name in /run/netns, or pid:PID. */
  name: string;
  /** The file whose descriptor setns(2) takes. */
  file: string;
}

export interface InterfaceSpec {
  /** As given on the command line, e.g. bk1/vx42: the name in the pcapng and in the output. */
  given: string;
  /** The interface's name inside its namespace. */
  device: string;
  /** null: tunscope's own namespace. */
  netns: Netns | null;
}

/** The names `ip netns` knows, sorted. */
export function namespaceNames(): string[] {
  try {
    return fs.readdirSync(NETNS_DIR).sort();
  } catch {
    return [];
  }
}

function namespaceList(): string {
  const names = namespaceNames();
  return names.length === 0 ? `there is none in ${NETNS_DIR}` : `ip netns knows: ${names.join(', ')}`;
}

/** A namespace by name or pid:PID; one that does not exist is a WorkError listing those that do. */
export function resolveNetns(name: string): Netns {
  const pid = /^pid:(\d+)$/.exec(name);
  if (pid !== null) {
    const file = `/proc/${pid[1]}/ns/net`;
    if (!fs.existsSync(`/proc/${pid[1]}`)) throw new WorkError(`no process ${pid[1]}, so no network namespace ${name}`);
    return { name, file };
  }
  if (name.startsWith('pid:')) throw new UsageError(`network namespace "${name}" is malformed: write pid:PID with a process id`);
  if (name === '' || name === '.' || name === '..' || name.includes('/')) {
    throw new UsageError(`"${name}" is no network namespace name`);
  }
  const file = path.join(NETNS_DIR, name);
  if (!fs.existsSync(file)) throw new WorkError(`no network namespace named "${name}"; ${namespaceList()}`);
  return { name, file };
}

/** IFACE or NETNS/IFACE. */
export function parseInterfaceSpec(given: string): InterfaceSpec {
  const slash = given.lastIndexOf('/');
  if (slash < 0) {
    if (given === '') throw new UsageError('an interface name is empty');
    return { given, device: given, netns: null };
  }
  const device = given.slice(slash + 1);
  if (device === '') throw new UsageError(`"${given}" names no interface: write NETNS/IFACE`);
  return { given, device, netns: resolveNetns(given.slice(0, slash)) };
}

/** The namespace's words in a message: "network namespace bk1", or "this network namespace". */
export function netnsText(netns: Netns | null): string {
  return netns === null ? 'this network namespace' : `network namespace ${netns.name}`;
}

/** One link as `ip -details -json link show` prints it (the fields tunscope reads). */
export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate?: string;
  link_type?: string;
  address?: string;
  master?: string;
  link?: string;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_slave_kind?: string; info_data?: Record<string, unknown> };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/**
 * The links of a namespace with their addresses, read from the kernel by
 * iproute2 (`ip -details -json address show`) run inside it; null when
 * iproute2 cannot be run there.
 */
export function namespaceLinks(netns: Netns | null): IpLink[] | null {
  const command = netns === null ? ['ip', '-details', '-json', 'address', 'show']
    : ['nsenter', `--net=${netns.file}`, 'ip', '-details', '-json', 'address', 'show'];
  const result = spawnSync(command[0], command.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error !== undefined || result.status !== 0) return null;
  try {
    return JSON.parse(result.stdout) as IpLink[];
  } catch {
    return null;
  }
}

/**
 * The ids the namespace gives the namespaces it can see (`ip netns list-id`),
 * mapped to the names in /run/netns: a veth peer's namespace is known by such an id.
 */
export function peerNamespaceNames(netns: Netns | null): Map<number, string> {
  const byId = new Map<number, string>();
  const command = netns === null ? ['ip', '-json', 'netns', 'list-id']
    : ['nsenter', `--net=${netns.file}`, 'ip', '-json', 'netns', 'list-id'];
  const result = spawnSync(command[0], command.slice(1), { encoding: 'utf8' });
  if (result.status !== 0 || result.stdout.trim() === '') return byId;
  try {
    for (const entry of JSON.parse(result.stdout) as { nsid: number; name?: string }[]) {
      if (entry.name !== undefined) byId.set(entry.nsid, entry.name);
    }
  } catch {
    // No ids: the peers' namespaces stay unnamed.
  }
  return byId;
}
