import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeErspan } from '../../decoders/erspan.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import type { Layer } from '../../decoders/types.js';
import { fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { havePeerCaptures, peerCapture, requireOrSkip } from '../helpers/tools.js';

/** A GRE layer as decoders/gre.ts returns it, to stand in for ctx.prev. */
function greLayer(protocolType: number, sequencePresent: boolean): Layer {
  return {
    proto: 'gre', offset: 0, length: sequencePresent ? 8 : 4, version: 0, checksumPresent: false,
    routingPresent: false, keyPresent: false, sequencePresent, reserved0: 0, protocolType,
  };
}

// scapy: ERSPAN_II(ver=1, vlan=100, cos=5, en=2, t=1, session_id=0x3ff, index=0xabcde)/Ether()
// tshark: Version Type II (1), Vlan 100, COS 5, Encap 2, Truncated 1, SpanID 1023, Index 703710.
const TYPE_II = fromHex('1064b7ff000abcde' + '0200000000020200000000010800');

// scapy: ERSPAN_III(vlan=7, cos=3, bso=1, session_id=513, timestamp=0xdeadbeef, p=1, ft=0, hw=0x2a, d=1, gra=2, o=1)
//        /ERSPAN_PlatformSpecific(platf_id=3, info1=0x12345, info2=0x89abcdef)/Ether()
// tshark: Version 2, Vlan 7, COS 3, BSO 1, SpanID 513, Timestamp 3735928559, SGT 0, P 1, FT 0,
//         Hardware ID 42, Direction Egress (1), Granularity 2, O 1, Platform ID 3.
const TYPE_III_O = fromHex('20076a01deadbeef000082ad0c01234589abcdef' + '0200000000020200000000010800');

describe('decodeErspan', () => {
  it('decodes type I as an empty header when the GRE header has no sequence number', () => {
    const { ctx, issues } = decodeContext({ prev: greLayer(0x88be, false) });
    const { layer, next } = decodeErspan(TYPE_II, 0, TYPE_II.length, ctx);
    expect(layer).toEqual({ proto: 'erspan', offset: 0, length: 0, version: 0 });
    expect(next).toEqual({ proto: 'eth' });
    expect(issues).toEqual([]);
  });

  it('decodes type II after a GRE header with a sequence number', () => {
    const { ctx, issues } = decodeContext({ prev: greLayer(0x88be, true) });
    const { layer, next } = decodeErspan(TYPE_II, 0, TYPE_II.length, ctx);
    expect(layer).toEqual({
      proto: 'erspan', offset: 0, length: 8,
      version: 1, vlan: 100, cos: 5, encapsulation: 2, truncated: true, sessionId: 1023, index: 0xabcde,
    });
    expect(next).toEqual({ proto: 'eth' });
    expect(issues).toEqual([]);
  });

  it('decodes type III with the platform specific subheader', () => {
    const { ctx } = decodeContext({ prev: greLayer(0x22eb, false) });
    const { layer, next } = decodeErspan(TYPE_III_O, 0, TYPE_III_O.length, ctx);
    expect(layer).toEqual({
      proto: 'erspan', offset: 0, length: 20,
      version: 2, vlan: 7, cos: 3, bso: 1, truncated: false, sessionId: 513,
      timestamp: 0xdeadbeef, sgt: 0, p: true, ft: 0, hwId: 42, d: true, gra: 2, o: true,
      platformSubheader: { platformId: 3, infoHigh: 0x12345, infoLow: 0x89abcdef },
    });
    expect(next).toEqual({ proto: 'eth' });
  });

  it('decodes type III without the subheader as 12 bytes', () => {
    const bytes = TYPE_III_O.slice();
    bytes[11] &= 0xfe;
    const { layer, next } = decodeErspan(bytes, 0, bytes.length, decodeContext({ prev: greLayer(0x22eb, false) }).ctx);
    expect(layer.length).toBe(12);
    expect(layer.o).toBe(false);
    expect(layer.platformSubheader).toBeUndefined();
    expect(next).toEqual({ proto: 'eth' });
  });

  it('names nothing after a type III frame type other than Ethernet', () => {
    const bytes = TYPE_III_O.slice();
    bytes[10] = (bytes[10] & 0x83) | (2 << 2); // FT 2: an IP packet
    const { ctx, issues } = decodeContext({ prev: greLayer(0x22eb, false) });
    const { layer, next } = decodeErspan(bytes, 0, bytes.length, ctx);
    expect(layer.ft).toBe(2);
    expect(layer.hwId).toBe(42);
    expect(next).toBeNull();
    expect(issues).toEqual([]);
  });

  it('reads the version nibble when there is no GRE layer before it', () => {
    expect(decodeErspan(TYPE_II, 0, TYPE_II.length, decodeContext().ctx).layer.version).toBe(1);
    expect(decodeErspan(TYPE_III_O, 0, TYPE_III_O.length, decodeContext().ctx).layer.version).toBe(2);
  });

  it.each([0, 3, 15])('calls version %i malformed', (version) => {
    const bytes = TYPE_II.slice();
    bytes[0] = (version << 4) | (bytes[0] & 0x0f);
    const { ctx, issues } = decodeContext({ prev: greLayer(0x88be, true) });
    const { layer, next } = decodeErspan(bytes, 0, bytes.length, ctx);
    expect(layer.version).toBe(version);
    expect(next).toBeNull();
    expect(issues.map((i) => i.kind)).toEqual(['malformed']);
  });

  it('reports each cut of a type II header as truncated', () => {
    for (let n = 0; n < 8; n++) {
      const { ctx, issues } = decodeContext({ prev: greLayer(0x88be, true) });
      const { layer, next } = decodeErspan(TYPE_II, 0, n, ctx);
      expect(next).toBeNull();
      expect(layer.length).toBe(n);
      expect(issues).toEqual([
        { layer: 0, kind: 'truncated', message: `ERSPAN header needs 8 bytes, ${n} captured`, needed: 8, available: n },
      ]);
      if (n >= 4) expect(layer.sessionId).toBe(1023);
    }
  });

  it('reports each cut of a type III header as truncated', () => {
    for (let n = 0; n < 20; n++) {
      const { ctx, issues } = decodeContext({ prev: greLayer(0x22eb, false) });
      const { layer, next } = decodeErspan(TYPE_III_O, 0, n, ctx);
      expect(next).toBeNull();
      expect(layer.length).toBe(n);
      const needed = n < 4 ? 8 : n < 12 ? 12 : 20;
      expect(issues).toEqual([
        { layer: 0, kind: 'truncated', message: `ERSPAN header needs ${needed} bytes, ${n} captured`, needed, available: n },
      ]);
    }
  });

  it('never throws and stays inside [offset, end) on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (body, seq) => {
      const { ctx } = decodeContext({ prev: greLayer(0x88be, seq) });
      const { layer } = decodeErspan(body, 0, body.length, ctx);
      expect(layer.length).toBeLessThanOrEqual(body.length);
    }), { numRuns: 500 });
  });
});

describe('ERSPAN in tcpdump\'s test captures, read through the engine', () => {
  const registry = new Registry();

  function erspanOf(layers: Layer[]): [Layer, Layer | undefined] {
    const i = layers.findIndex((l) => l.proto === 'erspan');
    expect(i).toBeGreaterThan(0);
    return [layers[i], layers[i + 1]];
  }

  it('erspan-type-i-1.pcap: type I, the mirrored frame right after the GRE header', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) skip();
    const records = readCaptureRecords(peerCapture('erspan-type-i-1.pcap'));
    // tshark: inner Ethernet sources of the two frames.
    const innerSrc = ['00:25:9e:81:b3:54', '00:11:5c:3d:de:00'];
    expect(records).toHaveLength(2);
    records.forEach((record, n) => {
      const packet = dissect(record.data, record.linktype, record.wireLength, { registry });
      const [erspan, inner] = erspanOf(packet.layers);
      // Ethernet 14 + IPv4 20 + GRE 4.
      expect(erspan).toEqual({ proto: 'erspan', offset: 38, length: 0, version: 0 });
      expect(inner).toMatchObject({ proto: 'eth', offset: 38, src: innerSrc[n] });
      expect(packet.tunnels).toEqual([expect.objectContaining({ type: 'erspan', id: null })]);
    });
  });

  it('erspan-type-ii-1.pcap: type II session 666', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) skip();
    const records = readCaptureRecords(peerCapture('erspan-type-ii-1.pcap'));
    const record = records[0];
    const packet = dissect(record.data, record.linktype, record.wireLength, { registry });
    const [erspan, inner] = erspanOf(packet.layers);
    // tcpdump: "erspan type2 session 666 cos 6 index 32760"; tshark: Vlan 342, Encap 0, Truncated 0; GRE seq 171.
    expect(packet.layers.find((l) => l.proto === 'gre')).toMatchObject({ sequencePresent: true, sequence: 171 });
    expect(erspan).toEqual({
      proto: 'erspan', offset: 42, length: 8,
      version: 1, vlan: 342, cos: 6, encapsulation: 0, truncated: false, sessionId: 666, index: 32760,
    });
    expect(inner).toMatchObject({ proto: 'eth', offset: 50, src: '00:1f:9e:d2:a9:80', dst: '01:00:5e:00:00:0d' });
    expect(packet.tunnels).toEqual([expect.objectContaining({ type: 'erspan', id: 666 })]);
  });

  it('erspan-type-iii-ft-0.pcap: type III timestamps and flags of every frame', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) skip();
    const records = readCaptureRecords(peerCapture('erspan-type-iii-ft-0.pcap'));
    // tshark -e erspan.timestamp, frames 1-9.
    const timestamps = [
      2740542463, 3167244807, 3593893971, 4020572559, 152279931, 578913719, 1005598749, 1432242027, 1858898587,
    ];
    expect(records).toHaveLength(timestamps.length);
    records.forEach((record, n) => {
      const packet = dissect(record.data, record.linktype, record.wireLength, { registry });
      const [erspan, inner] = erspanOf(packet.layers);
      expect(erspan).toEqual({
        proto: 'erspan', offset: 38, length: 12,
        version: 2, vlan: 20, cos: 0, bso: 0, truncated: false, sessionId: 0,
        timestamp: timestamps[n], sgt: 0, p: false, ft: 0, hwId: 0, d: false, gra: 3, o: false,
      });
      expect(inner).toMatchObject({ proto: 'eth', offset: 50, src: 'f8:c2:88:90:d2:7b', dst: '00:50:56:ac:18:a0' });
      expect(packet.tunnels).toEqual([expect.objectContaining({ type: 'erspan', id: 0 })]);
    });
  });
});
