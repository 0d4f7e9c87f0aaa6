import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeUdp } from '../../decoders/udp.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { fromHex } from '../helpers/bytes.js';
import { decodeContext, ipv4Context, ipv6Context } from '../helpers/decode-context.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { havePeerCaptures, peerCapture, requireOrSkip } from '../helpers/tools.js';

const A4 = '192.0.2.1';
const B4 = '198.51.100.2';
const A6 = '2001:db8::1';
const B6 = '2001:db8::2';
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;

// Packets built with scapy 2.5; the checksums are scapy's. tshark 4.0 with
// udp.check_checksum:TRUE agrees on every good and bad verdict below (it has no
// notion of offload and calls those bad, with the same expected value).
// PAYLOAD = b'tunscope l4 test'

// IP(src=A4, dst=B4, id=1)/UDP(sport=40000, dport=53)/Raw(PAYLOAD)  -> checksum 0x83ed
const UDP4_GOOD = fromHex(`4500002c0001000040118e89c0000201c63364029c400035001883ed74756e73
  636f7065206c342074657374`);
// The same with the last payload byte flipped (0x74 -> 0x75); scapy on the modified packet: 0x83ec.
const UDP4_BAD = fromHex(`4500002c0001000040118e89c0000201c63364029c400035001883ed74756e73
  636f7065206c342074657375`);
// The same with chksum= the folded pseudo-header sum: fold(c000+0201+c633+6402+0011+0018) = 0xec60.
const UDP4_OFFLOAD = fromHex(`4500002c0001000040118e89c0000201c63364029c4000350018ec6074756e73
  636f7065206c342074657374`);
// UDP(sport=40000, dport=53, chksum=0)
const UDP4_ZERO = fromHex(`4500002c0001000040118e89c0000201c63364029c4000350018000074756e73
  636f7065206c342074657374`);
// IP(src=A4, dst=B4, id=2)/UDP(sport=40000, dport=9999)/Raw(bytes(range(200))), 228 bytes on the
// wire, 60 captured. Checksum 0x7b90.
const UDP4_SNAPLEN = fromHex(`450000e40002000040118dd0c0000201c63364029c40270f00d07b9000010203
  0405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f`);
// fragment(IP(src=A4, dst=B4, id=3)/UDP(sport=40000, dport=9999)/Raw(bytes(range(200))), fragsize=64)[0]
const UDP4_FIRST_FRAGMENT = fromHex(`450000540003200040116e5fc0000201c63364029c40270f00d07b9000010203
  0405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223
  2425262728292a2b2c2d2e2f3031323334353637`);
// ... [1]: fragment offset 64, no UDP header in it.
const UDP4_LATER_FRAGMENT = fromHex(`450000540003200840116e57c0000201c633640238393a3b3c3d3e3f40414243
  4445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60616263
  6465666768696a6b6c6d6e6f7071727374757677`);
// IP(src=A4, dst=B4, id=4)/UDP(sport=40000, dport=9999)/Raw(PAYLOAD + b'\x5d\x0f'): the last word
// makes the checksum compute to 0, which RFC 768 (and scapy) transmit as 0xffff.
const UDP4_FFFF = fromHex(`4500002e0004000040118e84c0000201c63364029c40270f001affff74756e73
  636f7065206c3420746573745d0f`);

// IPv6(src=A6, dst=B6)/UDP(sport=40000, dport=53)/Raw(PAYLOAD)  -> checksum 0x14b0
const UDP6_GOOD = fromHex(`600000000018114020010db800000000000000000000000120010db800000000
  00000000000000029c400035001814b074756e73636f7065206c342074657374`);
// Last byte flipped; scapy on the modified packet: 0x14af.
const UDP6_BAD = fromHex(`600000000018114020010db800000000000000000000000120010db800000000
  00000000000000029c400035001814b074756e73636f7065206c342074657375`);
// chksum= the folded IPv6 pseudo-header sum, 0x5b9e
const UDP6_OFFLOAD = fromHex(`600000000018114020010db800000000000000000000000120010db800000000
  00000000000000029c40003500185b9e74756e73636f7065206c342074657374`);
// IPv6(src=A6, dst=B6)/UDP(sport=40000, dport=53, chksum=0)/Raw(PAYLOAD)
const UDP6_ZERO_DNS = fromHex(`600000000018114020010db800000000000000000000000120010db800000000
  00000000000000029c4000350018000074756e73636f7065206c342074657374`);
// IPv6(src=A6, dst=B6)/UDP(sport=40000, dport=4789, chksum=0)/Raw(bytes(8) + PAYLOAD)
const UDP6_ZERO_VXLAN = fromHex(`600000000020114020010db800000000000000000000000120010db800000000
  00000000000000029c4012b500200000000000000000000074756e73636f7065
  206c342074657374`);
// fragment6(IPv6(src=A6, dst=B6)/IPv6ExtHdrFragment(id=0x1234)/UDP(sport=40000, dport=9999)
//           /Raw(bytes(range(200))), 120)[0]; UDP checksum 0x0c53
const UDP6_FIRST_FRAGMENT = fromHex(`6000000000502c4020010db800000000000000000000000120010db800000000
  000000000000000211000001000012349c40270f00d00c530001020304050607
  08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627
  28292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f`);

function udpAt20(bytes: Uint8Array, upperLength: number, extra = {}) {
  const { ctx, issues } = decodeContext({ ip: ipv4Context(A4, B4, 17, upperLength, extra) });
  return { result: decodeUdp(bytes, 20, bytes.length, ctx), issues };
}

function udpAt40(bytes: Uint8Array, upperLength: number) {
  const { ctx, issues } = decodeContext({ ip: ipv6Context(A6, B6, 17, upperLength) });
  return { result: decodeUdp(bytes, 40, bytes.length, ctx), issues };
}

describe('decodeUdp', () => {
  it('decodes the RFC 768 header and verifies a good checksum', () => {
    const { result, issues } = udpAt20(UDP4_GOOD, 24);
    expect(result.layer).toEqual({
      proto: 'udp', offset: 20, length: 24, srcPort: 40000, dstPort: 53, checksum: { status: 'good', value: 0x83ed },
    });
    // The order of the header, which is the order of the JSON output: Length after the ports.
    expect(Object.keys(result.layer)).toEqual(['proto', 'offset', 'srcPort', 'dstPort', 'length', 'checksum']);
    expect(result.payloadOffset).toBe(28);
    expect(result.payloadEnd).toBeUndefined();
    expect(result.next).toEqual({ table: 'udp', key: 53, alt: 40000 });
    expect(issues).toEqual([]);
  });

  it('reports a bad checksum with the value scapy computes for the modified packet', () => {
    const { result, issues } = udpAt20(UDP4_BAD, 24);
    expect(result.layer.checksum).toEqual({ status: 'bad', value: 0x83ed, expected: 0x83ec });
    expect(issues).toEqual([{ layer: 0, kind: 'bad-checksum', message: 'udp checksum 0x83ed, expected 0x83ec' }]);
  });

  it('recognises a CHECKSUM_PARTIAL field as offload, not an issue', () => {
    const { result, issues } = udpAt20(UDP4_OFFLOAD, 24);
    expect(result.layer.checksum).toEqual({ status: 'offload', value: 0xec60, expected: 0x83ed });
    expect(issues).toEqual([]);
  });

  it('accepts 0xffff for a checksum that computes to zero', () => {
    const { result, issues } = udpAt20(UDP4_FFFF, 26);
    expect(result.layer.checksum).toEqual({ status: 'good', value: 0xffff });
    expect(issues).toEqual([]);
  });

  it('treats checksum 0 over IPv4 as no checksum, without an issue', () => {
    const { result, issues } = udpAt20(UDP4_ZERO, 24);
    expect(result.layer.checksum).toEqual({ status: 'zero', value: 0 });
    expect(issues).toEqual([]);
  });

  it('flags checksum 0 over IPv6 except for RFC 6935 tunnel ports', () => {
    const dns = udpAt40(UDP6_ZERO_DNS, 24);
    expect(dns.result.layer.checksum).toEqual({ status: 'zero', value: 0 });
    expect(dns.issues.map((i) => i.kind)).toEqual(['zero-checksum']);

    const vxlan = udpAt40(UDP6_ZERO_VXLAN, 32);
    expect(vxlan.result.layer.checksum).toEqual({ status: 'zero', value: 0 });
    expect(vxlan.issues).toEqual([]);
    // The tunnel port may be the source port, as on the return path.
    const reversed = UDP6_ZERO_VXLAN.slice();
    reversed.set([0x12, 0xb5, 0x9c, 0x40], 40);
    expect(udpAt40(reversed, 32).issues).toEqual([]);
    for (const port of [8472, 4790, 6081]) {
      const other = UDP6_ZERO_VXLAN.slice();
      other[42] = port >> 8;
      other[43] = port & 0xff;
      expect(udpAt40(other, 32).issues).toEqual([]);
    }
  });

  it('verifies over IPv6 with its pseudo-header', () => {
    expect(udpAt40(UDP6_GOOD, 24).result.layer.checksum).toEqual({ status: 'good', value: 0x14b0 });
    const bad = udpAt40(UDP6_BAD, 24);
    expect(bad.result.layer.checksum).toEqual({ status: 'bad', value: 0x14b0, expected: 0x14af });
    expect(bad.issues[0].message).toBe('udp checksum 0x14b0, expected 0x14af');
    expect(udpAt40(UDP6_OFFLOAD, 24).result.layer.checksum).toEqual({ status: 'offload', value: 0x5b9e, expected: 0x14b0 });
  });

  it('leaves a datagram cut by the snaplen unverified', () => {
    const { result, issues } = udpAt20(UDP4_SNAPLEN, 208);
    expect(result.layer.length).toBe(208);
    expect(result.layer.checksum).toEqual({ status: 'unverified', value: 0x7b90, reason: 'snaplen' });
    expect(result.payloadEnd).toBeUndefined();
    expect(issues).toEqual([]);
  });

  it('leaves first and later fragments unverified', () => {
    const first = udpAt20(UDP4_FIRST_FRAGMENT, 64, { fragment: true });
    expect(first.result.layer.checksum).toEqual({ status: 'unverified', value: 0x7b90, reason: 'fragment' });
    // The Length covers the whole datagram, more than this fragment: not malformed.
    expect(first.issues).toEqual([]);
    const later = udpAt20(UDP4_LATER_FRAGMENT, 64, { fragment: true, laterFragment: true });
    expect(later.result.layer.checksum).toEqual({ status: 'unverified', value: 0x3e3f, reason: 'fragment' });
  });

  it('trims padding after the datagram with payloadEnd', () => {
    const padded = new Uint8Array(50);
    padded.set(UDP4_GOOD);
    const { result } = udpAt20(padded, 24);
    expect(result.payloadEnd).toBe(44);
    expect(result.layer.checksum).toEqual({ status: 'good', value: 0x83ed });
  });

  it('calls a Length below 8 malformed and stops', () => {
    const short = UDP4_GOOD.slice();
    short[25] = 4;
    const { result, issues } = udpAt20(short, 24);
    expect(result.layer.length).toBe(4);
    expect(result.next).toBeNull();
    expect(result.layer.checksum).toEqual({ status: 'unverified', value: 0x83ed, reason: 'malformed' });
    expect(issues).toEqual([{ layer: 0, kind: 'malformed', message: 'udp length 4 is less than the 8-byte header' }]);
  });

  it('calls a Length beyond the IP payload malformed', () => {
    const long = UDP4_GOOD.slice();
    long[25] = 48;
    const { result, issues } = udpAt20(long, 24);
    expect(issues).toEqual([{ layer: 0, kind: 'malformed', message: 'udp length 48 exceeds the IP payload of 24 bytes', needed: 48, available: 24 }]);
    expect(result.layer.checksum).toEqual({ status: 'unverified', value: 0x83ed, reason: 'malformed' });
    expect(result.next).toEqual({ table: 'udp', key: 53, alt: 40000 });
  });

  it('takes a Length of 0 in a super-packet from the IP payload (BIG TCP, RFC 2675)', () => {
    const jumbo = UDP4_GOOD.slice();
    jumbo[24] = 0;
    jumbo[25] = 0;
    const { result, issues } = udpAt20(jumbo, 24, { superPacket: true });
    expect(issues).toEqual([]);
    expect(result.layer.checksum).toEqual({ status: 'unverified', value: 0x83ed, reason: 'segmentation-offload' });
    expect(result.next).toEqual({ table: 'udp', key: 53, alt: 40000 });
    expect(result.payloadOffset).toBe(28);
    // Without a super-packet, Length 0 is simply too small.
    expect(udpAt20(jumbo, 24).issues.map((i) => i.kind)).toEqual(['malformed']);
  });

  it('recognises the partial checksum of a Linux GSO packet in a real capture', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return skip();
    // gso-ipv4-vxlan-ipv4.pcap: Ethernet, IPv4 10.25.132.11 > 10.25.132.13 total length 7092,
    // UDP at 34. tcpdump -vvv: "[bad udp cksum 0x37fc -> 0xcd08!]".
    const [record] = readCaptureRecords(peerCapture('gso-ipv4-vxlan-ipv4.pcap'));
    const ip = ipv4Context('10.25.132.11', '10.25.132.13', 17, 7092 - 20, { srcOffset: 26, dstOffset: 30 });
    const { ctx, issues } = decodeContext({ ip });
    const result = decodeUdp(record.data, 34, record.data.length, ctx);
    expect(result.layer).toMatchObject({ srcPort: 60345, dstPort: 4789, length: 7072 });
    expect(result.layer.checksum).toEqual({ status: 'offload', value: 0x37fc, expected: 0xcd08 });
    expect(issues).toEqual([]);
  });

  it('reports a truncated header with the fields it could read', () => {
    const { ctx, issues } = decodeContext({ ip: ipv4Context(A4, B4, 17, 24) });
    const result = decodeUdp(UDP4_GOOD, 20, 26, ctx);
    expect(result.layer).toEqual({ proto: 'udp', offset: 20, length: 24, srcPort: 40000, dstPort: 53 });
    expect(result.next).toBeNull();
    expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: 'udp header needs 8 bytes, 6 captured', needed: 8, available: 6 }]);
    const tiny = decodeUdp(UDP4_GOOD, 20, 23, decodeContext({ ip: null }).ctx);
    expect(tiny.layer).toEqual({ proto: 'udp', offset: 20, length: 3, srcPort: 40000 });
  });

  it('does not verify when told not to, inside a quoted packet, or without an IP header', () => {
    const { ctx: off, issues } = decodeContext({ ip: ipv4Context(A4, B4, 17, 24), verify: false });
    expect(decodeUdp(UDP4_BAD, 20, 44, off).layer.checksum).toEqual({ status: 'unverified', value: 0x83ed, reason: 'disabled' });
    expect(decodeUdp(UDP4_ZERO, 20, 44, off).layer.checksum).toEqual({ status: 'unverified', value: 0, reason: 'disabled' });
    expect(issues).toEqual([]);
    // Quoted by an ICMP error and cut short: `quoted`; quoted whole: verified.
    const quoted = decodeContext({ ip: ipv4Context(A4, B4, 17, 24), quoted: true });
    expect(decodeUdp(UDP4_BAD, 20, 40, quoted.ctx).layer.checksum).toEqual({ status: 'unverified', value: 0x83ed, reason: 'quoted' });
    expect(quoted.issues).toEqual([]);
    expect(decodeUdp(UDP4_BAD, 20, 44, quoted.ctx).layer.checksum).toMatchObject({ status: 'bad', value: 0x83ed });
    expect(decodeUdp(UDP4_GOOD, 20, 44, decodeContext({ ip: null }).ctx).layer.checksum)
      .toEqual({ status: 'unverified', value: 0x83ed, reason: 'no-ip-header' });
  });

  it('never throws and reads nothing past end', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 40, maxLength: 120 }), fc.nat(80), fc.nat(80), fc.nat(0xffff),
      fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(),
      (bytes, a, b, upper, v6, verify, quoted, fragment, superPacket) => {
        const offset = 40 + Math.min(a, b) % 40;
        const end = Math.min(bytes.length, 40 + Math.max(a, b) % 80);
        if (end < offset) return;
        const ip = v6
          ? ipv6Context(A6, B6, 17, upper, { fragment, superPacket })
          : ipv4Context(A4, B4, 17, upper, { fragment, superPacket });
        const one = decodeUdp(bytes, offset, end, decodeContext({ ip, verify, quoted }).ctx);
        const changed = bytes.slice();
        for (let i = end; i < changed.length; i++) changed[i] ^= 0xff;
        const two = decodeUdp(changed, offset, end, decodeContext({ ip, verify, quoted }).ctx);
        expect(two).toEqual(one);
      },
    ));
  });
});

describe('UDP through the engine', () => {
  const registry = new Registry();
  const udpLayer = (bytes: Uint8Array, linktype: number, wire = bytes.length) => {
    const packet = dissect(bytes, linktype, wire, { registry });
    return { packet, udp: packet.layers.find((l) => l.proto === 'udp') };
  };

  it('verifies IPv4 and IPv6 checksums', () => {
    const v4 = udpLayer(UDP4_GOOD, LINKTYPE_IPV4);
    expect(v4.packet.layers.map((l) => l.proto)).toEqual(['ipv4', 'udp']);
    expect(v4.udp?.checksum).toEqual({ status: 'good', value: 0x83ed });
    expect(v4.packet.issues).toEqual([]);
    const v6 = udpLayer(UDP6_GOOD, LINKTYPE_IPV6);
    expect(v6.udp?.checksum).toEqual({ status: 'good', value: 0x14b0 });
    expect(v6.packet.issues).toEqual([]);
  });

  it('reports bad checksums on the UDP layer', () => {
    const { packet, udp } = udpLayer(UDP4_BAD, LINKTYPE_IPV4);
    expect(udp?.checksum).toEqual({ status: 'bad', value: 0x83ed, expected: 0x83ec });
    expect(packet.issues).toEqual([{ layer: 1, kind: 'bad-checksum', message: 'udp checksum 0x83ed, expected 0x83ec' }]);
    expect(udpLayer(UDP6_BAD, LINKTYPE_IPV6).udp?.checksum).toEqual({ status: 'bad', value: 0x14b0, expected: 0x14af });
  });

  it('recognises offload over both IP versions', () => {
    const v4 = udpLayer(UDP4_OFFLOAD, LINKTYPE_IPV4);
    expect(v4.udp?.checksum).toEqual({ status: 'offload', value: 0xec60, expected: 0x83ed });
    expect(v4.packet.issues).toEqual([]);
    expect(udpLayer(UDP6_OFFLOAD, LINKTYPE_IPV6).udp?.checksum).toEqual({ status: 'offload', value: 0x5b9e, expected: 0x14b0 });
  });

  it('treats zero checksums per IP version and port', () => {
    const v4 = udpLayer(UDP4_ZERO, LINKTYPE_IPV4);
    expect(v4.udp?.checksum).toEqual({ status: 'zero', value: 0 });
    expect(v4.packet.issues).toEqual([]);
    const dns = udpLayer(UDP6_ZERO_DNS, LINKTYPE_IPV6);
    expect(dns.udp?.checksum).toEqual({ status: 'zero', value: 0 });
    expect(dns.packet.issues.map((i) => [i.layer, i.kind])).toEqual([[1, 'zero-checksum']]);
    const vxlan = udpLayer(UDP6_ZERO_VXLAN, LINKTYPE_IPV6);
    expect(vxlan.udp?.checksum).toEqual({ status: 'zero', value: 0 });
    expect(vxlan.packet.issues.filter((i) => i.kind === 'zero-checksum')).toEqual([]);
  });

  it('leaves snaplen-cut datagrams and fragments unverified', () => {
    expect(udpLayer(UDP4_SNAPLEN, LINKTYPE_IPV4, 228).udp?.checksum)
      .toEqual({ status: 'unverified', value: 0x7b90, reason: 'snaplen' });
    expect(udpLayer(UDP4_FIRST_FRAGMENT, LINKTYPE_IPV4).udp?.checksum)
      .toEqual({ status: 'unverified', value: 0x7b90, reason: 'fragment' });
    expect(udpLayer(UDP6_FIRST_FRAGMENT, LINKTYPE_IPV6).udp?.checksum)
      .toEqual({ status: 'unverified', value: 0x0c53, reason: 'fragment' });
    // A later fragment carries no UDP header: the IP layer ends the packet.
    expect(udpLayer(UDP4_LATER_FRAGMENT, LINKTYPE_IPV4).udp).toBeUndefined();
  });

  it('takes the length of a BIG TCP super-packet from IP (UDP Length 0)', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return skip();
    // bigtcp-ipv4-vxlan-ipv4.pcap: IPv4 total length 0 over 80102 bytes, UDP Length 0.
    const [record] = readCaptureRecords(peerCapture('bigtcp-ipv4-vxlan-ipv4.pcap'));
    const packet = dissect(record.data, record.linktype, record.wireLength, { registry });
    const index = packet.layers.findIndex((l) => l.proto === 'udp');
    expect(packet.layers[index]).toMatchObject({
      length: 0, dstPort: 4789, checksum: { status: 'unverified', reason: 'segmentation-offload' },
    });
    expect(packet.layers[index + 1].proto).toBe('vxlan');
    expect(packet.issues.filter((i) => i.layer === index)).toEqual([]);
  });
});
