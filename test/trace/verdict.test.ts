// The verdict: one line per loss when there are few; summed by place and stage
// when losses are spread over many flows, so it stays at most a few lines; where
// a loss lies between two hosts it says so.

import { describe, expect, it } from 'vitest';
import type { GroupReport, LossReport, TraceReport } from '../../src/trace/report.js';
import { verdictOf } from '../../src/trace/verdict.js';

const POINTS = ['h1-pod', 'h1-eth', 'h2-eth', 'h2-pod'];

function report(groups: GroupReport[]): TraceReport {
  return {
    points: POINTS.map((name) => ({ name, file: `${name}.pcap`, interface: null, host: name.slice(0, 2), packets: 100 })),
    hosts: [],
    window: null,
    outside: 0,
    shared: true,
    verdict: [],
    notes: [],
    groups,
  };
}

function group(n: number, losses: LossReport[]): GroupReport {
  return {
    kind: 'tcp-data', flow: `10.244.1.2:${10000 + n} > 10.244.2.2:80`, direction: 'forward', packets: 10, seen: {}, hops: [], losses,
  };
}

function loss(after: string, before: string, stage: LossReport['stage'], packets: number): LossReport {
  return { after, before, packets, of: 10, stage, tunnel: 'vxlan 42 udp 4789', evidence: [] };
}

describe('the verdict', () => {
  it('says there was no loss, in the singular for one packet', () => {
    expect(verdictOf(report([{ ...group(0, []), packets: 1 }]))).toEqual([
      'no loss: 1 packet in 1 group, each seen at every point on its path',
    ]);
  });

  it('gives each of a few losses its own line, between two hosts or on one', () => {
    const lines = verdictOf(report([
      group(1, [loss('h1-eth', 'h2-eth', 'underlay', 2)]),
      group(2, [loss('h2-eth', 'h2-pod', 'decapsulation', 10)]),
    ]));
    expect(lines).toEqual([
      '2 of 10 TCP segments 10.244.1.2:10001 > 10.244.2.2:80 that reached h1-eth as vxlan 42 udp 4789 never reached h2-eth: '
        + 'lost at underlay between h1 and h2 (the remote VTEP address, underlay routing or a firewall?)',
      '10/10 TCP segments 10.244.1.2:10002 > 10.244.2.2:80 reached h2-eth as vxlan 42 udp 4789 and none came out of h2-pod: '
        + 'lost at decapsulation on h2 (VNI or dstport mismatch?)',
    ]);
  });

  it('sums losses spread over many flows by place and stage, largest first, in at most four lines', () => {
    const groups: GroupReport[] = [];
    // 30 flows losing one packet on the underlay, 20 flows losing one at decapsulation,
    // and one loss each at three other places.
    for (let n = 0; n < 30; n++) groups.push(group(n, [loss('h1-eth', 'h2-eth', 'underlay', 1)]));
    for (let n = 30; n < 50; n++) groups.push(group(n, [loss('h2-eth', 'h2-pod', 'decapsulation', 1)]));
    groups.push(group(50, [loss('h1-pod', 'h1-eth', 'encapsulation', 5)]));
    groups.push(group(51, [{ ...loss('h2-pod', 'h2-eth', 'reply-path', 2) }]));
    groups.push(group(52, [{ ...loss('h1-pod', 'h1-eth', 'encapsulation', 1), evidence: ['icmp fragmentation needed (mtu 1450) from 10.0.0.1'] }]));
    const lines = verdictOf(report(groups));
    expect(lines).toEqual([
      '30 of 300 packets in 30 flows that reached h1-eth never reached h2-eth: lost at underlay between h1 and h2 '
        + '(the remote VTEP address, underlay routing or a firewall?)',
      '20 of 200 packets in 20 flows that reached h2-eth never came out of h2-pod: lost at decapsulation on h2 (VNI or dstport mismatch?)',
      '5 of 10 packets in 1 flow that reached h1-pod never reached h1-eth: lost at encapsulation on h1 '
        + '(no route or neighbour for the remote VTEP, or MTU?)',
      'and 3 packets lost in 2 other places or stages (below)',
    ]);
  });
});
