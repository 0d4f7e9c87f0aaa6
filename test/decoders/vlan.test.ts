import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeVlan } from '../../decoders/vlan.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { concat, fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';

describe('decodeVlan', () => {
  it('splits the tag control information into PCP, DEI and VID', () => {
    // PCP 5 (101), DEI 0, VID 100 (0x064): 1010 0000 0110 0100; type 0x0800.
    const bytes = fromHex('a064 0800');
    const { ctx, issues } = decodeContext();
    const r = decodeVlan(bytes, 0, bytes.length, ctx);
    expect(r.layer).toEqual({ proto: 'vlan', offset: 0, length: 4, pcp: 5, dei: false, vid: 100, type: 0x0800 });
    expect(Object.keys(r.layer)).toEqual(['proto', 'offset', 'length', 'pcp', 'dei', 'vid', 'type']);
    expect(r.next).toEqual({ table: 'ethertype', key: 0x0800 });
    expect(issues).toEqual([]);
  });

  it('reads the DEI bit and the full 12-bit VID', () => {
    // PCP 0, DEI 1, VID 4095: 0001 1111 1111 1111.
    const r = decodeVlan(fromHex('1fff 86dd'), 0, 4, decodeContext().ctx);
    expect(r.layer).toMatchObject({ pcp: 0, dei: true, vid: 4095, type: 0x86dd });
  });

  it('reports truncation at every length below 4 without throwing', () => {
    const bytes = fromHex('a064 0800');
    for (let n = 0; n < 4; n++) {
      const { ctx, issues } = decodeContext();
      const r = decodeVlan(bytes, 0, n, ctx);
      expect(r.next).toBeNull();
      expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: `vlan header needs 4 bytes, ${n} captured`, needed: 4, available: n }]);
      expect(r.layer.vid).toBe(n >= 2 ? 100 : undefined);
      expect(r.layer.type).toBeUndefined();
    }
  });

  it('never throws on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 8 }), (bytes) => {
      const r = decodeVlan(bytes, 0, bytes.length, decodeContext().ctx);
      expect(r.layer.proto).toBe('vlan');
    }));
  });

  it('decodes QinQ (802.1ad service tag, then 802.1Q) through the engine', () => {
    // scapy: Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/Dot1AD(vlan=100, prio=5)
    //        /Dot1Q(vlan=200, prio=3, id=1)/IP(src='192.0.2.1', dst='192.0.2.2', proto=253)/Raw(b'\0'*4)
    const frame = fromHex(
      '020000000002 020000000001 88a8 a064 8100 70c8 0800'
      + '450000180001000040fdf5e4c0000201c0000202 00000000',
    );
    const packet = dissect(frame, 1, frame.length, { registry: new Registry() });
    expect(packet.layers.map((l) => l.proto)).toEqual(['eth', 'vlan', 'vlan', 'ipv4', 'payload']);
    const [eth, outer, inner] = packet.layers;
    expect(eth.type).toBe(0x88a8);
    expect(outer).toEqual({ proto: 'vlan', offset: 14, length: 4, pcp: 5, dei: false, vid: 100, type: 0x8100 });
    expect(inner).toEqual({ proto: 'vlan', offset: 18, length: 4, pcp: 3, dei: true, vid: 200, type: 0x0800 });
    expect(packet.layers[3]).toMatchObject({ offset: 22, src: '192.0.2.1', dst: '192.0.2.2', protocol: 253 });
    expect(packet.issues).toEqual([]);
  });

  it('follows the 0x9100 tag protocol too', () => {
    const frame = concat(fromHex('020000000002 020000000001 9100 0064 0806'), new Uint8Array(28));
    const packet = dissect(frame, 1, frame.length, { registry: new Registry() });
    expect(packet.layers.slice(0, 2).map((l) => l.proto)).toEqual(['eth', 'vlan']);
    expect(packet.layers[1]).toMatchObject({ vid: 100, type: 0x0806 });
  });
});
