// The kernel prefilter derived from a filter: its text, that libpcap compiles
// it, and that tcpdump running it over every fixture lets through every frame
// the filter keeps (a superset), and no more than it must where the outer
// headers say enough.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDecodeAs, type DecodeAs } from '../../decoders/registry.js';
import { derivePrefilter } from '../../src/filter/bpf.js';
import { parseFilter } from '../../src/filter/parse.js';
import { decodeCapture, prepareDecode } from '../../src/pipeline.js';
import { haveTcpdump, linktypeOf, tcpdumpFrames } from '../helpers/tcpdump.js';
import { FIXTURES, capturesIn, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';

function prefilter(filter: string, options: { decodeAs?: string[]; vlanTags?: number; ethernet?: boolean } = {}): string {
  const decodeAs = (options.decodeAs ?? []).map((spec) => parseDecodeAs(spec) as DecodeAs);
  return derivePrefilter(parseFilter(filter), { decodeAs, vlanTags: options.vlanTags, ethernet: options.ethernet });
}

async function ourFrames(file: string, filter: string): Promise<number[]> {
  const frames: number[] = [];
  await decodeCapture(file, prepareDecode({ filter }), (n) => {
    frames.push(n);
  });
  return frames;
}

function tsharkFrames(file: string, displayFilter: string): number[] {
  const out = tshark(file, ['-Y', displayFilter, '-T', 'fields', '-e', 'frame.number']).trimEnd();
  return out === '' ? [] : out.split('\n').map(Number);
}

// RFC 8200 section 4: IPv6 packets whose first next header is an extension
// header; libpcap reads ports only when none comes first.
const V6_EXTENSION = 'ip6[6] = 0 or ip6[6] = 43 or ip6[6] = 44 or ip6[6] = 60';

// RFC 7348 (VXLAN, UDP 4789) and Linux's older 8472, VXLAN-GPE 4790, RFC 8926
// (Geneve, UDP 6081); IP protocols 47 (GRE), 4 (IPv4) and 41 (IPv6).
const ANY_TUNNEL = 'udp port 4789 or udp port 8472 or udp port 4790 or udp port 6081 or ' +
  'ip proto 47 or ip6 proto 47 or ip proto 4 or ip proto 41 or ip6 proto 4 or ip6 proto 41';

describe('derivePrefilter: the libpcap expression', () => {
  it('compiles an outer tunnel to its UDP ports or IP protocol', () => {
    expect(prefilter('outer vxlan')).toBe('udp port 4789 or udp port 8472');
    expect(prefilter('outer geneve or outer vxlan-gpe')).toBe('udp port 6081 or udp port 4790');
    expect(prefilter('outer gre')).toBe('ip proto 47 or ip6 proto 47');
    expect(prefilter('outer gretap or outer erspan')).toBe('ip proto 47 or ip6 proto 47');
    expect(prefilter('outer ipip or outer sit')).toBe('ip proto 4 or ip proto 41');
    expect(prefilter('outer ip4in6 or outer ip6in6')).toBe('ip6 proto 4 or ip6 proto 41');
  });

  it('checks an outer VNI in the 8-byte header after UDP, over IPv4', () => {
    // RFC 7348 section 5: the VNI is bytes 4-6 of the VXLAN header, so bits 8-31 of udp[12:4].
    expect(prefilter('outer vxlan vni 42')).toBe('(udp port 4789 or udp port 8472) and (ip6 or udp[12:4] >> 8 = 42)');
  });

  it('adds the UDP ports of --decode-as, and follows ports moved to another tunnel', () => {
    expect(prefilter('outer vxlan', { decodeAs: ['udp:9999=vxlan'] })).toBe('udp port 4789 or udp port 8472 or udp port 9999');
    expect(prefilter('outer vxlan', { decodeAs: ['udp:4789=geneve'] })).toBe('udp port 8472');
    expect(prefilter('outer geneve', { decodeAs: ['udp:4789=geneve'] })).toBe('udp port 4789 or udp port 6081');
  });

  it('gives up (no prefilter) when --decode-as changes what outer headers mean', () => {
    expect(prefilter('outer vxlan', { decodeAs: ['ethertype:0x1234=ipv4'] })).toBe('');
    expect(prefilter('outer vxlan', { decodeAs: ['udp:5555=eth'] })).toBe('');
  });

  it('reads an unscoped or inner tunnel word as "some tunnel": VXLAN may travel inside GRE', () => {
    expect(prefilter('vxlan')).toBe(ANY_TUNNEL);
    expect(prefilter('vxlan vni 42 and inner tcp port 443')).toBe(ANY_TUNNEL);
    expect(prefilter('inner host 10.0.0.1')).toBe(ANY_TUNNEL);
  });

  it('keeps outer addresses, ports and protocols, beside "some tunnel" for an unscoped one', () => {
    expect(prefilter('outer src host 10.0.0.1 and outer udp dst port 53'))
      .toBe(`src host 10.0.0.1 and (udp or ${V6_EXTENSION}) and (dst port 53 or ${V6_EXTENSION})`);
    expect(prefilter('outer net 10.1.2.3/8')).toBe('net 10.0.0.0/8');
    expect(prefilter('outer dst net 2001:db8:1::1/32')).toBe('dst net 2001:db8::/32');
    // libpcap's tcp, udp and icmp6 miss IPv6 packets whose first next header is an extension header.
    expect(prefilter('outer icmp6 or outer arp')).toBe(`icmp6 or ${V6_EXTENSION} or arp`);
    expect(prefilter('tcp port 443')).toBe(`((tcp or ${V6_EXTENSION}) and (port 443 or ${V6_EXTENSION})) or ${ANY_TUNNEL}`);
    expect(prefilter('outer host 192.0.2.1 and vxlan')).toBe(`host 192.0.2.1 and (${ANY_TUNNEL})`);
    expect(prefilter('outer tcp or outer vxlan vni 43'))
      .toBe(`tcp or ${V6_EXTENSION} or ((udp port 4789 or udp port 8472) and (ip6 or udp[12:4] >> 8 = 43))`);
  });

  it('keeps the frame length whatever the frame carries, and outer MACs, port ranges and IP protocols', () => {
    expect(prefilter('len > 1400')).toBe('len > 1400');
    expect(prefilter('greater 100 and less 200')).toBe('len >= 100 and len <= 200');
    expect(prefilter('len == 98 and vxlan')).toBe(`len = 98 and (${ANY_TUNNEL})`);
    expect(prefilter('outer ether src host 02:00:00:00:00:0a', { ethernet: true })).toBe('ether src host 02:00:00:00:00:0a');
    expect(prefilter('outer udp dst portrange 4789-4790')).toBe(`(udp or ${V6_EXTENSION}) and (dst portrange 4789-4790 or ${V6_EXTENSION})`);
    expect(prefilter('outer ip proto 17')).toBe('ip proto 17');
    expect(prefilter('outer ip6 proto 17')).toBe(`ip6 proto 17 or ${V6_EXTENSION}`);
    expect(prefilter('outer proto 47')).toBe(`ip proto 47 or ip6 proto 47 or ${V6_EXTENSION}`);
  });

  it('leaves MACs to the evaluator on links without Ethernet headers, where libpcap refuses "ether host"', () => {
    expect(prefilter('outer ether host 02:00:00:00:00:0a')).toBe('');
  });

  it('lets everything through for not, vlan and what only the decoder can tell', () => {
    for (const filter of ['not outer tcp', 'outer vxlan or not udp', 'vlan 10', 'bad-cksum', 'offload-cksum', 'malformed']) {
      expect(prefilter(filter)).toBe('');
    }
  });

  it('looks behind in-packet VLAN tags with libpcap\'s vlan keyword', () => {
    expect(prefilter('outer udp', { vlanTags: 1 })).toBe(`(udp or ${V6_EXTENSION}) or (vlan and (udp or ${V6_EXTENSION}))`);
    expect(prefilter('outer udp', { vlanTags: 2 }))
      .toBe(`(udp or ${V6_EXTENSION}) or (vlan and ((udp or ${V6_EXTENSION}) or (vlan and (udp or ${V6_EXTENSION}))))`);
    expect(prefilter('outer gre', { vlanTags: 1 }))
      .toBe('(ip proto 47 or ip6 proto 47) or (vlan and (ip proto 47 or ip6 proto 47))');
  });
});

describe('derivePrefilter with tcpdump', () => {
  const filters = [
    'vxlan', 'outer vxlan', 'outer vxlan vni 42', 'outer vxlan vni 43 or outer tcp', 'vxlan vni 400', 'outer geneve vni 0x1234',
    'outer vxlan-gpe', 'gre and vxlan', 'outer gre or outer gretap or outer erspan', 'outer ipip or outer sit',
    'outer ip4in6 or outer ip6in6', 'inner tcp', 'tcp port 8080', 'outer udp port 4789', 'outer src host 192.0.2.1',
    'outer dst net 10.0.0.0/24', 'outer net 2001:db8::/32', 'host 10.1.0.2', 'outer icmp or outer icmp6',
    'outer arp', 'outer frag', 'outer ip6 and outer udp', 'inner icmp and outer host 10.0.0.2',
    'len > 1400', 'greater 200 and vxlan', 'less 100', 'len != 98', 'outer ether host 02:00:0a:00:00:01',
    'outer ether dst ff:ff:ff:ff:ff:ff', 'outer udp portrange 4000-5000', 'outer src portrange 30000-65535',
    'outer ip proto 17', 'outer ip6 proto 17', 'outer proto 47', 'ip proto 1',
  ];
  // tcpdump refuses a pcapng file whose interfaces differ in link type.
  const files = capturesIn(FIXTURES).filter((file) => !file.endsWith('two-interfaces.pcapng'));

  it('compiles every prefilter for Ethernet, Linux cooked v1 and v2', () => {
    if (!requireOrSkip(haveTcpdump, 'tcpdump')) return;
    for (const [file, vlanTags] of [['vxlan-lab.pcap', 1], ['sll.pcap', 0], ['sll2.pcap', 0]] as const) {
      for (const filter of filters) {
        const expression = prefilter(filter, { vlanTags, ethernet: vlanTags === 1 });
        const result = spawnSync('tcpdump', ['-d', '-r', path.join(FIXTURES, file), expression], { encoding: 'utf8' });
        expect(result.status, `${filter} -> ${expression} on ${file}: ${result.stderr}`).toBe(0);
      }
    }
  });

  for (const file of files) {
    it(`lets through every frame the filter keeps: ${path.basename(file)}`, async () => {
      if (!requireOrSkip(haveTcpdump, 'tcpdump')) return;
      // Files keep every VLAN tag in the frame: qinq.pcap has up to three.
      const ethernet = linktypeOf(file) === 1;
      const vlanTags = ethernet ? 3 : 0;
      for (const filter of filters) {
        const kept = await ourFrames(file, filter);
        if (kept.length === 0) continue;
        const passed = new Set(tcpdumpFrames(file, prefilter(filter, { vlanTags, ethernet })));
        expect(kept.filter((n) => !passed.has(n)), `${filter} on ${path.basename(file)}`).toEqual([]);
      }
    });
  }

  const tight: [file: string, filter: string, displayFilter: string][] = [
    ['vxlan-lab-2vni.pcap', 'outer vxlan vni 42', 'vxlan.vni == 42'],
    ['vxlan-lab-2vni.pcap', 'vxlan', 'vxlan'],
    ['vxlan-lab-8472.pcap', 'outer vxlan', 'vxlan'],
    ['gre-flags.pcap', 'outer gre', 'gre'],
    ['vxlan-lab.pcap', 'outer arp', 'arp && !vxlan'],
    ['vxlan-lab-2vni.pcap', 'outer udp port 9000', 'udp.port == 9000'],
  ];
  for (const [file, filter, displayFilter] of tight) {
    it(`${file}: "${filter}" lets through just what tshark's "${displayFilter}" finds`, () => {
      if (!requireOrSkip(haveTcpdump && haveTshark, 'tcpdump and tshark')) return;
      const full = path.join(FIXTURES, file);
      expect(tcpdumpFrames(full, prefilter(filter, { vlanTags: 1 }))).toEqual(tsharkFrames(full, displayFilter));
    });
  }

  it('needs the vlan keyword for tags kept in the frame: qinq.pcap', () => {
    if (!requireOrSkip(haveTcpdump && haveTshark, 'tcpdump and tshark')) return;
    const file = path.join(FIXTURES, 'qinq.pcap');
    // Frames 1-3 carry two or three tags; 4 is VXLAN over untagged IPv4.
    expect(tcpdumpFrames(file, prefilter('outer udp'))).toEqual([4]);
    expect(tcpdumpFrames(file, prefilter('outer udp', { vlanTags: 2 }))).toEqual([1, 3, 4]);
    expect(tcpdumpFrames(file, prefilter('outer udp', { vlanTags: 3 }))).toEqual(tsharkFrames(file, 'udp'));
  });
});
