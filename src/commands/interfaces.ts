// `tunscope interfaces`: what libpcap can capture on, with addresses, and the
// state of each interface as the kernel reports it in sysfs. With --netns, the
// interfaces of network namespaces as iproute2 reads them from the kernel,
// with their kind and tunnel details (link-details.ts).

import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parseIPv4, parseIPv6 } from '../../decoders/address.js';
import { OutputWriter } from '../output/writer.js';
import { UsageError, WorkError } from '../errors.js';
import { LinkBook } from '../sources/link-details.js';
import { deviceFlagNames, listDevices, type PcapAddress } from '../sources/live.js';
import { NETNS_DIR, namespaceNames, resolveNetns, type IpLink, type Netns } from '../sources/netns.js';

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

/** iproute2's flag words, as tunscope names them (the order of IFF_FLAGS). */
const IP_FLAGS: [string, string][] = [
  ['LOOPBACK', 'loopback'], ['POINTOPOINT', 'point-to-point'], ['BROADCAST', 'broadcast'], ['MULTICAST', 'multicast'],
  ['PROMISC', 'promisc'], ['NOARP', 'noarp'],
];

interface NamespaceInterface extends InterfaceInfo {
  /** The link's kind (vxlan, veth, bridge, ...), or null for a plain device. */
  kind: string | null;
  /** The kind and its parameters in iproute2's words: "vxlan id 42 remote ... dstport 4789 dev bkv1". */
  details: string;
  master: string | null;
  /** A veth's peer, NETNS/NAME where its namespace has a name. */
  peer: string | null;
}

interface NamespaceListing {
  /** null: tunscope's own namespace. */
  netns: string | null;
  interfaces: NamespaceInterface[];
}

function namespaceInterface(book: LinkBook, netns: Netns | null, link: IpLink): NamespaceInterface {
  const details = book.detailsOf(netns, link);
  const flags = [link.flags.includes('UP') ? 'up' : 'down'];
  if (link.flags.includes('LOWER_UP')) flags.push('running');
  for (const [word, name] of IP_FLAGS) if (link.flags.includes(word)) flags.push(name);
  return {
    name: link.ifname,
    flags,
    mtu: link.mtu,
    type: link.link_type ?? null,
    addresses: (link.addr_info ?? []).map((a) => ({ addr: a.local, prefixLength: a.prefixlen })),
    kind: details.kind,
    details: details.text,
    master: details.master,
    peer: details.peer,
  };
}

/** `--netns NAME` (or pid:PID), or `all`: this namespace and every one `ip netns` knows. */
function namespaceListings(which: string): NamespaceListing[] {
  const all = which === 'all';
  const namespaces: (Netns | null)[] = all ? [null, ...namespaceNames().map((name) => ({ name, file: path.join(NETNS_DIR, name) }))]
    : [resolveNetns(which)];
  const book = new LinkBook();
  const listings: NamespaceListing[] = [];
  for (const netns of namespaces) {
    const links = book.linksOf(netns);
    // Under `all`, a namespace deleted since /run/netns was read is left out.
    if (links === null && all && netns !== null && !fs.existsSync(netns.file)) continue;
    if (links === null) {
      throw new WorkError(`cannot read the interfaces of ${netns === null ? 'this network namespace' : `network namespace ${netns.name}`}: ` +
        'it takes iproute2 (ip), nsenter, and root');
    }
    listings.push({ netns: netns?.name ?? null, interfaces: links.map((link) => namespaceInterface(book, netns, link)) });
  }
  return listings;
}

function namespaceLine(info: NamespaceInterface, nameWidth: number): string {
  const parts = [info.flags.join(',')];
  if (info.type !== null) parts.push(info.type);
  if (info.details !== '') parts.push(info.details);
  if (info.mtu !== null) parts.push(`mtu ${info.mtu}`);
  if (info.master !== null) parts.push(`master ${info.master}`);
  for (const a of info.addresses) parts.push(`${a.addr}/${a.prefixLength}`);
  return `${info.name.padEnd(nameWidth)}  ${parts.join('  ')}`.trimEnd();
}

function runInterfaces(flags: { json?: boolean; netns?: string }): void {
  const out = new OutputWriter();
  if (flags.netns !== undefined) {
    if (flags.netns === '') throw new UsageError('--netns needs a namespace name, pid:PID, or all');
    const listings = namespaceListings(flags.netns);
    if (flags.json) out.line(JSON.stringify(listings));
    else {
      listings.forEach((listing, i) => {
        if (i > 0) out.line('');
        out.line(listing.netns === null ? 'this network namespace:' : `network namespace ${listing.netns}:`);
        const width = Math.max(...listing.interfaces.map((info) => info.name.length));
        for (const info of listing.interfaces) out.line(`  ${namespaceLine(info, width)}`);
      });
    }
    out.flush();
    return;
  }
  const infos = interfaceInfo();
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
    .option('--netns <name>', 'list the interfaces of a network namespace (a name in /run/netns, pid:PID, or all), with their kind and tunnel details')
    .option('--json', 'print one JSON array of interfaces (with --netns: one object per namespace)')
    .action(runInterfaces);
}
