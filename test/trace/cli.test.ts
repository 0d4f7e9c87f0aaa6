// `tunscope trace` options and bad input: points, hosts, clock offsets, the
// filter, the window; one clear line and the documented exit code for each
// mistake.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateClocks } from '../../src/trace/clock.js';
import { parsePointSpec } from '../../src/trace/points.js';
import type { TraceReport } from '../../src/trace/report.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/tools.js';

const OK = path.join(FIXTURES, 'trace', 'ok');
const POINTS = ['h1-vx.pcap', 'h1-eth.pcap', 'h2-eth.pcap', 'h2-vx.pcap'];

function traceJson(args: string[]): TraceReport {
  const result = runCli(['trace', '--json', ...args], { cwd: OK });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as TraceReport;
}

describe('trace points', () => {
  it('names a point after its file, or as given', () => {
    expect(parsePointSpec('captures/h1-vx.pcap')).toEqual({ name: 'h1-vx', file: 'captures/h1-vx.pcap' });
    expect(parsePointSpec('a=x/b.pcapng')).toEqual({ name: 'a', file: 'x/b.pcapng' });
  });

  it('groups points into hosts by the name before the first - or :, or as --host says', () => {
    expect(traceJson(POINTS).hosts.map((h) => [h.name, h.points])).toEqual([
      ['h1', ['h1-vx', 'h1-eth']],
      ['h2', ['h2-eth', 'h2-vx']],
    ]);
    const report = traceJson([...POINTS, '--host', 'left=h1-vx,h1-eth,h2-eth']);
    expect(report.hosts.map((h) => [h.name, h.points])).toEqual([['left', ['h1-vx', 'h1-eth', 'h2-eth']], ['h2', ['h2-vx']]]);
  });

  it('gives a one-point report for one point', () => {
    const report = traceJson(['h1-vx.pcap']);
    expect(report.points).toHaveLength(1);
    expect(report.groups.find((g) => g.kind === 'icmp-echo-request')?.seen).toEqual({ 'h1-vx': 5 });
  });

  it('says in one line when the captures share no packet', () => {
    const other = path.join(FIXTURES, 'vxlan-lab.pcap');
    const result = runCli(['trace', 'h1-vx.pcap', `lab=${other}`], { cwd: OK });
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^verdict: the captures share no packet/);
  });

  it('keeps only the packets the filter matches, at every depth', () => {
    const report = traceJson([...POINTS, '-f', 'icmp']);
    expect(new Set(report.groups.map((g) => g.kind))).toEqual(new Set(['icmp-echo-request', 'icmp-echo-reply']));
    expect(report.points.map((p) => p.packets)).toEqual([10, 10, 10, 10]);
  });
});

describe('trace clocks', () => {
  it('places a clock from the fastest packet each way, as NTP does', () => {
    // 10 ms one way and 4 ms back: the second clock runs 3 ms ahead, give or take 7 ms.
    const crossings = new Map([[0 * 2 + 1, { min: 0.010, count: 5 }], [1 * 2 + 0, { min: 0.004, count: 3 }]]);
    const [first, second] = estimateClocks(2, crossings, [false, false]);
    expect(first).toMatchObject({ offset: 0, source: 'reference' });
    expect(second.offset).toBeCloseTo(0.003, 12);
    expect(second.uncertainty).toBeCloseTo(0.007, 12);
    expect(second.crossings).toEqual([5, 3]);
    expect(estimateClocks(2, new Map([[1, { min: 0.01, count: 1 }]]), [false, false])[1].source).toBe('unknown');
  });

  it('takes an --offset out of a host’s timestamps, and estimates what remains', () => {
    const plain = traceJson(POINTS);
    const shifted = traceJson([...POINTS, '--offset', 'h2=0.25']);
    const hop = (r: TraceReport) => r.groups.find((g) => g.kind === 'icmp-echo-request')!.hops.find((h) => h.from === 'h1-eth')!;
    expect(shifted.hosts[1].clock.source).toBe('given');
    expect(hop(shifted).latency!.median - hop(plain).latency!.median).toBeCloseTo(0.25, 6);
    // Packets still match across a shift larger than any hop, within the window.
    expect(shifted.groups.flatMap((g) => g.losses)).toEqual([]);
  });

  it('says so when a latency comes out negative because the clocks disagree', () => {
    const report = traceJson([...POINTS, '--offset', 'h2=-0.5']);
    const hop = report.groups.find((g) => g.kind === 'icmp-echo-request')!.hops.find((h) => h.from === 'h1-eth')!;
    expect(hop.latency!.median).toBeLessThan(0);
    expect(hop.clocksDisagree).toBe(true);
    const text = runCli(['trace', ...POINTS, '--offset', 'h2=-0.5'], { cwd: OK }).stdout;
    expect(text).toMatch(/negative: the clocks disagree/);
  });
});

describe('trace bad input', () => {
  const cases: Array<[string, string[], number, RegExp]> = [
    ['an unreadable point names the point and the file', ['h1=nope.pcap', 'h1-vx.pcap'], 1, /^tunscope: point h1: cannot read nope\.pcap: no such file$/],
    ['a file that is no capture', [`x=${path.join(FIXTURES, 'README.md')}`], 1, /^tunscope: point x: .* is not a pcap or pcapng capture file/],
    ['two points with one name', ['h1-vx.pcap', 'h1-vx.pcap'], 2, /^tunscope: two points are named h1-vx/],
    ['a malformed point', ['=h1-vx.pcap'], 2, /^tunscope: point "=h1-vx.pcap" is malformed/],
    ['an --offset for an unknown point', ['h1-vx.pcap', '--offset', 'h9=1'], 2, /^tunscope: --offset names h9, which is no point or host/],
    ['a malformed --offset', ['h1-vx.pcap', '--offset', 'h1-vx=soon'], 2, /^tunscope: --offset "h1-vx=soon" is malformed/],
    ['a --host naming no point', ['h1-vx.pcap', '--host', 'a=h9'], 2, /^tunscope: --host names h9, which is no point/],
    ['a bad filter', ['h1-vx.pcap', '-f', 'vxlan vni'], 2, /^tunscope: bad filter/],
  ];
  for (const [what, args, status, message] of cases) {
    it(what, () => {
      const result = runCli(['trace', ...args], { cwd: OK });
      expect(result.status).toBe(status);
      expect(result.stdout).toBe('');
      expect(result.stderr.split('\n')[0]).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  }
});
