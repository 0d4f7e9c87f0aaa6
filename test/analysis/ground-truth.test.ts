// The aggregator on fixtures/stats-ground-truth.pcap, against the counts its
// generator (fixtures/make-stats-fixture.py, scapy) wrote beside it, and
// against tshark's per-VNI, per-key and per-endpoint frame counts.

import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StatsReport, TunnelStats } from '../../src/analysis/report.js';
import { FIXTURES, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';
import { statsOf } from './stats-of.js';

interface ExpectedTunnel {
  type: TunnelStats['type'];
  src: string;
  dst: string;
  id: number | null;
  packets: number;
  bytes: number;
  innerBytes: number;
  overheadBytes: number;
  flows: number;
  checksums: { bad: Record<string, number>; offload: Record<string, number> };
  fragments: { outer: number; inner: number };
  df: { set: number; clear: number };
  maxOuterLength: number;
}

interface ExpectedFinding {
  kind: string;
  severity?: string;
  tunnel: [string, string, string, number | null] | null;
  figures: Record<string, number>;
  mac?: string;
  vtep?: string;
  movedTo?: string;
}

interface Expected {
  packets: number;
  bytes: number;
  tunnels: ExpectedTunnel[];
  untunnelled: { packets: number; bytes: number; flows: number };
  vnis: { type: string; id: number; arp: { requests: number; replies: number };
    macs: Record<string, { vtep: string; movedTo: string | null; ips: string[] }> }[];
  findings: ExpectedFinding[];
}

const CAPTURE = path.join(FIXTURES, 'stats-ground-truth.pcap');
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'stats-ground-truth.expected.json'), 'utf8')) as Expected;

function sameTunnel(t: Pick<TunnelStats, 'type' | 'src' | 'dst' | 'id'>, key: [string, string, string, number | null]): boolean {
  return t.type === key[0] && t.src === key[1] && t.dst === key[2] && t.id === key[3];
}

function byDepth(t: TunnelStats, status: 'bad' | 'offload'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of t.checksumsByDepth) if (row[status] > 0) out[String(row.depth)] = row[status];
  return out;
}

let report: StatsReport;
beforeAll(async () => {
  report = await statsOf(CAPTURE);
});

describe('every tunnel direction of the generated capture', () => {
  it('has the totals the generator counted', () => {
    expect(report.packets).toBe(expected.packets);
    expect(report.bytes).toBe(expected.bytes);
    expect(report.linktypes).toEqual({ EN10MB: expected.packets });
    // One row per expected direction, plus the untunnelled row.
    expect(report.tunnels).toHaveLength(expected.tunnels.length + 1);
  });

  for (const want of expected.tunnels) {
    it(`${want.type} ${want.id ?? ''} ${want.src} → ${want.dst}: packets, bytes, overhead, flows, checksums, fragments, DF`, () => {
      const got = report.tunnels.find((t) => sameTunnel(t, [want.type, want.src, want.dst, want.id]));
      expect(got).toBeDefined();
      const t = got as TunnelStats;
      expect({
        packets: t.packets, bytes: t.bytes, innerBytes: t.innerBytes, overheadBytes: t.overheadBytes, flows: t.flows,
        fragments: t.fragments, df: t.df, maxOuterLength: t.maxOuterLength,
      }).toEqual({
        packets: want.packets, bytes: want.bytes, innerBytes: want.innerBytes, overheadBytes: want.overheadBytes,
        flows: want.flows, fragments: want.fragments, df: want.df, maxOuterLength: want.maxOuterLength,
      });
      expect(byDepth(t, 'bad')).toEqual(want.checksums.bad);
      expect(byDepth(t, 'offload')).toEqual(want.checksums.offload);
    });
  }

  it('sums untunnelled traffic in its own row', () => {
    const none = report.tunnels.find((t) => t.type === 'none') as TunnelStats;
    expect({ packets: none.packets, bytes: none.bytes, flows: none.flows }).toEqual(expected.untunnelled);
  });

  it('sorts tunnels and flows by bytes, and flows point at their tunnel', () => {
    for (let i = 1; i < report.tunnels.length; i++) expect(report.tunnels[i - 1].bytes).toBeGreaterThanOrEqual(report.tunnels[i].bytes);
    for (let i = 1; i < report.flows.length; i++) expect(report.flows[i - 1].bytes).toBeGreaterThanOrEqual(report.flows[i].bytes);
    report.tunnels.forEach((t, index) => {
      const flows = report.flows.filter((f) => f.tunnel === index);
      expect(flows).toHaveLength(t.flows);
    });
  });

  // SYN, ACK, PSH-ACK, FIN-ACK and RST from 10.1.0.1 (make-stats-fixture.py).
  it('keeps the TCP flags and the MSS of the SYN of the VXLAN 100 connection', () => {
    const tunnel = report.tunnels.findIndex((t) => sameTunnel(t, ['vxlan', '192.0.2.1', '192.0.2.2', 100]));
    const flow = report.flows.find((f) => f.tunnel === tunnel && f.proto === 'tcp');
    expect(flow).toMatchObject({ src: '10.1.0.1', srcPort: 41000, dst: '10.1.0.2', dstPort: 80, packets: 5,
      tcp: { syn: 1, fin: 1, rst: 1, mss: 1410 } });
  });
});

describe('virtual networks of the generated capture', () => {
  for (const want of expected.vnis) {
    it(`${want.type} ${want.id}: ARP requests and replies, MACs behind each endpoint`, () => {
      const got = report.vnis.find((v) => v.type === want.type && v.id === want.id);
      expect(got).toBeDefined();
      expect(got?.arp).toEqual(want.arp);
      const macs: Record<string, { vtep: string; movedTo: string | null; ips: string[] }> = {};
      for (const mac of got?.macs ?? []) macs[mac.mac] = { vtep: mac.vtep, movedTo: mac.movedTo ?? null, ips: [...mac.ips].sort() };
      expect(macs).toEqual(want.macs);
    });
  }

  it('has no VNI the generator did not make', () => {
    expect(report.vnis.map((v) => `${v.type} ${v.id}`).sort()).toEqual(expected.vnis.map((v) => `${v.type} ${v.id}`).sort());
  });
});

describe('findings the generated capture was built to provoke', () => {
  for (const want of expected.findings) {
    const where = want.tunnel === null ? '' : ` on ${want.tunnel[0]} ${want.tunnel[3] ?? ''} ${want.tunnel[1]} → ${want.tunnel[2]}`;
    it(`${want.kind}${where}`, () => {
      const candidates = report.findings.filter((f) => f.kind === want.kind
        && (want.tunnel === null || (f.tunnel !== undefined && sameTunnel(report.tunnels[f.tunnel], want.tunnel))));
      expect(candidates).toHaveLength(1);
      const finding = candidates[0];
      expect(finding.figures).toMatchObject(want.figures);
      if (want.severity !== undefined) expect(finding.severity).toBe(want.severity);
      for (const value of Object.values(want.figures)) {
        if (value > 0) expect(finding.message).toContain(String(value));
      }
      if (want.mac !== undefined) {
        expect(finding.message).toContain(want.mac);
        expect(finding.message).toContain(`behind ${want.vtep} and then behind ${want.movedTo}`);
      }
    });
  }

  it('finds nothing else', () => {
    expect(report.findings.map((f) => f.kind).sort()).toEqual(expected.findings.map((f) => f.kind).sort());
  });
});

/** A tshark display filter for one tunnel direction; ICMP errors, which quote tunnel packets, are left out. */
function tsharkFilter(t: ExpectedTunnel): string {
  const v6 = t.src.includes(':');
  const ends = v6 ? `ipv6.src == ${t.src} && ipv6.dst == ${t.dst}` : `ip.src == ${t.src} && ip.dst == ${t.dst}`;
  const header: Record<string, string> = {
    vxlan: `vxlan.vni == ${t.id}`,
    geneve: `geneve.vni == ${t.id}`,
    gre: `${t.id === null ? 'gre && !gre.key' : `gre.key == ${t.id}`} && gre.proto == 0x0800`,
    gretap: `gre.key == ${t.id} && gre.proto == 0x6558`,
    ipip: 'ip.proto == 4',
    sit: 'ip.proto == 41',
  };
  return `${header[t.type]} && ${ends} && !(icmp.type == 3)`;
}

function lengths(output: string): number[] {
  return output.split('\n').filter((line) => line !== '').map(Number);
}

describe('every tunnel direction against tshark', () => {
  for (const want of expected.tunnels) {
    it(`${want.type} ${want.id ?? ''} ${want.src} → ${want.dst}`, () => {
      if (!requireOrSkip(haveTshark, 'tshark')) return;
      const got = report.tunnels.find((t) => sameTunnel(t, [want.type, want.src, want.dst, want.id])) as TunnelStats;
      const rows = tshark(CAPTURE, ['-Y', tsharkFilter(want), '-T', 'fields', '-e', 'frame.len', '-e', 'ip.id']).split('\n').filter((l) => l !== '');
      const frames = rows.map((row) => Number(row.split('\t')[0]));
      if (want.fragments.outer > 0) {
        // tshark without reassembly sees the tunnel in the first fragment only; the
        // later fragments share its outer addresses and IP identification (RFC 791).
        const ids = [...new Set(rows.map((row) => row.split('\t')[1].split(',')[0]))];
        for (const id of ids) {
          frames.push(...lengths(tshark(CAPTURE, ['-Y', `ip.src == ${want.src} && ip.dst == ${want.dst} && ip.id == ${id} && ip.frag_offset > 0`,
            '-T', 'fields', '-e', 'frame.len'])));
        }
      }
      expect(got.packets).toBe(frames.length);
      expect(got.bytes).toBe(frames.reduce((a, b) => a + b, 0));
    });
  }
});
