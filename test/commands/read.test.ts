// `tunscope read` as a user runs it, checked against tcpdump's and tshark's
// reading of the same captures.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  FIXTURES, PEER_CAPTURES, hasCommand, haveTshark, havePeerCaptures, peerCapture, requireOrSkip, run, tshark,
} from '../helpers/tools.js';

const haveTcpdump = hasCommand('tcpdump');

/** tcpdump prints each VXLAN level on a line of its own; group the lines of each packet. */
function tcpdumpPackets(file: string): string[][] {
  const packets: string[][] = [];
  for (const line of run('tcpdump', ['-S', '-nr', file]).split('\n')) {
    if (line === '') continue;
    if (/^\d\d:\d\d:\d\d\.\d+ /.test(line)) packets.push([line]);
    else packets[packets.length - 1].push(line);
  }
  return packets;
}

/** Our line without its bracketed checksum notes, split into the timestamp and the "|" parts. */
function ourParts(line: string): { time: string; parts: string[] } {
  const time = line.slice(0, line.indexOf(' '));
  const parts = line.slice(time.length + 1).replace(/ \[(bad \S+ cksum|\S+ cksum (offload|zero))[^\]]*\]/g, '').split(' | ');
  return { time, parts };
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
}

interface TunnelJson { type: string; id: number | null }

function tunnelIds(packet: Record<string, unknown>, ...types: string[]): (number | null)[] {
  return (packet.tunnels as TunnelJson[]).filter((t) => types.includes(t.type)).map((t) => t.id);
}

describe('tunscope read: one line per packet', () => {
  const captures = [
    path.join(FIXTURES, 'vxlan-lab.pcap'),
    path.join(FIXTURES, 'vxlan-lab-2vni.pcap'),
    peerCapture('vxlan.pcap'),
  ];
  for (const file of captures) {
    it(`shows every VXLAN level and the inner traffic as tcpdump does: ${path.basename(file)}`, () => {
      if (!requireOrSkip(haveTcpdump, 'tcpdump')) return;
      if (file.startsWith(PEER_CAPTURES) && !requireOrSkip(havePeerCaptures, 'the peer captures')) return;
      const ours = runCli(['read', file]);
      expect(ours.status).toBe(0);
      const lines = ours.stdout.trimEnd().split('\n');
      const theirs = tcpdumpPackets(file);
      expect(lines.length).toBe(theirs.length);
      let tunnelled = 0;
      lines.forEach((line, i) => {
        const { time, parts } = ourParts(line);
        const packet = theirs[i];
        expect(packet[0].startsWith(`${time} `), line).toBe(true);
        // Every tunnel level: tcpdump's "IP a.p > b.q: VXLAN, flags [I] (0x08), vni N", ours "VXLAN vni N a.p > b.q".
        for (let level = 0; level < parts.length - 1; level++) {
          const m = /^VXLAN vni (\d+) (\S+) > (\S+)$/.exec(parts[level]);
          expect(m, parts[level]).not.toBeNull();
          const tcpdumpLine = packet[level].replace(/^\d\d:\d\d:\d\d\.\d+ /, '');
          expect(tcpdumpLine).toBe(`IP ${m![2]} > ${m![3]}: VXLAN, flags [I] (0x08), vni ${m![1]}`);
          tunnelled++;
        }
        // The innermost traffic, in the same words (tcpdump -S may go on to decode HTTP after the length).
        const inner = parts[parts.length - 1];
        const theirInner = packet[packet.length - 1].replace(/^\d\d:\d\d:\d\d\.\d+ /, '');
        expect(theirInner.replace(/: HTTP.*$/, '')).toBe(inner);
      });
      expect(tunnelled).toBeGreaterThan(5);
    });
  }

  it('-c stops after N packets, and --filter keeps what tshark\'s display filter keeps', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const file = path.join(FIXTURES, 'vxlan-lab-2vni.pcap');
    expect(runCli(['read', '-c', '3', file]).stdout.trimEnd().split('\n')).toHaveLength(3);
    const ours = runCli(['read', '--filter', 'vxlan vni 43', file]).stdout.trimEnd().split('\n');
    const theirs = tshark(file, ['-Y', 'vxlan.vni == 43']).trimEnd().split('\n');
    expect(ours.length).toBe(theirs.length);
    for (const line of ours) expect(line).toContain('VXLAN vni 43 ');
    const icmpIn42 = runCli(['read', '--filter', 'vxlan vni 42 and inner icmp', file]).stdout.trimEnd().split('\n');
    expect(icmpIn42.length).toBe(tshark(file, ['-Y', 'vxlan.vni == 42 && icmp']).trimEnd().split('\n').length);
  });

  it('reads standard input when the file is "-"', () => {
    const file = path.join(FIXTURES, 'vxlan-nested.pcap');
    const fromFile = runCli(['read', file]);
    const fromStdin = runCli(['read', '-'], { input: fs.readFileSync(file) });
    expect(fromStdin.status).toBe(0);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
    expect(fromFile.stdout.split('\n')[3]).toContain(
      'GRE 192.0.2.1 > 192.0.2.2 | VXLAN vni 400 10.1.0.1.49303 > 10.1.0.2.4789 | IP 10.2.0.1 > 10.2.0.2: ICMP echo request');
  });

  it('-x prints the hex and ASCII dump exactly as tcpdump -XX does', () => {
    if (!requireOrSkip(haveTcpdump, 'tcpdump')) return;
    const file = path.join(FIXTURES, 'vxlan-lab.pcap');
    const ours = runCli(['read', '-x', '-c', '6', file]).stdout.split('\n').filter((l) => l.startsWith('\t'));
    const theirs = run('tcpdump', ['-XX', '-nr', file, '-c', '6']).split('\n').filter((l) => l.startsWith('\t'));
    expect(ours.length).toBeGreaterThan(20);
    expect(ours).toEqual(theirs);
  });

  it('--decode-as adds a UDP port to the VXLAN table, as tshark -d does', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const file = path.join(FIXTURES, 'vxlan-lab.pcap');
    const ours = jsonLines(runCli(['read', '--json', '--decode-as', 'udp:5000=vxlan', file]).stdout);
    const theirs = tshark(file, ['-d', 'udp.port==5000,vxlan', '-T', 'fields', '-e', 'vxlan.vni']).split('\n');
    ours.forEach((packet, i) => {
      expect(tunnelIds(packet, 'vxlan').join(','), `packet ${i + 1}`).toBe(theirs[i]);
    });
    expect(ours.some((p) => (p.tunnels as TunnelJson[]).length === 2)).toBe(true);
  });
});

describe('tunscope read --json', () => {
  it('prints one object per packet with the numbers, times, lengths and tunnel ids tshark sees', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const names = ['vxlan-lab.pcap', 'vxlan-nested.pcap', 'gre-flags.pcap', 'gretap.pcap', 'erspan.pcap',
      'geneve-options.pcap', 'nanosecond.pcap', 'two-interfaces.pcapng'];
    for (const name of names) {
      const file = path.join(FIXTURES, name);
      const stdout = runCli(['read', '--json', file]).stdout;
      const packets = jsonLines(stdout);
      const lines = stdout.trimEnd().split('\n');
      const theirs = tshark(file, ['-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,',
        '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.cap_len', '-e', 'frame.len',
        '-e', 'vxlan.vni', '-e', 'gre.key', '-e', 'geneve.vni', '-e', 'erspan.spanid']).split('\n').filter((l) => l !== '');
      expect(packets.length, name).toBe(theirs.length);
      packets.forEach((packet, i) => {
        const [n, ts, caplen, len, vxlanVni, greKey, geneveVni, erspanId] = theirs[i].split('\t');
        const where = `${name} #${n}`;
        expect(packet.n).toBe(Number(n));
        // Written with the capture's own precision: compare the digits, not a float.
        const digits = ts.replace(/0+$/, '');
        expect(lines[i], where).toMatch(new RegExp(`"ts":${digits.replace('.', '\\.')}0*,`));
        expect([packet.caplen, packet.len]).toEqual([Number(caplen), Number(len)]);
        expect(tunnelIds(packet, 'vxlan').join(','), `${where} vni`).toBe(vxlanVni);
        const keys = greKey === '' ? '' : greKey.split(',').map((k) => String(Number(k))).join(',');
        expect(tunnelIds(packet, 'gre', 'gretap').filter((k) => k !== null).join(','), `${where} gre key`).toBe(keys);
        // tshark writes Geneve VNIs in hexadecimal.
        const geneveVnis = geneveVni === '' ? '' : geneveVni.split(',').map(Number).join(',');
        expect(tunnelIds(packet, 'geneve').join(','), `${where} geneve vni`).toBe(geneveVnis);
        expect(tunnelIds(packet, 'erspan').filter((k) => k !== null).join(','), `${where} erspan`).toBe(erspanId);
        for (const layer of packet.layers as Record<string, unknown>[]) {
          expect(layer).not.toHaveProperty('offset');
          expect(typeof layer.proto).toBe('string');
        }
      });
    }
  });

  it('has the shape of the README: the layer fields, checksum objects, tunnels and issues', () => {
    const stdout = runCli(['read', '--json', '-c', '5', path.join(FIXTURES, 'vxlan-lab.pcap')]).stdout;
    const packet = jsonLines(stdout)[4];
    expect(Object.keys(packet)).toEqual(['n', 'ts', 'caplen', 'len', 'layers', 'tunnels', 'issues']);
    const layers = packet.layers as Record<string, unknown>[];
    expect(layers.map((l) => l.proto)).toEqual(['eth', 'ipv4', 'udp', 'vxlan', 'eth', 'ipv4', 'icmp']);
    expect(layers[2]).toMatchObject({ proto: 'udp', dstPort: 4789, length: 114, checksum: { status: 'offload' } });
    expect(layers[3]).toEqual({ proto: 'vxlan', flags: 8, vniValid: true, vni: 42 });
    expect(packet.tunnels).toEqual([{ type: 'vxlan', id: 42, src: '10.0.0.1', dst: '10.0.0.2', layer: 3 }]);
    expect(packet.issues).toEqual([]);
  });
});

describe('tunscope read -v', () => {
  it('shows every layer, indented one step per tunnel, with checksum verdicts', () => {
    const out = runCli(['read', '-v', '-c', '1', path.join(FIXTURES, 'vxlan-bad-inner.pcap')]).stdout;
    expect(out).toMatch(/^Packet 1: \d+ bytes on wire, \d+ captured, 2023-11-14T22:13:20\.000000Z/);
    expect(out).toContain('\n  udp (bytes 34-');
    expect(out).toContain('\n  ── tunnel 1: vxlan id ');
    expect(out).toContain('\n    tcp (bytes ');
    expect(out).toMatch(/\n {6}checksum: 0x[0-9a-f]{4} good/);
  });
});
