// Findings on captures made by the kernel and by scapy, with the numbers
// they must name taken from how the captures were made (fixtures/README.md,
// fixtures/make-vxlan-lab.sh) and from tshark.

import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding, StatsReport, TunnelStats } from '../../src/analysis/report.js';
import { FIXTURES, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';
import { statsOf } from './stats-of.js';

function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

function findingsOf(report: StatsReport, kind: Finding['kind']): Finding[] {
  return report.findings.filter((f) => f.kind === kind);
}

function tunnelOf(report: StatsReport, finding: Finding): TunnelStats {
  expect(finding.tunnel).toBeDefined();
  return report.tunnels[finding.tunnel as number];
}

/** tshark verifies these checksums only when asked. */
const CHECK_CHECKSUMS = ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'];

/** tshark fields, one array of values per frame, every occurrence of each field. */
function fields(file: string, filter: string, names: string[]): string[][][] {
  const args = [...CHECK_CHECKSUMS, '-T', 'fields', '-E', 'occurrence=a', ...names.flatMap((name) => ['-e', name])];
  if (filter !== '') args.unshift('-Y', filter);
  return tshark(file, args).split('\n').filter((line) => line !== '')
    .map((line) => line.split('\t').map((cell) => (cell === '' ? [] : cell.split(','))));
}

describe('kernel VXLAN lab, pings larger than the tunnel (vxlan-lab-mtu.pcap)', () => {
  const file = fixture('vxlan-lab-mtu.pcap');
  // make-vxlan-lab.sh mtu: `ping -s 2000` over VNI 42 (vxlan MTU 1450) and `ping -s 1472` over VNI 43 (MTU 1500).
  const PING_2000 = 2000 + 8 + 20;
  // Linux cuts fragments at a multiple of 8 data bytes (RFC 791): (1450 - 20) & ~7 = 1424.
  const FIRST_FRAGMENT = 20 + ((1450 - 20) & ~7);
  const PING_1472 = 1472 + 8 + 20;
  let report: StatsReport;
  beforeAll(async () => {
    report = await statsOf(file);
  });

  it('names the inner fragments of the 2028-byte ping in VNI 42, both ways, with their sizes', () => {
    const found = findingsOf(report, 'inner-fragments');
    expect(found).toHaveLength(2);
    for (const finding of found) {
      const tunnel = tunnelOf(report, finding);
      expect(tunnel).toMatchObject({ type: 'vxlan', id: 42, fragments: { outer: 0, inner: 2 } });
      expect(finding.figures).toMatchObject({ fragments: 2, largest: FIRST_FRAGMENT, datagram: PING_2000, innerMtu: 1450, encapsulation: 50 });
      expect(finding.message).toContain(`${FIRST_FRAGMENT} bytes`);
      expect(finding.message).toContain(`${PING_2000} bytes`);
      expect(finding.message).toContain('inner MTU of 1450');
    }
    expect(found.map((f) => tunnelOf(report, f).src).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('gives the later inner fragments a flow of their own, without ports', () => {
    const later = report.flows.filter((f) => f.laterFragments === true);
    expect(later.map((f) => [f.proto, f.src, f.dst, f.packets, f.srcPort]).sort()).toEqual([
      ['icmp', '172.18.1.1', '172.18.1.2', 1, undefined],
      ['icmp', '172.18.1.2', '172.18.1.1', 1, undefined],
    ]);
  });

  it('names the 1500-byte inner packets of VNI 43 that the underlay fragmented', () => {
    const found = findingsOf(report, 'inner-mtu');
    expect(found).toHaveLength(2);
    for (const finding of found) {
      expect(tunnelOf(report, finding)).toMatchObject({ type: 'vxlan', id: 43, fragments: { outer: 2, inner: 0 } });
      expect(finding.figures).toMatchObject({ packets: 1, largest: PING_1472, innerMtu: 1450, outerFragmented: 1, dfSet: 0 });
      expect(finding.message).toContain(`${PING_1472} bytes exceeds the inner MTU of 1450`);
      expect(finding.message).toContain('fragmented outer packets (2 outer fragments)');
    }
  });

  it('agrees with tshark on the fragment sizes and on what each tunnel carried', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    // Inner IPv4 of VNI 42: the last ip.len of each frame; a last fragment ends its datagram at offset + length.
    const inner = fields(file, 'vxlan.vni == 42 && icmp || vxlan.vni == 42 && ip.frag_offset > 0', ['ip.len', 'ip.frag_offset']);
    const sizes = inner.map(([len]) => Number(len[len.length - 1]));
    expect(Math.max(...sizes)).toBe(FIRST_FRAGMENT);
    const ends = inner.map(([len, offset]) => Number(offset[offset.length - 1]) * 8 + Number(len[len.length - 1]));
    expect(Math.max(...ends)).toBe(PING_2000);
    // VNI 43 from 10.0.0.1: the first outer fragment shows VXLAN, the second only its IP header.
    const frames = fields(file, 'ip.src == 10.0.0.1 && ip.dst == 10.0.0.2 && (vxlan.vni == 43 || (ip.frag_offset > 0 && !vxlan))', ['frame.len']);
    const vni43 = report.tunnels.find((t) => t.id === 43 && t.src === '10.0.0.1') as TunnelStats;
    expect(vni43.packets).toBe(frames.length);
    expect(vni43.bytes).toBe(frames.reduce((sum, [len]) => sum + Number(len[0]), 0));
  });
});

describe('ICMP errors about tunnel packets (icmp-errors.pcap)', () => {
  let report: StatsReport;
  beforeAll(async () => {
    report = await statsOf(fixture('icmp-errors.pcap'));
  });

  it('names the fragmentation-needed MTU 1450 about a 1500-byte VXLAN packet, and the inner MTU left', () => {
    const finding = findingsOf(report, 'frag-needed').find((f) => f.figures.mtu === 1450);
    expect(finding).toBeDefined();
    // Two messages (README): one quoting 548 bytes, one the header and 8 bytes; both about the same packet.
    expect(finding?.figures).toMatchObject({ messages: 2, quotedLength: 1500, innerMtu: 1450 - 50 });
    expect(finding?.message).toContain('ICMP fragmentation needed from 192.0.2.254 to 192.0.2.1');
    expect(finding?.message).toContain('MTU 1450');
    expect(finding?.message).toContain('vxlan 42');
  });

  it('names the packet-too-big MTU 1280 about a 1400-byte VXLAN-over-IPv6 packet', () => {
    const finding = findingsOf(report, 'frag-needed').find((f) => f.figures.mtu === 1280);
    expect(finding).toBeDefined();
    // VXLAN over IPv6 takes 70 bytes: 40 IPv6, 8 UDP, 8 VXLAN, 14 Ethernet.
    expect(finding?.figures).toMatchObject({ messages: 1, quotedLength: 1400, innerMtu: 1280 - 70 });
    expect(finding?.message).toContain('ICMPv6 packet too big from 2001:db8::fe');
  });

  it('reports the MTUs tshark reads', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const mtus = fields(fixture('icmp-errors.pcap'), 'icmp.mtu || icmpv6.mtu', ['icmp.mtu', 'icmpv6.mtu']).map((row) => Number(row.flat()[0]));
    expect([...new Set(mtus)].sort()).toEqual(findingsOf(report, 'frag-needed').map((f) => f.figures.mtu).sort());
  });
});

describe('SYNs whose MSS does not fit the tunnel (tcp-mss.pcap)', () => {
  let report: StatsReport;
  beforeAll(async () => {
    report = await statsOf(fixture('tcp-mss.pcap'));
  });

  it('names MSS 1460 inside VXLAN over IPv4, which fits 1500 - 50 - 40 = 1410, and the IPv6 SYN with 1440 (fits 1390)', () => {
    const found = findingsOf(report, 'mss');
    expect(found.map((f) => [f.figures.mss, f.figures.fits]).sort()).toEqual([[1440, 1500 - 50 - 60], [1460, 1500 - 50 - 40]]);
    const v4 = found.find((f) => f.figures.mss === 1460) as Finding;
    expect(v4.message).toContain('SYN 10.1.0.1:40060 → 10.1.0.2:443 advertises MSS 1460');
    expect(v4.message).toContain('fits 1410');
    expect(report.flows[v4.flow as number]).toMatchObject({ proto: 'tcp', srcPort: 40060, dstPort: 443, tcp: { syn: 1, mss: 1460 } });
    const v6 = found.find((f) => f.figures.mss === 1440) as Finding;
    expect(report.flows[v6.flow as number]).toMatchObject({ proto: 'tcp', src: 'fd00:1::1', srcPort: 40061, tcp: { mss: 1440 } });
  });

  it('names the row of its flow in every capture that has one (rows sorted by bytes, not by when first seen)', async () => {
    let named = 0;
    for (const name of ['tcp-mss.pcap', 'ip4in6.pcap', 'ip6in6.pcap', 'ipip.pcap', 'sit.pcap', 'gretap.pcap', 'geneve-options.pcap']) {
      const all = await statsOf(fixture(name));
      for (const finding of findingsOf(all, 'mss')) {
        const row = all.flows[finding.flow as number];
        expect(row.tcp?.mss, name).toBe(finding.figures.mss);
        expect(finding.message, name).toContain(`SYN ${row.src}:${row.srcPort} → ${row.dst}:${row.dstPort} `);
        named++;
      }
    }
    expect(named).toBe(11);
  });

  it('leaves the SYN-ACK alone: its MSS 1410 fits exactly', () => {
    const synAck = report.flows.find((f) => f.srcPort === 443 && f.proto === 'tcp');
    expect(synAck?.tcp?.mss).toBe(1410);
    expect(findingsOf(report, 'mss').some((f) => f.flow !== undefined && report.flows[f.flow] === synAck)).toBe(false);
  });
});

describe('checksums', () => {
  it('counts the inner checksums broken on purpose in vxlan-bad-inner.pcap as bad at depth 1, none outside', async () => {
    const report = await statsOf(fixture('vxlan-bad-inner.pcap'));
    const tunnel = report.tunnels.find((t) => t.type === 'vxlan') as TunnelStats;
    // README: a changed TCP payload byte, a wrong ICMP checksum, a wrong inner IPv4 header checksum.
    expect(tunnel.checksumsByDepth.map((row) => row.bad)).toEqual([0, 3]);
    expect(tunnel.checksums).toEqual({ bad: 3, offload: 0 });
    const [finding] = findingsOf(report, 'bad-inner-checksum');
    expect(finding).toMatchObject({ severity: 'error', figures: { bad: 3, tcp: 1, icmp: 1, ipv4: 1 } });
    expect(finding.message).toContain('3 inner checksums bad on arrival (tcp 1, icmp 1, ipv4 1)');
    expect(finding.message).toContain('kernel/NIC checksum bug on overlay devices');
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const statuses = fields(fixture('vxlan-bad-inner.pcap'), '', ['ip.checksum.status', 'tcp.checksum.status', 'icmp.checksum.status']);
    const badIn = (column: number): number => statuses.reduce((sum, row) => sum + row[column].filter((s) => s === '0').length, 0);
    expect([badIn(0), badIn(1), badIn(2)]).toEqual([finding.figures.ipv4, finding.figures.tcp, finding.figures.icmp]);
  });

  it('counts the CHECKSUM_PARTIAL checksums of the kernel lab as offload, none as bad', async () => {
    const report = await statsOf(fixture('vxlan-lab.pcap'));
    expect(report.tunnels.reduce((sum, t) => sum + t.checksums.bad, 0)).toBe(0);
    expect(findingsOf(report, 'bad-inner-checksum')).toEqual([]);
    const offload = findingsOf(report, 'checksum-offload');
    expect(offload).toHaveLength(1);
    expect(offload[0].severity).toBe('info');
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    // tshark, told to verify UDP and TCP checksums, calls every partial checksum bad (status 0). The UDP
    // datagram an ICMP error quotes is not ours to count: the quote is cut short by design.
    const rows = fields(fixture('vxlan-lab.pcap'), '', ['udp.checksum.status', 'tcp.checksum.status', 'icmp.type']);
    let outer = 0;
    let inner = 0;
    for (const [udp, tcp, icmp] of rows) {
      const udpShown = icmp.includes('3') ? udp.slice(0, 1) : udp;
      udpShown.forEach((status, i) => {
        if (status !== '0') return;
        if (i === 0) outer++;
        else inner++;
      });
      inner += tcp.filter((status) => status === '0').length;
    }
    expect(report.checksums.map((row) => row.offload)).toEqual([outer, inner]);
    expect(offload[0].figures).toMatchObject({ outer, inner, checksums: outer + inner });
    for (const t of report.tunnels.filter((t) => t.type === 'vxlan')) {
      const direction = `ip.src == ${t.src} && ip.dst == ${t.dst} && vxlan`;
      expect(t.packets).toBe(fields(fixture('vxlan-lab.pcap'), direction, ['frame.len']).length);
    }
  }, 120_000);
});

describe('ports, flags and directions', () => {
  it('names VXLAN on UDP 8472 per direction, with the packet counts tshark sees on that port', async () => {
    const report = await statsOf(fixture('vxlan-lab-8472.pcap'));
    const found = findingsOf(report, 'udp-8472');
    expect(found).toHaveLength(2);
    for (const finding of found) {
      const tunnel = tunnelOf(report, finding);
      expect(finding.figures.packets).toBe(tunnel.packets);
      expect(finding.message).toContain('UDP port 8472');
      if (requireOrSkip(haveTshark, 'tshark')) {
        const frames = fields(fixture('vxlan-lab-8472.pcap'), `ip.src == ${tunnel.src} && ip.dst == ${tunnel.dst} && udp.port == 8472`, ['frame.len']);
        expect(finding.figures.packets).toBe(frames.length);
      }
    }
  });

  it('finds no one-way tunnel where both directions were captured, and names the one that was seen one way', async () => {
    expect(findingsOf(await statsOf(fixture('vxlan-lab.pcap')), 'one-way')).toEqual([]);
    const oneWay = findingsOf(await statsOf(fixture('vxlan-bad-inner.pcap')), 'one-way');
    expect(oneWay).toHaveLength(1);
    expect(oneWay[0].message).toContain('vxlan 42 192.0.2.1 → 192.0.2.2: seen in one direction only (4 packets, none from 192.0.2.2 to 192.0.2.1)');
  });
});
