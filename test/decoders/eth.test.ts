import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeEthernet } from '../../decoders/eth.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { concat, fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';

// dst 02:00:00:00:00:02, src 02:00:00:00:00:01, then the Length/Type field.
const MACS = fromHex('020000000002 020000000001');

describe('decodeEthernet', () => {
  it('decodes an Ethernet II header and names the ethertype table', () => {
    const bytes = concat(MACS, [0x08, 0x00], new Uint8Array(46));
    const { ctx, issues } = decodeContext();
    const r = decodeEthernet(bytes, 0, bytes.length, ctx);
    expect(r.layer).toEqual({ proto: 'eth', offset: 0, length: 14, dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', type: 0x0800 });
    expect(Object.keys(r.layer)).toEqual(['proto', 'offset', 'length', 'dst', 'src', 'type']);
    expect(r.next).toEqual({ table: 'ethertype', key: 0x0800 });
    expect(r.payloadEnd).toBeUndefined();
    expect(issues).toEqual([]);
  });

  it('reads at an offset inside a larger buffer', () => {
    const bytes = concat([0xde, 0xad, 0xbe, 0xef], MACS, [0x86, 0xdd], [1, 2, 3]);
    const { ctx } = decodeContext();
    const r = decodeEthernet(bytes, 4, bytes.length, ctx);
    expect(r.layer.offset).toBe(4);
    expect(r.layer.dst).toBe('02:00:00:00:00:02');
    expect(r.layer.type).toBe(0x86dd);
  });

  it('treats 1501 and above as a type, 1500 and below as an 802.3 length', () => {
    const typed = concat(MACS, [0x05, 0xdd], new Uint8Array(4));
    expect(decodeEthernet(typed, 0, typed.length, decodeContext().ctx).next).toEqual({ table: 'ethertype', key: 0x05dd });
    const sized = concat(MACS, [0x05, 0xdc], [0x42, 0x42, 0x03]);
    const r = decodeEthernet(sized, 0, sized.length, decodeContext().ctx);
    expect(r.layer.payloadLength).toBe(1500);
    expect(r.next).toBeNull();
  });

  it('decodes an 802.3 frame: its length, the LLC header, and trims the padding', () => {
    // An STP BPDU: 802.3 length 38, LLC DSAP 0x42 SSAP 0x42 control 0x03 (UI), padded to 60 bytes.
    const bytes = concat(fromHex('0180c2000000 aabbcc000310'), [0x00, 0x26], [0x42, 0x42, 0x03], new Uint8Array(35), new Uint8Array(8));
    const { ctx, issues } = decodeContext();
    const r = decodeEthernet(bytes, 0, bytes.length, ctx);
    expect(r.layer).toEqual({
      proto: 'eth', offset: 0, length: 17, dst: '01:80:c2:00:00:00', src: 'aa:bb:cc:00:03:10', payloadLength: 38,
      llc: { dsap: 0x42, ssap: 0x42, control: 0x03 },
    });
    expect(r.payloadEnd).toBe(14 + 38);
    expect(r.next).toBeNull();
    expect(issues).toEqual([]);
  });

  it('leaves the LLC header out when the 802.3 length is shorter than it', () => {
    const bytes = concat(MACS, [0x00, 0x02], [0xaa, 0xaa, 0x03], new Uint8Array(41));
    const r = decodeEthernet(bytes, 0, bytes.length, decodeContext().ctx);
    expect(r.layer.llc).toBeUndefined();
    expect(r.layer.length).toBe(14);
    expect(r.payloadEnd).toBe(16);
  });

  it('reports truncation at every length below 14 without throwing', () => {
    const full = concat(MACS, [0x08, 0x00]);
    for (let n = 0; n < 14; n++) {
      const { ctx, issues } = decodeContext();
      const r = decodeEthernet(full, 0, n, ctx);
      expect(r.next).toBeNull();
      expect(r.layer.length).toBe(n);
      expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: `eth header needs 14 bytes, ${n} captured`, needed: 14, available: n }]);
      expect(r.layer.dst).toBe(n >= 6 ? '02:00:00:00:00:02' : undefined);
      expect(r.layer.src).toBe(n >= 12 ? '02:00:00:00:00:01' : undefined);
      expect(r.layer.type).toBeUndefined();
    }
  });

  it('never throws and stays inside [offset, end) on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(8), (bytes, skip) => {
      const offset = Math.min(skip, bytes.length);
      const r = decodeEthernet(bytes, offset, bytes.length, decodeContext().ctx);
      expect(r.layer.offset).toBe(offset);
      if (r.payloadEnd !== undefined) expect(r.payloadEnd).toBeLessThanOrEqual(bytes.length);
    }));
  });

  it('hands an ARP payload to the engine through the ethertype table', () => {
    // Built with scapy: Ether(dst=..., src=..., type=0x0806)/ARP(op=2, ...), see arp.test.ts.
    const arp = fromHex('0001080006040002020000aabbccc000020a020000ddeeffc0000214');
    const frame = concat(MACS, [0x08, 0x06], arp, new Uint8Array(18));
    const packet = dissect(frame, 1, frame.length, { registry: new Registry() });
    expect(packet.layers.map((l) => l.proto)).toEqual(['eth', 'arp']);
    expect(packet.issues).toEqual([]);
  });
});
