import { describe, expect, it } from 'vitest';
import { decodeVxlan } from '../../decoders/vxlan.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { havePeerCaptures, peerCapture, requireOrSkip } from '../helpers/tools.js';

describe('decodeVxlan', () => {
  it('reads the flags and a VNI with every bit in use', () => {
    // scapy VXLAN(flags=0x08, vni=0xabcdef); tshark: flags 0x0800 (its 16-bit view), VNI 11259375.
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeVxlan(fromHex('08000000abcdef00 020000000002'), 0, 14, ctx);
    expect(layer).toEqual({ proto: 'vxlan', offset: 0, length: 8, flags: 0x08, vniValid: true, vni: 0xabcdef });
    expect(next).toEqual({ proto: 'eth' });
    expect(issues).toEqual([]);
  });

  it('still decodes with the I flag clear, and says the VNI is not valid', () => {
    // scapy VXLAN(flags=0, vni=5)
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeVxlan(fromHex('0000000000000500'), 0, 8, ctx);
    expect(layer).toEqual({ proto: 'vxlan', offset: 0, length: 8, flags: 0, vniValid: false, vni: 5 });
    expect(next).toEqual({ proto: 'eth' });
    expect(issues).toEqual([]);
  });

  it('ignores the reserved bits around the VNI', () => {
    const { layer } = decodeVxlan(fromHex('ffffffff123456ff'), 0, 8, decodeContext().ctx);
    expect(layer).toMatchObject({ flags: 0xff, vniValid: true, vni: 0x123456 });
  });

  it('reads a header that starts inside the buffer', () => {
    const bytes = fromHex('eeeeee 0800000000002a00');
    expect(decodeVxlan(bytes, 3, bytes.length, decodeContext().ctx).layer).toMatchObject({ offset: 3, length: 8, vni: 42 });
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7])('reports %i bytes as truncated', (n) => {
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodeVxlan(fromHex('08000000abcdef00'), 0, n, ctx);
    expect(next).toBeNull();
    expect(layer.length).toBe(n);
    expect(layer.vni).toBe(n >= 7 ? 0xabcdef : undefined);
    expect(issues).toEqual([
      { layer: 0, kind: 'truncated', message: `VXLAN header needs 8 bytes, ${n} captured`, needed: 8, available: n },
    ]);
  });
});

describe('VXLAN in tcpdump\'s test captures, read through the engine', () => {
  const registry = new Registry();

  // tcpdump vxlan.out: every frame "VXLAN, flags [I] (0x08), vni 100"; the inner frames'
  // sources and types from tshark.
  const inner = [
    ['00:16:3e:37:f6:04', 0x0800], ['00:30:88:01:00:02', 0x0806], ['00:16:3e:37:f6:04', 0x0806],
    ['00:30:88:01:00:02', 0x0800], ['00:16:3e:37:f6:04', 0x0800], ['00:30:88:01:00:02', 0x0800],
    ['00:16:3e:37:f6:04', 0x0800], ['00:30:88:01:00:02', 0x0800], ['00:16:3e:37:f6:04', 0x0800],
    ['00:30:88:01:00:02', 0x0800],
  ];

  for (const [name, port] of [['vxlan.pcap', 4789], ['vxlan_port_8472.pcap', 8472]] as const) {
    it(`${name}: VNI 100 with the I flag, Ethernet inside (UDP port ${port})`, ({ skip }) => {
      if (!requireOrSkip(havePeerCaptures, 'the peer captures')) skip();
      const records = readCaptureRecords(peerCapture(name));
      expect(records).toHaveLength(10);
      records.forEach((record, n) => {
        const packet = dissect(record.data, record.linktype, record.wireLength, { registry });
        const i = packet.layers.findIndex((l) => l.proto === 'vxlan');
        expect(packet.layers[i - 1]).toMatchObject({ proto: 'udp', dstPort: port });
        // Ethernet 14 + IPv4 20 + UDP 8.
        expect(packet.layers[i]).toEqual({ proto: 'vxlan', offset: 42, length: 8, flags: 0x08, vniValid: true, vni: 100 });
        expect(packet.layers[i + 1]).toMatchObject({ proto: 'eth', offset: 50, src: inner[n][0], type: inner[n][1] });
        expect(packet.tunnels).toEqual([expect.objectContaining({ type: 'vxlan', id: 100 })]);
      });
    });
  }
});
