import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeIcmpv6 } from '../../decoders/icmpv6.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { fromHex } from '../helpers/bytes.js';
import { decodeContext, ipv6Context } from '../helpers/decode-context.js';

const A6 = '2001:db8::1';
const B6 = '2001:db8::2';
const LINKTYPE_IPV6 = 229;

// Packets built with scapy 2.5; checksums are scapy's, and tshark 4.0 reports
// icmpv6.checksum.status good for each, bad [should be 0xede8] for ECHO_BAD.
// PAYLOAD = b'tunscope l4 test'

// IPv6(src=A6, dst=B6)/ICMPv6EchoRequest(id=0x4321, seq=9, data=PAYLOAD)  -> checksum 0xede9
const ECHO = fromHex(`6000000000183a4020010db800000000000000000000000120010db800000000
  00000000000000028000ede94321000974756e73636f7065206c342074657374`);
// Last byte flipped; scapy on the modified packet: 0xede8.
const ECHO_BAD = fromHex(`6000000000183a4020010db800000000000000000000000120010db800000000
  00000000000000028000ede94321000974756e73636f7065206c342074657375`);
// ORIG = IPv6(src=B6, dst='2001:db8:ffff::7')/UDP(sport=5353, dport=33434)/Raw(PAYLOAD)  (UDP checksum 0x199c)
// IPv6(src=A6, dst=B6)/ICMPv6PacketTooBig(mtu=1280)/raw(ORIG)  -> checksum 0x2bd9
const PACKET_TOO_BIG = fromHex(`6000000000483a4020010db800000000000000000000000120010db800000000
  000000000000000202002bd900000500600000000018114020010db800000000
  000000000000000220010db8ffff0000000000000000000714e9829a0018199c
  74756e73636f7065206c342074657374`);
// IPv6(src=A6, dst='ff02::1:ff00:2', hlim=255)/ICMPv6ND_NS(tgt=B6)  -> checksum 0x1f31
const NEIGHBOR_SOLICITATION = fromHex(`6000000000183aff20010db8000000000000000000000001ff02000000000000
  00000001ff00000287001f310000000020010db8000000000000000000000002`);
// IPv6(src=B6, dst=A6, hlim=255)/ICMPv6ND_NA(tgt='fe80::abcd', R=0, S=1, O=1)  -> checksum 0x11e9
const NEIGHBOR_ADVERTISEMENT = fromHex(`6000000000183aff20010db800000000000000000000000220010db800000000
  0000000000000001880011e960000000fe80000000000000000000000000abcd`);

function icmpv6At40(bytes: Uint8Array, upperLength: number, end = bytes.length) {
  const { ctx, issues } = decodeContext({ ip: ipv6Context(A6, B6, 58, upperLength) });
  return { result: decodeIcmpv6(bytes, 40, end, ctx), issues };
}

describe('decodeIcmpv6', () => {
  it('decodes an echo request and verifies the checksum with the pseudo-header', () => {
    const { result, issues } = icmpv6At40(ECHO, 24);
    expect(result.layer).toEqual({
      proto: 'icmpv6', offset: 40, length: 8, type: 128, code: 0, checksum: { status: 'good', value: 0xede9 }, id: 0x4321, seq: 9,
    });
    expect(Object.keys(result.layer)).toEqual(['proto', 'offset', 'length', 'type', 'code', 'checksum', 'id', 'seq']);
    expect(result.next).toBeNull();
    expect(issues).toEqual([]);
  });

  it('needs the pseudo-header: the same bytes under other addresses do not verify', () => {
    const moved = ECHO.slice();
    moved[23] = 0x03; // source 2001:db8::3: the sum rises by 2, the checksum falls by 2
    const { result } = icmpv6At40(moved, 24);
    expect(result.layer.checksum).toEqual({ status: 'bad', value: 0xede9, expected: 0xede7 });
  });

  it('reports a bad checksum with the value scapy computes for the modified packet', () => {
    const { result, issues } = icmpv6At40(ECHO_BAD, 24);
    expect(result.layer.checksum).toEqual({ status: 'bad', value: 0xede9, expected: 0xede8 });
    expect(issues).toEqual([{ layer: 0, kind: 'bad-checksum', message: 'icmpv6 checksum 0xede9, expected 0xede8' }]);
  });

  it('reads the MTU of Packet Too Big and hands the quoted packet to IPv6', () => {
    const { result, issues } = icmpv6At40(PACKET_TOO_BIG, 72);
    expect(result.layer).toEqual({
      proto: 'icmpv6', offset: 40, length: 8, type: 2, code: 0, checksum: { status: 'good', value: 0x2bd9 }, mtu: 1280,
    });
    expect(result.next).toEqual({ proto: 'ipv6' });
    expect(result.quotes).toBe(true);
    expect(issues).toEqual([]);
  });

  it('does not quote again inside a quoted packet', () => {
    // The quoted Packet Too Big says 80 bytes and 72 are there.
    const { ctx } = decodeContext({ ip: ipv6Context(A6, B6, 58, 80), quoted: true });
    const result = decodeIcmpv6(PACKET_TOO_BIG, 40, 112, ctx);
    expect(result.layer.checksum).toEqual({ status: 'unverified', value: 0x2bd9, reason: 'quoted' });
    expect(result.next).toBeNull();
    expect(result.quotes).toBeUndefined();
  });

  it('reads the target address of neighbor solicitations and advertisements', () => {
    const ns = icmpv6At40(NEIGHBOR_SOLICITATION, 24);
    expect(ns.result.layer).toEqual({
      proto: 'icmpv6', offset: 40, length: 24, type: 135, code: 0, checksum: { status: 'good', value: 0x1f31 }, target: '2001:db8::2',
    });
    expect(ns.result.next).toBeNull();
    expect(ns.issues).toEqual([]);
    const na = icmpv6At40(NEIGHBOR_ADVERTISEMENT, 24);
    expect(na.result.layer).toMatchObject({ type: 136, length: 24, target: 'fe80::abcd', checksum: { status: 'good', value: 0x11e9 } });
  });

  it('reports a neighbor solicitation cut before its target', () => {
    const { result, issues } = icmpv6At40(NEIGHBOR_SOLICITATION, 24, 60);
    expect(result.layer).not.toHaveProperty('target');
    expect(result.layer.length).toBe(20);
    expect(result.layer.checksum).toEqual({ status: 'unverified', value: 0x1f31, reason: 'snaplen' });
    expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: 'icmpv6 header needs 24 bytes, 20 captured', needed: 24, available: 20 }]);
  });

  it('reports a truncated header with the fields it could read', () => {
    const { result, issues } = icmpv6At40(ECHO, 24, 42);
    expect(result.layer).toEqual({ proto: 'icmpv6', offset: 40, length: 2, type: 128, code: 0 });
    expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: 'icmpv6 header needs 8 bytes, 2 captured', needed: 8, available: 2 }]);
  });

  it('leaves cut, fragmented, disabled and IP-less checksums unverified', () => {
    expect(icmpv6At40(ECHO, 24, 60).result.layer.checksum).toEqual({ status: 'unverified', value: 0xede9, reason: 'snaplen' });
    const fragment = decodeContext({ ip: ipv6Context(A6, B6, 58, 24, { fragment: true }) }).ctx;
    expect(decodeIcmpv6(ECHO, 40, 64, fragment).layer.checksum).toEqual({ status: 'unverified', value: 0xede9, reason: 'fragment' });
    const off = decodeContext({ ip: ipv6Context(A6, B6, 58, 24), verify: false }).ctx;
    expect(decodeIcmpv6(ECHO_BAD, 40, 64, off).layer.checksum).toEqual({ status: 'unverified', value: 0xede9, reason: 'disabled' });
    expect(decodeIcmpv6(ECHO, 40, 64, decodeContext({ ip: null }).ctx).layer.checksum)
      .toEqual({ status: 'unverified', value: 0xede9, reason: 'no-ip-header' });
  });

  it('never throws and reads nothing past end', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 40, maxLength: 120 }), fc.nat(80), fc.nat(80), fc.nat(0xffff),
      fc.boolean(), fc.boolean(), fc.constantFrom(1, 2, 3, 4, 128, 129, 135, 136, 200),
      (bytes, a, b, upper, verify, quoted, type) => {
        const offset = 40 + Math.min(a, b) % 40;
        const end = Math.min(bytes.length, 40 + Math.max(a, b));
        if (end < offset) return;
        if (offset < end) bytes[offset] = type;
        const ip = ipv6Context(A6, B6, 58, upper);
        const one = decodeIcmpv6(bytes, offset, end, decodeContext({ ip, verify, quoted }).ctx);
        const changed = bytes.slice();
        for (let i = end; i < changed.length; i++) changed[i] ^= 0xff;
        expect(decodeIcmpv6(changed, offset, end, decodeContext({ ip, verify, quoted }).ctx)).toEqual(one);
      },
    ));
  });
});

describe('ICMPv6 through the engine', () => {
  const registry = new Registry();

  it('verifies an echo request and reports a bad one', () => {
    const packet = dissect(ECHO, LINKTYPE_IPV6, 64, { registry });
    expect(packet.layers.map((l) => l.proto)).toEqual(['ipv6', 'icmpv6']);
    expect(packet.layers[1].checksum).toEqual({ status: 'good', value: 0xede9 });
    expect(packet.issues).toEqual([]);
    const bad = dissect(ECHO_BAD, LINKTYPE_IPV6, 64, { registry });
    expect(bad.issues).toEqual([{ layer: 1, kind: 'bad-checksum', message: 'icmpv6 checksum 0xede9, expected 0xede8' }]);
  });

  it('decodes the packet a Packet Too Big quotes, its checksum verified when quoted whole', () => {
    const packet = dissect(PACKET_TOO_BIG, LINKTYPE_IPV6, 112, { registry });
    expect(packet.layers.map((l) => l.proto)).toEqual(['ipv6', 'icmpv6', 'ipv6', 'udp']);
    expect(packet.layers[1]).toMatchObject({ type: 2, mtu: 1280, checksum: { status: 'good', value: 0x2bd9 } });
    expect(packet.layers[3]).toMatchObject({ srcPort: 5353, dstPort: 33434, checksum: { status: 'good', value: 0x199c } });
    expect(packet.issues).toEqual([]);
  });

  it('decodes neighbor discovery', () => {
    const packet = dissect(NEIGHBOR_SOLICITATION, LINKTYPE_IPV6, 64, { registry });
    expect(packet.layers[1]).toMatchObject({ type: 135, target: '2001:db8::2', checksum: { status: 'good' } });
  });
});
