import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeGeneve } from '../../decoders/geneve.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { havePeerCaptures, peerCapture, requireOrSkip } from '../helpers/tools.js';

// scapy: GENEVE(vni=0x123456, proto=0x6558, critical=1, options=[
//   GeneveOptions(classid=0x0102, type=0x80, data=b'\x00\x00\x00\x0c'),
//   GeneveOptions(classid=0xffff, type=0x01, data=b''),
//   GeneveOptions(classid=0x0132, type=0x02, data=b'\x11' * 12)])/Ether()
// tshark: VNI 0x123456, option classes 0x0102, 0xffff, 0x0132, types 0x80, 0x01, 0x02,
// lengths 8, 4, 16 (tshark counts the 4-byte option header; the RFC's Length does not).
const THREE_OPTIONS = fromHex(
  '0740655812345600' + '010280010000000c' + 'ffff0100' + '01320203' + '11'.repeat(12) +
  '0200000000020200000000010800',
);

describe('decodeGeneve', () => {
  it('reads the fixed header and options of several lengths', () => {
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeGeneve(THREE_OPTIONS, 0, THREE_OPTIONS.length, ctx);
    expect(layer).toEqual({
      proto: 'geneve', offset: 0, length: 36,
      version: 0, optionsLength: 28, oam: false, critical: true, protocolType: 0x6558, vni: 0x123456,
      options: [
        { class: 0x0102, type: 0x80, critical: true, length: 4 },
        { class: 0xffff, type: 0x01, critical: false, length: 0 },
        { class: 0x0132, type: 0x02, critical: false, length: 12 },
      ],
    });
    expect(next).toEqual({ table: 'ethertype', key: 0x6558 });
    expect(issues).toEqual([]);
  });

  it('reads the O bit and an empty options list', () => {
    const { layer, next } = decodeGeneve(fromHex('0080080000000b00'), 0, 8, decodeContext().ctx);
    expect(layer).toEqual({
      proto: 'geneve', offset: 0, length: 8,
      version: 0, optionsLength: 0, oam: true, critical: false, protocolType: 0x0800, vni: 11, options: [],
    });
    expect(next).toEqual({ table: 'ethertype', key: 0x0800 });
  });

  it('calls an option that runs past the options length malformed, and still finds the payload', () => {
    // Opt Len 2 words; the one option claims 4 words of data.
    const bytes = fromHex('0200655800000100' + '0001010400000000' + '0000000000000000 00000000');
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeGeneve(bytes, 0, bytes.length, ctx);
    expect(layer.length).toBe(16);
    expect(layer.options).toEqual([{ class: 1, type: 1, critical: false, length: 16 }]);
    expect(issues).toEqual([
      // The option takes 4 + 16 bytes of the 8 Opt Len gives.
      { layer: 0, kind: 'malformed', message: 'Geneve option runs 12 bytes past the 8-byte options', needed: 20, available: 8 },
    ]);
    expect(next).toEqual({ table: 'ethertype', key: 0x6558 });
  });

  it('reports an options length that runs past the captured bytes as truncated, without hanging', () => {
    // Opt Len 63 words (252 bytes) with only 8 bytes of options captured.
    const bytes = fromHex('3f00655800000100' + '0001010100000000');
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeGeneve(bytes, 0, bytes.length, ctx);
    expect(next).toBeNull();
    expect(layer.length).toBe(16);
    expect(layer.optionsLength).toBe(252);
    expect(layer.options).toEqual([{ class: 1, type: 1, critical: false, length: 4 }]);
    expect(issues).toEqual([
      { layer: 0, kind: 'truncated', message: 'Geneve header needs 260 bytes, 16 captured', needed: 260, available: 16 },
    ]);
  });

  it('walks zero-length options to the end of a long options field', () => {
    const bytes = new Uint8Array(8 + 252);
    bytes.set(fromHex('3f00080000000100'));
    for (let i = 8; i < bytes.length; i += 4) bytes.set([0x01, 0x00, i & 0xff, 0x00], i);
    const { layer, next } = decodeGeneve(bytes, 0, bytes.length, decodeContext().ctx);
    expect((layer.options as unknown[]).length).toBe(63);
    expect(layer.length).toBe(260);
    expect(next).toEqual({ table: 'ethertype', key: 0x0800 });
  });

  it.each([1, 2, 3])('calls version %i malformed and names nothing after it', (version) => {
    const bytes = THREE_OPTIONS.slice();
    bytes[0] = (version << 6) | (bytes[0] & 0x3f);
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeGeneve(bytes, 0, bytes.length, ctx);
    expect(layer.version).toBe(version);
    expect(layer.options).toBeUndefined();
    expect(next).toBeNull();
    expect(issues.map((i) => i.kind)).toEqual(['malformed']);
  });

  it('reports each cut of the header as truncated', () => {
    for (let n = 0; n < 36; n++) {
      const { ctx, issues } = decodeContext();
      const { layer, next } = decodeGeneve(THREE_OPTIONS, 0, n, ctx);
      const needed = n < 8 ? 8 : 36;
      expect(next).toBeNull();
      expect(layer.length).toBe(n);
      expect(issues).toEqual([
        { layer: 0, kind: 'truncated', message: `Geneve header needs ${needed} bytes, ${n} captured`, needed, available: n },
      ]);
      // An option is listed once its 4-byte header was captured.
      if (n >= 8) expect((layer.options as unknown[]).length).toBe(n < 12 ? 0 : n < 20 ? 1 : n < 24 ? 2 : 3);
    }
  });

  it('never throws, ends, and stays inside [offset, end) on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
      const bytes = new Uint8Array(body.length + 8).fill(0xff);
      bytes.set(body);
      const { layer, next } = decodeGeneve(bytes, 0, body.length, decodeContext().ctx);
      expect(layer.length).toBeLessThanOrEqual(body.length);
      if (next !== null) expect(layer.length).toBe(8 + (body[0] & 0x3f) * 4);
    }), { numRuns: 500 });
  });
});

describe('Geneve in tcpdump\'s test captures, read through the engine', () => {
  const registry = new Registry();

  it('geneve.pcap: VNI 10 with one critical option, VNI 11 with none', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) skip();
    const records = readCaptureRecords(peerCapture('geneve.pcap'));
    const vnis = new Map<number, number>();
    for (const record of records) {
      const packet = dissect(record.data, record.linktype, record.wireLength, { registry });
      const i = packet.layers.findIndex((l) => l.proto === 'geneve');
      const geneve = packet.layers[i];
      const vni = geneve.vni as number;
      vnis.set(vni, (vnis.get(vni) ?? 0) + 1);
      // tcpdump: "Geneve, Flags [C], vni 0xa, options [class Standard (0x0) type 0x80(C) len 8 data 0000000c]"
      // or "Geneve, Flags [none], vni 0xb"; tshark: protocol type 0x6558.
      if (vni === 0xa) {
        expect(geneve).toEqual({
          proto: 'geneve', offset: 42, length: 16, version: 0, optionsLength: 8, oam: false, critical: true,
          protocolType: 0x6558, vni: 0xa, options: [{ class: 0, type: 0x80, critical: true, length: 4 }],
        });
      } else {
        expect(geneve).toEqual({
          proto: 'geneve', offset: 42, length: 8, version: 0, optionsLength: 0, oam: false, critical: false,
          protocolType: 0x6558, vni: 0xb, options: [],
        });
      }
      expect(packet.layers[i + 1]).toMatchObject({ proto: 'eth', offset: 42 + geneve.length });
      expect(packet.tunnels[0]).toMatchObject({ type: 'geneve', id: vni });
    }
    // tshark: 19 frames with VNI 0x00000a, 20 with 0x00000b.
    expect(Object.fromEntries(vnis)).toEqual({ 10: 19, 11: 20 });
  });

  it('geneve-gcp.pcap: three Google options and IPv4 inside', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) skip();
    const records = readCaptureRecords(peerCapture('geneve-gcp.pcap'));
    const record = records[0];
    const packet = dissect(record.data, record.linktype, record.wireLength, { registry });
    const i = packet.layers.findIndex((l) => l.proto === 'geneve');
    // tshark: Length 40 bytes, flags 0x00, Protocol Type IPv4, VNI 0; options of class 0x0132 (Google LLC),
    // types 0x01, 0x02, 0x03, lengths 8, 20 and 12 bytes with their headers.
    expect(packet.layers[i]).toEqual({
      proto: 'geneve', offset: 42, length: 48, version: 0, optionsLength: 40, oam: false, critical: false,
      protocolType: 0x0800, vni: 0,
      options: [
        { class: 0x0132, type: 1, critical: false, length: 4 },
        { class: 0x0132, type: 2, critical: false, length: 16 },
        { class: 0x0132, type: 3, critical: false, length: 8 },
      ],
    });
    expect(packet.layers[i + 1]).toMatchObject({ proto: 'ipv4', offset: 90, src: '192.168.100.2', dst: '192.168.100.1' });
  });
});
