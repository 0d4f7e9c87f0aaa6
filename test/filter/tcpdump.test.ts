// The primitives tcpdump has too, against tcpdump itself: for every fixture,
// the frames `tcpdump -r F EXPR` keeps are the frames tunscope keeps. tcpdump
// sees only the outermost headers, so tunscope's side is scoped `outer` (or
// is a property of the whole frame, as `len`); where libpcap cannot see what
// the outer headers hold, the fixture is left out and the reason given.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCapture, prepareDecode } from '../../src/pipeline.js';
import { haveTcpdump, linktypeOf, tcpdumpFrames } from '../helpers/tcpdump.js';
import { FIXTURES, capturesIn, requireOrSkip } from '../helpers/tools.js';

async function ours(file: string, filter: string): Promise<number[]> {
  const frames: number[] = [];
  await decodeCapture(file, prepareDecode({ filter }), (n) => {
    frames.push(n);
  });
  return frames;
}

const LINKTYPE_ETHERNET = 1;

// tcpdump refuses a pcapng file whose interfaces differ in link type.
const files = capturesIn(FIXTURES).filter((file) => !file.endsWith('two-interfaces.pcapng'));
const name = (file: string) => path.basename(file);

/** Files libpcap reads as tunscope does for this kind of primitive, and why the others are left out. */
const WHERE: Record<string, (file: string) => boolean> = {
  // The record's wire length: the same number whatever the frame holds.
  length: () => true,
  // libpcap refuses `ether` on other links (Linux cooked capture has no destination MAC).
  mac: (file) => linktypeOf(file) === LINKTYPE_ETHERNET,
  // qinq.pcap keeps its VLAN tags in the frame: libpcap needs `vlan` to look behind one.
  // fragments.pcap, reassembly-cases.pcap: libpcap reads no port behind an IPv6 fragment header
  // (frame 4, frame 13 is UDP after one).
  // ipv6-pseudo-header.pcap: libpcap reads `ip6 proto` and ports only right after the fixed
  // header, and every packet there has a Routing or Destination Options header first.
  ports: (file) => !['qinq.pcap', 'fragments.pcap', 'reassembly-cases.pcap', 'ipv6-pseudo-header.pcap'].includes(name(file)),
  protocols: (file) => !['qinq.pcap', 'ipv6-pseudo-header.pcap'].includes(name(file)),
};

const cases: [kind: keyof typeof WHERE, ours: string, tcpdump: string][] = [
  ['length', 'len > 1400', 'len > 1400'],
  ['length', 'len >= 1000', 'len >= 1000'],
  ['length', 'len < 80', 'len < 80'],
  ['length', 'len <= 64', 'len <= 64'],
  ['length', 'len == 98', 'len == 98'],
  ['length', 'len = 92', 'len = 92'],
  ['length', 'len != 98', 'len != 98'],
  ['length', 'greater 200', 'greater 200'],
  ['length', 'less 100', 'less 100'],
  ['length', 'len>1400', 'len>1400'],
  ['mac', 'outer ether host 02:00:0a:00:00:01', 'ether host 02:00:0a:00:00:01'],
  ['mac', 'outer ether src 02:00:00:00:01:01', 'ether src 02:00:00:00:01:01'],
  ['mac', 'outer ether dst host ff:ff:ff:ff:ff:ff', 'ether dst host ff:ff:ff:ff:ff:ff'],
  ['mac', 'outer ether host 0200.0000.0201', 'ether host 0200.0000.0201'],
  ['mac', 'outer ether dst 02-00-00-00-01-02', 'ether dst 02-00-00-00-01-02'],
  ['mac', 'outer ether src host 020000000102', 'ether src host 020000000102'],
  ['ports', 'outer portrange 4000-5000', 'portrange 4000-5000'],
  ['ports', 'outer portrange 5000-4000', 'portrange 5000-4000'],
  ['ports', 'outer udp portrange 4789-8472', 'udp portrange 4789-8472'],
  ['ports', 'outer udp dst portrange 1-5000', 'udp dst portrange 1-5000'],
  ['ports', 'outer tcp portrange 1-65535', 'tcp portrange 1-65535'],
  ['ports', 'outer src portrange 30000-65535', 'src portrange 30000-65535'],
  ['ports', 'outer udp dst portrange 6081-6081', 'udp dst portrange 6081-6081'],
  ['protocols', 'outer ip proto 17', 'ip proto 17'],
  ['protocols', 'outer ip proto \\udp', 'ip proto \\udp'],
  ['protocols', 'outer ip proto gre', 'ip proto gre'],
  ['protocols', 'outer ip proto 4', 'ip proto 4'],
  ['protocols', 'outer ip proto 41', 'ip proto 41'],
  ['protocols', 'outer ip proto 1', 'ip proto 1'],
  ['protocols', 'outer ip6 proto 17', 'ip6 proto 17'],
  ['protocols', 'outer ip6 proto 4', 'ip6 proto 4'],
  ['protocols', 'outer ip6 proto 44', 'ip6 proto 44'],
  ['protocols', 'outer ip6 proto ipv6-icmp', 'ip6 proto ipv6-icmp'],
  ['protocols', 'outer proto 47', 'proto 47'],
];

describe('primitives against tcpdump on every fixture', () => {
  for (const [kind, filter, expression] of cases) {
    it(`"${filter}" keeps the frames tcpdump's "${expression}" keeps`, async () => {
      if (!requireOrSkip(haveTcpdump, 'tcpdump')) return;
      let kept = 0;
      for (const file of files.filter(WHERE[kind])) {
        const expected = tcpdumpFrames(file, expression);
        expect(await ours(file, filter), `${name(file)}: "${filter}"`).toEqual(expected);
        kept += expected.length;
      }
      // Each expression keeps some frame of some fixture, but for TCP: no fixture has TCP outside a tunnel.
      if (!filter.includes('tcp')) expect(kept).toBeGreaterThan(0);
    });
  }
});
