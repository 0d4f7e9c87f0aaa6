import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeTcp } from '../../decoders/tcp.js';
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

// Packets built with scapy 2.5; checksums are scapy's, and tshark 4.0
// (tcp.check_checksum:TRUE) agrees: good for *_GOOD, bad [should be 0xa3fa]
// for TCP4_BAD, and for the offload ones bad [should be the good value].
// PAYLOAD = b'tunscope l4 test'
// OPTS = [('MSS', 1460), ('NOP', None), ('WScale', 7), ('SAckOK', b''), ('Timestamp', (123456, 654321)),
//         ('NOP', None), ('NOP', None), ('SAck', (1000, 2000, 3000, 4000))]

// IP(src=A4, dst=B4, id=5)/TCP(sport=443, dport=51000, seq=0x89abcdef, ack=0x01234567, flags='PA',
//    window=502, options=OPTS)/Raw(PAYLOAD)  -> data offset 15 (60 bytes), checksum 0xa3fb
const TCP4_GOOD = fromHex(`450000600005000040068e5cc0000201c633640201bbc73889abcdef01234567
  f01801f6a3fb0000020405b4010303070402080a0001e2400009fbf101010512
  000003e8000007d000000bb800000fa074756e73636f7065206c342074657374`);
// Last payload byte flipped; scapy on the modified packet: 0xa3fa.
const TCP4_BAD = fromHex(`450000600005000040068e5cc0000201c633640201bbc73889abcdef01234567
  f01801f6a3fb0000020405b4010303070402080a0001e2400009fbf101010512
  000003e8000007d000000bb800000fa074756e73636f7065206c342074657375`);
// chksum= the folded pseudo-header sum fold(c000+0201+c633+6402+0006+004c) = 0xec89
const TCP4_OFFLOAD = fromHex(`450000600005000040068e5cc0000201c633640201bbc73889abcdef01234567
  f01801f6ec890000020405b4010303070402080a0001e2400009fbf101010512
  000003e8000007d000000bb800000fa074756e73636f7065206c342074657374`);
// IP(src=A4, dst=B4, id=6)/TCP(sport=1234, dport=80, flags='NSE', window=1000)
// -> flags 0x142 (NS, ECE, SYN; tshark tcp.flags 0x0142), checksum 0xb961
const TCP4_NS = fromHex(`450000280006000040068e93c0000201c633640204d200500000000000000000
  514203e8b9610000`);
// IPv6(src=A6, dst=B6)/TCP(sport=22, dport=60000, seq=1, ack=2, flags='A', window=65535,
//      options=[('MSS', 1440)])/Raw(PAYLOAD)  -> checksum 0x5f0a
const TCP6_GOOD = fromHex(`600000000028064020010db800000000000000000000000120010db800000000
  00000000000000020016ea6000000001000000026010ffff5f0a0000020405a0
  74756e73636f7065206c342074657374`);
// chksum= the folded IPv6 pseudo-header sum, 0x5ba3
const TCP6_OFFLOAD = fromHex(`600000000028064020010db800000000000000000000000120010db800000000
  00000000000000020016ea6000000001000000026010ffff5ba30000020405a0
  74756e73636f7065206c342074657374`);

/** TCP4_NS's header with a 24-byte data offset and the given 4 option bytes (checksum not recomputed). */
function withOptions(options: string): Uint8Array {
  const bytes = new Uint8Array(44);
  bytes.set(TCP4_NS.subarray(0, 40));
  bytes[32] = 0x61; // data offset 6
  bytes.set(fromHex(options), 40);
  return bytes;
}

function tcpAt20(bytes: Uint8Array, upperLength: number, end = bytes.length) {
  const { ctx, issues } = decodeContext({ ip: ipv4Context(A4, B4, 6, upperLength) });
  return { result: decodeTcp(bytes, 20, end, ctx), issues };
}

describe('decodeTcp', () => {
  it('decodes the header, every option scapy wrote and a good checksum', () => {
    const { result, issues } = tcpAt20(TCP4_GOOD, 76);
    // Values as tshark shows them: hdr_len 60, flags 0x018, window 502, mss 1460, wscale 7,
    // TSval 123456, TSecr 654321, SACK 1000-2000 and 3000-4000, tcp.len 16.
    expect(result.layer).toEqual({
      proto: 'tcp', offset: 20, length: 60, srcPort: 443, dstPort: 51000, seq: 0x89abcdef, ack: 0x01234567,
      headerLength: 60, flags: 0x018, window: 502, checksum: { status: 'good', value: 0xa3fb }, urgentPointer: 0,
      options: [
        { kind: 2, length: 4, mss: 1460 },
        { kind: 1, length: 1 },
        { kind: 3, length: 3, windowScale: 7 },
        { kind: 4, length: 2, sackPermitted: true },
        { kind: 8, length: 10, timestamp: { value: 123456, echo: 654321 } },
        { kind: 1, length: 1 },
        { kind: 1, length: 1 },
        { kind: 5, length: 18, sack: [[1000, 2000], [3000, 4000]] },
      ],
      mss: 1460,
      payloadLength: 16,
    });
    expect(Object.keys(result.layer)).toEqual([
      'proto', 'offset', 'length', 'srcPort', 'dstPort', 'seq', 'ack', 'headerLength', 'flags', 'window',
      'checksum', 'urgentPointer', 'options', 'mss', 'payloadLength',
    ]);
    expect(result.next).toEqual({ table: 'tcp', key: 51000, alt: 443 });
    expect(issues).toEqual([]);
  });

  it('reads the NS flag as bit 8 and leaves out options when there are none', () => {
    const { result, issues } = tcpAt20(TCP4_NS, 20);
    expect(result.layer.flags).toBe(0x142);
    expect(result.layer.headerLength).toBe(20);
    expect(result.layer.checksum).toEqual({ status: 'good', value: 0xb961 });
    expect(result.layer).not.toHaveProperty('options');
    expect(result.layer).not.toHaveProperty('mss');
    expect(result.layer.payloadLength).toBe(0);
    expect(issues).toEqual([]);
  });

  it('reports a bad checksum and recognises offload', () => {
    const bad = tcpAt20(TCP4_BAD, 76);
    expect(bad.result.layer.checksum).toEqual({ status: 'bad', value: 0xa3fb, expected: 0xa3fa });
    expect(bad.issues).toEqual([{ layer: 0, kind: 'bad-checksum', message: 'tcp checksum 0xa3fb, expected 0xa3fa' }]);
    const offload = tcpAt20(TCP4_OFFLOAD, 76);
    expect(offload.result.layer.checksum).toEqual({ status: 'offload', value: 0xec89, expected: 0xa3fb });
    expect(offload.issues).toEqual([]);
  });

  it('verifies over IPv6', () => {
    const { ctx, issues } = decodeContext({ ip: ipv6Context(A6, B6, 6, 40) });
    const result = decodeTcp(TCP6_GOOD, 40, 80, ctx);
    expect(result.layer.checksum).toEqual({ status: 'good', value: 0x5f0a });
    expect(result.layer.mss).toBe(1440);
    expect(result.layer.payloadLength).toBe(16);
    expect(decodeTcp(TCP6_OFFLOAD, 40, 80, decodeContext({ ip: ipv6Context(A6, B6, 6, 40) }).ctx).layer.checksum)
      .toEqual({ status: 'offload', value: 0x5ba3, expected: 0x5f0a });
    expect(issues).toEqual([]);
  });

  it('recognises the partial checksum of a Linux GSO segment in a real capture', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return skip();
    // gso-ipv4-vxlan-ipv4.pcap: the inner IPv4 192.168.1.2 > 192.168.1.1 (total length 7042)
    // starts at 64, TCP at 84. tcpdump -v: "cksum 0x9ec8 (incorrect -> 0x6674) ... length 6990".
    const [record] = readCaptureRecords(peerCapture('gso-ipv4-vxlan-ipv4.pcap'));
    const ip = ipv4Context('192.168.1.2', '192.168.1.1', 6, 7042 - 20, { srcOffset: 76, dstOffset: 80 });
    const { ctx, issues } = decodeContext({ ip });
    const result = decodeTcp(record.data, 84, record.data.length, ctx);
    expect(result.layer).toMatchObject({
      srcPort: 37099, dstPort: 41547, seq: 1925567864, ack: 2614339187, flags: 0x018, window: 166, payloadLength: 6990,
      options: [{ kind: 1, length: 1 }, { kind: 1, length: 1 }, { kind: 8, length: 10, timestamp: { value: 3716023471, echo: 900070726 } }],
    });
    expect(result.layer.checksum).toEqual({ status: 'offload', value: 0x9ec8, expected: 0x6674 });
    expect(issues).toEqual([]);
  });

  it('leaves a segment cut by the snaplen unverified but still decodes the header', () => {
    const { result, issues } = tcpAt20(TCP4_GOOD, 76, 85);
    expect(result.layer.checksum).toEqual({ status: 'unverified', value: 0xa3fb, reason: 'snaplen' });
    expect(result.layer.payloadLength).toBe(16);
    expect(result.next).toEqual({ table: 'tcp', key: 51000, alt: 443 });
    expect(issues).toEqual([]);
  });

  it('computes payloadLength from the captured bytes without an IP header', () => {
    const { ctx } = decodeContext({ ip: null });
    const result = decodeTcp(TCP4_GOOD, 20, 96, ctx);
    expect(result.layer.payloadLength).toBe(16);
    expect(result.layer.checksum).toEqual({ status: 'unverified', value: 0xa3fb, reason: 'no-ip-header' });
  });

  it('calls a header length below 20 malformed', () => {
    const short = TCP4_NS.slice();
    short[32] = 0x41; // data offset 4
    const { result, issues } = tcpAt20(short, 20);
    expect(result.layer.headerLength).toBe(16);
    expect(result.layer.length).toBe(20);
    expect(result.next).toBeNull();
    expect(issues).toContainEqual({ layer: 0, kind: 'malformed', message: 'tcp header length 16 is less than 20' });
    // The checksum still covers the segment: the edited word fell by 0x1000, so the
    // correct checksum rises by 0x1000.
    expect(result.layer.checksum).toEqual({ status: 'bad', value: 0xb961, expected: 0xc961 });
  });

  it('stops at an option of length 0 instead of looping', () => {
    const { result, issues } = tcpAt20(withOptions('08 00 00 00'), 24);
    expect(result.layer).not.toHaveProperty('options');
    expect(issues).toContainEqual({ layer: 0, kind: 'malformed', message: 'tcp option kind 8 has length 0, less than 2' });
    const one = tcpAt20(withOptions('01 05 01 00'), 24);
    expect(one.result.layer.options).toEqual([{ kind: 1, length: 1 }]);
    expect(one.issues).toContainEqual({ layer: 0, kind: 'malformed', message: 'tcp option kind 5 has length 1, less than 2' });
  });

  it('stops at an option running past the header', () => {
    const { result, issues } = tcpAt20(withOptions('02 08 05 b4'), 24);
    expect(result.layer).not.toHaveProperty('options');
    expect(result.layer).not.toHaveProperty('mss');
    // The option starts 4 bytes before the end of the 24-byte header.
    expect(issues).toContainEqual({
      layer: 0, kind: 'malformed', message: 'tcp option kind 2 has length 8, past the end of the header', needed: 8, available: 4,
    });
    const noLength = tcpAt20(withOptions('01 01 01 02'), 24);
    expect(noLength.result.layer.options).toEqual([{ kind: 1, length: 1 }, { kind: 1, length: 1 }, { kind: 1, length: 1 }]);
    expect(noLength.issues).toContainEqual({
      layer: 0, kind: 'malformed', message: 'tcp option kind 2 has no length octet before the end of the header',
    });
  });

  it('steps over a known option of the wrong length without reading it', () => {
    const { result, issues } = tcpAt20(withOptions('02 03 05 01'), 24);
    expect(result.layer.options).toEqual([{ kind: 2, length: 3 }, { kind: 1, length: 1 }]);
    expect(result.layer).not.toHaveProperty('mss');
    expect(issues).toContainEqual({ layer: 0, kind: 'malformed', message: 'tcp option kind 2 has length 3' });
  });

  it('ends the walk at End of Option List', () => {
    const { result, issues } = tcpAt20(withOptions('01 00 02 04'), 24);
    expect(result.layer.options).toEqual([{ kind: 1, length: 1 }, { kind: 0, length: 1 }]);
    expect(issues.filter((i) => i.kind === 'malformed')).toEqual([]);
  });

  it('keeps unknown options as kind and length', () => {
    const { result } = tcpAt20(withOptions('fe 04 12 34'), 24);
    expect(result.layer.options).toEqual([{ kind: 254, length: 4 }]);
  });

  it('reports a header cut inside its options, keeping the options it could read', () => {
    const { result, issues } = tcpAt20(TCP4_GOOD, 76, 50);
    expect(result.layer.length).toBe(60);
    expect(result.layer.options).toEqual([
      { kind: 2, length: 4, mss: 1460 }, { kind: 1, length: 1 }, { kind: 3, length: 3, windowScale: 7 },
      { kind: 4, length: 2, sackPermitted: true },
    ]);
    expect(result.next).toBeNull();
    expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: 'tcp header needs 60 bytes, 30 captured', needed: 60, available: 30 }]);
  });

  it('reads the first 8 bytes an ICMP error quotes', () => {
    const { ctx, issues } = decodeContext({ ip: ipv4Context(A4, B4, 6, 76), quoted: true });
    const result = decodeTcp(TCP4_GOOD, 20, 28, ctx);
    expect(result.layer).toEqual({ proto: 'tcp', offset: 20, length: 8, srcPort: 443, dstPort: 51000, seq: 0x89abcdef });
    expect(result.next).toBeNull();
    expect(issues.map((i) => i.kind)).toEqual(['truncated']);
  });

  it('calls a header longer than the IP payload malformed', () => {
    const { issues } = tcpAt20(TCP4_GOOD, 40);
    expect(issues).toContainEqual({
      layer: 0, kind: 'malformed', message: 'tcp header length 60 exceeds the IP payload of 40 bytes', needed: 60, available: 40,
    });
  });

  it('never throws and reads nothing past end', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 40, maxLength: 140 }), fc.nat(100), fc.nat(100), fc.nat(0xffff),
      fc.boolean(), fc.boolean(), fc.boolean(),
      (bytes, a, b, upper, v6, verify, quoted) => {
        const offset = 40 + Math.min(a, b) % 60;
        const end = Math.min(bytes.length, 40 + Math.max(a, b));
        if (end < offset) return;
        const ip = v6 ? ipv6Context(A6, B6, 6, upper) : ipv4Context(A4, B4, 6, upper);
        const one = decodeTcp(bytes, offset, end, decodeContext({ ip, verify, quoted }).ctx);
        const changed = bytes.slice();
        for (let i = end; i < changed.length; i++) changed[i] ^= 0xff;
        expect(decodeTcp(changed, offset, end, decodeContext({ ip, verify, quoted }).ctx)).toEqual(one);
      },
    ));
  });
});

describe('TCP through the engine', () => {
  const registry = new Registry();
  const tcpOf = (bytes: Uint8Array, linktype: number, wire = bytes.length) => {
    const packet = dissect(bytes, linktype, wire, { registry });
    return { packet, tcp: packet.layers.find((l) => l.proto === 'tcp') };
  };

  it('decodes and verifies over IPv4 and IPv6', () => {
    const v4 = tcpOf(TCP4_GOOD, LINKTYPE_IPV4);
    expect(v4.packet.layers.map((l) => l.proto)).toEqual(['ipv4', 'tcp']);
    expect(v4.tcp?.checksum).toEqual({ status: 'good', value: 0xa3fb });
    expect(v4.tcp?.payloadLength).toBe(16);
    expect(v4.packet.issues).toEqual([]);
    const v6 = tcpOf(TCP6_GOOD, LINKTYPE_IPV6);
    expect(v6.tcp?.checksum).toEqual({ status: 'good', value: 0x5f0a });
    expect(v6.packet.issues).toEqual([]);
  });

  it('reports bad checksums and not offload', () => {
    const bad = tcpOf(TCP4_BAD, LINKTYPE_IPV4);
    expect(bad.packet.issues).toEqual([{ layer: 1, kind: 'bad-checksum', message: 'tcp checksum 0xa3fb, expected 0xa3fa' }]);
    const offload = tcpOf(TCP4_OFFLOAD, LINKTYPE_IPV4);
    expect(offload.tcp?.checksum).toEqual({ status: 'offload', value: 0xec89, expected: 0xa3fb });
    expect(offload.packet.issues).toEqual([]);
    expect(tcpOf(TCP6_OFFLOAD, LINKTYPE_IPV6).tcp?.checksum).toEqual({ status: 'offload', value: 0x5ba3, expected: 0x5f0a });
  });

  it('leaves a snaplen-cut segment unverified', () => {
    const { tcp } = tcpOf(TCP4_GOOD.subarray(0, 85), LINKTYPE_IPV4, 96);
    expect(tcp?.checksum).toEqual({ status: 'unverified', value: 0xa3fb, reason: 'snaplen' });
  });
});
