// The Prometheus metrics of a report: the cardinality cap (top N tunnels by
// bytes on their own, the rest summed in type="other"), and `stats
// --metrics-file` over a kernel-made capture against tshark's counts.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatsReport, TunnelStats } from '../../src/analysis/report.js';
import { TunscopeMetrics, tunnelSeries } from '../../src/export/metrics.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';

function row(type: TunnelStats['type'], id: number | null, src: string, bytes: number, packets: number): TunnelStats {
  return {
    type, src, dst: '10.0.0.9', id, packets, bytes, innerBytes: bytes - 50 * packets, overheadBytes: 50 * packets, overheadPercent: 0,
    flows: 1, firstTs: 0, lastTs: 0, firstTime: '', lastTime: '', bitsPerSecond: null, packetsPerSecond: null,
    checksums: { bad: 0, offload: 0 }, checksumsByDepth: [{ depth: 1, good: packets, bad: 1, offload: 0, zero: 0, unverified: 0 }],
    fragments: { outer: 1, inner: 0 }, maxOuterLength: 0, df: { set: 0, clear: 0 }, encapsulation: null, largestInnerPacket: 0,
  };
}

const TUNNELS = [
  row('vxlan', 1, '10.0.0.1', 1000, 10),
  row('vxlan', 2, '10.0.0.2', 5000, 20),
  row('geneve', 3, '10.0.0.3', 3000, 30),
  row('gre', null, '10.0.0.4', 2000, 40),
  row('none', null, '', 700, 7),
  row('overflow', null, '', 100, 1),
];

function sample(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}\\{(.*)\\} (\\d+)$`).exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

describe('metrics cardinality', () => {
  it('gives the top N tunnels by bytes series of their own and sums the rest, the overflow row too, in type="other"', () => {
    const series = tunnelSeries(TUNNELS, 2);
    expect(series.map((s) => s.labels)).toEqual([
      { type: 'vxlan', id: '2', src: '10.0.0.2', dst: '10.0.0.9' },
      { type: 'geneve', id: '3', src: '10.0.0.3', dst: '10.0.0.9' },
      { type: 'none', id: '', src: '', dst: '' },
      { type: 'other', id: '', src: '', dst: '' },
    ]);
    const other = series[3];
    expect(other.packets).toBe(40 + 10 + 1);
    expect(other.bytes).toBe(2000 + 1000 + 100);
    expect(other.fragments.outer).toBe(3);
  });

  it('writes every packet once across the series, whatever N', async () => {
    const all = TUNNELS.reduce((sum, t) => sum + t.packets, 0);
    for (const limit of [1, 2, 4, 200]) {
      const metrics = new TunscopeMetrics(limit);
      metrics.update({ tunnels: TUNNELS, findings: [] } as unknown as StatsReport, [{ name: 'eth0', packets: 3, bytes: 300 }]);
      const packets = sample(await metrics.text(), 'tunscope_tunnel_packets_total');
      expect([...packets.values()].reduce((a, b) => a + b, 0)).toBe(all);
      // Own series (at most N), none, and other (the overflow row is always left over here).
      expect(packets.size).toBe(Math.min(limit, 4) + 2);
    }
  });
});

describe('stats --metrics-file', () => {
  it('writes the text format with tunscope_tunnel_packets_total per VNI as tshark counts it', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const file = path.join(FIXTURES, 'vxlan-lab-2vni.pcap');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-metrics-'));
    try {
      const out = path.join(dir, 'tunscope.prom');
      const result = runCli(['stats', file, '--metrics-file', out]);
      expect(result.status, result.stderr).toBe(0);
      const text = fs.readFileSync(out, 'utf8');
      expect(text).toMatch(/^# HELP tunscope_tunnel_packets_total /m);
      expect(text).toMatch(/^# TYPE tunscope_tunnel_packets_total counter$/m);
      const packets = sample(text, 'tunscope_tunnel_packets_total');
      for (const vni of [42, 43]) {
        const expected = tshark(file, ['-Y', `vxlan.vni == ${vni}`]).trim().split('\n').length;
        const got = [...packets].filter(([labels]) => labels.includes(`type="vxlan",id="${vni}"`)).reduce((sum, [, n]) => sum + n, 0);
        expect(got, `VNI ${vni}`).toBe(expected);
      }
      const total = tshark(file, []).trim().split('\n').length;
      expect(sample(text, 'tunscope_interface_packets_total').get('interface="0"')).toBe(total);
      expect(fs.readdirSync(dir)).toEqual(['tunscope.prom']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file it cannot write: one line, exit 1', () => {
    const result = runCli(['stats', path.join(FIXTURES, 'vxlan-lab.pcap'), '--metrics-file', '/nonexistent-dir/x.prom']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^tunscope: --metrics-file \/nonexistent-dir\/x\.prom: ENOENT\n$/);
  });
});
