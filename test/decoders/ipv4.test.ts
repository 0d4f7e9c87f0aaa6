import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeIPv4 } from '../../decoders/ipv4.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import type { IpContext } from '../../decoders/types.js';
import { concat, fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { havePeerCaptures, peerCapture, requireOrSkip } from '../helpers/tools.js';

// Header vectors written by scapy 2.5 (bytes(IP(...))), checksums included.
// IP(src='192.0.2.1', dst='198.51.100.7', id=0x1c46, flags='DF', ttl=64, proto=6, tos=0xb9)/Raw(b'\0'*20)
const GOOD = '45b900281c46400040063195c0000201c6336407';
// The same with chksum=0x1234; scapy computes 0x3195 for it.
const BAD = '45b900281c46400040061234c0000201c6336407';
// IP(src='10.0.0.1', dst='10.0.0.2', ttl=1, proto=2,
//    options=[IPOption_Router_Alert(), IPOption_NOP(), IPOption_EOL()])/Raw(b'\0'*8): IHL 7.
const OPTIONS = '470000240001000001020ed10a0000010a000002 94040000 01 00 0000';
// IP(src='10.0.0.1', dst='10.0.0.2', id=7, flags='MF', frag=185, proto=17)/Raw(b'\0'*8)
const LATER_FRAGMENT = '4500001c000720b94011460f0a0000010a000002';
// IP(src='10.0.0.1', dst='10.0.0.2', id=7, flags='MF', frag=0, proto=17, len=28)
const FIRST_FRAGMENT = '4500001c00072000401146c80a0000010a000002';
// IP(src='192.0.2.1', dst='192.0.2.2', proto=17, id=1, len=N) for the N in the name.
const LEN = {
  0: '45000000000100004011f6e8c0000201c0000202',
  10: '4500000a000100004011f6dec0000201c0000202',
  40: '45000028000100004011f6c0c0000201c0000202',
  100: '45000064000100004011f684c0000201c0000202',
  1500: '450005dc000100004011f10cc0000201c0000202',
  7000: '45001b58000100004011db90c0000201c0000202',
  12336: '45003030000100004011c6b8c0000201c0000202',
  64000: '4500fa00000100004011fce7c0000201c0000202',
};

const SUPER_IP: IpContext = {
  version: 4, srcOffset: 0, dstOffset: 0, src: '', dst: '', protocol: 17, upperLength: 0,
  fragment: false, laterFragment: false, superPacket: true,
};

describe('decodeIPv4', () => {
  it('decodes every field of a header with a good checksum', () => {
    const bytes = concat(fromHex(GOOD), new Uint8Array(20));
    const { ctx, issues } = decodeContext();
    const r = decodeIPv4(bytes, 0, bytes.length, ctx);
    expect(r.layer).toEqual({
      proto: 'ipv4', offset: 0, length: 20, version: 4, headerLength: 20, dscp: 46, ecn: 1, totalLength: 40, id: 0x1c46,
      df: true, mf: false, fragmentOffset: 0, ttl: 64, protocol: 6, checksum: { status: 'good', value: 0x3195 },
      src: '192.0.2.1', dst: '198.51.100.7',
    });
    expect(Object.keys(r.layer)).toEqual(['proto', 'offset', 'length', 'version', 'headerLength', 'dscp', 'ecn', 'totalLength',
      'id', 'df', 'mf', 'fragmentOffset', 'ttl', 'protocol', 'checksum', 'src', 'dst']);
    expect(r.next).toEqual({ table: 'ipproto', key: 6 });
    expect(r.payloadEnd).toBeUndefined();
    expect(issues).toEqual([]);
  });

  it('returns the IP context with address offsets into the record', () => {
    const bytes = concat(new Uint8Array(14), fromHex(GOOD), new Uint8Array(20));
    const r = decodeIPv4(bytes, 14, bytes.length, decodeContext().ctx);
    expect(r.ip).toEqual({
      version: 4, srcOffset: 26, dstOffset: 30, src: '192.0.2.1', dst: '198.51.100.7', protocol: 6, upperLength: 20,
      fragment: false, laterFragment: false, superPacket: false,
    });
    expect(Array.from(bytes.subarray(r.ip!.srcOffset, r.ip!.srcOffset + 4))).toEqual([192, 0, 2, 1]);
    expect(Array.from(bytes.subarray(r.ip!.dstOffset, r.ip!.dstOffset + 4))).toEqual([198, 51, 100, 7]);
  });

  it('reports a bad header checksum with the value scapy computes', () => {
    const bytes = concat(fromHex(BAD), new Uint8Array(20));
    const { ctx, issues } = decodeContext();
    const r = decodeIPv4(bytes, 0, bytes.length, ctx);
    expect(r.layer.checksum).toEqual({ status: 'bad', value: 0x1234, expected: 0x3195 });
    expect(issues).toEqual([{ layer: 0, kind: 'bad-checksum', message: 'ipv4 checksum 0x1234, expected 0x3195' }]);
    expect(r.next).toEqual({ table: 'ipproto', key: 6 });
  });

  it('leaves the checksum unverified when verification is off', () => {
    const bytes = concat(fromHex(BAD), new Uint8Array(20));
    const { ctx, issues } = decodeContext({ verify: false });
    expect(decodeIPv4(bytes, 0, bytes.length, ctx).layer.checksum).toEqual({ status: 'unverified', value: 0x1234, reason: 'disabled' });
    expect(issues).toEqual([]);
  });

  it('still verifies the header of a packet an ICMP error quotes, and takes its cut payload quietly', () => {
    // The quote holds the header and 8 bytes of a 40-byte datagram.
    const bad = concat(fromHex(BAD), new Uint8Array(8));
    const quoted = decodeContext({ quoted: true });
    const r = decodeIPv4(bad, 0, bad.length, quoted.ctx);
    expect(r.layer.checksum).toEqual({ status: 'bad', value: 0x1234, expected: 0x3195 });
    expect(quoted.issues.map((i) => i.kind)).toEqual(['bad-checksum']);
    expect(r.ip!.superPacket).toBe(false);
    const good = concat(fromHex(GOOD), new Uint8Array(8));
    const again = decodeContext({ quoted: true });
    expect(decodeIPv4(good, 0, good.length, again.ctx).layer.checksum).toEqual({ status: 'good', value: 0x3195 });
    expect(again.issues).toEqual([]);
  });

  it('walks the options and verifies the checksum over the whole header', () => {
    const bytes = concat(fromHex(OPTIONS), new Uint8Array(8));
    const { ctx, issues } = decodeContext();
    const r = decodeIPv4(bytes, 0, bytes.length, ctx);
    expect(r.layer.headerLength).toBe(28);
    expect(r.layer.length).toBe(28);
    expect(r.layer.options).toEqual([{ type: 148, length: 4 }, { type: 1, length: 1 }, { type: 0, length: 1 }]);
    expect(Object.keys(r.layer).slice(-3)).toEqual(['src', 'dst', 'options']);
    expect(r.layer.checksum).toEqual({ status: 'good', value: 0x0ed1 });
    expect(r.ip!.upperLength).toBe(8);
    expect(issues).toEqual([]);
  });

  it('stops walking at a malformed option', () => {
    // The header of OPTIONS with other option bytes. The checksum no longer
    // matches, so verification is off: only the option verdict is under test.
    const header = '470000240001000001020ed10a0000010a000002';
    const cases: [string, unknown[], string, { needed: number; available: number }?][] = [
      // Record Route (7) with length 0.
      ['0700000000000000', [], 'ipv4 option 7 length 0 does not fit the 8 option bytes left'],
      // Record Route claiming 40 bytes of the 8 there are.
      ['0728000000000000', [], 'ipv4 option 7 length 40 does not fit the 8 option bytes left', { needed: 40, available: 8 }],
      // Seven NOPs, then option 0x44 (timestamp) in the header's last byte, with no room for its length.
      ['0101010101010144', Array.from({ length: 7 }, () => ({ type: 1, length: 1 })),
        'ipv4 option 68 has no length octet inside the header'],
    ];
    for (const [options, walked, message, lengths] of cases) {
      const bytes = concat(fromHex(header + options), new Uint8Array(8));
      const { ctx, issues } = decodeContext({ verify: false });
      const r = decodeIPv4(bytes, 0, bytes.length, ctx);
      expect(r.layer.options).toEqual(walked);
      expect(issues).toEqual([{ layer: 0, kind: 'malformed', message, ...lengths }]);
      // The header length still locates the payload.
      expect(r.next).toEqual({ table: 'ipproto', key: 2 });
      expect(r.layer.length).toBe(28);
    }
  });

  it('decodes DF and MF, counts the fragment offset in bytes and decodes only a first fragment\'s upper header', () => {
    const later = concat(fromHex(LATER_FRAGMENT), new Uint8Array(8));
    const r = decodeIPv4(later, 0, later.length, decodeContext().ctx);
    expect(r.layer).toMatchObject({ df: false, mf: true, fragmentOffset: 1480, protocol: 17, checksum: { status: 'good' } });
    expect(r.next).toBeNull();
    expect(r.ip).toMatchObject({ fragment: true, laterFragment: true });

    const first = concat(fromHex(FIRST_FRAGMENT), new Uint8Array(8));
    const f = decodeIPv4(first, 0, first.length, decodeContext().ctx);
    expect(f.layer).toMatchObject({ mf: true, fragmentOffset: 0, checksum: { status: 'good' } });
    expect(f.next).toEqual({ table: 'ipproto', key: 17 });
    expect(f.ip).toMatchObject({ fragment: true, laterFragment: false });
  });

  it('rejects a version other than 4 and a header length under 20', () => {
    const v6 = fromHex('65b900281c46400040063195c0000201c6336407');
    const a = decodeContext();
    const r = decodeIPv4(v6, 0, v6.length, a.ctx);
    expect(r.next).toBeNull();
    expect(r.layer).toMatchObject({ version: 6, length: 20 });
    expect(a.issues).toEqual([{ layer: 0, kind: 'malformed', message: 'ipv4 header with version 6' }]);

    const short = fromHex('44b900281c46400040063195c0000201c6336407');
    const b = decodeContext();
    expect(decodeIPv4(short, 0, short.length, b.ctx).next).toBeNull();
    expect(b.issues).toEqual([{ layer: 0, kind: 'malformed', message: 'ipv4 header length 16 is less than 20' }]);
  });

  it('rejects a total length smaller than the header', () => {
    for (const len of [10, 0] as const) {
      const bytes = fromHex(LEN[len]);
      const { ctx, issues } = decodeContext();
      const r = decodeIPv4(bytes, 0, bytes.length, ctx);
      expect(r.next).toBeNull();
      expect(r.layer.checksum).toMatchObject({ status: 'good' });
      expect(issues).toEqual([{ layer: 0, kind: 'malformed', message: `ipv4 total length ${len} is less than the 20-byte header` }]);
    }
  });

  it('ends the payload at the total length, before link padding', () => {
    const bytes = concat(new Uint8Array(14), fromHex(LEN[40]), new Uint8Array(26));
    const { ctx, issues } = decodeContext();
    const r = decodeIPv4(bytes, 14, bytes.length, ctx);
    expect(r.payloadEnd).toBe(14 + 40);
    expect(issues).toEqual([]);
  });

  it('takes a total length beyond the snapshot length as ordinary truncation', () => {
    // 1500-byte datagram in a 1514-byte frame, 54 bytes captured.
    const bytes = concat(new Uint8Array(14), fromHex(LEN[1500]), new Uint8Array(20));
    const { ctx, issues } = decodeContext({ wireLength: 1514 });
    const r = decodeIPv4(bytes, 14, bytes.length, ctx);
    expect(issues).toEqual([]);
    expect(r.payloadEnd).toBeUndefined();
    expect(r.ip).toMatchObject({ upperLength: 1480, superPacket: false });
    expect(r.next).toEqual({ table: 'ipproto', key: 17 });
  });

  it('reports a total length the frame on the wire could not hold', () => {
    // A 60-byte frame, all captured, claiming a 100-byte datagram.
    const bytes = concat(fromHex(LEN[100]), new Uint8Array(40));
    const { ctx, issues } = decodeContext({ wireLength: 60 });
    const r = decodeIPv4(bytes, 0, bytes.length, ctx);
    expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: 'ipv4 total length 100 exceeds the 60 bytes the frame holds', needed: 100, available: 60 }]);
    expect(r.ip!.superPacket).toBe(false);
  });

  it('takes a total length of 0 with bytes after the header as a TSO super-packet', () => {
    const bytes = concat(fromHex(LEN[0]), new Uint8Array(3000));
    const { ctx, issues } = decodeContext();
    const r = decodeIPv4(bytes, 0, bytes.length, ctx);
    expect(issues).toHaveLength(1);
    expect(issues[0].kind).toBe('segmentation-offload');
    expect(issues[0].message).toContain('TSO');
    expect(r.ip).toMatchObject({ superPacket: true, upperLength: 3000 });
    expect(r.layer.checksum).toEqual({ status: 'good', value: 0xf6e8 });
    expect(r.next).toEqual({ table: 'ipproto', key: 17 });
  });

  it('takes a total length beyond an uncut frame larger than the MTU as a GSO super-packet', () => {
    const bytes = concat(fromHex(LEN[7000]), new Uint8Array(2980));
    const { ctx, issues } = decodeContext({ wireLength: 3000 });
    const r = decodeIPv4(bytes, 0, bytes.length, ctx);
    expect(issues.map((i) => i.kind)).toEqual(['segmentation-offload']);
    expect(issues[0].message).toContain('GSO');
    expect(r.ip).toMatchObject({ superPacket: true, upperLength: 6980 });
  });

  it('takes a snapshot of a frame larger than any link carries, whose total length fills it, as a super-packet', () => {
    const bytes = concat(new Uint8Array(14), fromHex(LEN[64000]), new Uint8Array(100));
    const { ctx, issues } = decodeContext({ wireLength: 64014 });
    const r = decodeIPv4(bytes, 14, bytes.length, ctx);
    expect(issues.map((i) => i.kind)).toEqual(['segmentation-offload']);
    expect(issues[0].message).toContain('GSO/GRO');
    expect(r.ip!.superPacket).toBe(true);
    expect(r.layer.checksum).toEqual({ status: 'good', value: 0xfce7 });
  });

  it('does not call a huge frame a super-packet when the total length does not fill it', () => {
    // The wire length of ../shared/peer-captures/tcpdump/gre-heapoverflow-2.pcap: 262144, a fuzzed value.
    const bytes = concat(new Uint8Array(14), fromHex(LEN[12336]), new Uint8Array(100));
    const { ctx, issues } = decodeContext({ wireLength: 262144 });
    expect(decodeIPv4(bytes, 14, bytes.length, ctx).ip!.superPacket).toBe(false);
    expect(issues).toEqual([]);
  });

  it('carries an enclosing super-packet into a tunnelled header', () => {
    const bytes = concat(fromHex(LEN[1500]), new Uint8Array(100));
    const { ctx, issues } = decodeContext({ ip: SUPER_IP, tunnelled: true });
    const r = decodeIPv4(bytes, 0, bytes.length, ctx);
    expect(r.ip!.superPacket).toBe(true);
    expect(issues.map((i) => i.kind)).toEqual(['segmentation-offload']);
  });

  it('reports truncation at every length below the header length without throwing', () => {
    const plain = concat(fromHex(GOOD), new Uint8Array(20));
    for (let n = 0; n < 20; n++) {
      const { ctx, issues } = decodeContext();
      const r = decodeIPv4(plain, 0, n, ctx);
      expect(r.next).toBeNull();
      expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: `ipv4 header needs 20 bytes, ${n} captured`, needed: 20, available: n }]);
      expect(r.layer.version).toBe(n >= 1 ? 4 : undefined);
      expect(r.layer.totalLength).toBe(n >= 4 ? 40 : undefined);
      expect(r.layer.protocol).toBe(n >= 10 ? 6 : undefined);
      expect(r.layer.checksum).toEqual(n >= 12 ? { status: 'unverified', value: 0x3195, reason: 'snaplen' } : undefined);
      expect(r.layer.src).toBe(n >= 16 ? '192.0.2.1' : undefined);
      expect(r.layer.dst).toBeUndefined();
    }
    const withOptions = concat(fromHex(OPTIONS), new Uint8Array(8));
    for (let n = 0; n < 28; n++) {
      const { ctx, issues } = decodeContext();
      const r = decodeIPv4(withOptions, 0, n, ctx);
      const needed = n === 0 ? 20 : 28;
      expect(r.next).toBeNull();
      expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: `ipv4 header needs ${needed} bytes, ${n} captured`, needed, available: n }]);
      expect(r.layer.length).toBe(n === 0 ? 0 : 28);
      if (n >= 20) expect(r.layer.checksum).toEqual({ status: 'unverified', value: 0x0ed1, reason: 'snaplen' });
    }
  });

  it('never throws on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(100000), fc.boolean(), (bytes, wire, quoted) => {
      const { ctx } = decodeContext({ wireLength: wire, quoted });
      const r = decodeIPv4(bytes, 0, bytes.length, ctx);
      expect(r.layer.proto).toBe('ipv4');
      if (r.payloadEnd !== undefined) expect(r.payloadEnd).toBeLessThanOrEqual(bytes.length);
    }));
  });
});

describe('decodeIPv4 on the tcpdump segmentation-offload captures', () => {
  const registry = new Registry();

  it('ipv4_tcp_http_xml_tso.pcap: total length 0, a TSO super-packet, checksum left for the NIC', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return skip();
    const [rec] = readCaptureRecords(peerCapture('ipv4_tcp_http_xml_tso.pcap'));
    expect(rec.data.length).toBe(rec.wireLength);
    const { ctx, issues } = decodeContext({ wireLength: rec.wireLength });
    const r = decodeIPv4(rec.data, 14, rec.data.length, ctx);
    // tshark: "Total Length: 2016 bytes (reported as 0 ... TSO)", TCP segment 1976 + 20-byte TCP header.
    expect(r.ip).toMatchObject({ superPacket: true, upperLength: 1996, src: '30.7.181.121', dst: '199.43.68.163' });
    // tshark -o ip.check_checksum:TRUE: "0x0000 incorrect, should be 0xd8df".
    expect(r.layer.checksum).toEqual({ status: 'offload', value: 0, expected: 0xd8df });
    expect(issues.map((i) => i.kind)).toEqual(['segmentation-offload']);
    expect(issues[0].message).toContain('TSO');
  });

  it('bigtcp-ipv4-vxlan-ipv4.pcap: both headers are super-packets, neither malformed nor truncated', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return skip();
    const [rec] = readCaptureRecords(peerCapture('bigtcp-ipv4-vxlan-ipv4.pcap'));
    const packet = dissect(rec.data, rec.linktype, rec.wireLength, { registry });
    const ipLayers = packet.layers.map((l, i) => [l, i] as const).filter(([l]) => l.proto === 'ipv4');
    expect(ipLayers.map(([l]) => l.offset)).toEqual([14, 64]);
    // Both header checksums are correct (tshark for the outer, scapy for both: 0xf279, 0x3c78).
    expect(ipLayers.map(([l]) => l.checksum)).toEqual([{ status: 'good', value: 0xf279 }, { status: 'good', value: 0x3c78 }]);
    for (const [, index] of ipLayers) {
      const kinds = packet.issues.filter((i) => i.layer === index).map((i) => i.kind);
      expect(kinds).toEqual(['segmentation-offload']);
    }
    const outer = decodeIPv4(rec.data, 14, rec.data.length, decodeContext({ wireLength: rec.wireLength }).ctx);
    // tshark: "Total Length: 80102 bytes (reported as 0 ...)".
    expect(outer.ip).toMatchObject({ superPacket: true, upperLength: 80102 - 20 });
  });

  it('gso-ipv4-vxlan-ipv4.pcap: total lengths that fit the frame are not a super-packet at the IP layer', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return skip();
    const [rec] = readCaptureRecords(peerCapture('gso-ipv4-vxlan-ipv4.pcap'));
    const packet = dissect(rec.data, rec.linktype, rec.wireLength, { registry });
    const ipLayers = packet.layers.map((l, i) => [l, i] as const).filter(([l]) => l.proto === 'ipv4');
    // tcpdump: "length 7092" and "length 7042"; tshark: both header checksums correct.
    expect(ipLayers.map(([l]) => [l.totalLength, l.checksum])).toEqual([
      [7092, { status: 'good', value: 0x1507 }],
      [7042, { status: 'good', value: 0x73f8 }],
    ]);
    for (const [, index] of ipLayers) expect(packet.issues.filter((i) => i.layer === index)).toEqual([]);
    const outer = decodeIPv4(rec.data, 14, rec.data.length, decodeContext({ wireLength: rec.wireLength }).ctx);
    expect(outer.ip).toMatchObject({ superPacket: false, upperLength: 7072 });
  });
});
