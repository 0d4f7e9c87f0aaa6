import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeIcmp } from '../../decoders/icmp.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { fromHex } from '../helpers/bytes.js';
import { decodeContext, ipv4Context } from '../helpers/decode-context.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { havePeerCaptures, peerCapture, requireOrSkip } from '../helpers/tools.js';

const A4 = '192.0.2.1';
const B4 = '198.51.100.2';
const LINKTYPE_IPV4 = 228;

// Packets built with scapy 2.5; checksums are scapy's, and tshark 4.0 reports
// icmp.checksum.status good for each, bad [should be 0xf29f] for ICMP_ECHO_BAD.
// PAYLOAD = b'tunscope l4 test'

// IP(src=A4, dst=B4, id=7)/ICMP(type=8, id=0x1234, seq=7)/Raw(PAYLOAD)  -> checksum 0xf2a0
const ICMP_ECHO = fromHex(`4500002c0007000040018e93c0000201c63364020800f2a01234000774756e73
  636f7065206c342074657374`);
// Last byte flipped; scapy on the modified packet: 0xf29f.
const ICMP_ECHO_BAD = fromHex(`4500002c0007000040018e93c0000201c63364020800f2a01234000774756e73
  636f7065206c342074657375`);
// ORIG = IP(src=B4, dst=A4, id=8, ttl=1)/UDP(sport=5353, dport=33434)/Raw(PAYLOAD)  (UDP checksum 0x88df)
// IP(src=A4, dst=B4, id=9)/ICMP(type=3, code=3)/raw(ORIG)  -> checksum 0xe95d
const ICMP_PORT_UNREACHABLE = fromHex(`450000480009000040018e75c0000201c63364020303e95d000000004500002c
  000800000111cd82c6336402c000020114e9829a001888df74756e73636f7065
  206c342074657374`);
// IP(src=A4, dst=B4, id=10)/ICMP(type=3, code=4, nexthopmtu=1400)/raw(ORIG)[:28]  -> checksum 0xd708
const ICMP_FRAG_NEEDED = fromHex(`45000038000a000040018e84c0000201c63364020304d708000005784500002c
  000800000111cd82c6336402c000020114e9829a001888df`);
// IP(src=A4, dst=B4, id=11)/ICMP(type=5, code=1, gw='203.0.113.9')/raw(ORIG)[:28]  -> checksum 0x9e79
const ICMP_REDIRECT = fromHex(`45000038000b000040018e83c0000201c633640205019e79cb0071094500002c
  000800000111cd82c6336402c000020114e9829a001888df`);
// IP(src=A4, dst=B4, id=12)/ICMP(type=11, code=0)/raw(ICMP_PORT_UNREACHABLE)[:56]  -> checksum 0xe823:
// a time exceeded error quoting a port unreachable error.
const ICMP_ERROR_QUOTING_ERROR = fromHex(`45000054000c000040018e66c0000201c63364020b00e8230000000045000048
  0009000040018e75c0000201c63364020303e95d000000004500002c00080000
  0111cd82c6336402c000020114e9829a001888df`);

function icmpAt20(bytes: Uint8Array, upperLength: number, end = bytes.length) {
  const { ctx, issues } = decodeContext({ ip: ipv4Context(A4, B4, 1, upperLength) });
  return { result: decodeIcmp(bytes, 20, end, ctx), issues };
}

describe('decodeIcmp', () => {
  it('decodes an echo request and verifies its checksum over the whole message', () => {
    const { result, issues } = icmpAt20(ICMP_ECHO, 24);
    expect(result.layer).toEqual({
      proto: 'icmp', offset: 20, length: 8, type: 8, code: 0, checksum: { status: 'good', value: 0xf2a0 }, id: 0x1234, seq: 7,
    });
    expect(Object.keys(result.layer)).toEqual(['proto', 'offset', 'length', 'type', 'code', 'checksum', 'id', 'seq']);
    expect(result.next).toBeNull();
    expect(result.quotes).toBeUndefined();
    expect(issues).toEqual([]);
  });

  it('reports a bad checksum with the value scapy computes for the modified packet', () => {
    const { result, issues } = icmpAt20(ICMP_ECHO_BAD, 24);
    expect(result.layer.checksum).toEqual({ status: 'bad', value: 0xf2a0, expected: 0xf29f });
    expect(issues).toEqual([{ layer: 0, kind: 'bad-checksum', message: 'icmp checksum 0xf2a0, expected 0xf29f' }]);
  });

  it('hands the quoted packet of an error to the IPv4 decoder', () => {
    const { result, issues } = icmpAt20(ICMP_PORT_UNREACHABLE, 52);
    expect(result.layer).toEqual({ proto: 'icmp', offset: 20, length: 8, type: 3, code: 3, checksum: { status: 'good', value: 0xe95d } });
    expect(result.next).toEqual({ proto: 'ipv4' });
    expect(result.quotes).toBe(true);
    expect(issues).toEqual([]);
  });

  it('reads the next-hop MTU of "fragmentation needed" (RFC 1191) and the redirect gateway', () => {
    const mtu = icmpAt20(ICMP_FRAG_NEEDED, 36).result;
    expect(mtu.layer).toMatchObject({ type: 3, code: 4, mtu: 1400, checksum: { status: 'good', value: 0xd708 } });
    expect(mtu.quotes).toBe(true);
    const redirect = icmpAt20(ICMP_REDIRECT, 36).result;
    expect(redirect.layer).toMatchObject({ type: 5, code: 1, gateway: '203.0.113.9', checksum: { status: 'good', value: 0x9e79 } });
    expect(redirect.next).toEqual({ proto: 'ipv4' });
    // Only code 4 carries an MTU.
    expect(icmpAt20(ICMP_PORT_UNREACHABLE, 52).result.layer).not.toHaveProperty('mtu');
  });

  it('does not quote again inside a quoted packet', () => {
    const outer = icmpAt20(ICMP_ERROR_QUOTING_ERROR, 64);
    expect(outer.result.layer).toMatchObject({ type: 11, code: 0, checksum: { status: 'good', value: 0xe823 } });
    expect(outer.result.next).toEqual({ proto: 'ipv4' });
    // The quoted error: its IP header (at 28) says 52 bytes of ICMP; 28 are quoted.
    const { ctx, issues } = decodeContext({ ip: ipv4Context(A4, B4, 1, 52, { srcOffset: 40, dstOffset: 44 }), quoted: true });
    const inner = decodeIcmp(ICMP_ERROR_QUOTING_ERROR, 48, 84, ctx);
    expect(inner.layer).toEqual({
      proto: 'icmp', offset: 48, length: 8, type: 3, code: 3, checksum: { status: 'unverified', value: 0xe95d, reason: 'quoted' },
    });
    expect(inner.next).toBeNull();
    expect(inner.quotes).toBeUndefined();
    // RFC 1122 section 3.2.2: no ICMP error is sent about an ICMP error, so quoting one is malformed.
    expect(issues).toEqual([{
      layer: 0, kind: 'malformed', message: 'icmp error quotes an icmp error, which RFC 1122 section 3.2.2 forbids sending',
    }]);
  });

  it('leaves a message cut by the snaplen unverified', () => {
    const { result, issues } = icmpAt20(ICMP_ECHO, 24, 32);
    expect(result.layer.checksum).toEqual({ status: 'unverified', value: 0xf2a0, reason: 'snaplen' });
    expect(result.layer.id).toBe(0x1234);
    expect(issues).toEqual([]);
  });

  it('leaves fragments, super-packets, quoted and IP-less messages unverified', () => {
    const reason = (extra: object, ctxExtra: object = {}) =>
      decodeIcmp(ICMP_ECHO, 20, 44, decodeContext({ ip: ipv4Context(A4, B4, 1, 24, extra), ...ctxExtra }).ctx).layer.checksum;
    expect(reason({ fragment: true })).toEqual({ status: 'unverified', value: 0xf2a0, reason: 'fragment' });
    expect(reason({ superPacket: true })).toEqual({ status: 'unverified', value: 0xf2a0, reason: 'segmentation-offload' });
    expect(reason({}, { verify: false })).toEqual({ status: 'unverified', value: 0xf2a0, reason: 'disabled' });
    // Quoted whole it is verified; cut, `quoted`.
    expect(reason({}, { quoted: true })).toEqual({ status: 'good', value: 0xf2a0 });
    expect(decodeIcmp(ICMP_ECHO, 20, 40, decodeContext({ ip: ipv4Context(A4, B4, 1, 24), quoted: true }).ctx).layer.checksum)
      .toEqual({ status: 'unverified', value: 0xf2a0, reason: 'quoted' });
    expect(decodeIcmp(ICMP_ECHO, 20, 44, decodeContext({ ip: null }).ctx).layer.checksum)
      .toEqual({ status: 'unverified', value: 0xf2a0, reason: 'no-ip-header' });
  });

  it('reports a truncated header with the fields it could read', () => {
    const { result, issues } = icmpAt20(ICMP_ECHO, 24, 26);
    expect(result.layer).toEqual({
      proto: 'icmp', offset: 20, length: 6, type: 8, code: 0, checksum: { status: 'unverified', value: 0xf2a0, reason: 'snaplen' },
    });
    expect(result.next).toBeNull();
    expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: 'icmp header needs 8 bytes, 6 captured', needed: 8, available: 6 }]);
    expect(icmpAt20(ICMP_ECHO, 24, 21).result.layer).toEqual({ proto: 'icmp', offset: 20, length: 1, type: 8 });
  });

  it('decodes the packets that once crashed tcpdump without throwing', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return skip();
    // icmp-cksum-oobr-1: LINUX_SLL, IPv4 at 16 with total length 13911 in a 204-byte
    // frame; tcpdump -v: "ICMP 62.220.31.247 udp port 1027 unreachable".
    const [one] = readCaptureRecords(peerCapture('icmp-cksum-oobr-1.pcap'));
    expect(one.linktype).toBe(113);
    const ip1 = ipv4Context('62.220.31.247', '62.225.245.115', 1, 13911 - 20, { srcOffset: 28, dstOffset: 32 });
    const r1 = decodeIcmp(one.data, 36, one.data.length, decodeContext({ ip: ip1 }).ctx);
    expect(r1.layer).toEqual({
      proto: 'icmp', offset: 36, length: 8, type: 3, code: 3, checksum: { status: 'unverified', value: 0x90c2, reason: 'snaplen' },
    });
    expect(r1.next).toEqual({ proto: 'ipv4' });

    // icmp-cksum-oobr-3 (pcapng): Ethernet, IPv4 total length 4419 in a 337-byte frame;
    // tcpdump -v: "ICMP 97.242.24.11 udp port 162 unreachable".
    const [three] = readCaptureRecords(peerCapture('icmp-cksum-oobr-3.pcapng'));
    expect(three.linktype).toBe(1);
    expect(three.data.length).toBe(337);
    const ip3 = ipv4Context('97.242.24.11', '97.242.24.11', 1, 4419 - 20, { srcOffset: 26, dstOffset: 30 });
    const r3 = decodeIcmp(three.data, 34, three.data.length, decodeContext({ ip: ip3 }).ctx);
    expect(r3.layer).toEqual({
      proto: 'icmp', offset: 34, length: 8, type: 3, code: 3, checksum: { status: 'unverified', value: 0xf21b, reason: 'snaplen' },
    });

    // Whatever the IP header claims, no message length makes the decoder throw.
    for (const upper of [0, 1, 3, 4, 7, 8, 167, 168, 169, 0xffff]) {
      expect(() => decodeIcmp(one.data, 36, one.data.length, decodeContext({ ip: { ...ip1, upperLength: upper } }).ctx)).not.toThrow();
    }
  });

  it('never throws and reads nothing past end', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 20, maxLength: 100 }), fc.nat(80), fc.nat(80), fc.nat(0xffff),
      fc.boolean(), fc.boolean(), fc.constantFrom(0, 3, 4, 5, 8, 11, 12),
      (bytes, a, b, upper, verify, quoted, type) => {
        const offset = 20 + Math.min(a, b) % 60;
        const end = Math.min(bytes.length, 20 + Math.max(a, b));
        if (end < offset) return;
        if (offset < end) bytes[offset] = type;
        const ip = ipv4Context(A4, B4, 1, upper);
        const one = decodeIcmp(bytes, offset, end, decodeContext({ ip, verify, quoted }).ctx);
        const changed = bytes.slice();
        for (let i = end; i < changed.length; i++) changed[i] ^= 0xff;
        expect(decodeIcmp(changed, offset, end, decodeContext({ ip, verify, quoted }).ctx)).toEqual(one);
      },
    ));
  });
});

describe('ICMP through the engine', () => {
  const registry = new Registry();

  it('verifies an echo request', () => {
    const packet = dissect(ICMP_ECHO, LINKTYPE_IPV4, 44, { registry });
    expect(packet.layers.map((l) => l.proto)).toEqual(['ipv4', 'icmp']);
    expect(packet.layers[1]).toMatchObject({ type: 8, id: 0x1234, seq: 7, checksum: { status: 'good', value: 0xf2a0 } });
    expect(packet.issues).toEqual([]);
    const bad = dissect(ICMP_ECHO_BAD, LINKTYPE_IPV4, 44, { registry });
    expect(bad.issues).toEqual([{ layer: 1, kind: 'bad-checksum', message: 'icmp checksum 0xf2a0, expected 0xf29f' }]);
  });

  it('verifies the checksums of a packet quoted whole, and leaves a cut one unverified', () => {
    const packet = dissect(ICMP_PORT_UNREACHABLE, LINKTYPE_IPV4, 72, { registry });
    expect(packet.layers.map((l) => l.proto)).toEqual(['ipv4', 'icmp', 'ipv4', 'udp']);
    expect(packet.layers[3]).toMatchObject({ srcPort: 5353, dstPort: 33434, checksum: { status: 'good', value: 0x88df } });
    expect(packet.issues.filter((i) => i.layer >= 1)).toEqual([]);
    // The quoted datagram with its last byte changed: its UDP checksum no longer holds.
    const changed = ICMP_PORT_UNREACHABLE.slice();
    changed[71] ^= 1;
    const bad = dissect(changed, LINKTYPE_IPV4, 72, { registry });
    expect(bad.layers[3].checksum).toMatchObject({ status: 'bad', value: 0x88df });
    // Only the IP header and 8 bytes quoted.
    const cut = dissect(ICMP_FRAG_NEEDED, LINKTYPE_IPV4, 56, { registry });
    expect(cut.layers[3].checksum).toEqual({ status: 'unverified', value: 0x88df, reason: 'quoted' });
  });

  it('stops after an error quoting an error', () => {
    const packet = dissect(ICMP_ERROR_QUOTING_ERROR, LINKTYPE_IPV4, 84, { registry });
    expect(packet.layers.map((l) => l.proto)).toEqual(['ipv4', 'icmp', 'ipv4', 'icmp']);
    expect(packet.layers[3]).toMatchObject({ type: 3, code: 3, checksum: { status: 'unverified', reason: 'quoted' } });
  });

  it('leaves a snaplen-cut message unverified', () => {
    const packet = dissect(ICMP_ECHO.subarray(0, 32), LINKTYPE_IPV4, 44, { registry });
    expect(packet.layers[1].checksum).toEqual({ status: 'unverified', value: 0xf2a0, reason: 'snaplen' });
  });

  it('decodes the tcpdump crash captures to the quoted UDP header', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return skip();
    for (const [file, icmpValue] of [['icmp-cksum-oobr-1.pcap', 0x90c2], ['icmp-cksum-oobr-3.pcapng', 0xf21b]] as const) {
      const [record] = readCaptureRecords(peerCapture(file));
      const packet = dissect(record.data, record.linktype, record.wireLength, { registry });
      expect(packet.layers.map((l) => l.proto).slice(1)).toEqual(['ipv4', 'icmp', 'ipv4', 'udp']);
      expect(packet.layers[2]).toMatchObject({ type: 3, code: 3, checksum: { value: icmpValue } });
      expect(packet.issues.filter((i) => i.message.includes('decoder failed'))).toEqual([]);
    }
  });
});
