// The aggregator's bounds and its live use: memory held by tunnels and flows
// up to their caps, overflow rows and notices beyond them, a report that can
// be taken again and again while packets keep coming; and its checksum
// counters by depth.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { StatsAggregator } from '../../src/analysis/aggregate.js';
import { readCaptureFile } from '../../src/sources/file.js';
import type { CaptureRecord } from '../../src/sources/record.js';
import { FIXTURES } from '../helpers/tools.js';

function firstRecord(file: string): CaptureRecord {
  let first: CaptureRecord | undefined;
  readCaptureFile(file, (record) => {
    first = { ...record, bytes: record.bytes.slice() };
    return false;
  });
  return first as CaptureRecord;
}

// tcp-mss.pcap frame 1: Ethernet, IPv4 192.0.2.1 > 192.0.2.2, UDP 4789, VXLAN 42, Ethernet, IPv4, TCP SYN.
const TEMPLATE = firstRecord(path.join(FIXTURES, 'tcp-mss.pcap'));
const OUTER_SRC = 14 + 12;
const INNER_MAC_SRC = 14 + 20 + 8 + 8 + 6;
const INNER_IP_SRC = 14 + 20 + 8 + 8 + 14 + 12;
const INNER_TCP = 14 + 20 + 8 + 8 + 14 + 20;
const registry = new Registry();

/** The template frame with a 32-bit number written at `offset`, one second later per `n`. */
function variant(n: number, offset: number): CaptureRecord {
  const bytes = TEMPLATE.bytes.slice();
  new DataView(bytes.buffer).setUint32(offset, n);
  return { ...TEMPLATE, bytes, sec: TEMPLATE.sec + n };
}

function feed(aggregator: StatsAggregator, count: number, offset: number): void {
  for (let n = 0; n < count; n++) {
    const record = variant(n, offset);
    aggregator.add(n + 1, record, dissect(record.bytes, record.linktype, record.len, { registry }));
  }
}

describe('the flow cap', () => {
  it('keeps maxFlows flows and sums the packets of further flows in one overflow row per tunnel, with a notice', () => {
    const aggregator = new StatsAggregator({ maxFlows: 50 });
    // Each packet gets its own TCP source and destination port: 2,000 flows in one tunnel.
    feed(aggregator, 2000, INNER_TCP);
    const report = aggregator.report();
    expect(report.tunnels).toHaveLength(1);
    expect(report.tunnels[0].packets).toBe(2000);
    expect(report.flows).toHaveLength(51);
    const overflow = report.flows.filter((f) => f.proto === 'overflow');
    expect(overflow).toHaveLength(1);
    expect(overflow[0].packets).toBe(2000 - 50);
    expect(report.tunnels[0].flows).toBe(51);
    const notice = report.findings.find((f) => f.kind === 'table-full');
    expect(notice).toMatchObject({ severity: 'warning', figures: { limit: 50, packets: 1950 } });
    expect(notice?.message).toContain('flow table full at 50 flows: 1950 packets');
  });

  it('does not grow with more packets once full', () => {
    const aggregator = new StatsAggregator({ maxFlows: 20 });
    feed(aggregator, 500, INNER_TCP);
    const before = aggregator.report().flows.length;
    feed(aggregator, 3000, INNER_TCP);
    expect(aggregator.report().flows.length).toBe(before);
    expect(aggregator.flowCount).toBe(20);
  });
});

describe('the tunnel cap', () => {
  it('keeps maxTunnels tunnel rows and sums the rest in one "overflow" row, with a notice', () => {
    const aggregator = new StatsAggregator({ maxTunnels: 10 });
    // Each packet comes from its own outer source address: 300 tunnel directions.
    feed(aggregator, 300, OUTER_SRC);
    const report = aggregator.report();
    expect(report.tunnels).toHaveLength(11);
    const overflow = report.tunnels.find((t) => t.type === 'overflow');
    expect(overflow?.packets).toBe(290);
    expect(report.tunnels.filter((t) => t.type === 'vxlan').every((t) => t.packets === 1)).toBe(true);
    expect(report.findings.find((f) => f.kind === 'table-full')?.message).toContain('tunnel table full at 10 tunnels: 290 packets');
  });
});

describe('the address cap', () => {
  it('learns at most maxAddresses inner MACs and says how many packets were not learned', () => {
    const aggregator = new StatsAggregator({ maxAddresses: 5 });
    feed(aggregator, 40, INNER_MAC_SRC);
    const report = aggregator.report();
    expect(report.vnis).toHaveLength(1);
    expect(report.vnis[0].macs).toHaveLength(5);
    expect(report.findings.find((f) => f.kind === 'table-full')?.figures).toEqual({ limit: 5, packets: 35 });
  });
});

describe('the IP addresses of a learned MAC', () => {
  it('lists the first 16 source addresses once each, in the order first seen, as text, with or without detail', () => {
    for (const detail of [true, false]) {
      const aggregator = new StatsAggregator();
      // Inner source 0.0.0.n for n = 0..19, then 0.0.0.2 and 0.0.0.1 again: all from the template's one inner MAC.
      for (const n of [...Array.from({ length: 20 }, (_, n) => n), 2, 1]) {
        const record = variant(n, INNER_IP_SRC);
        aggregator.add(n + 1, record, dissect(record.bytes, record.linktype, record.len, { registry, detail }));
      }
      const macs = aggregator.report().vnis[0].macs;
      expect(macs).toHaveLength(1);
      expect(macs[0].packets).toBe(22);
      expect(macs[0].ips).toEqual(Array.from({ length: 16 }, (_, n) => `0.0.0.${n}`));
    }
  });
});

describe('report() during a live capture', () => {
  it('gives the same answer twice, and a newer one after more packets', () => {
    const aggregator = new StatsAggregator();
    feed(aggregator, 3, INNER_TCP);
    const first = aggregator.report();
    expect(aggregator.report()).toEqual(first);
    const record = variant(3, INNER_TCP);
    aggregator.add(4, record, dissect(record.bytes, record.linktype, record.len, { registry }));
    const second = aggregator.report();
    expect(second.packets).toBe(first.packets + 1);
    expect(second.tunnels[0].lastTs).toBe(TEMPLATE.sec + 3 + TEMPLATE.nsec / 1e9);
    expect(second.flows).toHaveLength(4);
    expect(first.flows).toHaveLength(3);
  });

  it('reports an empty capture as zeros', () => {
    const report = new StatsAggregator().report();
    expect(report).toMatchObject({ packets: 0, bytes: 0, firstTs: null, lastTs: null, tunnels: [], flows: [], vnis: [], findings: [] });
  });
});

describe('checksum verdicts by depth', () => {
  const zeros = { bad: 0, offload: 0, zero: 0, unverified: 0 };

  it('counts each verdict at the depth of its tunnel, for the whole capture and for the tunnel', () => {
    // tshark on tcp-mss.pcap frame 1: both IPv4 checksums, UDP's and TCP's are good.
    const aggregator = new StatsAggregator();
    for (let n = 1; n <= 3; n++) aggregator.add(n, TEMPLATE, dissect(TEMPLATE.bytes, TEMPLATE.linktype, TEMPLATE.len, { registry }));
    const report = aggregator.report();
    const byDepth = [{ depth: 0, good: 6, ...zeros }, { depth: 1, good: 6, ...zeros }];
    expect(report.checksums).toEqual(byDepth);
    expect(report.tunnels[0].checksumsByDepth).toEqual(byDepth);
  });

  it('has a row for depth 0 once a packet was counted, even a packet without a checksum', () => {
    const aggregator = new StatsAggregator();
    // The Ethernet header alone: the IPv4 header it announces was not captured.
    const record = { ...TEMPLATE, bytes: TEMPLATE.bytes.slice(0, 14) };
    aggregator.add(1, record, dissect(record.bytes, record.linktype, record.len, { registry }));
    const report = aggregator.report();
    expect(report.checksums).toEqual([{ depth: 0, good: 0, ...zeros }]);
    expect(report.tunnels[0].checksumsByDepth).toEqual([{ depth: 0, good: 0, ...zeros }]);
  });
});
