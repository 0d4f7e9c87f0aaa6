// Packets that look like packets: a chain of headers, each pointing at the
// next with a real ethertype, protocol number, port or GRE type, and with
// field values drawn from a list of choices. Random bytes rarely get past an
// Ethernet header; these reach every decoder at every depth, with lengths
// that are sometimes right and sometimes lie.

import fc from 'fast-check';

/** Reads choices in turn; past the end every choice is 0, the plain case, so shrinking makes packets plainer. */
class Choices {
  private at = 0;
  constructor(private readonly values: number[], private readonly filler: Uint8Array) {}

  pick(n: number): number {
    const v = this.at < this.values.length ? this.values[this.at] : 0;
    this.at++;
    return v % n;
  }

  /** A field that is usually `right`, sometimes 0, 0xffff or any value of its width. */
  length(right: number, max: number): number {
    switch (this.pick(8)) {
      case 5: return 0;
      case 6: return max;
      case 7: return this.pick(max + 1);
      default: return right & max;
    }
  }

  bytes(n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.filler.length === 0 ? 0 : this.filler[(this.at + i) % this.filler.length]);
    this.at += 1;
    return out;
  }
}

const u16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v: number) => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

const ETHERTYPES = [0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x6558, 0x1234];
const IP_PROTOCOLS = [17, 6, 1, 58, 47, 4, 41, 0, 43, 44, 60, 59, 200];
const UDP_PORTS = [4789, 8472, 4790, 6081, 53];
const GRE_TYPES = [0x0800, 0x86dd, 0x6558, 0x88be, 0x22eb, 0x880b, 0x0806];
const GPE_NEXT = [1, 2, 3, 4, 9];
const PPP_PROTOCOLS = [0x0021, 0x0057, 0xc021];

/** The header an ethertype names, and what it carries. */
function ethertypePayload(c: Choices, type: number, d: number): number[] {
  if (d < 0) return c.bytes(c.pick(24));
  switch (type) {
    case 0x0800: return ipv4(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1);
    case 0x86dd: return ipv6(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1);
    case 0x0806: return [...u16(1), ...u16(0x0800), c.pick(2) ? 6 : c.pick(256), c.pick(2) ? 4 : c.pick(256), ...u16(1), ...c.bytes(20)];
    case 0x8100: case 0x88a8: {
      const inner = ETHERTYPES[c.pick(ETHERTYPES.length)];
      return [c.pick(256), c.pick(256), ...u16(inner), ...ethertypePayload(c, inner, d - 1)];
    }
    case 0x6558: return ethernet(c, d - 1);
    default: return c.bytes(c.pick(16));
  }
}

function ethernet(c: Choices, d: number): number[] {
  const type = c.pick(8) === 7 ? c.pick(1501) : ETHERTYPES[c.pick(ETHERTYPES.length)];
  return [...c.bytes(12), ...u16(type), ...ethertypePayload(c, type, d - 1)];
}

function ipPayload(c: Choices, protocol: number, d: number): number[] {
  if (d < 0) return c.bytes(c.pick(24));
  switch (protocol) {
    case 17: return udp(c, UDP_PORTS[c.pick(UDP_PORTS.length)], d - 1);
    case 6: return tcp(c);
    case 1: return icmp(c, d, false);
    case 58: return icmp(c, d, true);
    case 47: return gre(c, GRE_TYPES[c.pick(GRE_TYPES.length)], d - 1);
    case 4: return ipv4(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1);
    case 41: return ipv6(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1);
    default: return c.bytes(c.pick(32));
  }
}

function ipv4(c: Choices, protocol: number, d: number): number[] {
  const optionWords = c.pick(4) === 3 ? c.pick(11) : 0;
  const options: number[] = [];
  for (let i = 0; i < optionWords * 4; i++) options.push([1, 0, 7, 0x44, c.pick(256)][c.pick(5)]);
  const payload = ipPayload(c, protocol, d - 1);
  const headerLength = 20 + options.length;
  const ihl = c.length(headerLength / 4, 0x0f);
  const version = c.pick(10) === 9 ? c.pick(16) : 4;
  const flags = c.pick(6) === 5 ? c.pick(0x10000) : 0;
  return [
    (version << 4) | ihl, c.pick(256), ...u16(c.length(headerLength + payload.length, 0xffff)), ...u16(c.pick(0x10000)),
    ...u16(flags), 64, protocol, ...u16(c.pick(0x10000)), 192, 0, 2, 1, 192, 0, 2, 2, ...options, ...payload,
  ];
}

function ipv6(c: Choices, nextHeader: number, d: number): number[] {
  const extensions: number[] = [];
  const count = c.pick(4) === 3 ? c.pick(20) : 0;
  let next = nextHeader;
  for (let i = 0; i < count; i++) {
    const type = [0, 43, 44, 60][c.pick(4)];
    const lengthUnits = c.pick(3);
    const header = type === 44
      ? [next, 0, ...u16(c.pick(0x10000)), ...u32(c.pick(0x7fffffff))]
      : [next, lengthUnits, ...c.bytes(6 + lengthUnits * 8)];
    if (type === 0 && c.pick(2) === 1) header.splice(2, 6, 0xc2, 4, ...u32(c.pick(0x7fffffff)));
    extensions.unshift(...header);
    next = type;
  }
  const payload = ipPayload(c, nextHeader, d - 1);
  const total = extensions.length + payload.length;
  const version = c.pick(10) === 9 ? c.pick(16) : 6;
  return [
    (version << 4), 0, 0, 0, ...u16(c.length(total, 0xffff)), next, 64,
    0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1, 0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 2,
    ...extensions, ...payload,
  ];
}

function udp(c: Choices, port: number, d: number): number[] {
  let payload: number[];
  switch (port) {
    case 4789: case 8472: payload = [c.pick(2) ? 0x08 : c.pick(256), 0, 0, 0, ...u32(c.pick(0x1000000) << 8), ...ethernet(c, d - 1)]; break;
    case 4790: {
      const next = GPE_NEXT[c.pick(GPE_NEXT.length)];
      payload = [c.pick(4) === 3 ? c.pick(256) : 0x0c, 0, 0, next, ...u32(c.pick(0x1000000) << 8), ...gpePayload(c, next, d - 1)];
      break;
    }
    case 6081: {
      const options: number[] = [];
      const optionCount = c.pick(4);
      for (let i = 0; i < optionCount; i++) {
        const words = c.pick(4);
        options.push(...u16(c.pick(0x10000)), c.pick(256), c.length(words, 0x1f), ...c.bytes(words * 4));
      }
      const optLen = c.length(options.length / 4, 0x3f);
      const type = [0x6558, 0x0800, 0x86dd][c.pick(3)];
      payload = [(c.pick(8) === 7 ? 0x40 : 0) | optLen, c.pick(256), ...u16(type), ...u32(c.pick(0x1000000) << 8), ...options,
        ...ethertypePayload(c, type, d - 1)];
      break;
    }
    default: payload = c.bytes(c.pick(20));
  }
  const dst = c.pick(2) === 0 ? port : c.pick(0x10000);
  return [...u16(c.pick(0x10000)), ...u16(dst), ...u16(c.length(8 + payload.length, 0xffff)), ...u16(c.pick(3) === 0 ? 0 : c.pick(0x10000)), ...payload];
}

function gpePayload(c: Choices, next: number, d: number): number[] {
  if (d < 0) return c.bytes(c.pick(24));
  switch (next) {
    case 1: return ipv4(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1);
    case 2: return ipv6(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1);
    case 3: return ethernet(c, d - 1);
    default: return c.bytes(c.pick(16));
  }
}

function tcp(c: Choices): number[] {
  const optionBytes: number[] = [];
  const words = c.pick(3) === 2 ? c.pick(11) : 0;
  for (let i = 0; i < words * 4; i++) optionBytes.push([1, 0, 2, 4, 3, 8, 5, 10, c.pick(256)][c.pick(9)]);
  const offset = c.length(5 + words, 0x0f);
  return [...u16(c.pick(0x10000)), ...u16(c.pick(0x10000)), ...u32(c.pick(0x7fffffff)), ...u32(c.pick(0x7fffffff)),
    offset << 4, c.pick(256), ...u16(c.pick(0x10000)), ...u16(c.pick(0x10000)), 0, 0, ...optionBytes, ...c.bytes(c.pick(20))];
}

function icmp(c: Choices, d: number, v6: boolean): number[] {
  const types = v6 ? [1, 2, 3, 4, 128, 135] : [3, 11, 12, 5, 0, 8, 4];
  const type = types[c.pick(types.length)];
  const quotes = v6 ? type < 128 : type !== 0 && type !== 8;
  const protocol = IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)];
  const rest = !quotes ? c.bytes(c.pick(24)) : v6 ? ipv6(c, protocol, d - 1) : ipv4(c, protocol, d - 1);
  return [type, c.pick(16), ...u16(c.pick(0x10000)), ...u32(c.pick(0x10000)), ...rest];
}

function gre(c: Choices, type: number, d: number): number[] {
  const version = c.pick(6) === 5 ? c.pick(8) : type === 0x880b ? 1 : 0;
  let flags = [0, 0x80, 0x20, 0x10, 0xb0, 0x40, c.pick(256)][c.pick(7)];
  if (version === 1) flags = 0x30 | (c.pick(2) << 7);
  const fields: number[] = [];
  if (flags & 0xc0) fields.push(...u16(c.pick(0x10000)), ...u16(c.pick(0x10000)));
  const payload = grePayload(c, type, d - 1);
  if (flags & 0x20) fields.push(...(version === 1 ? [...u16(c.length(payload.length, 0xffff)), ...u16(c.pick(0x10000))] : u32(c.pick(0x7fffffff))));
  if (flags & 0x10) fields.push(...u32(c.pick(0x7fffffff)));
  const ack = version === 1 && c.pick(2) === 1;
  if (ack) fields.push(...u32(c.pick(0x7fffffff)));
  if (flags & 0x40) {
    const entries = c.pick(20);
    for (let i = 0; i < entries; i++) {
      const length = c.pick(3) * 4;
      fields.push(...u16(c.pick(3)), 0, length, ...c.bytes(length));
    }
    fields.push(0, 0, 0, 0);
  }
  return [flags, (ack ? 0x80 : 0) | version, ...u16(type), ...fields, ...payload];
}

function grePayload(c: Choices, type: number, d: number): number[] {
  if (d < 0) return c.bytes(c.pick(24));
  switch (type) {
    case 0x88be: return [0x10 | c.pick(16), c.pick(256), c.pick(256), c.pick(256), ...u32(c.pick(0x7fffffff)), ...ethernet(c, d - 1)];
    case 0x22eb: {
      const o = c.pick(2);
      const ft = c.pick(3) === 0 ? 0 : c.pick(32);
      return [0x20 | c.pick(16), c.pick(256), c.pick(256), c.pick(256), ...u32(c.pick(0x7fffffff)), 0, 0, ft << 2, o,
        ...(o ? u32(c.pick(0x7fffffff)).concat(u32(c.pick(0x7fffffff))) : []), ...ethernet(c, d - 1)];
    }
    case 0x880b: return ppp(c, d - 1);
    default: return ethertypePayload(c, type, d - 1);
  }
}

function ppp(c: Choices, d: number): number[] {
  const protocol = PPP_PROTOCOLS[c.pick(PPP_PROTOCOLS.length)];
  const head = c.pick(2) === 1 ? [0xff, 0x03] : [];
  const compressed = c.pick(2) === 1 && protocol < 0x100;
  const payload = protocol === 0x0021 ? ipv4(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1)
    : protocol === 0x0057 ? ipv6(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1) : c.bytes(8);
  return [...head, ...(compressed ? [protocol] : u16(protocol)), ...payload];
}

/** The link-layer header a link type puts first, then the network layer it names. */
function linkFrame(c: Choices, linktype: number, d: number): number[] {
  switch (linktype) {
    case 1: return ethernet(c, d - 1);
    case 0: case 108: {
      const v6 = c.pick(2) === 1;
      const family = v6 ? [10, 24, 28, 30][c.pick(4)] : 2;
      const header = linktype === 108 || c.pick(2) === 1 ? u32(family) : u32(family).reverse();
      return [...header, ...(v6 ? ipv6(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1) : ipv4(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1))];
    }
    case 113: {
      const type = ETHERTYPES[c.pick(ETHERTYPES.length)];
      const arphrd = [1, 778, 824, 772][c.pick(4)];
      return [...u16(c.pick(5)), ...u16(arphrd), ...u16(c.length(6, 0xffff)), ...c.bytes(8), ...u16(type),
        ...(arphrd === 778 ? grePayload(c, type, d - 1) : ethertypePayload(c, type, d - 1))];
    }
    case 276: {
      const type = ETHERTYPES[c.pick(ETHERTYPES.length)];
      return [...u16(type), 0, 0, ...u32(c.pick(0x7fffffff)), ...u16([1, 778, 824][c.pick(3)]), c.pick(5), c.length(6, 0xff),
        ...c.bytes(8), ...ethertypePayload(c, type, d - 1)];
    }
    case 228: return ipv4(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1);
    case 229: return ipv6(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1);
    default: return c.pick(2) === 1 ? ipv4(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1) : ipv6(c, IP_PROTOCOLS[c.pick(IP_PROTOCOLS.length)], d - 1);
  }
}

export interface BuiltPacket {
  linktype: number;
  bytes: Uint8Array;
  wireLength: number;
}

const STACK_LINKTYPES = [1, 1, 1, 0, 108, 113, 276, 228, 229, 101, 12];

/** A packet of up to `maxDepth` protocol levels on a decoded link type, sometimes cut short by a snapshot length. */
export function packetStack(maxDepth = 12): fc.Arbitrary<BuiltPacket> {
  return fc.tuple(
    // Short choice lists leave most fields plain and reach deep; long ones vary every field.
    fc.oneof(fc.array(fc.nat(), { maxLength: 300 }), fc.array(fc.nat(), { maxLength: 300, size: 'max' })),
    fc.uint8Array({ minLength: 1, maxLength: 64 }),
    fc.integer({ min: 1, max: maxDepth }),
    fc.nat(),
  ).map(([values, filler, depth, cut]) => {
    const c = new Choices(values, filler);
    const linktype = STACK_LINKTYPES[c.pick(STACK_LINKTYPES.length)];
    const whole = Uint8Array.from(linkFrame(c, linktype, depth));
    // A quarter are cut by a snapshot length: the wire length still counts every byte.
    const captured = cut % 4 === 0 ? cut % (whole.length + 1) : whole.length;
    return { linktype, bytes: whole.subarray(0, captured), wireLength: whole.length };
  });
}
