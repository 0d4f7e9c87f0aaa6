// The aggregator's observer: for each packet, the tunnel and flow rows it was
// counted in, so that a view can list the packets behind a row without
// deciding again which rows a packet belongs to.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatsAggregator } from '../../src/analysis/aggregate.js';
import type { TunnelEntry } from '../../src/analysis/entries.js';
import type { FlowRow } from '../../src/analysis/flow-store.js';
import { decodeCapture, prepareDecode } from '../../src/pipeline.js';
import { FIXTURES, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';

interface Counted {
  n: number;
  tunnel: TunnelEntry;
  flow: FlowRow | null;
}

async function observe(fixture: string, maxFlows?: number): Promise<{ aggregator: StatsAggregator; counted: Counted[] }> {
  const counted: Counted[] = [];
  const aggregator = new StatsAggregator({ maxFlows, observer: { counted: (n, tunnel, flow) => counted.push({ n, tunnel, flow }) } });
  await decodeCapture(path.join(FIXTURES, fixture), prepareDecode({}), (n, record, packet) => {
    aggregator.add(n, record, packet);
  });
  return { aggregator, counted };
}

function tally(ids: number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

describe('the count observer', () => {
  const fixtures = ['vxlan-lab-2vni.pcap', 'vxlan-nested.pcap', 'fragments.pcap', 'gretap.pcap', 'erspan.pcap', 'qinq.pcap',
    'icmp-errors.pcap', 'ip6in6.pcap', 'stats-ground-truth.pcap'];
  for (const fixture of fixtures) {
    it(`is told of as many packets as each tunnel and flow row of ${fixture} counts, and the rows are found again`, async () => {
      const { aggregator, counted } = await observe(fixture);
      const report = aggregator.report();
      const byTunnel = tally(counted.map((c) => c.tunnel.order));
      const byFlow = tally(counted.flatMap((c) => (c.flow === null ? [] : [c.flow.order])));
      const entries = report.tunnels.map((row) => aggregator.findTunnelRow(row));
      report.tunnels.forEach((row, i) => {
        expect(entries[i]).not.toBeNull();
        expect(byTunnel.get((entries[i] as TunnelEntry).order)).toBe(row.packets);
      });
      expect(byTunnel.size).toBe(report.tunnels.length);
      for (const row of report.flows) {
        const flow = aggregator.findFlow(entries[row.tunnel] as TunnelEntry, row);
        expect(flow, `${row.proto} ${row.src} > ${row.dst}`).not.toBeNull();
        expect(byFlow.get((flow as FlowRow).order)).toBe(row.packets);
      }
      expect(byFlow.size).toBe(report.flows.length);
    });
  }

  it('credits the later fragment of a fragmented VXLAN packet to the first fragment\'s tunnel, in none of its flows', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const lines = tshark(path.join(FIXTURES, 'fragments.pcap'), ['-T', 'fields', '-E', 'occurrence=f',
      '-e', 'frame.number', '-e', 'ip.id', '-e', 'vxlan.vni']).trim().split('\n').map((l) => l.split('\t'));
    const first = lines.find((fields) => fields[2] !== '') as string[];
    const later = lines.filter((fields) => fields[1] === first[1] && fields[0] !== first[0]).map((fields) => Number(fields[0]));
    expect(later).toHaveLength(1);
    const { counted } = await observe('fragments.pcap');
    const ofFirst = counted.find((c) => c.n === Number(first[0]));
    const ofLater = counted.filter((c) => c.n === later[0]);
    expect(ofLater).toHaveLength(1);
    expect(ofLater[0].flow).toBeNull();
    expect(ofLater[0].tunnel).toBe(ofFirst?.tunnel);
    expect(ofLater[0].tunnel.id).toBe(Number(first[2]));
  });

  it('reports the overflow flow row for packets of flows past the cap', async () => {
    const { aggregator, counted } = await observe('vxlan-lab-2vni.pcap', 1);
    const overflow = counted.filter((c) => c.flow !== null && c.flow.id === c.tunnel.overflowFlow);
    const report = aggregator.report();
    const overflowPackets = report.flows.filter((f) => f.proto === 'overflow').reduce((sum, f) => sum + f.packets, 0);
    expect(overflowPackets).toBeGreaterThan(0);
    expect(overflow).toHaveLength(overflowPackets);
  });
});
