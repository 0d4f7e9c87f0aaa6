import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeNull } from '../../decoders/null.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';

const IPV6 = '6000000000003b40 20010db8000000000000000000000001 20010db8000000000000000000000002';

describe('decodeNull', () => {
  it('reads a little-endian family (a capture from a little-endian host)', () => {
    const { ctx, issues } = decodeContext();
    const r = decodeNull(fromHex('02000000'), 0, 4, ctx);
    expect(r.layer).toEqual({ proto: 'null', offset: 0, length: 4, family: 2 });
    expect(r.next).toEqual({ table: 'af', key: 2 });
    expect(issues).toEqual([]);
  });

  it('reads a big-endian family (LINKTYPE_LOOP, or a big-endian host)', () => {
    expect(decodeNull(fromHex('00000018'), 0, 4, decodeContext().ctx).layer.family).toBe(24);
    expect(decodeNull(fromHex('0000001e'), 0, 4, decodeContext().ctx).next).toEqual({ table: 'af', key: 30 });
  });

  it('reports truncation at every length below 4 without throwing', () => {
    for (let n = 0; n < 4; n++) {
      const { ctx, issues } = decodeContext();
      const r = decodeNull(fromHex('1e000000'), 0, n, ctx);
      expect(r.next).toBeNull();
      expect(r.layer.family).toBeUndefined();
      expect(issues).toEqual([{ layer: 0, kind: 'truncated', message: `null header needs 4 bytes, ${n} captured`, needed: 4, available: n }]);
    }
  });

  it('never throws on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 8 }), (bytes) => {
      expect(decodeNull(bytes, 0, bytes.length, decodeContext().ctx).layer.proto).toBe('null');
    }));
  });

  it('takes macOS AF_INET6 (30, little-endian) to IPv6 in the engine, as tshark does', () => {
    // tshark: "Null/Loopback, Family: IPv6 (30)".
    const frame = fromHex('1e000000' + IPV6);
    const packet = dissect(frame, 0, frame.length, { registry: new Registry() });
    expect(packet.layers.map((l) => l.proto)).toEqual(['null', 'ipv6']);
  });

  it('takes LINKTYPE_LOOP family 2 to IPv4 in the engine', () => {
    const frame = fromHex('00000002 450000140001000040fdf5e8c0000201c0000202');
    const packet = dissect(frame, 108, frame.length, { registry: new Registry() });
    expect(packet.layers.map((l) => l.proto)).toEqual(['null', 'ipv4']);
  });
});
