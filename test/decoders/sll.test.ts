import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSll } from '../../decoders/sll.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { concat, fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';

/** packet type, ARPHRD_ type, address length, 8 address octets, protocol type. */
function sll(packetType: number, arphrd: number, addressLength: number, address: string, protocol: number): Uint8Array {
  const addr = fromHex(address.padEnd(16, '0'));
  return concat([packetType >> 8, packetType & 0xff, arphrd >> 8, arphrd & 0xff, addressLength >> 8, addressLength & 0xff], addr,
    [protocol >> 8, protocol & 0xff]);
}

describe('decodeSll', () => {
  it('decodes the header scapy writes for an outgoing IPv4 packet', () => {
    // scapy: CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=02:00:00:aa:bb:cc, proto=0x0800)/IP(...);
    // tshark reads it as "Sent by us (4)", Ethernet (1), length 6, source 02:00:00:aa:bb:cc, IPv4.
    const bytes = fromHex('0004 0001 0006 020000aabbcc0000 0800 450000140001000040fdf5e8c0000201c0000202');
    const { ctx, issues } = decodeContext();
    const r = decodeSll(bytes, 0, bytes.length, ctx);
    expect(r.layer).toEqual({
      proto: 'sll', offset: 0, length: 16, packetType: 4, arphrd: 1, addressLength: 6, address: '02:00:00:aa:bb:cc', protocol: 0x0800,
    });
    expect(Object.keys(r.layer)).toEqual(['proto', 'offset', 'length', 'packetType', 'arphrd', 'addressLength', 'address', 'protocol']);
    expect(r.next).toEqual({ table: 'ethertype', key: 0x0800 });
    expect(issues).toEqual([]);
  });

  it('writes other address lengths as colon hex, at most the 8 octets the field holds', () => {
    const four = decodeSll(sll(0, 778, 4, 'c0000201', 0x0800), 0, 16, decodeContext().ctx);
    expect(four.layer.address).toBe('c0:00:02:01');
    const ten = decodeSll(sll(0, 1, 10, '0102030405060708', 0x0800), 0, 16, decodeContext().ctx);
    expect(ten.layer.address).toBe('01:02:03:04:05:06:07:08');
    const none = decodeSll(sll(0, 772, 0, '', 0x0800), 0, 16, decodeContext().ctx);
    expect(none.layer.address).toBe('');
  });

  it('reads the protocol type of an ARPHRD_IPGRE device as a GRE protocol type', () => {
    const r = decodeSll(sll(0, 778, 4, 'c0000201', 0x6558), 0, 16, decodeContext().ctx);
    expect(r.next).toEqual({ table: 'gre', key: 0x6558 });
  });

  it('names no next protocol for the Linux pseudo types and for netlink, FRAD and radiotap devices', () => {
    for (const protocol of [0x0001, 0x0004, 0x000c]) {
      expect(decodeSll(sll(0, 1, 6, '020000aabbcc', protocol), 0, 16, decodeContext().ctx).next).toBeNull();
    }
    for (const arphrd of [824, 770, 803]) {
      expect(decodeSll(sll(0, arphrd, 0, '', 0x0800), 0, 16, decodeContext().ctx).next).toBeNull();
    }
  });

  it('reports truncation at every length below 16 without throwing', () => {
    const bytes = sll(3, 1, 6, '020000aabbcc', 0x86dd);
    for (let n = 0; n < 16; n++) {
      const { ctx, issues } = decodeContext();
      const r = decodeSll(bytes, 0, n, ctx);
      expect(r.next).toBeNull();
      expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: `sll header needs 16 bytes, ${n} captured`, needed: 16, available: n }]);
      expect(r.layer.packetType).toBe(n >= 2 ? 3 : undefined);
      expect(r.layer.address).toBe(n >= 14 ? '02:00:00:aa:bb:cc' : undefined);
      expect(r.layer.protocol).toBeUndefined();
    }
  });

  it('never throws on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
      expect(decodeSll(bytes, 0, bytes.length, decodeContext().ctx).layer.proto).toBe('sll');
    }));
  });

  it('starts link type 113 in the engine', () => {
    const frame = fromHex('0004 0001 0006 020000aabbcc0000 0800 450000140001000040fdf5e8c0000201c0000202');
    const packet = dissect(frame, 113, frame.length, { registry: new Registry() });
    expect(packet.layers.map((l) => l.proto)).toEqual(['sll', 'ipv4']);
    expect(packet.issues).toEqual([]);
  });
});
