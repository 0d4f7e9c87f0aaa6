import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeArp } from '../../decoders/arp.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { concat, fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';

// scapy: bytes(ARP(op=2, hwsrc='02:00:00:aa:bb:cc', psrc='192.0.2.10', hwdst='02:00:00:dd:ee:ff', pdst='192.0.2.20'))
const REPLY = '0001 0800 06 04 0002 020000aabbcc c000020a 020000ddeeff c0000214';

describe('decodeArp', () => {
  it('decodes an Ethernet/IPv4 reply with its addresses', () => {
    const bytes = fromHex(REPLY);
    const { ctx, issues } = decodeContext();
    const r = decodeArp(bytes, 0, bytes.length, ctx);
    expect(r.layer).toEqual({
      proto: 'arp', offset: 0, length: 28, hardwareType: 1, protocolType: 0x0800, hardwareSize: 6, protocolSize: 4, opcode: 2,
      senderMac: '02:00:00:aa:bb:cc', senderIp: '192.0.2.10', targetMac: '02:00:00:dd:ee:ff', targetIp: '192.0.2.20',
    });
    expect(Object.keys(r.layer)).toEqual(['proto', 'offset', 'length', 'hardwareType', 'protocolType', 'hardwareSize',
      'protocolSize', 'opcode', 'senderMac', 'senderIp', 'targetMac', 'targetIp']);
    expect(r.next).toBeNull();
    expect(issues).toEqual([]);
  });

  it('sizes the layer from any hardware and protocol sizes, without address strings', () => {
    // Hardware type 32 (InfiniBand), 20-octet hardware addresses, IPv4: 8 + 2 * (20 + 4) = 56.
    const bytes = concat(fromHex('0020 0800 14 04 0001'), new Uint8Array(48));
    const { ctx, issues } = decodeContext();
    const r = decodeArp(bytes, 0, bytes.length, ctx);
    expect(r.layer).toEqual({ proto: 'arp', offset: 0, length: 56, hardwareType: 32, protocolType: 0x0800, hardwareSize: 20, protocolSize: 4, opcode: 1 });
    expect(issues).toEqual([]);
    // Sizes 0 and 0: only the fixed part.
    expect(decodeArp(fromHex('0001 0800 00 00 0001'), 0, 8, decodeContext().ctx).layer.length).toBe(8);
  });

  it('reports truncation at every length below 28 without throwing', () => {
    const bytes = fromHex(REPLY);
    for (let n = 0; n < 28; n++) {
      const { ctx, issues } = decodeContext();
      const r = decodeArp(bytes, 0, n, ctx);
      const needed = n < 8 ? 8 : 28;
      expect(r.next).toBeNull();
      expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: `arp header needs ${needed} bytes, ${n} captured`, needed, available: n }]);
      expect(r.layer.hardwareType).toBe(n >= 2 ? 1 : undefined);
      expect(r.layer.opcode).toBe(n >= 8 ? 2 : undefined);
      expect(r.layer.senderIp).toBeUndefined();
    }
  });

  it('never throws on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      expect(decodeArp(bytes, 0, bytes.length, decodeContext().ctx).layer.proto).toBe('arp');
    }));
  });

  it('ends the engine walk after ARP, Ethernet padding and all', () => {
    const frame = concat(fromHex('ffffffffffff 020000aabbcc 0806'), fromHex(REPLY), new Uint8Array(18));
    const packet = dissect(frame, 1, frame.length, { registry: new Registry() });
    expect(packet.layers.map((l) => l.proto)).toEqual(['eth', 'arp']);
    expect(packet.layers[1]).toMatchObject({ offset: 14, senderIp: '192.0.2.10' });
  });
});
