import { describe, expect, it } from 'vitest';
import { decodeVxlanGpe } from '../../decoders/vxlan-gpe.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { havePeerCaptures, peerCapture, requireOrSkip } from '../helpers/tools.js';

describe('decodeVxlanGpe', () => {
  // Headers checked with tshark (vxlan.flags, vxlan.ver, vxlan.o_bit, vxlan.next_proto, vxlan.vni).
  const cases: [string, string, number, boolean, number, number][] = [
    ['IPv4', '0c00000100002a00', 0x0c, false, 1, 42],
    ['IPv6', '0c00000200002b00', 0x0c, false, 2, 43],
    ['Ethernet, OAM', '0d000003fffffe00', 0x0d, true, 3, 0xfffffe],
    ['NSH', '0c000004ffffff00', 0x0c, false, 4, 0xffffff],
    ['MPLS', '0c00000500000700', 0x0c, false, 5, 7],
  ];

  it.each(cases)('hands next protocol %s to the gpe table', (_name, text, flags, oam, nextProtocol, vni) => {
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeVxlanGpe(fromHex(text), 0, 8, ctx);
    expect(layer).toEqual({ proto: 'vxlan-gpe', offset: 0, length: 8, flags, version: 0, oam, nextProtocol, vni });
    expect(next).toEqual({ table: 'gpe', key: nextProtocol });
    expect(issues).toEqual([]);
  });

  it('calls a version other than 0 malformed and names nothing after it', () => {
    // tshark reads flags 0x2c as Version 2.
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeVxlanGpe(fromHex('2c00000400000100'), 0, 8, ctx);
    expect(layer.version).toBe(2);
    expect(layer.nextProtocol).toBe(4);
    expect(next).toBeNull();
    expect(issues.map((i) => i.kind)).toEqual(['malformed']);
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7])('reports %i bytes as truncated', (n) => {
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeVxlanGpe(fromHex('0c000001abcdef00'), 0, n, ctx);
    expect(next).toBeNull();
    expect(layer.length).toBe(n);
    expect(layer.nextProtocol).toBe(n >= 4 ? 1 : undefined);
    expect(issues).toEqual([
      { layer: 0, kind: 'truncated', message: `VXLAN-GPE header needs 8 bytes, ${n} captured`, needed: 8, available: n },
    ]);
  });
});

describe('VXLAN-GPE in tcpdump\'s test captures, read through the engine', () => {

  it('nsh-over-vxlan-gpe.pcap: flags I and P, VNI 16777215, next protocol NSH', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) skip();
    const records = readCaptureRecords(peerCapture('nsh-over-vxlan-gpe.pcap'));
    const record = records[0];
    const packet = dissect(record.data, record.linktype, record.wireLength, { registry: new Registry() });
    const i = packet.layers.findIndex((l) => l.proto === 'vxlan-gpe');
    // tcpdump: "VXLAN-GPE, flags [IP], vni 16777215"; tshark: Flags 0x0c, Version 0, OAM 0, Next Protocol 4.
    expect(packet.layers[i]).toEqual({
      proto: 'vxlan-gpe', offset: 42, length: 8, flags: 0x0c, version: 0, oam: false, nextProtocol: 4, vni: 16777215,
    });
    // NSH has no decoder: what follows is the payload of gpe next protocol 4.
    expect(packet.layers[i + 1]).toMatchObject({ proto: 'payload', offset: 50 });
    expect(packet.tunnels).toEqual([expect.objectContaining({ type: 'vxlan-gpe', id: 16777215 })]);
  });
});
