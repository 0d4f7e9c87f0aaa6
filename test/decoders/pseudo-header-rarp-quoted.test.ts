// The IPv6 pseudo-header with a Routing header or a Home Address option, RARP,
// and the checksums of a datagram an ICMP error quotes whole, on the captures
// fixtures/make-scapy-causes.py makes: the facts of how each packet was made,
// and tshark's verdict and fields on the same packets at test time.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import type { Packet } from '../../decoders/types.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';

function packets(name: string): Packet[] {
  const registry = new Registry();
  return readCaptureRecords(path.join(FIXTURES, name)).map((r) => dissect(r.data, r.linktype, r.wireLength, { registry }));
}

/** tshark's fields of every packet, one array per packet, with checksum validation on. */
function tsharkFields(name: string, fields: string[]): string[][] {
  return tshark(path.join(FIXTURES, name), [
    '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
    '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f]),
  ]).split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

const TSHARK_STATUS: Record<string, string> = { good: '1', bad: '0' };

describe('IPv6 transport checksums over the pseudo-header of RFC 8200 8.1 and RFC 6275 6.3', () => {
  const file = 'ipv6-pseudo-header.pcap';
  const transport = (p: Packet) => p.layers.find((l) => l.proto === 'udp' || l.proto === 'tcp' || l.proto === 'icmpv6')!;

  it('calls right the checksums made over the final destination and the home address, and wrong those made over the header', () => {
    // Made right: 1 (routing type 0), 3 (type 2), 5 (home address), 7 (segments left 0); 2, 4, 6 over the header's addresses.
    expect(packets(file).map((p) => transport(p).checksum!.status)).toEqual(['good', 'bad', 'good', 'bad', 'good', 'bad', 'good']);
  });

  it('names the final destination and the home address', () => {
    const ipv6 = packets(file).map((p) => p.layers[1].extensions as Record<string, unknown>[]);
    expect(ipv6[0][0]).toMatchObject({ type: 'routing', routingType: 0, segmentsLeft: 1, finalDestination: '2001:db8:40::9' });
    expect(ipv6[2][0]).toMatchObject({ type: 'routing', routingType: 2, segmentsLeft: 1, finalDestination: '2001:db8:10::5' });
    expect(ipv6[4][0]).toMatchObject({ type: 'destination', homeAddress: '2001:db8:10::5' });
    expect(ipv6[6][0]).toMatchObject({ type: 'routing', segmentsLeft: 0 });
    expect(ipv6[6][0].finalDestination).toBeUndefined();
  });

  it('agrees with tshark', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const rows = tsharkFields(file, ['udp.checksum.status', 'tcp.checksum.status', 'icmpv6.checksum.status']);
    packets(file).forEach((p, i) => {
      expect(rows[i].join(''), `packet ${i + 1}`).toBe(TSHARK_STATUS[transport(p).checksum!.status]);
    });
  });
});

describe('RARP (RFC 903, ethertype 0x8035)', () => {
  const file = 'rarp.pcap';

  it('decodes as ARP, marked reverse, with its opcodes and addresses', () => {
    const arp = packets(file).map((p) => p.layers[1]);
    expect(arp.map((l) => [l.proto, l.reverse, l.opcode])).toEqual([['arp', true, 3], ['arp', true, 4], ['arp', undefined, 1]]);
    expect(arp[1]).toMatchObject({ senderMac: '02:00:00:00:01:02', senderIp: '192.0.2.2', targetMac: '02:00:00:00:01:01', targetIp: '192.0.2.1' });
  });

  it('agrees with tshark on every field', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const rows = tsharkFields(file, ['_ws.col.Protocol', 'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.hw_mac', 'arp.dst.proto_ipv4']);
    packets(file).forEach((p, i) => {
      const l = p.layers[1];
      expect([l.reverse ? 'RARP' : 'ARP', String(l.opcode), l.senderMac, l.senderIp, l.targetMac, l.targetIp], `packet ${i + 1}`).toEqual(rows[i]);
    });
  });

  it('prints as tcpdump does and filters as `rarp`, apart from `arp`', () => {
    const read = (args: string[]) => runCli(['read', path.join(FIXTURES, file), ...args]).stdout.trim().split('\n').map((l) => l.slice(16));
    expect(read([])).toEqual([
      'ARP, Reverse Request who-is 02:00:00:00:01:01 tell 02:00:00:00:01:01, length 28',
      'ARP, Reverse Reply 02:00:00:00:01:01 at 192.0.2.1, length 28',
      'ARP, Request who-has 192.0.2.2 tell 192.0.2.1, length 28',
    ]);
    expect(read(['--filter', 'rarp']).map((l) => l.slice(0, 19))).toEqual(['ARP, Reverse Reques', 'ARP, Reverse Reply ']);
    expect(read(['--filter', 'arp']).map((l) => l.slice(0, 12))).toEqual(['ARP, Request']);
    expect(read(['--filter', 'rarp and host 192.0.2.1']).map((l) => l.slice(0, 18))).toEqual(['ARP, Reverse Reply']);
  });
});

describe('checksums of a datagram an ICMP error quotes', () => {
  const file = 'icmp-quoted-whole.pcap';
  const quotedTransport = (p: Packet) => p.layers[p.quotedFrom! + 1];

  it('are verified when it is quoted whole and left unverified when cut', () => {
    // 1 right, 2 wrong (0x1234), 3 right over IPv6, 4 only the header and 8 bytes.
    expect(packets(file).map((p) => quotedTransport(p).checksum)).toEqual([
      { status: 'good', value: expect.any(Number) },
      { status: 'bad', value: 0x1234, expected: expect.any(Number) },
      { status: 'good', value: expect.any(Number) },
      { status: 'unverified', value: expect.any(Number), reason: 'quoted' },
    ]);
  });

  it('agrees with tshark', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const rows = tsharkFields(file, ['udp.checksum.status']);
    const theirs: Record<string, string> = { ...TSHARK_STATUS, unverified: '2' };
    packets(file).forEach((p, i) => expect(rows[i][0], `packet ${i + 1}`).toBe(theirs[quotedTransport(p).checksum!.status]));
  });
});
