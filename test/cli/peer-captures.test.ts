// The peer captures that once crashed tcpdump (heap overflows and
// out-of-bounds reads in its GRE, ICMP checksum and IPv6 fragment code)
// decode through the CLI: exit 0, nothing on stderr, one JSON line per
// packet, and the damage reported as issues. The expected issues restate
// what tcpdump 4.99 -v prints for the same packets (quoted in each entry).

import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Issue } from '../../decoders/types.js';
import { runCli } from '../helpers/cli.js';
import { PEER_CAPTURES, havePeerCaptures, peerCapture, requireOrSkip } from '../helpers/tools.js';

const CRASHERS = /^(gre-heapoverflow-.*|icmp-cksum-oobr-.*|ip6_frag_asan)\.pcap(ng)?$/;

interface Expected {
  packets: number;
  /** Issues of each packet, by its number. */
  issues: Record<number, Issue[]>;
}

const EXPECTED: Record<string, Expected> = {
  'gre-heapoverflow-1.pcap': {
    packets: 2,
    // tshark: "Bogus IPv4 version (0, must be 4)"
    issues: { 1: [], 2: [{ layer: 1, kind: 'malformed', message: 'ipv4 header with version 0' }] },
  },
  'gre-heapoverflow-2.pcap': {
    packets: 2,
    // tcpdump: "bad cksum 3030 (->697f)!" then "GREv0, Flags [checksum present, routing present], sum 0x3030,
    // off 0x3030, (rtaf=0x3030) [|gre]": a source route entry of 0x30 = 48 bytes after 4 + 4 + 4 header bytes,
    // and 48 - 14 - 20 = 14 bytes of GRE captured.
    issues: {
      1: [],
      2: [
        { layer: 1, kind: 'bad-checksum', message: 'ipv4 checksum 0x3030, expected 0x697f' },
        { layer: 2, kind: 'truncated', message: 'GRE header needs 60 bytes, 14 captured', needed: 60, available: 14 },
      ],
    },
  },
  'icmp-cksum-oobr-1.pcap': {
    packets: 1,
    // tcpdump: "truncated-ip - 13723 bytes missing! (... length 13911, bad cksum 67ea (->8c0c)!)" and, for the
    // quoted packet, "bad cksum 3f1f (->a1f)!": 13911 - 13723 = 188 bytes after the 16-byte SLL header.
    issues: {
      1: [
        { layer: 1, kind: 'truncated', message: 'ipv4 total length 13911 exceeds the 188 bytes the frame holds', needed: 13911, available: 188 },
        { layer: 1, kind: 'bad-checksum', message: 'ipv4 checksum 0x67ea, expected 0x8c0c' },
        { layer: 3, kind: 'bad-checksum', message: 'ipv4 checksum 0x3f1f, expected 0x0a1f' },
        // The quoted UDP datagram is there whole: tshark too calls its checksum bad (calculated 0xdb95).
        { layer: 4, kind: 'bad-checksum', message: 'udp checksum 0xdfe7, expected 0xdb95' },
      ],
    },
  },
  'icmp-cksum-oobr-3.pcapng': {
    packets: 1,
    // tcpdump: "truncated-ip - 4096 bytes missing! (... length 4419, bad cksum cdf9 (->bdf9)!)".
    issues: {
      1: [
        { layer: 1, kind: 'truncated', message: 'ipv4 total length 4419 exceeds the 323 bytes the frame holds', needed: 4419, available: 323 },
        { layer: 1, kind: 'bad-checksum', message: 'ipv4 checksum 0xcdf9, expected 0xbdf9' },
      ],
    },
  },
  'ip6_frag_asan.pcap': {
    packets: 1,
    // tcpdump: "next-header Fragment (44) ... [|frag6]": 60 captured - 14 - 40 = 6 of the fragment header's 8 bytes.
    issues: {
      1: [{ layer: 1, kind: 'truncated', message: 'ipv6 fragment header needs 8 bytes, 6 captured', needed: 8, available: 6 }],
    },
  },
};

const crashers = havePeerCaptures ? fs.readdirSync(PEER_CAPTURES).filter((name) => CRASHERS.test(name)).sort() : [];

describe('peer captures that once crashed tcpdump', () => {
  it('are all here, and each has its expected issues written down', () => {
    if (!requireOrSkip(havePeerCaptures, `the peer captures at ${PEER_CAPTURES}`)) return;
    expect(crashers).toEqual(Object.keys(EXPECTED).sort());
  });

  describe.each(Object.keys(EXPECTED))('%s', (name) => {
    const file = peerCapture(name);

    it('decodes with --json: exit 0, one JSON line per packet, the damage as issues', () => {
      if (!requireOrSkip(havePeerCaptures, `the peer captures at ${PEER_CAPTURES}`)) return;
      const result = runCli(['read', file, '--json']);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const lines = result.stdout.split('\n');
      expect(lines.pop()).toBe('');
      const packets = lines.map((line) => JSON.parse(line) as { n: number; issues: Issue[] });
      const expected = EXPECTED[name];
      expect(packets.map((p) => p.n)).toEqual(Array.from({ length: expected.packets }, (_, i) => i + 1));
      for (const p of packets) expect(p.issues, `packet ${p.n}`).toEqual(expected.issues[p.n]);
    });

    it('prints lines, trees and hex without failing', () => {
      if (!requireOrSkip(havePeerCaptures, `the peer captures at ${PEER_CAPTURES}`)) return;
      for (const flags of [[], ['-v'], ['-x']]) {
        const result = runCli(['read', file, ...flags]);
        expect(result.stderr, `read ${flags.join(' ')}`).toBe('');
        expect(result.status, `read ${flags.join(' ')}`).toBe(0);
        expect(result.stdout).not.toMatch(/\bundefined\b|\bNaN\b/);
      }
    });
  });
});
