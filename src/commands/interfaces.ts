// `tunscope interfaces`: what libpcap can capture on, with addresses, and the
// state of each interface as the kernel reports it in sysfs.

import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parseIPv4, parseIPv6 } from '../filter/parse.js';
import { OutputWriter } from '../output/writer.js';
import { deviceFlagNames, listDevices, type PcapAddress } from '../sources/live.js';

// <linux/if.h> interface flags. sysfs holds the administrative ones; whether
// the link is up ("running") is the `carrier` file, readable only while the
// interface is up.
const IFF_UP = 0x1;
const IFF_FLAGS: [number, string][] = [
  [0x8, 'loopback'], [0x10, 'point-to-point'], [0x2, 'broadcast'], [0x1000, 'multicast'], [0x100, 'promisc'], [0x80, 'noarp'],
];

// <linux/if_arp.h> hardware types, named as iproute2 names them.
const ARPHRD_NAMES: Record<number, string> = {
  1: 'ether', 32: 'infiniband', 280: 'can', 512: 'ppp', 768: 'ipip', 769: 'tunnel6', 772: 'loopback', 776: 'sit',
  778: 'gre', 823: 'ip6gre', 65534: 'none', 65535: 'void',
};

interface InterfaceAddress {
  addr: string;
  prefixLength: number | null;
  broadaddr?: string;
  dstaddr?: string;
}

interface InterfaceInfo {
  name: string;
  description?: string;
  flags: string[];
  mtu: number | null;
  type: string | null;
  addresses: InterfaceAddress[];
}

function sysfs(name: string, file: string): string | null {
  try {
    return fs.readFileSync(path.join('/sys/class/net', name, file), 'utf8').trim();
  } catch {
    return null;
  }
}

function prefixLength(netmask: string | undefined): number | null {
  if (netmask === undefined) return null;
  const bytes = parseIPv4(netmask) ?? parseIPv6(netmask);
  if (bytes === null) return null;
  let bits = 0;
  for (const byte of bytes) for (let b = 7; b >= 0; b--) if (byte & (1 << b)) bits++;
  return bits;
}

function addressOf(a: PcapAddress): InterfaceAddress {
  const out: InterfaceAddress = { addr: a.addr, prefixLength: prefixLength(a.netmask) };
  if (a.broadaddr !== undefined) out.broadaddr = a.broadaddr;
  if (a.dstaddr !== undefined) out.dstaddr = a.dstaddr;
  return out;
}

function interfaceInfo(): InterfaceInfo[] {
  return listDevices().map((device) => {
    const flagsText = sysfs(device.name, 'flags');
    const mtuText = sysfs(device.name, 'mtu');
    const typeText = sysfs(device.name, 'type');
    const flags: string[] = [];
    if (flagsText !== null) {
      const bits = Number(flagsText);
      flags.push(bits & IFF_UP ? 'up' : 'down');
      if (sysfs(device.name, 'carrier') === '1') flags.push('running');
      for (const [bit, name] of IFF_FLAGS) if (bits & bit) flags.push(name);
    } else {
      flags.push(...deviceFlagNames(device.flags));
    }
    const info: InterfaceInfo = {
      name: device.name,
      flags,
      mtu: mtuText === null ? null : Number(mtuText),
      type: typeText === null ? null : ARPHRD_NAMES[Number(typeText)] ?? `arphrd ${typeText}`,
      addresses: device.addresses.map(addressOf),
    };
    if (device.description !== undefined) info.description = device.description;
    return info;
  });
}

function interfaceLine(info: InterfaceInfo, nameWidth: number): string {
  const parts: string[] = [];
  if (info.flags.length > 0) parts.push(info.flags.join(','));
  if (info.type !== null) parts.push(info.type);
  if (info.mtu !== null) parts.push(`mtu ${info.mtu}`);
  for (const a of info.addresses) parts.push(a.prefixLength === null ? a.addr : `${a.addr}/${a.prefixLength}`);
  if (info.description !== undefined) parts.push(`(${info.description})`);
  return `${info.name.padEnd(nameWidth)}  ${parts.join('  ')}`.trimEnd();
}

function runInterfaces(flags: { json?: boolean }): void {
  const infos = interfaceInfo();
  const out = new OutputWriter();
  if (flags.json) {
    out.line(JSON.stringify(infos));
  } else {
    const width = Math.max(...infos.map((i) => i.name.length));
    for (const info of infos) out.line(interfaceLine(info, width));
  }
  out.flush();
}

export function defineInterfacesCommand(program: Command): void {
  program
    .command('interfaces')
    .description('list the interfaces libpcap can capture on, with their state and addresses')
    .option('--json', 'print one JSON array of interfaces')
    .action(runInterfaces);
}
