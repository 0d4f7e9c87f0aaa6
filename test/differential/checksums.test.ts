// Checksum verdicts of every fixture and peer capture against tshark's
// (`*.checksum.status`: 0 bad, 1 good, 2 unverified, 3 not present), with
// validation on for IPv4, UDP and TCP. tshark has no "offload" verdict: it
// calls those checksums bad, so for each of them this test checks by its own
// arithmetic that the value really is what Linux leaves for the NIC.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import type { Layer } from '../../decoders/types.js';
import { readCaptureFile } from '../../src/sources/file.js';
import { internetChecksum } from '../helpers/bytes.js';
import { FIXTURES, PEER_CAPTURES, capturesIn, havePeerCaptures, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';

const TSHARK_PROTOS: Record<string, string> = { ipv4: 'ip', udp: 'udp', tcp: 'tcp', icmp: 'icmp', icmpv6: 'icmpv6', gre: 'gre' };
const CALCULATED: Record<string, string> = { ipv4: 'ip.checksum_calculated', udp: 'udp.checksum_calculated', tcp: 'tcp.checksum_calculated' };

/** The folded sum of the pseudo-header of the transport layer at `index`, computed from the raw bytes. */
function pseudoHeaderFold(bytes: Uint8Array, layers: Layer[], index: number): number {
  let ipIndex = index - 1;
  while (layers[ipIndex].proto !== 'ipv4' && layers[ipIndex].proto !== 'ipv6') ipIndex--;
  const ip = layers[ipIndex];
  const transport = layers[index];
  const protocol = transport.proto === 'udp' ? 17 : 6;
  const segment = transport.proto === 'udp' ? (transport.length as number)
    : ip.proto === 'ipv4' ? (ip.totalLength as number) - (ip.headerLength as number)
      : (ip.payloadLength as number) - ((ip.length as number) - 40);
  const addresses = ip.proto === 'ipv4'
    ? bytes.subarray(ip.offset + 12, ip.offset + 20)
    : bytes.subarray(ip.offset + 8, ip.offset + 40);
  const pseudo = new Uint8Array(addresses.length + 8);
  pseudo.set(addresses, 0);
  const view = new DataView(pseudo.buffer);
  view.setUint32(addresses.length, segment);
  view.setUint32(addresses.length + 4, protocol);
  // internetChecksum returns the checksum (the complement); the folded sum is its complement.
  return ~internetChecksum(pseudo) & 0xffff;
}

interface Tally { compared: number; offload: number; local: number }

function compareCapture(file: string, tally: Tally): void {
  const fields = ['frame.protocols'];
  for (const [ours, theirs] of Object.entries(TSHARK_PROTOS)) {
    fields.push(`${theirs}.checksum.status`, CALCULATED[ours] ?? `${theirs}.checksum`);
  }
  const rows = tshark(file, [
    '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
    '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f]),
  ]).split('\n').filter((l) => l !== '');
  const registry = new Registry();
  let n = 0;
  readCaptureFile(file, (record) => {
    const row = rows[n++].split('\t');
    const packet = dissect(record.bytes, record.linktype, record.len, { registry });
    Object.keys(TSHARK_PROTOS).forEach((proto, k) => {
      const statuses = row[1 + 2 * k] ? row[1 + 2 * k].split(',') : [];
      const calculated = row[2 + 2 * k] ? row[2 + 2 * k].split(',') : [];
      const ours = packet.layers.map((layer, index) => ({ layer, index })).filter(({ layer }) => layer.proto === proto && layer.checksum);
      ours.forEach(({ layer, index }, j) => {
        const theirs = statuses[j];
        const sum = layer.checksum!;
        const where = `${path.basename(file)} packet ${n} ${proto} #${j + 1}`;
        if (theirs === undefined) return; // tshark stopped earlier: see stacks.test.ts
        tally.compared++;
        switch (sum.status) {
          case 'good':
            expect(theirs, where).toBe('1');
            break;
          case 'bad':
          case 'offload':
            expect(theirs, where).toBe('0');
            if (CALCULATED[proto] && calculated[j]) expect(sum.expected, `${where}: expected value`).toBe(Number(calculated[j]));
            if (sum.status === 'offload' && sum.reason === undefined && proto !== 'ipv4') {
              tally.offload++;
              expect(sum.value, `${where}: the pseudo-header sum`).toBe(pseudoHeaderFold(record.bytes, packet.layers, index));
            }
            if (sum.reason === 'local-checksum-offload') tally.local++;
            break;
          case 'zero':
            expect(theirs, where).toBe('3');
            break;
          case 'unverified':
            // A fragment is unverified for both. Elsewhere tshark sums what it has: the packet an ICMP error
            // quotes (cut short by design), a frame cut by the snaplen, a super-packet whose lengths the
            // frame cannot hold; tunscope does not pretend to know, so there is nothing to compare.
            if (sum.reason === 'fragment') expect(theirs, where).toBe('2');
            break;
        }
      });
    });
  });
  expect(n).toBe(rows.length);
}

describe('checksum verdicts agree with tshark', () => {
  const files = [...capturesIn(FIXTURES), ...capturesIn(PEER_CAPTURES)];
  const tally: Tally = { compared: 0, offload: 0, local: 0 };

  it('takes in the peer captures as well as the fixtures', (ctx) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return ctx.skip();
    expect(capturesIn(PEER_CAPTURES).length).toBeGreaterThan(10);
  });

  for (const file of files) {
    it(path.basename(file), () => {
      if (!requireOrSkip(haveTshark, 'tshark')) return;
      compareCapture(file, tally);
    });
  }

  it('compared the verdicts of every kind', () => {
    if (!haveTshark) return;
    // Enough comparisons that a decoder losing its checksums would show here.
    expect(tally.compared).toBeGreaterThan(700);
    expect(tally.offload).toBeGreaterThan(40);
    expect(tally.local).toBeGreaterThan(10);
  });
});
