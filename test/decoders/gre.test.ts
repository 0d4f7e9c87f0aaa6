import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeGre } from '../../decoders/gre.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import type { IpContext, Layer, Packet } from '../../decoders/types.js';
import { fromHex, internetChecksum } from '../helpers/bytes.js';
import { decodeContext, ipv4Context } from '../helpers/decode-context.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { havePeerCaptures, peerCapture, requireOrSkip } from '../helpers/tools.js';

/**
 * The IP context the IPv4 decoder hands GRE, for a GRE packet of `upperLength`
 * bytes. GRE reads only that length and the fragment and offload flags, so
 * the addresses are placeholders.
 */
function ipv4AroundGre(upperLength: number, extra: Partial<IpContext> = {}): IpContext {
  return ipv4Context('0.0.0.0', '0.0.0.0', 47, upperLength, { srcOffset: 0, dstOffset: 4, ...extra });
}

// A 20-byte IPv4 header (10.0.0.1 -> 10.0.0.2, id 9) to carry as payload.
const INNER_IPV4 = fromHex('4500001400090000400066df0a0000010a000002');

/** A version 0 GRE packet with the given flags around INNER_IPV4, checksum filled in when C is set. */
function gre0(c: boolean, k: boolean, s: boolean): Uint8Array {
  const head: number[] = [(c ? 0x80 : 0) | (k ? 0x20 : 0) | (s ? 0x10 : 0), 0x00, 0x08, 0x00];
  if (c) head.push(0, 0, 0, 0);
  if (k) head.push(0x0a, 0x0b, 0x0c, 0x0d);
  if (s) head.push(0xf1, 0x02, 0x03, 0x04);
  const bytes = new Uint8Array(head.length + INNER_IPV4.length);
  bytes.set(head);
  bytes.set(INNER_IPV4, head.length);
  if (c) {
    const sum = internetChecksum(bytes);
    bytes[4] = sum >> 8;
    bytes[5] = sum & 0xff;
  }
  return bytes;
}

describe('decodeGre, version 0 (RFC 2784, RFC 2890)', () => {
  const combos: [boolean, boolean, boolean][] = [];
  for (const c of [false, true]) for (const k of [false, true]) for (const s of [false, true]) combos.push([c, k, s]);

  it.each(combos)('C=%s K=%s S=%s: reads each optional field where the flags put it', (c, k, s) => {
    const bytes = gre0(c, k, s);
    const { ctx, issues } = decodeContext({ ip: ipv4AroundGre(bytes.length) });
    const { layer, next } = decodeGre(bytes, 0, bytes.length, ctx);
    const headerLength = 4 + (c ? 4 : 0) + (k ? 4 : 0) + (s ? 4 : 0);
    expect(layer.length).toBe(headerLength);
    expect(layer.version).toBe(0);
    expect(layer.checksumPresent).toBe(c);
    expect(layer.routingPresent).toBe(false);
    expect(layer.keyPresent).toBe(k);
    expect(layer.sequencePresent).toBe(s);
    expect(layer.protocolType).toBe(0x0800);
    expect(layer.key).toBe(k ? 0x0a0b0c0d : undefined);
    // 0xf1020304 has the top bit set: the value must stay unsigned.
    expect(layer.sequence).toBe(s ? 0xf1020304 : undefined);
    if (c) expect(layer.checksum).toEqual({ status: 'good', value: (bytes[4] << 8) | bytes[5] });
    else expect(layer.checksum).toBeUndefined();
    expect(next).toEqual({ table: 'gre', key: 0x0800 });
    expect(issues).toEqual([]);
  });

  it('puts proto, offset and length first, then the fields in header order', () => {
    const bytes = gre0(true, true, true);
    const { layer } = decodeGre(bytes, 0, bytes.length, decodeContext({ ip: ipv4AroundGre(bytes.length) }).ctx);
    expect(Object.keys(layer)).toEqual([
      'proto', 'offset', 'length', 'version', 'checksumPresent', 'routingPresent', 'keyPresent', 'sequencePresent',
      'reserved0', 'protocolType', 'checksum', 'key', 'sequence',
    ]);
  });

  it('reads a header that starts inside the buffer', () => {
    const packet = gre0(false, true, true);
    const bytes = new Uint8Array(10 + packet.length);
    bytes.fill(0xee, 0, 10);
    bytes.set(packet, 10);
    const { layer } = decodeGre(bytes, 10, bytes.length, decodeContext().ctx);
    expect(layer.offset).toBe(10);
    expect(layer.length).toBe(12);
    expect(layer.key).toBe(0x0a0b0c0d);
    expect(layer.sequence).toBe(0xf1020304);
  });

  // GRE(chksum_present=1, key_present=1, seqnum_present=1, key=0xdeadbeef, sequence_number=7)/IP()/ICMP()
  // from scapy; tshark reads checksum 0xaa5a as good, key 0xdeadbeef, sequence 7.
  const SCAPY_CKS = fromHex('b0000800aa5a0000deadbeef000000074500001c00010000400166de0a0000010a0000020800f7fd00010001');

  it('agrees with scapy and tshark on a C, K and S header', () => {
    const { ctx } = decodeContext({ ip: ipv4AroundGre(SCAPY_CKS.length) });
    const { layer, next } = decodeGre(SCAPY_CKS, 0, SCAPY_CKS.length, ctx);
    expect(layer).toMatchObject({ length: 16, key: 0xdeadbeef, sequence: 7, checksum: { status: 'good', value: 0xaa5a } });
    expect(next).toEqual({ table: 'gre', key: 0x0800 });
  });

  it('agrees with scapy and tshark on a checksummed transparent Ethernet bridging header', () => {
    // scapy: GRE(chksum_present=1, proto=0x6558)/Ether()/IP(); tshark: checksum 0x0ea4 good.
    const bytes = fromHex('800065580ea4000002000000000202000000000108004500001400020000400074e30101010102020202');
    const { layer, next } = decodeGre(bytes, 0, bytes.length, decodeContext({ ip: ipv4AroundGre(bytes.length) }).ctx);
    expect(layer.checksum).toEqual({ status: 'good', value: 0x0ea4 });
    expect(layer.length).toBe(8);
    expect(next).toEqual({ table: 'gre', key: 0x6558 });
  });

  it('reports a bad checksum with the value that would be right', () => {
    const bytes = SCAPY_CKS.slice();
    bytes[5] ^= 0xff;
    const { ctx, issues } = decodeContext({ ip: ipv4AroundGre(bytes.length) });
    const { layer } = decodeGre(bytes, 0, bytes.length, ctx);
    expect(layer.checksum).toEqual({ status: 'bad', value: 0xaaa5, expected: 0xaa5a });
    expect(issues).toEqual([{ layer: 0, kind: 'bad-checksum', message: 'GRE checksum 0xaaa5, expected 0xaa5a' }]);
  });

  it('leaves the checksum unverified when the packet was cut, fragmented, quoted or verification is off', () => {
    const n = SCAPY_CKS.length;
    const cases: [Parameters<typeof decodeContext>[0], string][] = [
      [{ ip: ipv4AroundGre(n + 100) }, 'snaplen'],
      [{ ip: ipv4AroundGre(n, { fragment: true }) }, 'fragment'],
      [{ ip: ipv4AroundGre(n, { superPacket: true }) }, 'segmentation-offload'],
      [{ ip: ipv4AroundGre(n + 100), quoted: true }, 'quoted'],
      [{ ip: ipv4AroundGre(n), verify: false }, 'disabled'],
      // No IP header around it: the record is shorter than the frame was.
      [{ wireLength: n + 1 }, 'snaplen'],
    ];
    for (const [options, reason] of cases) {
      const { ctx, issues } = decodeContext(options);
      const { layer } = decodeGre(SCAPY_CKS, 0, n, ctx);
      expect(layer.checksum).toEqual({ status: 'unverified', value: 0xaa5a, reason });
      expect(issues).toEqual([]);
    }
  });

  it('verifies without an IP header when the whole frame was captured', () => {
    const { layer } = decodeGre(SCAPY_CKS, 0, SCAPY_CKS.length, decodeContext({ wireLength: SCAPY_CKS.length }).ctx);
    expect(layer.checksum).toEqual({ status: 'good', value: 0xaa5a });
  });

  it('keeps RFC 1701 s, Recur and Flags bits in reserved0', () => {
    // s=1, Recur=7, Flags=0x1f, Ver=0: bits 4-12 all set.
    const bytes = fromHex('0ff80800');
    const { layer } = decodeGre(bytes, 0, 4, decodeContext().ctx);
    expect(layer.reserved0).toBe(0x1ff);
    expect(layer.version).toBe(0);
    expect(layer.length).toBe(4);
  });
});

describe('decodeGre, routing (RFC 1701)', () => {
  // tshark: Offset 4; SRE address family 2048, SRE offset 4, SRE length 8; then the null SRE; then IP.
  const ROUTED = fromHex('400008000000000408000408c6336401c6336402000000004500001400090000400066df0a0000010a000002');

  it('walks the source route entries to the null SRE', () => {
    const { ctx, issues } = decodeContext({ ip: ipv4AroundGre(ROUTED.length) });
    const { layer, next } = decodeGre(ROUTED, 0, ROUTED.length, ctx);
    expect(layer.routingPresent).toBe(true);
    expect(layer.routingOffset).toBe(4);
    expect(layer.routing).toEqual([{ addressFamily: 0x0800, sreOffset: 4, sreLength: 8 }]);
    // A checksum field is present with R alone, but holds no checksum.
    expect(layer.checksum).toBeUndefined();
    expect(layer.length).toBe(24);
    expect(next).toEqual({ table: 'gre', key: 0x0800 });
    expect(issues).toEqual([]);
  });

  it('checks a checksum that covers the routing too', () => {
    // C and R; tshark says the zero checksum should be 0x25fa.
    const bytes = fromHex('c000080000000000080000040a000001000000004500001400090000400066df0a0000010a000002');
    const { ctx } = decodeContext({ ip: ipv4AroundGre(bytes.length) });
    expect(decodeGre(bytes, 0, bytes.length, ctx).layer.checksum).toEqual({ status: 'bad', value: 0, expected: 0x25fa });
    bytes[4] = 0x25;
    bytes[5] = 0xfa;
    const { layer } = decodeGre(bytes, 0, bytes.length, decodeContext({ ip: ipv4AroundGre(bytes.length) }).ctx);
    expect(layer.checksum).toEqual({ status: 'good', value: 0x25fa });
    expect(layer.routing).toEqual([{ addressFamily: 0x0800, sreOffset: 0, sreLength: 4 }]);
    expect(layer.length).toBe(20);
  });

  it('reports a routing field cut short as truncated', () => {
    for (let n = 8; n < 24; n++) {
      const { ctx, issues } = decodeContext();
      const { layer, next } = decodeGre(ROUTED, 0, n, ctx);
      expect(next).toBeNull();
      expect(layer.length).toBe(n);
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatchObject({ kind: 'truncated', available: n });
      // Each step of the walk knows a little more of what the header needs.
      expect(issues[0].needed).toBe(n < 12 ? 12 : n < 20 ? 20 : 24);
    }
  });

  it('stops a list of SREs that never ends', () => {
    const bytes = new Uint8Array(8 + 4 * 40);
    bytes.set([0x40, 0x00, 0x08, 0x00]);
    for (let i = 8; i < bytes.length; i += 4) bytes.set([0x00, 0x01, 0x00, 0x00], i);
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeGre(bytes, 0, bytes.length, ctx);
    expect(next).toBeNull();
    expect((layer.routing as unknown[]).length).toBe(16);
    expect(issues.map((i) => i.kind)).toEqual(['malformed']);
  });
});

describe('decodeGre, version 1 (RFC 2637 enhanced GRE)', () => {
  // scapy: GRE_PPTP(seqnum_present=1, acknum_present=1, seqence_number=5, ack_number=4, call_id=0x1234)/PPP(proto=0x21)/IP()
  // tshark: flags 0x3081, payload length 21, call ID 4660, sequence 5, ack 4, PPP protocol 0x0021.
  const PPTP_SA = fromHex('3081880b001512340000000500000004214500001400030000400074e20101010102020202');

  it('reads payload length, call ID, sequence and acknowledgment numbers', () => {
    const { ctx, issues } = decodeContext();
    const { layer, next, payloadEnd } = decodeGre(PPTP_SA, 0, PPTP_SA.length, ctx);
    expect(layer).toMatchObject({
      version: 1, keyPresent: true, sequencePresent: true, ackPresent: true, reserved0: 0, protocolType: 0x880b,
      payloadLength: 21, callId: 0x1234, sequence: 5, ack: 4, length: 16,
    });
    expect(layer.key).toBeUndefined();
    expect(next).toEqual({ table: 'gre', key: 0x880b });
    expect(payloadEnd).toBeUndefined();
    expect(issues).toEqual([]);
  });

  it('ends the payload where the payload length says', () => {
    const bytes = new Uint8Array(PPTP_SA.length + 6);
    bytes.set(PPTP_SA);
    expect(decodeGre(bytes, 0, bytes.length, decodeContext().ctx).payloadEnd).toBe(16 + 21);
  });

  it('reads a data packet without acknowledgment', () => {
    // The first GRE packet of pptp.pcap: flags 0x3001, payload length 48, call ID 0, sequence 0.
    const bytes = fromHex('3001880b0030000000000000ff03c021');
    const { layer, next } = decodeGre(bytes, 0, bytes.length, decodeContext().ctx);
    expect(layer).toMatchObject({ ackPresent: false, payloadLength: 48, callId: 0, sequence: 0, length: 12 });
    expect(layer.ack).toBeUndefined();
    expect(next).toEqual({ table: 'gre', key: 0x880b });
  });

  it('reads an acknowledgment without payload and names nothing after it', () => {
    // scapy: GRE_PPTP(acknum_present=1, ack_number=9, call_id=7); tshark: flags 0x2081, ack 9, call ID 7.
    const bytes = fromHex('2081880b0000000700000009');
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeGre(bytes, 0, bytes.length, ctx);
    expect(layer).toMatchObject({ sequencePresent: false, ackPresent: true, payloadLength: 0, callId: 7, ack: 9, length: 12 });
    expect(layer.sequence).toBeUndefined();
    expect(next).toBeNull();
    expect(issues).toEqual([]);
  });

  it('does not take the A bit of a version 0 header', () => {
    const { layer } = decodeGre(fromHex('2080080000000001'), 0, 8, decodeContext().ctx);
    expect(layer.ackPresent).toBeUndefined();
    expect(layer.reserved0).toBe(0x10);
    expect(layer.length).toBe(8);
  });

  it('calls a version 1 header without the key bit malformed', () => {
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeGre(fromHex('1001880b00000003ff03c021'), 0, 12, ctx);
    expect(issues.map((i) => i.kind)).toEqual(['malformed']);
    expect(layer.sequence).toBe(3);
    expect(next).toEqual({ table: 'gre', key: 0x880b });
  });

  it('calls a version 1 header with another protocol type malformed', () => {
    const { ctx, issues } = decodeContext();
    decodeGre(fromHex('30010800000000010000000045'), 0, 13, ctx);
    expect(issues.map((i) => i.kind)).toEqual(['malformed']);
  });
});

describe('decodeGre, malformed and truncated input', () => {
  it.each([2, 3, 4, 5, 6, 7])('calls version %i malformed and names nothing after it', (version) => {
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeGre(new Uint8Array([0x20, version, 0x08, 0x00, 0, 0, 0, 1]), 0, 8, ctx);
    expect(layer.version).toBe(version);
    expect(layer.protocolType).toBe(0x0800);
    expect(next).toBeNull();
    expect(issues).toHaveLength(1);
    expect(issues[0].kind).toBe('malformed');
    expect(issues[0].message).toContain(`version ${version}`);
  });

  const full = gre0(true, true, true).slice(0, 16);
  const pptp = fromHex('3081880b0015123400000005000000042145');

  it.each(Array.from({ length: 16 }, (_, n) => n))('reports %i bytes of a 16-byte header as truncated', (n) => {
    for (const bytes of [full, pptp]) {
      const { ctx, issues } = decodeContext();
      const result = decodeGre(bytes, 0, n, ctx);
      expect(result.next).toBeNull();
      expect(result.layer.length).toBe(n);
      expect(issues).toEqual([
        { layer: 0, kind: 'truncated', message: `GRE header needs ${n < 4 ? 4 : 16} bytes, ${n} captured`, needed: n < 4 ? 4 : 16, available: n },
      ]);
    }
  });

  it('keeps the fields that were captured before the cut', () => {
    const { layer } = decodeGre(full, 0, 13, decodeContext().ctx);
    expect(layer.key).toBe(0x0a0b0c0d);
    expect(layer.sequence).toBeUndefined();
    expect(layer.checksum).toEqual({ status: 'unverified', value: (full[4] << 8) | full[5], reason: 'snaplen' });
  });

  it('never throws and stays inside [offset, end) on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), fc.nat(8), (body, start) => {
      const bytes = new Uint8Array(start + body.length + 16).fill(0x5a);
      bytes.set(body, start);
      const end = start + body.length;
      const { ctx } = decodeContext({ ip: ipv4AroundGre(body.length) });
      const { layer, payloadEnd } = decodeGre(bytes, start, end, ctx);
      expect(layer.offset).toBe(start);
      expect(layer.offset + layer.length).toBeLessThanOrEqual(end);
      if (payloadEnd !== undefined) expect(payloadEnd).toBeLessThanOrEqual(end);
      // Bytes past `end` must not change the result.
      const again = bytes.slice(0, end);
      expect(decodeGre(again, start, end, decodeContext({ ip: ipv4AroundGre(body.length) }).ctx).layer).toEqual(layer);
    }), { numRuns: 500 });
  });
});

function layersOf(packet: Packet, proto: string): Layer[] {
  return packet.layers.filter((l) => l.proto === proto);
}

describe('GRE in tcpdump\'s test captures, read through the engine', () => {
  const registry = new Registry();

  it('various_gre.pcap: keyed GRE with key 0x28 and the protocol types tshark shows', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) skip();
    const records = readCaptureRecords(peerCapture('various_gre.pcap'));
    const types = new Map<number, number>();
    let greFrames = 0;
    for (const record of records) {
      const packet = dissect(record.data, record.linktype, record.wireLength, { registry });
      const gre = layersOf(packet, 'gre');
      if (gre.length === 0) continue;
      greFrames++;
      // tshark: Flags and Version 0x2000, Key 0x00000028 on every GRE header.
      expect(gre[0]).toMatchObject({
        version: 0, checksumPresent: false, routingPresent: false, keyPresent: true, sequencePresent: false,
        reserved0: 0, key: 0x28, length: 8,
      });
      const type = gre[0].protocolType as number;
      types.set(type, (types.get(type) ?? 0) + 1);
      expect(packet.tunnels[0]).toMatchObject({ type: 'gre', id: 0x28 });
    }
    // tshark -Y gre: 30 frames; outer protocol types 0x8909 (Cisco MetaData) 20, 0x0000 (keepalive) 8, 0x2000 (CDP) 2.
    expect(greFrames).toBe(30);
    expect(Object.fromEntries(types)).toEqual({ [0x8909]: 20, [0x0000]: 8, [0x2000]: 2 });
  });

  it('gre-heapoverflow-2.pcap: a routed header cut in its first SRE', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) skip();
    const records = readCaptureRecords(peerCapture('gre-heapoverflow-2.pcap'));
    const record = records[1];
    const packet = dissect(record.data, record.linktype, record.wireLength, { registry });
    const [gre] = layersOf(packet, 'gre');
    // tshark: flags 0xc030 (C, R, reserved flags 6), checksum 0x3030 unverified, offset 12336,
    // address family 12336, SRE offset 48, SRE length 48, then "GRE truncated".
    expect(gre).toMatchObject({
      offset: 34, length: 14, version: 0, checksumPresent: true, routingPresent: true, keyPresent: false,
      sequencePresent: false, reserved0: 6, protocolType: 0x3030,
      checksum: { status: 'unverified', value: 0x3030, reason: 'snaplen' },
      routingOffset: 12336, routing: [{ addressFamily: 12336, sreOffset: 48, sreLength: 48 }],
    });
    const greIndex = packet.layers.indexOf(gre);
    expect(packet.issues).toContainEqual(expect.objectContaining({ layer: greIndex, kind: 'truncated', needed: 8 + 4 + 48, available: 14 }));
  });

  it('gre-heapoverflow-1.pcap and -2.pcap: no byte offset makes the decoder throw', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) skip();
    for (const name of ['gre-heapoverflow-1.pcap', 'gre-heapoverflow-2.pcap']) {
      const records = readCaptureRecords(peerCapture(name));
      for (const record of records) {
        expect(() => dissect(record.data, record.linktype, record.wireLength, { registry })).not.toThrow();
        for (let offset = 0; offset <= record.data.length; offset++) {
          const { ctx } = decodeContext({ wireLength: record.wireLength });
          const { layer } = decodeGre(record.data, offset, record.data.length, ctx);
          expect(layer.offset + layer.length).toBeLessThanOrEqual(record.data.length);
        }
      }
    }
  });
});
