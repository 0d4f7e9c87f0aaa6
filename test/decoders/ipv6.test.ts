import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeIPv6 } from '../../decoders/ipv6.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import type { IpContext } from '../../decoders/types.js';
import { concat, fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { havePeerCaptures, peerCapture, requireOrSkip } from '../helpers/tools.js';

const SRC = '20010db8000000000000000000000001'; // 2001:db8::1
const DST = '20010db8000000000000000000000002'; // 2001:db8::2

// scapy: IPv6(src='2001:db8::1', dst='2001:db8::2', tc=0xb8, fl=0x12345, hlim=33)/IPv6ExtHdrHopByHop()
//   /IPv6ExtHdrRouting(addresses=['2001:db8::99'])/IPv6ExtHdrFragment(offset=0, m=1, id=0x12345678)
//   /IPv6ExtHdrDestOpt()/UDP(sport=1000, dport=2000)/Raw(b'abcd')
const CHAIN = `6b812345003c0021 ${SRC} ${DST}`
  + ' 2b00010400000000' // hop-by-hop: next routing, Hdr Ext Len 0, PadN
  + ' 2c02000000000000 20010db8000000000000000000000099' // routing: next fragment, Hdr Ext Len 2, type 0, segments left 0
  + ' 3c00000112345678' // fragment: next destination, offset 0, M=1, id 0x12345678
  + ' 1100010400000000' // destination options: next UDP
  + ' 03e807d0000cd34b 61626364';
// scapy: IPv6(src, dst)/IPv6ExtHdrFragment(offset=100, m=0, id=0x99, nh=17)/Raw(b'\0'*16)
const LATER_FRAGMENT = `6000000000182c40 ${SRC} ${DST} 1100032000000099 ${'00'.repeat(16)}`;
// scapy: IPv6(src, dst, plen=0)/IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=70000)])/TCP()
const JUMBO = `6000000000000040 ${SRC} ${DST} 0600c20400011170 00140050000000000000000050022000340a0000`;

function header(payloadLength: number, nextHeader: number): string {
  const plen = payloadLength.toString(16).padStart(4, '0');
  const nh = nextHeader.toString(16).padStart(2, '0');
  return `60000000${plen}${nh}40 ${SRC} ${DST}`;
}

const SUPER_IP: IpContext = {
  version: 6, srcOffset: 0, dstOffset: 0, src: '', dst: '', protocol: 17, upperLength: 0,
  fragment: false, laterFragment: false, superPacket: true,
};

describe('decodeIPv6', () => {
  it('decodes the fixed header and walks an extension chain to the upper layer', () => {
    const bytes = fromHex(CHAIN);
    const { ctx, issues } = decodeContext();
    const r = decodeIPv6(bytes, 0, bytes.length, ctx);
    expect(r.layer).toEqual({
      proto: 'ipv6', offset: 0, length: 88, version: 6, trafficClass: 0xb8, flowLabel: 0x12345, payloadLength: 60,
      nextHeader: 0, hopLimit: 33, src: '2001:db8::1', dst: '2001:db8::2',
      extensions: [
        { type: 'hop-by-hop', nextHeader: 43, length: 8 },
        { type: 'routing', nextHeader: 44, length: 24, routingType: 0, segmentsLeft: 0 },
        { type: 'fragment', nextHeader: 60, length: 8, fragmentOffset: 0, mf: true, id: 0x12345678 },
        { type: 'destination', nextHeader: 17, length: 8 },
      ],
      protocol: 17,
    });
    expect(Object.keys(r.layer)).toEqual(['proto', 'offset', 'length', 'version', 'trafficClass', 'flowLabel', 'payloadLength',
      'nextHeader', 'hopLimit', 'src', 'dst', 'extensions', 'protocol']);
    expect(r.next).toEqual({ table: 'ipproto', key: 17 });
    expect(r.ip).toEqual({
      version: 6, srcOffset: 8, dstOffset: 24, src: '2001:db8::1', dst: '2001:db8::2', protocol: 17, upperLength: 12,
      fragment: true, laterFragment: false, superPacket: false,
    });
    expect(issues).toEqual([]);
  });

  it('points the address offsets into the record', () => {
    const bytes = concat(new Uint8Array(14), fromHex(CHAIN));
    const r = decodeIPv6(bytes, 14, bytes.length, decodeContext().ctx);
    expect(r.ip).toMatchObject({ srcOffset: 22, dstOffset: 38 });
    expect(bytes[r.ip!.srcOffset + 15]).toBe(1);
    expect(bytes[r.ip!.dstOffset + 15]).toBe(2);
  });

  it('leaves out extensions when there are none', () => {
    const bytes = fromHex(header(8, 17) + '03e807d00008 0000');
    const r = decodeIPv6(bytes, 0, bytes.length, decodeContext().ctx);
    expect(r.layer.extensions).toBeUndefined();
    expect(r.layer).toMatchObject({ length: 40, protocol: 17 });
    expect(r.ip).toMatchObject({ upperLength: 8, fragment: false });
  });

  it('stops after a later fragment\'s header', () => {
    const bytes = fromHex(LATER_FRAGMENT);
    const { ctx, issues } = decodeContext();
    const r = decodeIPv6(bytes, 0, bytes.length, ctx);
    expect(r.layer.extensions).toEqual([{ type: 'fragment', nextHeader: 17, length: 8, fragmentOffset: 800, mf: false, id: 0x99 }]);
    expect(r.layer).toMatchObject({ length: 48, protocol: 17 });
    expect(r.next).toBeNull();
    expect(r.ip).toMatchObject({ fragment: true, laterFragment: true, upperLength: 16 });
    expect(issues).toEqual([]);
  });

  it('stops at any other next header, such as AH', () => {
    const bytes = concat(fromHex(header(16, 51)), new Uint8Array(16));
    const r = decodeIPv6(bytes, 0, bytes.length, decodeContext().ctx);
    expect(r.layer.extensions).toBeUndefined();
    expect(r.next).toEqual({ table: 'ipproto', key: 51 });
  });

  it('names nothing after next header 59, and a padded empty packet is not a super-packet', () => {
    // An empty IPv6 packet in a minimum Ethernet frame: 6 bytes of padding.
    const bytes = concat(fromHex(header(0, 59)), new Uint8Array(6));
    const { ctx, issues } = decodeContext();
    const r = decodeIPv6(bytes, 0, bytes.length, ctx);
    expect(r.next).toBeNull();
    expect(r.ip!.superPacket).toBe(false);
    expect(issues).toEqual([]);
  });

  it('ends the payload at the payload length, before link padding', () => {
    const bytes = concat(new Uint8Array(14), fromHex(header(8, 17)), new Uint8Array(8), new Uint8Array(10));
    const r = decodeIPv6(bytes, 14, bytes.length, decodeContext().ctx);
    expect(r.payloadEnd).toBe(14 + 48);
  });

  it('stops a 20-deep extension chain after 16 headers as malformed', () => {
    const chain: string[] = [];
    for (let i = 0; i < 20; i++) chain.push(`${i === 19 ? '11' : '3c'}00010400000000`);
    const bytes = concat(fromHex(header(20 * 8 + 8, 60) + chain.join('')), new Uint8Array(8));
    const { ctx, issues } = decodeContext();
    const started = Date.now();
    const r = decodeIPv6(bytes, 0, bytes.length, ctx);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(issues).toEqual([{ layer: 0, kind: 'malformed', message: 'ipv6 has more than 16 extension headers' }]);
    expect(r.layer.extensions).toHaveLength(16);
    expect(r.layer.length).toBe(40 + 16 * 8);
    expect(r.next).toBeNull();
  });

  it('rejects a hop-by-hop header after another extension header (RFC 8200 section 4.1)', () => {
    const bytes = fromHex(header(16, 60) + '0000010400000000 1100010400000000');
    const { ctx, issues } = decodeContext();
    const r = decodeIPv6(bytes, 0, bytes.length, ctx);
    expect(issues).toEqual([{ layer: 0, kind: 'malformed', message: 'ipv6 hop-by-hop header after another extension header' }]);
    expect(r.layer.extensions).toEqual([{ type: 'destination', nextHeader: 0, length: 8 }]);
    expect(r.next).toBeNull();
  });

  it('rejects an extension header that runs past the payload length', () => {
    // Payload length 8, but the routing header says it is 24 bytes.
    const bytes = concat(fromHex(header(8, 43) + '1102000100000000'), new Uint8Array(16));
    const { ctx, issues } = decodeContext();
    const r = decodeIPv6(bytes, 0, bytes.length, ctx);
    expect(issues).toEqual([{ layer: 0, kind: 'malformed', message: 'ipv6 routing header runs past the payload length 8', needed: 24, available: 8 }]);
    expect(r.next).toBeNull();
  });

  it('reports an extension header cut by the capture', () => {
    const full = fromHex(CHAIN);
    // Cut inside the routing header: 10 of its 24 bytes captured.
    const cut = full.subarray(0, 40 + 8 + 10);
    const { ctx, issues } = decodeContext({ wireLength: full.length });
    const r = decodeIPv6(cut, 0, cut.length, ctx);
    expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: 'ipv6 routing header needs 24 bytes, 10 captured', needed: 24, available: 10 }]);
    expect(r.next).toBeNull();
    expect(r.layer.extensions).toEqual([{ type: 'hop-by-hop', nextHeader: 43, length: 8 }, { type: 'routing', nextHeader: 44, length: 24 }]);
    // Cut after one byte of the hop-by-hop header: its length is unknown.
    const tiny = full.subarray(0, 41);
    const t = decodeContext({ wireLength: full.length });
    expect(decodeIPv6(tiny, 0, tiny.length, t.ctx).layer.extensions).toBeUndefined();
    expect(t.issues).toEqual([{ layer: 0, kind: 'truncated', message: 'ipv6 hop-by-hop header needs 8 bytes, 1 captured', needed: 8, available: 1 }]);
  });

  it('rejects a version other than 6', () => {
    const bytes = fromHex(CHAIN.replace(/^6b/, '4b'));
    const { ctx, issues } = decodeContext();
    const r = decodeIPv6(bytes, 0, bytes.length, ctx);
    expect(issues).toEqual([{ layer: 0, kind: 'malformed', message: 'ipv6 header with version 4' }]);
    expect(r.next).toBeNull();
  });

  it('reports truncation at every length below 40 without throwing', () => {
    const bytes = fromHex(CHAIN);
    for (let n = 0; n < 40; n++) {
      const { ctx, issues } = decodeContext();
      const r = decodeIPv6(bytes, 0, n, ctx);
      expect(r.next).toBeNull();
      expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: `ipv6 header needs 40 bytes, ${n} captured`, needed: 40, available: n }]);
      expect(r.layer.version).toBe(n >= 1 ? 6 : undefined);
      expect(r.layer.flowLabel).toBe(n >= 4 ? 0x12345 : undefined);
      expect(r.layer.payloadLength).toBe(n >= 6 ? 60 : undefined);
      expect(r.layer.hopLimit).toBe(n >= 8 ? 33 : undefined);
      expect(r.layer.src).toBe(n >= 24 ? '2001:db8::1' : undefined);
      expect(r.layer.dst).toBeUndefined();
    }
  });

  it('takes a payload length beyond the snapshot length as ordinary truncation', () => {
    const bytes = concat(new Uint8Array(14), fromHex(header(1460, 6)), new Uint8Array(20));
    const { ctx, issues } = decodeContext({ wireLength: 1514 });
    const r = decodeIPv6(bytes, 14, bytes.length, ctx);
    expect(issues).toEqual([]);
    expect(r.ip).toMatchObject({ upperLength: 1460, superPacket: false });
    expect(r.next).toEqual({ table: 'ipproto', key: 6 });
  });

  it('reports a payload length the frame on the wire could not hold', () => {
    const bytes = concat(fromHex(header(100, 17)), new Uint8Array(20));
    const { ctx, issues } = decodeContext({ wireLength: 60 });
    decodeIPv6(bytes, 0, bytes.length, ctx);
    expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: 'ipv6 packet needs 140 bytes, the frame holds 60', needed: 140, available: 60 }]);
  });

  it('takes a Jumbo Payload option as a BIG TCP super-packet', () => {
    const bytes = fromHex(JUMBO);
    const { ctx, issues } = decodeContext();
    const r = decodeIPv6(bytes, 0, bytes.length, ctx);
    expect(r.layer.extensions).toEqual([{ type: 'hop-by-hop', nextHeader: 6, length: 8, jumboPayloadLength: 70000 }]);
    expect(r.ip).toMatchObject({ superPacket: true, upperLength: 70000 - 8, protocol: 6 });
    expect(issues.map((i) => i.kind)).toEqual(['segmentation-offload']);
    expect(issues[0].message).toContain('BIG TCP');
    expect(r.next).toEqual({ table: 'ipproto', key: 6 });
  });

  it('takes payload length 0 with bytes after the header as a BIG TCP super-packet', () => {
    const bytes = concat(fromHex(header(0, 6)), new Uint8Array(70000));
    const { ctx, issues } = decodeContext();
    const r = decodeIPv6(bytes, 0, bytes.length, ctx);
    expect(r.ip).toMatchObject({ superPacket: true, upperLength: 70000 });
    expect(issues.map((i) => i.kind)).toEqual(['segmentation-offload']);
    expect(issues[0].message).toContain('BIG TCP');
  });

  it('carries an enclosing super-packet into a tunnelled header', () => {
    const bytes = concat(fromHex(header(4000, 6)), new Uint8Array(100));
    const { ctx, issues } = decodeContext({ ip: SUPER_IP, tunnelled: true });
    expect(decodeIPv6(bytes, 0, bytes.length, ctx).ip!.superPacket).toBe(true);
    expect(issues.map((i) => i.kind)).toEqual(['segmentation-offload']);
  });

  it('takes a quoted packet\'s cut payload quietly', () => {
    const bytes = concat(fromHex(header(1000, 17)), new Uint8Array(8));
    const { ctx, issues } = decodeContext({ quoted: true });
    const r = decodeIPv6(bytes, 0, bytes.length, ctx);
    expect(issues).toEqual([]);
    expect(r.ip).toMatchObject({ superPacket: false, upperLength: 1000 });
    expect(r.next).toEqual({ table: 'ipproto', key: 17 });
  });

  it('never throws on any bytes', () => {
    const headerAndChain = fc.tuple(fc.constantFrom(0, 43, 44, 60, 17, 59), fc.uint8Array({ maxLength: 120 }));
    fc.assert(fc.property(headerAndChain, fc.nat(200000), fc.boolean(), ([nh, rest], wire, quoted) => {
      const bytes = concat(fromHex(header(rest.length, nh)), rest);
      const { ctx } = decodeContext({ wireLength: wire, quoted });
      const r = decodeIPv6(bytes, 0, bytes.length, ctx);
      expect(r.layer.length).toBeGreaterThanOrEqual(40);
    }));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      expect(decodeIPv6(bytes, 0, bytes.length, decodeContext().ctx).layer.proto).toBe('ipv6');
    }));
  });
});

describe('decodeIPv6 on the tcpdump captures', () => {
  const registry = new Registry();

  function ipv6Layers(file: string) {
    const [rec] = readCaptureRecords(peerCapture(file));
    const packet = dissect(rec.data, rec.linktype, rec.wireLength, { registry });
    const layers = packet.layers.map((l, i) => [l, i] as const).filter(([l]) => l.proto === 'ipv6');
    return { rec, packet, layers };
  }

  it('bigtcp-ipv6-geneve-ipv6.pcap: payload length 0 in both headers, both super-packets', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return skip();
    const { rec, packet, layers } = ipv6Layers('bigtcp-ipv6-geneve-ipv6.pcap');
    // tcpdump -v: "next-header UDP (17) payload length: 0"; the inner header (at 84) says the same for TCP.
    expect(layers.map(([l]) => [l.offset, l.payloadLength, l.protocol])).toEqual([[14, 0, 17], [84, 0, 6]]);
    for (const [, index] of layers) {
      expect(packet.issues.filter((i) => i.layer === index).map((i) => i.kind)).toEqual(['segmentation-offload']);
    }
    const outer = decodeIPv6(rec.data, 14, rec.data.length, decodeContext({ wireLength: rec.wireLength }).ctx);
    expect(outer.ip).toMatchObject({ superPacket: true, upperLength: 80156 - 14 - 40 });
  });

  it('gso-ipv6-vxlan-ipv6.pcap: payload lengths that fit the frame are not a super-packet at the IP layer', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return skip();
    const { rec, packet, layers } = ipv6Layers('gso-ipv6-vxlan-ipv6.pcap');
    // tcpdump -v: "payload length: 4176" outside, "payload length: 4106" inside.
    expect(layers.map(([l]) => l.payloadLength)).toEqual([4176, 4106]);
    for (const [, index] of layers) expect(packet.issues.filter((i) => i.layer === index)).toEqual([]);
    const outer = decodeIPv6(rec.data, 14, rec.data.length, decodeContext({ wireLength: rec.wireLength }).ctx);
    expect(outer.ip).toMatchObject({ superPacket: false, upperLength: 4176 });
  });

  it('ip6_frag_asan.pcap: a fragment header cut by the snapshot length, no crash', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return skip();
    const { packet, layers } = ipv6Layers('ip6_frag_asan.pcap');
    expect(layers).toHaveLength(1);
    const [[layer, index]] = layers;
    // tshark: "Packet size limited during capture: IPv6 Fragment truncated".
    expect(layer).toMatchObject({ payloadLength: 27136, nextHeader: 44, hopLimit: 16 });
    expect(packet.issues.filter((i) => i.layer === index)).toEqual([
      { layer: index, kind: 'truncated', message: 'ipv6 fragment header needs 8 bytes, 6 captured', needed: 8, available: 6 },
    ]);
  });
});
