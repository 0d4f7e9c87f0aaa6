// Dispatch tables: which decoder handles which link type, ethertype, IP
// protocol, UDP port, GRE protocol type, PPP protocol and VXLAN-GPE next
// protocol. The tables are data; `--decode-as` adds entries.

import type { Decoder, ProtoName, TableName } from './types.js';
import { decodeEthernet } from './eth.js';
import { decodeVlan } from './vlan.js';
import { decodeSll } from './sll.js';
import { decodeSll2 } from './sll2.js';
import { decodeNull } from './null.js';
import { decodeArp } from './arp.js';
import { decodeIPv4 } from './ipv4.js';
import { decodeIPv6 } from './ipv6.js';
import { decodeGre } from './gre.js';
import { decodeErspan } from './erspan.js';
import { decodePpp } from './ppp.js';
import { decodeUdp } from './udp.js';
import { decodeTcp } from './tcp.js';
import { decodeIcmp } from './icmp.js';
import { decodeIcmpv6 } from './icmpv6.js';
import { decodeVxlan } from './vxlan.js';
import { decodeVxlanGpe } from './vxlan-gpe.js';
import { decodeGeneve } from './geneve.js';

export const DECODERS: Record<Exclude<ProtoName, 'payload'>, Decoder> = {
  eth: decodeEthernet,
  vlan: decodeVlan,
  sll: decodeSll,
  sll2: decodeSll2,
  null: decodeNull,
  arp: decodeArp,
  ipv4: decodeIPv4,
  ipv6: decodeIPv6,
  gre: decodeGre,
  erspan: decodeErspan,
  ppp: decodePpp,
  udp: decodeUdp,
  tcp: decodeTcp,
  icmp: decodeIcmp,
  icmpv6: decodeIcmpv6,
  vxlan: decodeVxlan,
  'vxlan-gpe': decodeVxlanGpe,
  geneve: decodeGeneve,
};

export { LINKTYPE_NAMES, linktypeName, RAW_IP_LINKTYPES } from './linktypes.js';

type Table = Map<number, ProtoName>;

const ETHERTYPES: [number, ProtoName][] = [
  [0x0800, 'ipv4'], [0x86dd, 'ipv6'], [0x0806, 'arp'], [0x8035, 'arp'], // RARP (RFC 903) is ARP's packet
  [0x8100, 'vlan'], [0x88a8, 'vlan'], [0x9100, 'vlan'],
  [0x6558, 'eth'], // Transparent Ethernet Bridging (gretap, Geneve)
];

function defaultTables(): Record<TableName, Table> {
  return {
    linktype: new Map([
      [1, 'eth'], [0, 'null'], [108, 'null'], [228, 'ipv4'], [229, 'ipv6'], [113, 'sll'], [276, 'sll2'],
    ]),
    ethertype: new Map(ETHERTYPES),
    gre: new Map<number, ProtoName>([
      [0x880b, 'ppp'],    // PPP, enhanced GRE of PPTP (RFC 2637)
      [0x88be, 'erspan'], // ERSPAN type I and II
      [0x22eb, 'erspan'], // ERSPAN type III
    ]),
    ipproto: new Map([
      [1, 'icmp'], [4, 'ipv4'], [6, 'tcp'], [17, 'udp'], [41, 'ipv6'], [47, 'gre'], [58, 'icmpv6'],
    ]),
    udp: new Map([
      [4789, 'vxlan'], [8472, 'vxlan'], [4790, 'vxlan-gpe'], [6081, 'geneve'],
    ]),
    tcp: new Map(),
    ppp: new Map([[0x0021, 'ipv4'], [0x0057, 'ipv6']]),
    // VXLAN-GPE next protocol (draft-ietf-nvo3-vxlan-gpe section 3.1)
    gpe: new Map([[1, 'ipv4'], [2, 'ipv6'], [3, 'eth']]),
    // BSD address families: AF_INET is 2 everywhere, AF_INET6 differs by OS.
    af: new Map([[2, 'ipv4'], [10, 'ipv6'], [24, 'ipv6'], [28, 'ipv6'], [30, 'ipv6']]),
    ipversion: new Map([[4, 'ipv4'], [6, 'ipv6']]),
  };
}

/** Tables whose misses mean application data rather than an unknown protocol. */
export const APPLICATION_TABLES = new Set<TableName>(['udp', 'tcp']);

export interface DecodeAs {
  table: TableName;
  key: number;
  proto: ProtoName;
}

export class Registry {
  private readonly tables = defaultTables();

  constructor(overrides: DecodeAs[] = []) {
    for (const o of overrides) this.tables[o.table].set(o.key, o.proto);
  }

  /** A copy of this registry with one more override. */
  withOverride(override: DecodeAs): Registry {
    const copy = new Registry();
    for (const name of Object.keys(this.tables) as TableName[]) {
      const table = copy.tables[name];
      table.clear();
      for (const [key, proto] of this.tables[name]) table.set(key, proto);
    }
    copy.tables[override.table].set(override.key, override.proto);
    return copy;
  }

  lookup(table: TableName, key: number): ProtoName | undefined {
    const found = this.table(table).get(key);
    // A GRE protocol type that is not GRE-specific is an ethertype.
    if (found === undefined && table === 'gre') return this.tables.ethertype.get(key);
    return found;
  }

  /**
   * The table of that name. A switch of fixed property reads: it runs for
   * every layer of every packet, where reading a property whose name varies
   * from call to call is several times slower.
   */
  private table(table: TableName): Table {
    const tables = this.tables;
    switch (table) {
      case 'ethertype': return tables.ethertype;
      case 'ipproto': return tables.ipproto;
      case 'udp': return tables.udp;
      case 'tcp': return tables.tcp;
      case 'gre': return tables.gre;
      case 'linktype': return tables.linktype;
      case 'ppp': return tables.ppp;
      case 'gpe': return tables.gpe;
      case 'af': return tables.af;
      case 'ipversion': return tables.ipversion;
    }
  }

  /** Every key of a table that leads to a protocol: the UDP ports of VXLAN, the IP protocols of GRE. */
  keysOf(table: TableName, proto: ProtoName): number[] {
    const keys: number[] = [];
    for (const [key, value] of this.tables[table]) if (value === proto) keys.push(key);
    return keys.sort((a, b) => a - b);
  }
}

const DECODE_AS_TABLES = new Set<TableName>(['udp', 'tcp', 'ethertype', 'ipproto', 'gre']);

/**
 * Parse a `--decode-as` value such as `udp:9999=vxlan`. Returns the entry, or
 * an error message naming what is wrong.
 */
export function parseDecodeAs(spec: string): DecodeAs | string {
  const m = /^([a-z]+):(0x[0-9a-f]+|\d+)=([a-z0-9-]+)$/i.exec(spec.trim());
  if (!m) return `--decode-as expects TABLE:VALUE=PROTOCOL, such as udp:9999=vxlan; got "${spec}"`;
  const table = m[1].toLowerCase() as TableName;
  if (!DECODE_AS_TABLES.has(table)) {
    return `--decode-as table "${m[1]}" is not one of ${[...DECODE_AS_TABLES].join(', ')}`;
  }
  const key = Number(m[2]);
  const limit = table === 'ipproto' ? 0xff : 0xffff;
  if (!Number.isInteger(key) || key < 0 || key > limit) return `--decode-as value ${m[2]} is out of range for ${table}`;
  const proto = m[3].toLowerCase();
  if (!(proto in DECODERS)) {
    return `--decode-as protocol "${m[3]}" is not one of ${Object.keys(DECODERS).join(', ')}`;
  }
  return { table, key, proto: proto as ProtoName };
}
