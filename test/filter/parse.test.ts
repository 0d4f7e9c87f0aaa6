import { describe, expect, it } from 'vitest';
import { parseIPv6, parseMac } from '../../decoders/address.js';
import { FilterError, parseFilter } from '../../src/filter/parse.js';

function errorOf(source: string): FilterError {
  try {
    parseFilter(source);
  } catch (err) {
    if (err instanceof FilterError) return err;
    throw err;
  }
  throw new Error(`"${source}" parsed`);
}

describe('parseFilter', () => {
  it('reads a tunnel with its id, a scope and a port in one and chain', () => {
    expect(parseFilter('vxlan vni 42 and inner tcp port 443')).toEqual({
      op: 'and',
      args: [
        { op: 'prim', scope: 'any', prim: { kind: 'tunnel', tunnel: 'vxlan', id: 42 } },
        { op: 'prim', scope: 'inner', prim: { kind: 'proto', proto: 'tcp' } },
        { op: 'prim', scope: 'inner', prim: { kind: 'port', dir: 'either', port: 443 } },
      ],
    });
  });

  it('reads tcpdump\'s protocol qualifier as an and in the same scope', () => {
    expect(parseFilter('outer udp dst port 4789')).toEqual({
      op: 'and',
      args: [
        { op: 'prim', scope: 'outer', prim: { kind: 'proto', proto: 'udp' } },
        { op: 'prim', scope: 'outer', prim: { kind: 'port', dir: 'dst', port: 4789 } },
      ],
    });
  });

  it('binds and tighter than or, and not tighter than and', () => {
    const tree = parseFilter('gre or not udp and arp');
    expect(tree).toEqual({
      op: 'or',
      args: [
        { op: 'prim', scope: 'any', prim: { kind: 'tunnel', tunnel: 'gre', id: null } },
        {
          op: 'and',
          args: [
            { op: 'not', arg: { op: 'prim', scope: 'any', prim: { kind: 'proto', proto: 'udp' } } },
            { op: 'prim', scope: 'any', prim: { kind: 'proto', proto: 'arp' } },
          ],
        },
      ],
    });
  });

  it('accepts tcpdump symbols, parentheses and hex numbers', () => {
    const tree = parseFilter('!(icmp || icmp6) && geneve vni 0x10');
    expect(tree).toMatchObject({
      op: 'and',
      args: [{ op: 'not', arg: { op: 'or' } }, { prim: { kind: 'tunnel', tunnel: 'geneve', id: 16 } }],
    });
  });

  it('reads addresses and networks of both families with directions', () => {
    expect(parseFilter('src host 10.0.0.1')).toMatchObject({ prim: { kind: 'host', dir: 'src', version: 4, address: '10.0.0.1' } });
    // IPv6 hosts are kept in the canonical text form the decoders print.
    expect(parseFilter('dst host 2001:DB8:0:0::1')).toMatchObject({ prim: { kind: 'host', dir: 'dst', version: 6, address: '2001:db8::1' } });
    expect(parseFilter('net 172.18.0.0/16')).toMatchObject({ prim: { kind: 'net', version: 4, bits: 16, prefix: new Uint8Array([172, 18, 0, 0]) } });
    expect(parseFilter('vlan 100 or vlan')).toMatchObject({ args: [{ prim: { kind: 'vlan', vid: 100 } }, { prim: { kind: 'vlan', vid: null } }] });
  });

  it('names the column of an unknown word and draws a caret under it', () => {
    const err = errorOf('vxlan and bogus port 5');
    expect(err.column).toBe(10);
    expect(err.message).toBe('unknown word "bogus"');
    expect(err.describe()).toBe('unknown word "bogus" (column 11)\n  vxlan and bogus port 5\n            ^');
  });

  it('points at what is missing or wrong', () => {
    expect(errorOf('vxlan vni').column).toBe(9);
    expect(errorOf('vxlan vni x').message).toMatch(/expected a number/);
    expect(errorOf('port 70000').column).toBe(5);
    expect(errorOf('host 10.0.0.256').message).toBe('"10.0.0.256" is not an IPv4 or IPv6 address');
    expect(errorOf('(tcp or udp').message).toBe('expected ")"');
    expect(errorOf('tcp)').message).toBe('unbalanced ")"');
    expect(errorOf('tcp udp').message).toBe('expected "and" or "or" before "udp"');
    expect(errorOf('src tcp').message).toBe('expected "host", "net", "port" or "portrange" after "src"');
    expect(errorOf('').message).toBe('the filter is empty');
    expect(errorOf('tcp and').message).toMatch(/ends where a primitive was expected/);
  });

  it('keeps a VNI to its 24 bits (RFC 7348 section 5) and a GRE key to 32 (RFC 2890)', () => {
    expect(parseFilter('vxlan vni 16777215')).toMatchObject({ prim: { kind: 'tunnel', id: 0xffffff } });
    expect(errorOf('vxlan vni 16777216').message).toBe('expected a number from 0 to 16777215 after "vni"');
    expect(parseFilter('gre key 4294967295')).toMatchObject({ prim: { kind: 'tunnel', id: 0xffffffff } });
  });

  it('refuses IPv4 addresses with leading zeros, which inet_aton would read as octal', () => {
    expect(errorOf('host 010.0.0.1').message).toBe('"010.0.0.1" is not an IPv4 or IPv6 address');
    expect(parseFilter('host 10.0.0.1')).toMatchObject({ prim: { address: '10.0.0.1' } });
  });

  it('says that a scope applies to one primitive, not to a group', () => {
    const err = errorOf('vxlan and inner (tcp or udp)');
    expect(err.column).toBe(16);
    expect(err.message).toBe('"inner" applies to one primitive: write "inner tcp or inner udp", not "inner (tcp or udp)"');
    expect(errorOf('outer not tcp').column).toBe(6);
  });
});

describe('parseFilter: the primitives tcpdump has too', () => {
  it('reads ether host with a direction, with or without "host", in tcpdump\'s MAC spellings', () => {
    const mac = new Uint8Array([2, 0, 0, 0, 0, 0x0a]);
    for (const text of ['02:00:00:00:00:0a', '2:0:0:0:0:A', '02-00-00-00-00-0a', '02.00.00.00.00.0a', '0200.0000.000a', '02000000000A']) {
      expect(parseFilter(`ether host ${text}`), text).toEqual({ op: 'prim', scope: 'any', prim: { kind: 'ether', dir: 'either', mac } });
    }
    expect(parseFilter('ether src host 02:00:00:00:00:0a')).toMatchObject({ prim: { kind: 'ether', dir: 'src' } });
    expect(parseFilter('inner ether dst 02:00:00:00:00:0a')).toMatchObject({ scope: 'inner', prim: { kind: 'ether', dir: 'dst' } });
    expect(parseMac('02:00:00:00:00')).toBeNull();
    expect(parseMac('02:00-00:00:00:0a')).toBeNull();
  });

  it('reads len comparisons, greater and less as tcpdump does (greater N is len >= N, less N is len <= N)', () => {
    const len = (source: string) => (parseFilter(source) as { prim: unknown }).prim;
    expect(len('len > 1400')).toEqual({ kind: 'len', op: '>', length: 1400 });
    expect(len('len<=64')).toEqual({ kind: 'len', op: '<=', length: 64 });
    expect(len('len == 98')).toEqual({ kind: 'len', op: '==', length: 98 });
    expect(len('len = 98')).toEqual({ kind: 'len', op: '==', length: 98 });
    expect(len('len != 0x62')).toEqual({ kind: 'len', op: '!=', length: 98 });
    expect(len('greater 1000')).toEqual({ kind: 'len', op: '>=', length: 1000 });
    expect(len('less 64')).toEqual({ kind: 'len', op: '<=', length: 64 });
    expect(parseFilter('not len < 60 and vxlan')).toMatchObject({ op: 'and', args: [{ op: 'not' }, { prim: { kind: 'tunnel' } }] });
  });

  it('reads portrange with directions and a protocol qualifier, either way round', () => {
    expect(parseFilter('udp dst portrange 4789-4790')).toEqual({
      op: 'and',
      args: [
        { op: 'prim', scope: 'any', prim: { kind: 'proto', proto: 'udp' } },
        { op: 'prim', scope: 'any', prim: { kind: 'portrange', dir: 'dst', low: 4789, high: 4790 } },
      ],
    });
    expect(parseFilter('portrange 6000-5000')).toMatchObject({ prim: { kind: 'portrange', dir: 'either', low: 5000, high: 6000 } });
    expect(parseFilter('inner tcp src portrange 1-1024')).toMatchObject({ args: [{ scope: 'inner' }, { scope: 'inner', prim: { dir: 'src' } }] });
  });

  it('reads ip proto, ip6 proto and proto with numbers and names, tcpdump\'s backslash or not', () => {
    const proto = (source: string) => (parseFilter(source) as { prim: unknown }).prim;
    expect(proto('ip proto 47')).toEqual({ kind: 'ipproto', version: 4, protocol: 47 });
    expect(proto('ip proto gre')).toEqual({ kind: 'ipproto', version: 4, protocol: 47 });
    expect(proto('ip proto \\tcp')).toEqual({ kind: 'ipproto', version: 4, protocol: 6 });
    expect(proto('ip proto udp')).toEqual({ kind: 'ipproto', version: 4, protocol: 17 });
    expect(proto('ip6 proto ipv6-icmp')).toEqual({ kind: 'ipproto', version: 6, protocol: 58 });
    expect(proto('ip6 proto 0x3a')).toEqual({ kind: 'ipproto', version: 6, protocol: 58 });
    expect(proto('proto 4')).toEqual({ kind: 'ipproto', version: null, protocol: 4 });
    // `ip` alone, and `ip` as tcpdump's protocol qualifier, are unchanged.
    expect(proto('ip')).toEqual({ kind: 'proto', proto: 'ipv4' });
    expect(parseFilter('ip host 10.0.0.1')).toMatchObject({ op: 'and', args: [{ prim: { kind: 'proto' } }, { prim: { kind: 'host' } }] });
  });
});

describe('parseFilter: errors point at their column', () => {
  function caret(source: string): { column: number; message: string; drawn: string } {
    const err = errorOf(source);
    return { column: err.column, message: err.message, drawn: err.describe().split('\n')[2] };
  }

  it('puts the caret under a lone & or | and says to use and/or', () => {
    const amp = caret('host 10.0.0.1 & tcp');
    expect(amp.column).toBe(14);
    expect(amp.message).toBe('unexpected "&": use and/or (&& and || are accepted too)');
    expect(errorOf('host 10.0.0.1 & tcp').describe())
      .toBe('unexpected "&": use and/or (&& and || are accepted too) (column 15)\n  host 10.0.0.1 & tcp\n                ^');
    const bar = caret('vxlan vni 42 | gre');
    expect(bar.column).toBe(13);
    expect(bar.message).toMatch(/^unexpected "\|": use and\/or/);
    expect(caret('tcp and (udp | arp)').column).toBe(13);
    expect(caret('  udp&tcp').column).toBe(5);
    // && and || are the words and and or, as tcpdump reads them.
    expect(parseFilter('host 10.0.0.1 && tcp || udp')).toMatchObject({ op: 'or' });
  });

  it('names what the new primitives miss, at its column', () => {
    expect(caret('len')).toMatchObject({ column: 3, message: 'expected <, >, <=, >=, == or != after "len"' });
    expect(caret('len ~ 5')).toMatchObject({ column: 4 });
    expect(caret('len > x')).toMatchObject({ column: 6, message: 'expected a number from 0 to 4294967295 after ">"' });
    expect(caret('greater')).toMatchObject({ column: 7 });
    expect(caret('tcp and outer len > 5')).toMatchObject({ column: 8, message: 'the length is the whole frame\'s: "outer" does not apply to it' });
    expect(caret('ether 02:00:00:00:00:01')).toMatchObject({ column: 6, message: 'expected "host", "src" or "dst" after "ether"' });
    expect(caret('ether host 02:00:00:00:00')).toMatchObject({ column: 11, message: '"02:00:00:00:00" is not a MAC address such as 02:00:00:00:00:01' });
    expect(caret('udp portrange 5000')).toMatchObject({ column: 14, message: 'expected a port range such as 5000-5010 after "portrange"' });
    expect(caret('portrange 1-70000')).toMatchObject({ column: 10 });
    expect(caret('ip proto 256')).toMatchObject({ column: 9, message: 'expected a protocol number from 0 to 255 after "proto"' });
    expect(caret('ip proto ipip')).toMatchObject({ column: 9, message: 'unknown IP protocol "ipip": give its number from 0 to 255' });
    expect(caret('ip6 proto')).toMatchObject({ column: 9 });
    // Names are looked up as data, not as properties every object has.
    expect(caret('ip proto constructor')).toMatchObject({ column: 9 });
    expect(caret('len toString 5')).toMatchObject({ column: 4 });
  });
});

describe('parseIPv6', () => {
  it('expands :: and keeps an embedded IPv4 tail', () => {
    expect(Array.from(parseIPv6('::1')!)).toEqual([...Array(15).fill(0), 1]);
    expect(Array.from(parseIPv6('::ffff:10.0.0.1')!.subarray(10))).toEqual([0xff, 0xff, 10, 0, 0, 1]);
    expect(parseIPv6('1::2::3')).toBeNull();
    expect(parseIPv6('1:2:3:4:5:6:7')).toBeNull();
  });
});
