import { describe, expect, it } from 'vitest';
import { FilterError, parseFilter, parseIPv6 } from '../../src/filter/parse.js';

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
    expect(errorOf('src tcp').message).toBe('expected "host", "net" or "port" after "src"');
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

describe('parseIPv6', () => {
  it('expands :: and keeps an embedded IPv4 tail', () => {
    expect(Array.from(parseIPv6('::1')!)).toEqual([...Array(15).fill(0), 1]);
    expect(Array.from(parseIPv6('::ffff:10.0.0.1')!.subarray(10))).toEqual([0xff, 0xff, 10, 0, 0, 1]);
    expect(parseIPv6('1::2::3')).toBeNull();
    expect(parseIPv6('1:2:3:4:5:6:7')).toBeNull();
  });
});
