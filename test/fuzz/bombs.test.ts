// Decompression bombs for a dissector: packets that nest or repeat without
// end. Each must finish, and say where it stopped with a depth-exceeded or
// malformed issue: the engine keeps at most 8 tunnels and 32 layers
// (DESIGN.md, "The decoder contract"), and every option or extension walk is
// bounded by the bytes or by a count.

import { describe, expect, it } from 'vitest';
import type { Packet } from '../../decoders/types.js';
import { concat, internetChecksum } from '../helpers/bytes.js';
import { checkDissect } from './invariants.js';

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;

const ETHERTYPE_IPV4 = 0x0800;
const PROTO_ICMP = 1;
const PROTO_IPIP = 4;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_GRE = 47;
const PROTO_ICMPV6 = 58;
const NEXT_DESTINATION_OPTIONS = 60;
const NEXT_HOP_BY_HOP = 0;
const NO_NEXT_HEADER = 59;

const u16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];

/** RFC 791 header (with `options`, a multiple of 4 bytes) around a payload, its checksum right. */
function ipv4(protocol: number, payload: Uint8Array, options: number[] = []): Uint8Array {
  const headerLength = 20 + options.length;
  const header = [
    0x40 | (headerLength / 4), 0, ...u16(headerLength + payload.length), 0, 1, 0, 0, 64, protocol, 0, 0,
    192, 0, 2, 1, 192, 0, 2, 2, ...options,
  ];
  const sum = internetChecksum(header);
  header[10] = sum >> 8;
  header[11] = sum & 0xff;
  return concat(header, payload);
}

/** RFC 8200 fixed header; `extensions` already chained, `first` the type of the first one. */
function ipv6(first: number, rest: Uint8Array): Uint8Array {
  const address = (last: number) => [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), last];
  return concat([0x60, 0, 0, 0, ...u16(rest.length), first, 64, ...address(1), ...address(2)], rest);
}

function ethernet(payload: Uint8Array): Uint8Array {
  return concat([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, ...u16(ETHERTYPE_IPV4)], payload);
}

/** UDP with checksum 0 (none computed, allowed over IPv4). */
function udp(dstPort: number, payload: Uint8Array): Uint8Array {
  return concat([...u16(49152), ...u16(dstPort), ...u16(8 + payload.length), 0, 0], payload);
}

const ECHO_REQUEST = Uint8Array.from([8, 0, 0xf7, 0xfe, 0, 1, 0, 0]);

/** Wraps `inner` `depth` times. */
function nest(depth: number, inner: Uint8Array, wrap: (p: Uint8Array) => Uint8Array): Uint8Array {
  let packet = inner;
  for (let i = 0; i < depth; i++) packet = wrap(packet);
  return packet;
}

function issuesOf(packet: Packet, kind: string) {
  return packet.issues.filter((issue) => issue.kind === kind);
}

describe('bombs finish with an issue that says where decoding stopped', () => {
  it('GRE in GRE, 1000 deep: 8 tunnels, then depth-exceeded on the IPv4 layer that carries the ninth', () => {
    const innermost = ipv4(PROTO_ICMP, ECHO_REQUEST);
    const bomb = nest(1000, innermost, (p) => ipv4(PROTO_GRE, concat([0, 0, ...u16(ETHERTYPE_IPV4)], p)));
    const packet = checkDissect(ethernet(bomb), LINKTYPE_ETHERNET);
    expect(packet.tunnels.map((t) => t.type)).toEqual(new Array(8).fill('gre'));
    // eth, then IPv4 + GRE for each of the 8 tunnels, then the IPv4 that carries the ninth GRE.
    expect(packet.layers).toHaveLength(1 + 2 * 8 + 1);
    expect(issuesOf(packet, 'depth-exceeded')).toEqual([
      { layer: 17, kind: 'depth-exceeded', message: 'stopped after 8 nested tunnels' },
    ]);
    expect(packet.layers[17].proto).toBe('ipv4');
  });

  it('IPv4 in IPv4, 1000 deep: 8 ipip tunnels, then depth-exceeded', () => {
    const bomb = nest(1000, ipv4(PROTO_ICMP, ECHO_REQUEST), (p) => ipv4(PROTO_IPIP, p));
    const packet = checkDissect(bomb, LINKTYPE_IPV4);
    expect(packet.tunnels.map((t) => t.type)).toEqual(new Array(8).fill('ipip'));
    expect(packet.layers).toHaveLength(9);
    expect(issuesOf(packet, 'depth-exceeded')).toEqual([
      { layer: 8, kind: 'depth-exceeded', message: 'stopped after 8 nested tunnels' },
    ]);
  });

  it('VXLAN in VXLAN, 1000 deep: the 32-layer limit stops it at the eighth VXLAN header', () => {
    const vxlanHeader = [0x08, 0, 0, 0, 0, 0, 42, 0];
    const bomb = nest(1000, ethernet(ipv4(PROTO_ICMP, ECHO_REQUEST)),
      (p) => ethernet(ipv4(PROTO_UDP, udp(4789, concat(vxlanHeader, p)))));
    const packet = checkDissect(bomb, LINKTYPE_ETHERNET);
    expect(packet.tunnels).toHaveLength(8);
    expect(packet.tunnels.every((t) => t.type === 'vxlan' && t.id === 42)).toBe(true);
    // Each level is eth, IPv4, UDP, VXLAN: 8 levels fill the 32 layers.
    expect(packet.layers).toHaveLength(32);
    expect(issuesOf(packet, 'depth-exceeded')).toEqual([
      { layer: 31, kind: 'depth-exceeded', message: 'stopped after 32 layers' },
    ]);
    expect(packet.layers[31].proto).toBe('vxlan');
  });

  it('Geneve in Geneve, 200 deep, each with 63 zero-length options: the 32-layer limit stops it', () => {
    // Opt Len 63 (252 bytes): 63 options of class 0x0102, type 3, no data (RFC 8926 section 3.5).
    const options = new Array(63).fill([0x01, 0x02, 0x03, 0x00]).flat();
    const geneveHeader = [63, 0, 0x65, 0x58, 0, 0, 7, 0, ...options];
    // 200 levels of 302 bytes still fit the outermost IPv4 total length.
    const bomb = nest(200, ethernet(ipv4(PROTO_ICMP, ECHO_REQUEST)),
      (p) => ethernet(ipv4(PROTO_UDP, udp(6081, concat(geneveHeader, p)))));
    const packet = checkDissect(bomb, LINKTYPE_ETHERNET);
    expect(packet.tunnels.map((t) => `${t.type} ${t.id}`)).toEqual(new Array(8).fill('geneve 7'));
    expect(packet.layers).toHaveLength(32);
    expect(packet.layers.filter((l) => l.proto === 'geneve').every((l) => (l.options as unknown[]).length === 63)).toBe(true);
    expect(packet.issues).toEqual([{ layer: 31, kind: 'depth-exceeded', message: 'stopped after 32 layers' }]);
  });

  it('an IPv6 chain of 1000 destination options headers stops after 16 as malformed', () => {
    const chain: number[] = [];
    for (let i = 0; i < 1000; i++) chain.push(i === 999 ? NO_NEXT_HEADER : NEXT_DESTINATION_OPTIONS, 0, 1, 4, 0, 0, 0, 0);
    const packet = checkDissect(ipv6(NEXT_DESTINATION_OPTIONS, Uint8Array.from(chain)), LINKTYPE_IPV6);
    expect(packet.layers).toHaveLength(1);
    expect(packet.layers[0].extensions).toHaveLength(16);
    expect(packet.issues).toEqual([{ layer: 0, kind: 'malformed', message: 'ipv6 has more than 16 extension headers' }]);
  });

  it('an IPv6 chain of 1000 hop-by-hop headers stops at the second (RFC 8200 section 4.1)', () => {
    const chain: number[] = [];
    for (let i = 0; i < 1000; i++) chain.push(NEXT_HOP_BY_HOP, 0, 1, 4, 0, 0, 0, 0);
    const packet = checkDissect(ipv6(NEXT_HOP_BY_HOP, Uint8Array.from(chain)), LINKTYPE_IPV6);
    expect(packet.issues).toEqual([{ layer: 0, kind: 'malformed', message: 'ipv6 hop-by-hop header after another extension header' }]);
  });

  it('an IPv4 option of length 0 cannot be stepped over: malformed, and the walk ends', () => {
    // Type 0x44 (timestamp) with a length octet of 0, then 38 bytes of NOP.
    const options = [0x44, 0, ...new Array(38).fill(1)];
    const packet = checkDissect(ipv4(PROTO_ICMP, ECHO_REQUEST, options), LINKTYPE_IPV4);
    expect(packet.issues).toEqual([
      { layer: 0, kind: 'malformed', message: 'ipv4 option 68 length 0 does not fit the 40 option bytes left' },
    ]);
  });

  it('a TCP option of length 0 cannot be stepped over: malformed, and the walk ends', () => {
    // Data offset 15 (60 bytes): a timestamps option (kind 8) whose length octet is 0, then 38 bytes of NOP.
    const tcp = [0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0xf0, 0x02, 0xff, 0xff, 0, 0, 0, 0,
      8, 0, ...new Array(38).fill(1)];
    const packet = checkDissect(ipv4(PROTO_TCP, Uint8Array.from(tcp)), LINKTYPE_IPV4);
    expect(packet.issues.filter((i) => i.kind !== 'bad-checksum')).toEqual([
      { layer: 1, kind: 'malformed', message: 'tcp option kind 8 has length 0, less than 2' },
    ]);
  });

  it('GRE routing with source route entries of length 0 stops after 16 entries (RFC 1701 section 2.2)', () => {
    const entries: number[] = [];
    for (let i = 0; i < 1000; i++) entries.push(...u16(ETHERTYPE_IPV4), 0, 0);
    // R bit set: checksum and offset words, then the routing entries; no null entry ever comes.
    const gre = [0x40, 0, ...u16(ETHERTYPE_IPV4), 0, 0, 0, 0, ...entries];
    const packet = checkDissect(ipv4(PROTO_GRE, Uint8Array.from(gre)), LINKTYPE_IPV4);
    expect(packet.issues).toEqual([
      { layer: 1, kind: 'malformed', message: 'GRE routing has more than 16 source route entries' },
    ]);
  });

  it('ICMP errors quoting ICMP errors, 1000 deep: one quote is decoded, the error inside it is malformed', () => {
    const unreachable = [3, 3, 0, 0, 0, 0, 0, 0];
    const bomb = nest(1000, ipv4(PROTO_UDP, udp(53, new Uint8Array(0))), (p) => ipv4(PROTO_ICMP, concat(unreachable, p)));
    const packet = checkDissect(bomb, LINKTYPE_IPV4);
    expect(packet.layers.map((l) => l.proto)).toEqual(['ipv4', 'icmp', 'ipv4', 'icmp']);
    expect(packet.quotedFrom).toBe(2);
    expect(packet.issues.filter((i) => i.kind !== 'bad-checksum')).toEqual([
      { layer: 3, kind: 'malformed', message: 'icmp error quotes an icmp error, which RFC 1122 section 3.2.2 forbids sending' },
    ]);
  });

  it('ICMPv6 errors quoting ICMPv6 errors, 1000 deep: the quoted error is malformed', () => {
    const packetTooBig = [2, 0, 0, 0, 0, 0, 0x05, 0x00];
    const inner = ipv6(PROTO_UDP, udp(53, new Uint8Array(0)));
    const bomb = nest(1000, inner, (p) => ipv6(PROTO_ICMPV6, concat(packetTooBig, p)));
    const packet = checkDissect(bomb, LINKTYPE_IPV6);
    expect(packet.layers.map((l) => l.proto)).toEqual(['ipv6', 'icmpv6', 'ipv6', 'icmpv6']);
    expect(packet.issues.filter((i) => i.kind !== 'bad-checksum')).toEqual([
      { layer: 3, kind: 'malformed', message: 'icmpv6 error quotes an icmpv6 error, which RFC 4443 section 2.4 (e) forbids sending' },
    ]);
  });
});
