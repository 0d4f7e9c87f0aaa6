// packetJson cuts `offset` and `length` out of one native serialisation of
// the layers; a layer laid out otherwise takes the field-by-field path. Both
// must give the shape of README "JSON output", checked here against objects
// built by hand.

import { describe, expect, it } from 'vitest';
import type { Layer, Packet } from '../../decoders/types.js';
import { packetJson } from '../../src/output/json.js';
import type { CaptureRecord } from '../../src/sources/record.js';

const RECORD: CaptureRecord = {
  linktype: 1, interfaceId: 0, sec: 1700000000, nsec: 123000, tsDigits: 6, caplen: 60, len: 60, bytes: new Uint8Array(60),
};

function parsed(layers: Layer[]): Record<string, unknown>[] {
  const packet: Packet = { layers, tunnels: [], issues: [] };
  return JSON.parse(packetJson(1, RECORD, packet)).layers;
}

describe('packetJson layers', () => {
  it('drops offset and length, keeps every other field in order, and keeps the UDP Length', () => {
    const json = packetJson(7, RECORD, {
      layers: [
        { proto: 'eth', offset: 0, length: 14, dst: '02:00:00:00:00:01', src: '02:00:00:00:00:02', type: 2048 },
        { proto: 'ipv4', offset: 14, length: 20, ttl: 64, checksum: { status: 'good', value: 4660 }, src: '10.0.0.1', dst: '10.0.0.2' },
        { proto: 'udp', offset: 34, srcPort: 1000, dstPort: 4789, length: 26, checksum: { status: 'zero', value: 0 } },
        { proto: 'tcp', offset: 42, length: 32, options: [{ kind: 8, length: 10, timestamp: { value: 1, echo: 2 } }] },
      ],
      tunnels: [{ type: 'vxlan', id: 42, src: '10.0.0.1', dst: '10.0.0.2', layer: 3 }],
      issues: [],
    });
    expect(json).toBe(
      '{"n":7,"ts":1700000000.000123,"caplen":60,"len":60,"layers":[' +
      '{"proto":"eth","dst":"02:00:00:00:00:01","src":"02:00:00:00:00:02","type":2048},' +
      '{"proto":"ipv4","ttl":64,"checksum":{"status":"good","value":4660},"src":"10.0.0.1","dst":"10.0.0.2"},' +
      '{"proto":"udp","srcPort":1000,"dstPort":4789,"length":26,"checksum":{"status":"zero","value":0}},' +
      '{"proto":"tcp","options":[{"kind":8,"length":10,"timestamp":{"value":1,"echo":2}}]}],' +
      '"tunnels":[{"type":"vxlan","id":42,"src":"10.0.0.1","dst":"10.0.0.2","layer":3}],"issues":[]}',
    );
  });

  it('drops offset and length wherever a layer put them', () => {
    expect(parsed([
      { proto: 'eth', offset: 0, dst: 'a', length: 14, src: 'b' },
      { proto: 'payload', length: 46, offset: 14, of: 'ethertype 0x88b5' },
    ])).toEqual([{ proto: 'eth', dst: 'a', src: 'b' }, { proto: 'payload', of: 'ethertype 0x88b5' }]);
  });

  it('keeps text that looks like a layer head inside a string value', () => {
    const sneaky = '{"proto":"eth","offset":1,"length":2}';
    expect(parsed([{ proto: 'payload', offset: 0, length: 3, of: sneaky }])).toEqual([{ proto: 'payload', of: sneaky }]);
  });

  it('leaves out fields whose value is undefined', () => {
    expect(parsed([{ proto: 'vxlan', offset: 0, length: 8, flags: 8, vni: undefined }])).toEqual([{ proto: 'vxlan', flags: 8 }]);
  });
});

describe('packetJson quoted layers', () => {
  const layers = (): Layer[] => [
    { proto: 'ipv4', offset: 0, length: 20, src: '192.0.2.2', dst: '192.0.2.1' },
    { proto: 'icmp', offset: 20, length: 8, type: 3, code: 3 },
    { proto: 'ipv4', offset: 28, length: 20, src: '192.0.2.1', dst: '192.0.2.2' },
    { proto: 'udp', offset: 48, srcPort: 40200, dstPort: 5000, length: 21 },
  ];

  it('marks each layer of the packet an ICMP error quotes, and names the first', () => {
    for (const irregular of [false, true]) {
      const all = layers();
      // A layer laid out otherwise sends every layer down the field-by-field path.
      if (irregular) all[1] = { type: 3, proto: 'icmp', offset: 20, length: 8, code: 3 };
      const json = JSON.parse(packetJson(1, RECORD, { layers: all, tunnels: [], issues: [], quotedFrom: 2 }));
      expect(json.quotedFrom).toBe(2);
      expect(json.layers.map((l: Record<string, unknown>) => l.quoted)).toEqual([undefined, undefined, true, true]);
      expect(Object.keys(json.layers[3])).toEqual(['proto', 'quoted', 'srcPort', 'dstPort', 'length']);
      expect(json.layers[3].length).toBe(21);
    }
  });

  it('writes neither without a quoted packet', () => {
    const json = JSON.parse(packetJson(1, RECORD, { layers: layers(), tunnels: [], issues: [] }));
    expect('quotedFrom' in json).toBe(false);
    expect(json.layers.some((l: Record<string, unknown>) => 'quoted' in l)).toBe(false);
  });
});
