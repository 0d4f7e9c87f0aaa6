// `tunscope trace` on the kernel labs of fixtures/trace (made by
// fixtures/make-trace-labs.sh): each lab's lab.json says, from how the lab was
// set up, which packets are lost where and at which stage; the per-point packet
// counts are checked against tshark.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, haveTshark, requireOrSkip, run } from '../helpers/tools.js';
import type { TraceReport } from '../../src/trace/report.js';

const LABS = path.join(FIXTURES, 'trace');

interface LabPoint { name: string; file: string }
interface LabLoss { kind: string; from: string; to: string; packets: number; after: string; before: string | null; stage: string }
interface Lab {
  lab: string;
  points: LabPoint[];
  fragments?: number;
  expect: { losses: LabLoss[]; nat: Array<{ after: string; before: string; field: string; from: string; to: string }> };
}

function lab(name: string): Lab {
  return JSON.parse(fs.readFileSync(path.join(LABS, name, 'lab.json'), 'utf8')) as Lab;
}

/** The trace of a lab's points in path order, as JSON. */
function trace(name: string, extra: string[] = [], points = lab(name).points.map((p) => `${p.name}=${p.file}`)): TraceReport {
  const result = runCli(['trace', '--json', ...points, ...extra], { cwd: path.join(LABS, name) });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as TraceReport;
}

function lossesOf(report: TraceReport) {
  return report.groups.flatMap((g) => g.losses.map((loss) => ({ ...loss, kind: g.kind, flow: g.flow })));
}

describe('trace on the kernel labs', () => {
  it('finds no loss in the working lab, and reports encapsulation, decapsulation and latency on each hop', () => {
    const report = trace('ok');
    expect(lossesOf(report)).toEqual([]);
    expect(report.verdict[0]).toMatch(/^no loss/);
    const requests = report.groups.find((g) => g.kind === 'icmp-echo-request' && g.flow === '172.18.1.1 > 172.18.1.2');
    expect(requests?.seen).toEqual({ 'h1-vx': 5, 'h1-eth': 5, 'h2-eth': 5, 'h2-vx': 5 });
    const hops = Object.fromEntries(requests!.hops.map((h) => [`${h.from}>${h.to}`, h]));
    expect(hops['h1-vx>h1-eth'].changes.map((c) => c.change)).toEqual(['encapsulated vxlan 42 10.0.0.1 > 10.0.0.2 udp 4789']);
    expect(hops['h2-eth>h2-vx'].changes.map((c) => c.change)).toEqual(['decapsulated vxlan 42']);
    for (const hop of requests!.hops) {
      expect(hop.latency!.median).toBeGreaterThanOrEqual(0);
      expect(hop.latency!.max).toBeLessThan(0.1);
    }
    const replies = report.groups.find((g) => g.kind === 'icmp-echo-reply');
    expect(replies?.direction).toBe('reverse');
    // One machine's namespaces share a clock: the estimate is within its own uncertainty of zero.
    const h2 = report.hosts.find((h) => h.name === 'h2')!;
    expect(h2.clock.source).toBe('estimated');
    expect(Math.abs(h2.clock.offset)).toBeLessThanOrEqual(h2.clock.uncertainty! + 1e-6);
  });

  for (const name of ['vni-mismatch', 'dstport', 'mtu-df', 'blackhole', 'frag', 'ttl']) {
    it(`names the loss of the ${name} lab where the lab's set-up puts it`, () => {
      const { expect: facts } = lab(name);
      const losses = lossesOf(trace(name, [], pathOf(name)));
      for (const want of facts.losses) {
        const found = losses.find((l) => l.kind === want.kind && l.after === want.after && l.before === want.before);
        expect(found, `${want.kind} lost after ${want.after} before ${want.before}`).toBeDefined();
        expect(found!.stage).toBe(want.stage);
        expect(found!.flow).toBe(`${want.from} > ${want.to}`);
        expect(found!.packets).toBe(want.packets);
      }
      expect(losses).toHaveLength(facts.losses.length);
    });
  }

  it('gives the ICMP port unreachable as the evidence of a dstport mismatch', () => {
    const report = trace('dstport');
    const [loss] = lossesOf(report);
    expect(loss.evidence.some((e) => /icmp port unreachable from 10\.0\.0\.2 for udp port 4790/.test(e))).toBe(true);
    expect(report.verdict[0]).toMatch(/lost at decapsulation on h2 .*udp 4790/);
    // Plain VXLAN on the VXLAN-GPE port is traced as VXLAN, and the report says so.
    expect(report.notes.join(' ')).toMatch(/udp 4790 held plain VXLAN/);
  });

  it('gives the fragmentation-needed message seen on the loopback, and the sizes, as evidence of the MTU loss', () => {
    const [loss] = lossesOf(trace('mtu-df', [], pathOf('mtu-df')));
    expect(loss.evidence.some((e) => /fragmentation needed \(mtu 1500\).*seen at h1-lo/.test(e))).toBe(true);
    expect(loss.evidence.some((e) => /only packets of 1500 bytes or more were lost/.test(e))).toBe(true);
  });

  it('names the VNI on the wire for a VNI mismatch, and says it first in the verdict', () => {
    const report = trace('vni-mismatch');
    expect(report.verdict[0]).toBe(
      '6/6 ARP requests 172.18.1.1 > 172.18.1.2 reached h2-eth as vxlan 40 udp 4789 and none came out of h2-vx: '
      + 'lost at decapsulation on h2 (VNI or dstport mismatch?)',
    );
  });

  it('matches packets across the NAT and names the rewrite on the hop where it happened', () => {
    const report = trace('nat');
    expect(lossesOf(report)).toEqual([]);
    for (const change of lab('nat').expect.nat) {
      const hop = report.groups.flatMap((g) => g.hops).find((h) => h.from === change.after && h.to === change.before
        && h.changes.some((c) => c.change.includes(`${change.from} became ${change.to} (NAT)`)));
      expect(hop, `${change.field} ${change.from} -> ${change.to} on ${change.after} -> ${change.before}`).toBeDefined();
    }
    const pings = report.groups.find((g) => g.kind === 'icmp-echo-request' && g.flow === '10.244.1.2 > 172.18.1.2');
    expect(Object.values(pings!.seen)).toEqual([4, 4, 4, 4, 4]);
  });

  it('matches a GSO super-packet with the segments it was cut into, and the GRO super-packet they became', () => {
    const report = trace('gso');
    expect(lossesOf(report)).toEqual([]);
    const [group] = report.groups;
    expect(group.seen).toEqual({ 'h1-pod': 1, 'h1-eth': 1, 'h2-eth': 1, 'h2-pod': 1 });
    const changes = (from: string) => group.hops.find((h) => h.from === from)!.changes.map((c) => c.change);
    expect(changes('h1-pod')).toContain('split (GSO) into 2');
    expect(changes('h2-eth')).toContain('merged (GRO)');
  });

  it('follows a datagram through fragmentation and reassembly, and names the fragment lost on the way', () => {
    const report = trace('frag');
    const group = report.groups.find((g) => g.kind === 'udp')!;
    const changes = group.hops.flatMap((h) => h.changes.map((c) => `${h.from}>${h.to} ${c.change}`));
    expect(changes).toContain(`h1-pod>h1-eth fragmented into ${lab('frag').fragments}`);
    expect(changes).toContain('h1-eth>h2-eth 1 of 3 fragments lost');
    expect(group.losses[0].evidence).toEqual(['1 reached h2-eth with fragments missing (nothing there to reassemble)']);
    expect(changes).toContain('h2-eth>h2-pod reassembled from 3 fragments');
  });

  it('names TTL and DSCP changes on a routed hop, and the time exceeded that explains the one that died there', () => {
    const report = trace('ttl');
    const facts = lab('ttl').expect as unknown as { changes: { ttl: number[]; tos: number[] } };
    const hop = report.groups.find((g) => g.kind === 'icmp-echo-request')!.hops[0];
    expect(hop.changes.map((c) => c.change)).toEqual([
      `ttl ${facts.changes.ttl[0]} -> ${facts.changes.ttl[1]}`,
      `dscp/ecn 0x${facts.changes.tos[0].toString(16).padStart(2, '0')} -> 0x${facts.changes.tos[1].toString(16).padStart(2, '0')}`,
    ]);
    const loss = lossesOf(report).find((l) => l.stage === 'underlay')!;
    expect(loss.evidence.join(' ')).toMatch(/icmp ttl exceeded from 198\.51\.100\.254/);
  });

  it('makes one point per interface of a pcapng, named NAME:IFNAME', () => {
    const report = trace('ok', [], ['h1.pcapng', 'h2.pcapng']);
    expect(report.points.map((p) => p.name)).toEqual(['h1:vx0', 'h1:eth0', 'h2:eth0', 'h2:vx0']);
    expect(report.hosts.map((h) => h.name)).toEqual(['h1', 'h2']);
    expect(lossesOf(report)).toEqual([]);
  });

  it('counts at each point the packets tshark finds in its file (and in each pcapng interface)', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    for (const name of fs.readdirSync(LABS)) {
      const report = trace(name, [], pathOf(name));
      for (const point of report.points) {
        const file = path.join(LABS, name, point.file);
        const filter = point.interface !== null && point.name.includes(':') ? ['-Y', `frame.interface_name == "${point.interface}"`] : [];
        const frames = run('tshark', ['-r', file, ...filter, '-T', 'fields', '-e', 'frame.number']).split('\n').filter(Boolean);
        expect(point.packets, `${name} ${point.name}`).toBe(frames.length);
      }
    }
    const report = trace('ok', [], ['h1.pcapng', 'h2.pcapng']);
    for (const point of report.points) {
      const frames = run('tshark', ['-r', path.join(LABS, 'ok', point.file), '-Y', `frame.interface_name == "${point.interface}"`, '-T', 'fields', '-e', 'frame.number']);
      expect(point.packets, point.name).toBe(frames.split('\n').filter(Boolean).length);
    }
  }, 300_000);
});

/** A lab's points in path order, with the loopback capture first where the lab has one (evidence only). */
function pathOf(name: string): string[] {
  const points = lab(name).points.map((p) => `${p.name}=${p.file}`);
  return fs.existsSync(path.join(LABS, name, 'h1-lo.pcap')) && !points.some((p) => p.startsWith('h1-lo=')) ? ['h1-lo=h1-lo.pcap', ...points] : points;
}
