// Findings that name the cause, on the kernel labs of fixtures/make-cause-labs.sh
// (a VNI mismatch, a dstport mismatch, a wrong remote: the VNIs, ports and
// addresses are the labs' own) and the crafted fixtures: each lab gets the
// finding for its fault, none for another fault, and no one-way finding that
// blames the capture point.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { CauseObserver } from '../../src/analysis/causes.js';
import { oneWayCauses } from '../../src/analysis/cause-findings.js';
import { TunnelEntry } from '../../src/analysis/entries.js';
import type { Finding } from '../../src/analysis/report.js';
import { runCli } from '../helpers/cli.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { FIXTURES } from '../helpers/tools.js';

function findings(file: string, ...args: string[]): Finding[] {
  const result = runCli(['stats', path.join(FIXTURES, file), '--json', ...args]);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout).findings;
}

function kinds(list: Finding[]): string[] {
  return [...new Set(list.map((f) => f.kind))].sort();
}

const BLAMES_THE_CAPTURE = /capture saw one side/;

describe('kernel labs', () => {
  it('names a VNI mismatch between two VTEPs that send each other different VNIs', () => {
    const list = findings('causes/vni-mismatch.pcap');
    expect(kinds(list)).toEqual(['arp-unanswered', 'checksum-offload', 'one-way', 'vni-mismatch']);
    const mismatch = list.find((f) => f.kind === 'vni-mismatch')!;
    // h1 (10.0.0.1) has VNI 40, h2 (10.0.0.2) VNI 41.
    expect(mismatch.severity).toBe('error');
    expect(mismatch.figures).toMatchObject({ vni: 40, otherVni: 41 });
    expect(mismatch.message).toContain('10.0.0.1 sends VNI 40 and 10.0.0.2 sends VNI 41');
    const oneWay = list.filter((f) => f.kind === 'one-way');
    expect(oneWay).toHaveLength(2);
    for (const f of oneWay) {
      expect(f.message).not.toMatch(BLAMES_THE_CAPTURE);
      expect(f.message).toContain('(vni-mismatch)');
    }
    // The ARP each host sends for the other's overlay address, in its own VNI.
    const arp = list.filter((f) => f.kind === 'arp-unanswered').map((f) => f.message);
    expect(arp.some((m) => m.includes('from 172.18.1.1 for 172.18.1.2 in vxlan 40'))).toBe(true);
    expect(arp.some((m) => m.includes('from 172.18.1.2 for 172.18.1.1 in vxlan 41'))).toBe(true);
  });

  it('names a dstport mismatch from the port unreachables, and plain VXLAN read as VXLAN-GPE on 4790', () => {
    const list = findings('causes/dstport.pcap');
    expect(kinds(list)).toEqual(['checksum-offload', 'echo-unanswered', 'one-way', 'tunnel-port-unreachable', 'vxlan-gpe-next-protocol-0']);
    // h1 sends to 4790 where h2 does not listen; h2 sends to 4789 where h1 does not.
    const ports = list.filter((f) => f.kind === 'tunnel-port-unreachable');
    expect(ports.map((f) => [f.figures.port, f.message.slice(0, 8)]).sort()).toEqual([[4789, '10.0.0.1'], [4790, '10.0.0.2']]);
    expect(ports.every((f) => f.message.includes('dstport mismatch'))).toBe(true);
    const gpe = list.find((f) => f.kind === 'vxlan-gpe-next-protocol-0')!;
    expect(gpe.message).toContain('use --decode-as udp:4790=vxlan');
    for (const f of list.filter((x) => x.kind === 'one-way')) {
      expect(f.message).not.toMatch(BLAMES_THE_CAPTURE);
      expect(f.message).toContain('(tunnel-port-unreachable)');
    }
  });

  it('names a wrong remote from the host unreachable about it, and the one-way tunnel whose return goes there', () => {
    const list = findings('causes/wrong-remote.pcap');
    expect(kinds(list)).toEqual(['checksum-offload', 'echo-unanswered', 'one-way', 'vtep-unreachable']);
    const vtep = list.find((f) => f.kind === 'vtep-unreachable')!;
    expect(vtep.message).toMatch(/^10\.0\.0\.2 reported 10\.0\.9\.3 unreachable for 10\.0\.0\.1's vxlan 42 packets/);
    const oneWay = list.filter((f) => f.kind === 'one-way');
    expect(oneWay).toHaveLength(2);
    for (const f of oneWay) expect(f.message).not.toMatch(BLAMES_THE_CAPTURE);
    expect(oneWay.some((f) => f.message.includes('10.0.0.1 sends its vxlan 42 traffic to 10.0.9.3 instead'))).toBe(true);
  });
});

describe('crafted captures', () => {
  it('suggests --decode-as for VXLAN on 4790, and is silent once told', () => {
    expect(kinds(findings('vxlan-on-4790.pcap'))).toEqual(['vxlan-gpe-next-protocol-0']);
    expect(kinds(findings('vxlan-on-4790.pcap', '--decode-as', 'udp:4790=vxlan'))).toEqual([]);
  });

  it('says nothing of requests that were answered', () => {
    // gretap.pcap: SYN, SYN-ACK, ACK; vxlan-lab.pcap: pings and ARP all answered.
    expect(kinds(findings('gretap.pcap'))).not.toContain('syn-unanswered');
    const lab = kinds(findings('vxlan-lab.pcap'));
    for (const kind of ['echo-unanswered', 'arp-unanswered', 'syn-unanswered']) expect(lab).not.toContain(kind);
  });

  it('finds the SYN and the echo request nothing answered, and not those answered', () => {
    // unanswered.pcap: a SYN to 8080 unanswered, one to 8081 reset, echo id 0x51 unanswered, id 0x52 answered.
    const list = findings('unanswered.pcap');
    const syn = list.filter((f) => f.kind === 'syn-unanswered');
    expect(syn.map((f) => f.figures)).toEqual([{ syns: 1, port: 8080 }]);
    const echo = list.filter((f) => f.kind === 'echo-unanswered');
    expect(echo.map((f) => f.message)).toEqual(['1 echo request from 10.1.0.1 to 10.1.0.2 in vxlan 42 192.0.2.1 → 192.0.2.2, no reply seen.']);
  });
});

describe('CauseObserver', () => {
  it('holds the same counts when a capture is counted in two parts and absorbed', () => {
    const registry = new Registry();
    const packets = readCaptureRecords(path.join(FIXTURES, 'causes/wrong-remote.pcap'))
      .map((r) => ({ bytes: r.data, packet: dissect(r.data, r.linktype, r.wireLength, { registry, detail: false }) }));
    const whole = new CauseObserver();
    const first = new CauseObserver();
    const second = new CauseObserver();
    packets.forEach(({ bytes, packet }, i) => {
      whole.see(bytes, packet);
      (i < packets.length / 2 ? first : second).see(bytes, packet);
    });
    first.absorb(structuredClone(second.exportState()));
    const sorted = (o: CauseObserver) => {
      const s = o.exportState();
      return [s.unreachable, s.asks, s.gpeZero].map((list) => list.map((e) => JSON.stringify(e)).sort());
    };
    expect(sorted(first)).toEqual(sorted(whole));
    expect(whole.exportState().unreachable).toHaveLength(1);
  });
});

describe('one-way causes', () => {
  it('names a fragmentation needed about the tunnel, with its MTU', () => {
    // icmp-errors.pcap: 192.0.2.254 sends fragmentation needed, next-hop MTU 1450, about vxlan 42 192.0.2.1 → 198.51.100.7.
    const registry = new Registry();
    const observer = new CauseObserver();
    for (const r of readCaptureRecords(path.join(FIXTURES, 'icmp-errors.pcap'))) {
      observer.see(r.data, dissect(r.data, r.linktype, r.wireLength, { registry }));
    }
    const entry = new TunnelEntry('vxlan', '192.0.2.1', '198.51.100.7', 42, 0);
    expect(oneWayCauses(observer, { entries: [entry], tunnelIndex: new Map([[entry, 0]]) }, entry))
      .toEqual(['192.0.2.254 reports the packets too big for its MTU of 1450 (frag-needed)']);
  });
});
