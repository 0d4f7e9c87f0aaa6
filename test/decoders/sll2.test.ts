import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSll2 } from '../../decoders/sll2.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';

// Protocol 0x86dd, reserved 0, ifindex 0xfffffffe, ARPHRD_ETHER, packet type 3
// (to another host), address length 6, address 02:00:00:aa:bb:cc; then an IPv6
// header with no next header. tshark reads the same values (interface index 4294967294).
const HEADER = '86dd 0000 fffffffe 0001 03 06 020000aabbcc0000';
const IPV6 = '6000000000003b40 20010db8000000000000000000000001 20010db8000000000000000000000002';

describe('decodeSll2', () => {
  it('decodes every field of the header', () => {
    const bytes = fromHex(HEADER + IPV6);
    const { ctx, issues } = decodeContext();
    const r = decodeSll2(bytes, 0, bytes.length, ctx);
    expect(r.layer).toEqual({
      proto: 'sll2', offset: 0, length: 20, protocol: 0x86dd, ifindex: 4294967294, arphrd: 1, packetType: 3, addressLength: 6,
      address: '02:00:00:aa:bb:cc',
    });
    expect(Object.keys(r.layer)).toEqual(['proto', 'offset', 'length', 'protocol', 'ifindex', 'arphrd', 'packetType', 'addressLength', 'address']);
    expect(r.next).toEqual({ table: 'ethertype', key: 0x86dd });
    expect(issues).toEqual([]);
  });

  it('follows the same protocol rules as LINUX_SLL', () => {
    // ARPHRD_IPGRE (778): a GRE protocol type.
    expect(decodeSll2(fromHex('0800 0000 00000002 030a 00 04 c000020100000000'), 0, 20, decodeContext().ctx).next)
      .toEqual({ table: 'gre', key: 0x0800 });
    // 0x0004: an 802.2 LLC frame, not an ethertype.
    expect(decodeSll2(fromHex('0004 0000 00000002 0001 00 06 020000aabbcc0000'), 0, 20, decodeContext().ctx).next).toBeNull();
    // ARPHRD_NETLINK (824).
    expect(decodeSll2(fromHex('0800 0000 00000002 0338 00 00 0000000000000000'), 0, 20, decodeContext().ctx).next).toBeNull();
  });

  it('writes a 2-octet address as colon hex', () => {
    const r = decodeSll2(fromHex('0800 0000 00000001 0100 00 02 abcd000000000000'), 0, 20, decodeContext().ctx);
    expect(r.layer.address).toBe('ab:cd');
  });

  it('reports truncation at every length below 20 without throwing', () => {
    const bytes = fromHex(HEADER);
    for (let n = 0; n < 20; n++) {
      const { ctx, issues } = decodeContext();
      const r = decodeSll2(bytes, 0, n, ctx);
      expect(r.next).toBeNull();
      expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: `sll2 header needs 20 bytes, ${n} captured`, needed: 20, available: n }]);
      expect(r.layer.protocol).toBe(n >= 2 ? 0x86dd : undefined);
      expect(r.layer.ifindex).toBe(n >= 8 ? 4294967294 : undefined);
      expect(r.layer.addressLength).toBe(n >= 12 ? 6 : undefined);
    }
  });

  it('never throws on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 28 }), (bytes) => {
      expect(decodeSll2(bytes, 0, bytes.length, decodeContext().ctx).layer.proto).toBe('sll2');
    }));
  });

  it('starts link type 276 in the engine', () => {
    const frame = fromHex(HEADER + IPV6);
    const packet = dissect(frame, 276, frame.length, { registry: new Registry() });
    expect(packet.layers.map((l) => l.proto)).toEqual(['sll2', 'ipv6']);
    expect(packet.issues).toEqual([]);
  });
});
