// The packet view's tree: every layer at its tunnel depth, a marker where
// each tunnel starts, fields under an expanded layer, checksum verdicts.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import type { Packet } from '../../decoders/types.js';
import { readCaptureFile } from '../../src/sources/file.js';
import { layerByteRange, layerTreeRows } from '../../src/tui/layer-tree.js';
import { FIXTURES } from '../helpers/tools.js';

function packetOf(fixture: string, n: number): { packet: Packet; length: number } {
  let found: { packet: Packet; length: number } | null = null;
  let seen = 0;
  readCaptureFile(path.join(FIXTURES, fixture), (record) => {
    if (++seen < n) return true;
    found = { packet: dissect(record.bytes, record.linktype, record.len, { registry: new Registry() }), length: record.caplen };
    return false;
  });
  if (found === null) throw new Error(`${fixture} has no packet ${n}`);
  return found;
}

describe('layerTreeRows', () => {
  it('indents each tunnel\'s layers one step deeper and marks where the tunnel starts', () => {
    // fixtures/README.md: frame 1 is VXLAN VNI 100 carrying VXLAN VNI 200 carrying Ethernet/IPv4/ICMP.
    const { packet } = packetOf('vxlan-nested.pcap', 1);
    const rows = layerTreeRows(packet, new Set());
    expect(rows.map((row) => [row.kind, row.depth, row.text.split(' ')[0]])).toEqual([
      ['layer', 0, 'eth'], ['layer', 0, 'ipv4'], ['layer', 0, 'udp'],
      ['tunnel', 0, '──'], ['layer', 1, 'vxlan'], ['layer', 1, 'eth'], ['layer', 1, 'ipv4'], ['layer', 1, 'udp'],
      ['tunnel', 1, '──'], ['layer', 2, 'vxlan'], ['layer', 2, 'eth'], ['layer', 2, 'ipv4'], ['layer', 2, 'icmp'],
    ]);
    expect(rows[3].text).toBe('── tunnel 1: vxlan vni 100, 192.0.2.1 > 192.0.2.2');
    expect(rows[8].text).toBe('── tunnel 2: vxlan vni 200, 10.1.0.1 > 10.1.0.2');
    expect(rows[9].text).toBe('vxlan vni 200');
  });

  it('shows the fields of expanded layers only, one step under their layer', () => {
    const { packet } = packetOf('vxlan-nested.pcap', 1);
    const vxlan = packet.layers.findIndex((layer) => layer.proto === 'vxlan');
    const rows = layerTreeRows(packet, new Set([vxlan]));
    const fields = rows.filter((row) => row.kind === 'field');
    expect(fields.every((row) => row.layer === vxlan && row.depth === 2)).toBe(true);
    expect(fields.map((row) => row.text)).toContain('vni: 100');
    // VXLAN's 8-byte header (RFC 7348 section 5) after 14 + 20 + 8 bytes of Ethernet, IPv4 and UDP.
    expect(fields[fields.length - 1].text).toBe('bytes 42-49');
  });

  it('carries the checksum verdicts tshark gives: the offload sum on the lab\'s outer UDP, a bad inner ICMP checksum', () => {
    // tshark: frame 3 of vxlan-lab.pcap has a UDP checksum "incorrect ... (maybe caused by UDP checksum offload)".
    const lab = packetOf('vxlan-lab.pcap', 3).packet;
    const udp = layerTreeRows(lab, new Set()).find((row) => row.text.startsWith('udp'));
    expect(udp?.verdict).toBe('offload');
    expect(udp?.text).toMatch(/\[cksum offload\]$/);
    // fixtures/README.md: frame 3 of vxlan-bad-inner.pcap is an inner ICMP echo with a wrong checksum.
    const bad = packetOf('vxlan-bad-inner.pcap', 3).packet;
    const icmp = bad.layers.findIndex((layer) => layer.proto === 'icmp');
    const rows = layerTreeRows(bad, new Set([icmp]));
    expect(rows.find((row) => row.kind === 'layer' && row.layer === icmp)?.verdict).toBe('bad');
    expect(rows.find((row) => row.kind === 'field' && row.text.startsWith('checksum:'))?.verdict).toBe('bad');
    expect(rows.some((row) => row.kind === 'issue' && row.layer === icmp && row.text.startsWith('! bad-checksum'))).toBe(true);
  });

  it('highlights a layer\'s own header, not the payload its length covers', () => {
    const { packet, length } = packetOf('vxlan-lab.pcap', 3);
    const udp = packet.layers.findIndex((layer) => layer.proto === 'udp');
    // RFC 768: an 8-byte header, here after 14 bytes of Ethernet and 20 of IPv4.
    expect(layerByteRange(packet, udp, length)).toEqual([34, 42]);
    expect(layerByteRange(packet, packet.layers.length - 1, length)[1]).toBe(length);
  });
});
