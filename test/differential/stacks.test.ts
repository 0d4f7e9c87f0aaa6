// The layer stack of every packet of every fixture and peer capture equals
// tshark's `frame.protocols`, in tunscope's vocabulary. tshark names more
// application protocols than tunscope decodes; its list is compared up to the
// first protocol tunscope does not model.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { readCaptureFile } from '../../src/sources/file.js';
import { FIXTURES, PEER_CAPTURES, capturesIn, havePeerCaptures, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';

const TSHARK_NAMES: Record<string, string> = {
  eth: 'eth', vlan: 'vlan', ieee8021ad: 'vlan', sll: 'sll', arp: 'arp', ip: 'ipv4', ipv6: 'ipv6', gre: 'gre', erspan: 'erspan',
  ppp: 'ppp', udp: 'udp', tcp: 'tcp', icmp: 'icmp', icmpv6: 'icmpv6', vxlan: 'vxlan', geneve: 'geneve',
};
/** tshark entries that are not layers of their own. */
const TSHARK_SKIPPED = new Set(['frame', 'raw', 'ethertype', 'ipv6.hopopts', 'ipv6.routing', 'ipv6.fraghdr', 'ipv6.dstopts']);

/** tshark writes both Linux cooked headers as "sll". */
const OUR_NAMES: Record<string, string> = { sll2: 'sll' };
/**
 * tshark decodes the VXLAN-GPE header (-V shows it, `-Y vxlan` matches) but
 * leaves it out of frame.protocols; the layers around it are compared.
 */
const OURS_UNLISTED_BY_TSHARK = new Set(['payload', 'vxlan-gpe']);

export function tsharkStack(protocols: string): string[] {
  const stack: string[] = [];
  for (const name of protocols.split(':')) {
    if (TSHARK_SKIPPED.has(name)) continue;
    // BSD loopback headers only ever start a frame; elsewhere "loop" is Ethernet's configuration test protocol.
    if ((name === 'null' || name === 'loop') && stack.length === 0) {
      stack.push('null');
      continue;
    }
    const ours = TSHARK_NAMES[name];
    if (ours === undefined) break;
    stack.push(ours);
  }
  return stack;
}

/**
 * Packets where tunscope and tshark disagree and tunscope is right:
 * capture file name -> packet number -> why. tshark's stack must still be
 * where tunscope's begins.
 */
const EXCEPTIONS: Record<string, Record<number, string>> = {
  'bigtcp-ipv4-vxlan-ipv4.pcap': {
    1: 'a BIG TCP super-packet: tshark stops at UDP because the IP length exceeds the frame; tunscope names the super-packet and decodes the VXLAN inside',
  },
  'bigtcp-ipv6-geneve-ipv6.pcap': {
    1: 'a BIG TCP super-packet (IPv6 payload length 0): tshark stops at UDP; tunscope decodes the Geneve tunnel inside',
  },
};

interface Case { file: string; name: string }

const cases: Case[] = [
  ...capturesIn(FIXTURES).map((file) => ({ file, name: `fixtures/${path.basename(file)}` })),
  ...capturesIn(PEER_CAPTURES).map((file) => ({ file, name: `peer-captures/${path.basename(file)}` })),
];

describe('layer stacks agree with tshark', () => {
  it('has captures to compare', () => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures (../shared/peer-captures)')) return;
    expect(cases.length).toBeGreaterThan(20);
  });

  for (const { file, name } of cases) {
    it(name, () => {
      if (!requireOrSkip(haveTshark, 'tshark')) return;
      const theirs = tshark(file, ['-T', 'fields', '-e', 'frame.protocols']).split('\n').filter((l) => l !== '');
      const registry = new Registry();
      const ours: string[][] = [];
      readCaptureFile(file, (record) => {
        const packet = dissect(record.bytes, record.linktype, record.len, { registry });
        ours.push(packet.layers.filter((l) => !OURS_UNLISTED_BY_TSHARK.has(l.proto)).map((l) => OUR_NAMES[l.proto] ?? l.proto));
      });
      expect(ours.length).toBe(theirs.length);
      const exceptions = EXCEPTIONS[path.basename(file)] ?? {};
      ours.forEach((stack, i) => {
        const expected = tsharkStack(theirs[i]).join(':');
        const why = exceptions[i + 1];
        if (why === undefined) {
          expect(stack.join(':'), `packet ${i + 1} of ${name}`).toBe(expected);
        } else {
          expect(stack.join(':').startsWith(expected), `packet ${i + 1} of ${name}: ${why}`).toBe(true);
        }
      });
    });
  }
});
