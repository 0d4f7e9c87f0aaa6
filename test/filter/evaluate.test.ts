// The filter evaluator on fixture captures. Where a Wireshark display filter
// says the same thing, tshark picks the expected frames; scopes and levels
// (outer, inner, "directly inside this tunnel") have no tshark equivalent, so
// those expectations come from what fixtures/README.md says each frame holds.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { matchesFilter } from '../../src/filter/evaluate.js';
import { parseFilter } from '../../src/filter/parse.js';
import { decodeCapture, prepareDecode } from '../../src/pipeline.js';
import { readCaptureFile } from '../../src/sources/file.js';
import type { CaptureRecord } from '../../src/sources/record.js';
import { FIXTURES, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';

/** Frame numbers (1-based) of the fixture that the filter keeps, through the pipeline every command uses. */
async function ours(file: string, filter: string): Promise<number[]> {
  const frames: number[] = [];
  await decodeCapture(path.join(FIXTURES, file), prepareDecode({ filter }), (n) => {
    frames.push(n);
  });
  return frames;
}

// tshark verifies these checksums only when asked.
const CHECKSUMS = ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];

function theirs(file: string, displayFilter: string): number[] {
  const out = tshark(path.join(FIXTURES, file), [...CHECKSUMS, '-Y', displayFilter, '-T', 'fields', '-e', 'frame.number']).trimEnd();
  return out === '' ? [] : out.split('\n').map(Number);
}

/** Frames 1..n. */
function frames(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** `host` also matches ARP's sender and target protocol addresses, as tcpdump's does. */
function tsharkHost(address: string): string {
  return `(ip.addr == ${address} || arp.src.proto_ipv4 == ${address} || arp.dst.proto_ipv4 == ${address})`;
}

describe('matchesFilter agrees with tshark display filters', () => {
  const cases: [file: string, filter: string, displayFilter: string][] = [
    ['vxlan-lab.pcap', 'vxlan vni 42 and tcp port 8080', 'vxlan.vni == 42 && tcp.port == 8080'],
    ['vxlan-lab.pcap', 'inner arp', 'vxlan && arp'],
    ['vxlan-lab.pcap', 'outer arp', 'arp && !vxlan'],
    ['vxlan-lab.pcap', 'not tunnel', '!vxlan'],
    ['vxlan-lab.pcap', 'dst port 5000', 'udp.dstport == 5000 || tcp.dstport == 5000'],
    ['vxlan-lab.pcap', 'inner udp src port 5000', 'udp.srcport == 5000'],
    // The UDP header quoted by the ICMP port unreachable (frame 28) is not the packet's own traffic.
    ['vxlan-lab.pcap', 'port 5001', 'udp.port == 5001 && !icmp'],
    ['vxlan-lab.pcap', 'host 172.18.1.2', tsharkHost('172.18.1.2')],
    ['vxlan-lab.pcap', 'outer host 10.0.0.1 and inner tcp', `${tsharkHost('10.0.0.1')} && tcp`],
    ['vxlan-lab.pcap', 'icmp or inner udp dst port 5000', 'icmp || udp.dstport == 5000'],
    ['vxlan-lab-2vni.pcap', 'vxlan vni 43 and inner udp', 'vxlan.vni == 43 && udp.port == 5000'],
    ['vxlan-lab-2vni.pcap', 'udp and not vxlan', 'udp && !vxlan'],
    ['vxlan-lab-2vni.pcap', 'net 172.18.2.0/24', 'ip.addr == 172.18.2.0/24'],
    ['vxlan-lab-2vni.pcap', 'src net 172.18.2.0/24', 'ip.src == 172.18.2.0/24'],
    ['vxlan-lab-2vni.pcap', 'vxlan vni 42 or vxlan vni 43 and inner icmp', 'vxlan.vni == 42 || (vxlan.vni == 43 && icmp)'],
    ['vxlan-lab-8472.pcap', 'vxlan vni 42 and inner udp', 'vxlan.vni == 42 && udp.port == 5000'],
    ['vxlan-nested.pcap', 'vxlan vni 200', 'vxlan.vni == 200'],
    ['vxlan-nested.pcap', 'gre key 7', 'gre.key == 7'],
    ['vxlan-nested.pcap', 'gre and vxlan', 'gre && vxlan'],
    ['vxlan-nested.pcap', 'host 10.2.0.1', 'ip.addr == 10.2.0.1'],
    ['vxlan-nested.pcap', 'src host 10.2.0.1', 'ip.src == 10.2.0.1'],
    ['qinq.pcap', 'vlan 200', 'vlan.id == 200'],
    ['qinq.pcap', 'vlan 300', 'vlan.id == 300'],
    // Wireshark names an 802.1ad (0x88a8) tag ieee8021ad, not vlan.
    ['qinq.pcap', 'vlan 100 and vlan 200', '(vlan.id == 100 || ieee8021ad.id == 100) && vlan.id == 200'],
    ['qinq.pcap', 'inner vlan 10', 'vxlan && vlan.id == 10'],
    ['qinq.pcap', 'vlan 10 and outer udp dst port 4789', 'vlan.id == 10 && udp.dstport == 4789'],
    ['vxlan-bad-inner.pcap', 'bad-cksum',
      'ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0'],
    ['vxlan-bad-inner.pcap', 'inner tcp and bad-cksum', 'tcp.checksum.status == 0'],
    ['fragments.pcap', 'frag', 'ip.flags.mf == 1 || ip.frag_offset > 0 || ipv6.fraghdr'],
    ['fragments.pcap', 'frag and ip6', 'ipv6.fraghdr'],
    ['fragments.pcap', 'vxlan and frag', 'vxlan && ip.flags.mf == 1'],
    ['gretap.pcap', 'gretap key 42 and inner tcp dst port 80', 'gre.key == 42 && tcp.dstport == 80'],
    ['erspan.pcap', 'erspan id 100', 'erspan.spanid == 100'],
    ['erspan.pcap', 'erspan id 200', 'erspan.spanid == 200'],
    ['geneve-options.pcap', 'geneve vni 0x1234', 'geneve.vni == 0x1234'],
    ['geneve-options.pcap', 'geneve and inner ip6', 'geneve && ipv6'],
    ['ipip.pcap', 'outer ipip and inner tcp port 443', 'ip.proto == 4 && tcp.port == 443'],
    ['sit.pcap', 'sit and icmp6', 'ip.proto == 41 && icmpv6'],
    ['ip4in6.pcap', 'ip4in6 and icmp', 'ipv6.nxt == 4 && icmp'],
    ['ip6in6.pcap', 'ip6in6 and tcp', 'ipv6.nxt == 41 && tcp'],
    // MACs at every depth: the outer frame's and those a VXLAN, gretap or QinQ+VXLAN frame carries.
    ['vxlan-lab.pcap', 'ether host 02:00:ac:12:01:01', 'eth.addr == 02:00:ac:12:01:01'],
    ['vxlan-lab.pcap', 'ether src 02:00:0a:00:00:02', 'eth.src == 02:00:0a:00:00:02'],
    ['vxlan-lab-2vni.pcap', 'ether src 02:00:ac:12:02:01', 'eth.src == 02:00:ac:12:02:01'],
    ['vxlan-lab-2vni.pcap', 'vxlan vni 42 and ether dst host ff:ff:ff:ff:ff:ff', 'vxlan.vni == 42 && eth.dst == ff:ff:ff:ff:ff:ff'],
    ['gretap.pcap', 'ether dst host 0200.0000.0202', 'eth.dst == 02:00:00:00:02:02'],
    ['stats-ground-truth.pcap', 'ether host ff:ff:ff:ff:ff:ff', 'eth.addr == ff:ff:ff:ff:ff:ff'],
    ['qinq.pcap', 'ether host 02-00-00-00-01-01', 'eth.addr == 02:00:00:00:01:01'],
    // The frame's length on the wire.
    ['vxlan-lab-mtu.pcap', 'len > 1400', 'frame.len > 1400'],
    ['vxlan-lab-mtu.pcap', 'len <= 98 or len == 1514', 'frame.len <= 98 || frame.len == 1514'],
    // stats-ground-truth.pcap frame 56 is an ICMP error (type 3) quoting a VXLAN packet.
    ['stats-ground-truth.pcap', 'greater 200 and vxlan', 'frame.len >= 200 && vxlan && !(icmp.type == 3)'],
    ['vxlan-lab.pcap', 'less 100 and inner arp', 'frame.len <= 100 && vxlan && arp'],
    ['vxlan-lab.pcap', 'len != 92 and not tunnel', 'frame.len != 92 && !vxlan'],
    // Port ranges; the headers an ICMP error quotes are not the packet's own traffic.
    ['vxlan-lab.pcap', 'portrange 5000-5001', '(udp.port in {5000..5001} || tcp.port in {5000..5001}) && !icmp'],
    ['stats-ground-truth.pcap', 'udp portrange 4000-5000', 'udp.port in {4000..5000} && !(icmp.type == 3)'],
    ['stats-ground-truth.pcap', 'tcp dst portrange 1-1024', 'tcp.dstport in {1..1024} && !(icmp.type == 3)'],
    ['vxlan-lab-2vni.pcap', 'src portrange 9000-5000', 'udp.srcport in {5000..9000} || tcp.srcport in {5000..9000}'],
    // IP protocols, with tcpdump's names; ip6 proto looks at every next header of the chain.
    ['vxlan-lab.pcap', 'ip proto 6', 'ip.proto == 6'],
    ['ipip.pcap', 'ip proto 4', 'ip.proto == 4'],
    ['sit.pcap', 'outer ip proto 41 and inner ip6 proto 58', 'ip.proto == 41 && ipv6.nxt == 58'],
    ['ip6in6.pcap', 'ip6 proto 41', 'ipv6.nxt == 41'],
    ['fragments.pcap', 'ip6 proto 17', 'ipv6.nxt == 17 || ipv6.fraghdr.nxt == 17'],
    ['fragments.pcap', 'ip6 proto 44', 'ipv6.nxt == 44'],
    ['gre-flags.pcap', 'proto gre', 'ip.proto == 47 || ipv6.nxt == 47'],
    ['stats-ground-truth.pcap', 'ip proto \\udp', 'ip.proto == 17 && !(icmp.type == 3)'],
  ];
  for (const [file, filter, displayFilter] of cases) {
    it(`${file}: "${filter}" keeps what tshark's "${displayFilter}" keeps`, async () => {
      if (!requireOrSkip(haveTshark, 'tshark')) return;
      const expected = theirs(file, displayFilter);
      expect(await ours(file, filter)).toEqual(expected);
    });
  }
});

describe('matchesFilter: scopes and tunnel levels', () => {
  // vxlan-nested.pcap: 1 and 2 are VXLAN 100 > VXLAN 200 > ICMP 10.2.0.1 <> 10.2.0.2 (request, reply), over
  // 192.0.2.1 <> 192.0.2.2 and 10.1.0.1 <> 10.1.0.2; 3 is VXLAN 300 > GRE key 7 > ICMP; 4 is GRE > VXLAN 400 > ICMP.
  const nested: [filter: string, expected: number[]][] = [
    ['outer vxlan vni 100', [1, 2]],
    ['outer vxlan vni 200', []],
    ['inner vxlan', [1, 2, 4]],
    ['outer gre', [4]],
    ['inner gre', [3]],
    ['outer tunnel', [1, 2, 3, 4]],
    ['inner tunnel', [1, 2, 3, 4]],
    ['vxlan vni 300 and inner gre key 7', [3]],
    // Terms of one and-chain hold on one level: 10.2.0.1 travels directly inside VXLAN 200, not 100.
    ['vxlan vni 200 and host 10.2.0.1', [1, 2]],
    ['vxlan vni 100 and host 10.2.0.1', []],
    ['vxlan vni 100 and host 10.1.0.1', [1, 2]],
    ['inner host 10.1.0.1 and inner icmp', []],
    // An outer term holds beside whatever the tunnels carry.
    ['outer src host 192.0.2.2 and inner icmp', [2]],
    ['outer host 192.0.2.1 and inner host 10.2.0.2', [1, 2, 3, 4]],
    ['inner src host 192.0.2.1', []],
    ['outer host 10.2.0.1', []],
    // not is about the whole packet.
    ['icmp and not inner gre', [1, 2, 4]],
    ['not vxlan', []],
  ];
  for (const [filter, expected] of nested) {
    it(`vxlan-nested.pcap: "${filter}" keeps frames ${JSON.stringify(expected)}`, async () => {
      expect(await ours('vxlan-nested.pcap', filter)).toEqual(expected);
    });
  }

  it('inner and outer checksums: vxlan-bad-inner.pcap has correct outer UDP checksums, damage inside 2, 3 and 4', async () => {
    expect(await ours('vxlan-bad-inner.pcap', 'outer bad-cksum')).toEqual([]);
    expect(await ours('vxlan-bad-inner.pcap', 'inner bad-cksum')).toEqual([2, 3, 4]);
    expect(await ours('vxlan-bad-inner.pcap', 'inner ip and bad-cksum and inner icmp')).toEqual([3, 4]);
  });

  it('offload-cksum: in vxlan-lab.pcap every UDP and TCP checksum was left to the NIC, no ICMP one', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    // fixtures/README.md: the outer UDP checksum of every VXLAN frame, and every inner TCP/UDP checksum.
    expect(await ours('vxlan-lab.pcap', 'outer offload-cksum')).toEqual(theirs('vxlan-lab.pcap', 'vxlan'));
    expect(await ours('vxlan-lab.pcap', 'inner offload-cksum'))
      .toEqual(theirs('vxlan-lab.pcap', 'tcp || (vxlan && (udp.port == 5000 || udp.port == 5001) && !icmp)'));
    expect(await ours('vxlan-lab.pcap', 'inner icmp and inner offload-cksum')).toEqual([]);
    expect(await ours('vxlan-lab.pcap', 'bad-cksum')).toEqual([]);
  });

  it('frag: only the outer packet of the fragmented VXLAN frame is a fragment', async () => {
    expect(await ours('fragments.pcap', 'outer frag and vxlan vni 42')).toEqual([7]);
    expect(await ours('fragments.pcap', 'inner frag')).toEqual([]);
    expect(await ours('fragments.pcap', 'not frag')).toEqual([]);
  });

  it('tunnel ids: vni, key and id name the same number', async () => {
    expect(await ours('vxlan-nested.pcap', 'vxlan id 200')).toEqual([1, 2]);
    expect(await ours('vxlan-nested.pcap', 'tunnel key 7')).toEqual([3]);
    expect(await ours('gretap.pcap', 'gre')).toEqual([]);
    expect(await ours('gretap.pcap', 'gretap vni 42')).toEqual(frames(3));
  });
});

describe('matchesFilter: malformed', () => {
  /** Frame n of a fixture, copied. */
  function frame(file: string, n: number): CaptureRecord {
    let found: CaptureRecord | null = null;
    let i = 0;
    readCaptureFile(path.join(FIXTURES, file), (record) => {
      if (++i < n) return true;
      found = { ...record, bytes: record.bytes.slice() };
      return false;
    });
    if (found === null) throw new Error(`${file} has no frame ${n}`);
    return found;
  }

  function matches(filter: string, bytes: Uint8Array, record: CaptureRecord): boolean {
    const packet = dissect(bytes, record.linktype, record.len, { registry: new Registry() });
    return matchesFilter(parseFilter(filter), packet, bytes, record.len);
  }

  // vxlan-lab.pcap frame 13: Ethernet (14) IPv4 (20) UDP (8) VXLAN (8) Ethernet (14) IPv4 (20) TCP SYN.
  const syn = frame('vxlan-lab.pcap', 13);
  const INNER_IPV4 = 14 + 20 + 8 + 8 + 14;

  it('a whole frame is not malformed', () => {
    expect(matches('malformed', syn.bytes, syn)).toBe(false);
  });

  it('a frame cut inside the inner IPv4 header is malformed inside the tunnel, not outside', () => {
    const cut = syn.bytes.subarray(0, INNER_IPV4 + 10);
    expect(matches('malformed', cut, syn)).toBe(true);
    expect(matches('inner malformed', cut, syn)).toBe(true);
    expect(matches('outer malformed', cut, syn)).toBe(false);
    expect(matches('vxlan vni 42 and inner malformed', cut, syn)).toBe(true);
  });

  it('an outer IPv4 header length below 5 words is malformed outside the tunnel', () => {
    const bad = syn.bytes.slice();
    bad[14] = 0x44; // version 4, IHL 4: RFC 791 says at least 5
    expect(matches('outer malformed', bad, syn)).toBe(true);
    expect(matches('inner malformed', bad, syn)).toBe(false);
    expect(matches('not malformed', bad, syn)).toBe(false);
  });
});
