// TX checksum offload told apart from corruption, on captures the Linux
// kernel made (fixtures/make-vxlan-lab.sh) and on tcpdump's segmentation-
// offload captures.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import type { Packet } from '../../decoders/types.js';
import { readCaptureFile } from '../../src/sources/file.js';
import { FIXTURES, havePeerCaptures, peerCapture, requireOrSkip } from '../helpers/tools.js';

interface Decoded { packet: Packet; bytes: Uint8Array }

function decodeAll(file: string, mutate?: (n: number, bytes: Uint8Array) => void): Decoded[] {
  const registry = new Registry();
  const out: Decoded[] = [];
  readCaptureFile(file, (record) => {
    const bytes = Uint8Array.from(record.bytes);
    mutate?.(out.length + 1, bytes);
    out.push({ packet: dissect(bytes, record.linktype, record.len, { registry }), bytes });
  });
  return out;
}

/**
 * "proto@depth=status" for every layer with a checksum, up to the packet an ICMP error quotes:
 * the depth is the number of enclosing tunnels.
 */
function verdicts(packet: Packet): string[] {
  return packet.layers.flatMap((layer, i) => {
    if (!layer.checksum || i >= (packet.quotedFrom ?? Infinity)) return [];
    const depth = packet.tunnels.filter((t) => t.layer <= i).length;
    return [`${layer.proto}@${depth}=${layer.checksum.status}`];
  });
}

const LAB = ['vxlan-lab.pcap', 'vxlan-lab-8472.pcap', 'vxlan-lab-2vni.pcap', 'vxlan-lab-txcsum-off.pcap'];

describe('a kernel VXLAN capture taken on the sending veth', () => {
  for (const name of LAB) {
    it(`${name}: every partial checksum is offload, none is bad`, () => {
      const decoded = decodeAll(path.join(FIXTURES, name), undefined);
      const all = decoded.flatMap(({ packet }) => verdicts(packet));
      expect(all.filter((v) => v.endsWith('=bad'))).toEqual([]);
      expect(decoded.flatMap(({ packet }) => packet.issues.filter((i) => i.kind === 'bad-checksum'))).toEqual([]);
      // Linux leaves the outer UDP checksum of every VXLAN packet to the NIC (or fills it in as if the
      // inner checksums were done, local checksum offload), and every inner TCP and UDP checksum too.
      const tunnelled = decoded.filter(({ packet }) => packet.tunnels.length > 0);
      expect(tunnelled.length).toBeGreaterThan(5);
      for (const { packet } of tunnelled) {
        const v = verdicts(packet);
        expect(v[1], v.join(' ')).toBe('udp@0=offload');
        for (const inner of v.slice(2)) {
          // With the vxlan device's TX checksum offload off, the kernel completes the inner checksums.
          const innerVerdict = name.includes('txcsum-off') ? /=good$/ : /=offload$/;
          if (/^(udp|tcp)@1/.test(inner)) expect(inner).toMatch(innerVerdict);
          if (/^(icmp|ipv4)@1/.test(inner)) expect(inner).toMatch(/=good$/);
        }
      }
    });
  }

  // A checksum left to the NIC covers nothing yet, so corruption before the NIC cannot show in it:
  // the TCP case needs the capture whose inner checksums the kernel completed.
  const flips: [string, string, string][] = [
    ['vxlan-lab.pcap', 'icmp', 'an inner ICMP payload'],
    ['vxlan-lab-txcsum-off.pcap', 'tcp', 'an inner TCP segment'],
  ];
  for (const [name, proto, what] of flips) {
    it(`a byte flipped inside ${what} (${name}) makes exactly that packet bad, at depth 1`, () => {
      const file = path.join(FIXTURES, name);
      const clean = decodeAll(file);
      const target = clean.findIndex(({ packet }) =>
        packet.tunnels.length === 1 && packet.layers.some((l) => l.proto === proto && (proto !== 'tcp' || (l.payloadLength as number) > 0)));
      const layer = clean[target].packet.layers.find((l) => l.proto === proto)!;
      const flipped = decodeAll(file, (n, bytes) => {
        if (n === target + 1) bytes[layer.offset + (proto === 'tcp' ? (layer.headerLength as number) + 3 : 12)] ^= 0x40;
      });
      flipped.forEach(({ packet }, i) => {
        const expected = verdicts(clean[i].packet);
        if (i === target) {
          expect(verdicts(packet)).toEqual(expected.map((v) => (v === `${proto}@1=good` ? `${proto}@1=bad` : v)));
          expect(packet.issues.map((issue) => `${issue.kind} ${packet.layers[issue.layer].proto}`)).toEqual([`bad-checksum ${proto}`]);
        } else {
          expect(verdicts(packet)).toEqual(expected);
        }
      });
    });
  }
});

describe('segmentation-offload super-packets', () => {
  const cases: [string, RegExp][] = [
    ['gso-ipv4-vxlan-ipv4.pcap', /offload|good/],
    ['gso-ipv6-vxlan-ipv6.pcap', /offload|good/],
    ['bigtcp-ipv4-vxlan-ipv4.pcap', /unverified|offload|good/],
    ['bigtcp-ipv6-geneve-ipv6.pcap', /unverified|offload|good/],
    ['ipv4_tcp_http_xml_tso.pcap', /unverified|offload/],
  ];
  for (const [name, allowed] of cases) {
    it(`${name} decodes without bad or malformed`, () => {
      if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return;
      const [{ packet }] = decodeAll(peerCapture(name));
      for (const v of verdicts(packet)) if (/^(tcp|udp)/.test(v)) expect(v).toMatch(allowed);
      expect(packet.issues.filter((i) => i.kind === 'malformed' || i.kind === 'bad-checksum')).toEqual([]);
    });
  }

  it('names the BIG TCP and TSO super-packets', () => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return;
    for (const name of ['bigtcp-ipv4-vxlan-ipv4.pcap', 'bigtcp-ipv6-geneve-ipv6.pcap', 'ipv4_tcp_http_xml_tso.pcap']) {
      const [{ packet }] = decodeAll(peerCapture(name));
      const kinds = packet.issues.map((i) => i.kind);
      expect(kinds, name).toContain('segmentation-offload');
      expect(packet.layers.find((l) => l.proto === 'tcp')?.checksum?.status, name).not.toBe('bad');
    }
  });
});
