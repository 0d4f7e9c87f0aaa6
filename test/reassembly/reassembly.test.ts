// IP reassembly on crafted fragments (fixtures/make-reassembly-scapy.py says
// what each frame is) and on kernel labs of a flannel-style VXLAN
// (fixtures/make-reassembly-labs.sh), checked against the facts of how they
// were made and against tshark, which reassembles by default.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Packet } from '../../decoders/types.js';
import { decodeCapture, prepareDecode } from '../../src/pipeline.js';
import { Reassembler } from '../../src/reassembly/reassembler.js';
import { readCaptureFile } from '../../src/sources/file.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, hasCommand, haveTshark, requireOrSkip, run, tshark, tsharkReassembling } from '../helpers/tools.js';

const CASES = path.join(FIXTURES, 'reassembly-cases.pcap');
const FLOOD = path.join(FIXTURES, 'reassembly-flood.pcap');
const GSO_LAB = path.join(FIXTURES, 'flannel-gso.pcap');
const FRAG_LAB = path.join(FIXTURES, 'flannel-mtu1500.pcap');

interface Seen {
  n: number;
  packet: Packet;
}

async function decodeAll(file: string, reassemble = true): Promise<{ seen: Seen[]; summary: Awaited<ReturnType<typeof decodeCapture>> }> {
  const seen: Seen[] = [];
  const summary = await decodeCapture(file, prepareDecode({ reassemble }), (n, _record, packet) => {
    seen.push({ n, packet });
  });
  return { seen, summary };
}

function wholes(seen: Seen[]): Seen[] {
  return seen.filter((s) => s.packet.reassembled !== undefined);
}

function numbers(out: string): number[] {
  const trimmed = out.trim();
  return trimmed === '' ? [] : trimmed.split('\n').map(Number);
}

describe('reassembly of crafted fragments', () => {
  it('puts each datagram together after its last fragment, as the fixture was made', async () => {
    const { seen, summary } = await decodeAll(CASES);
    const made = wholes(seen);
    // Out of order, with an exact duplicate, IPv6, inside VXLAN (make-reassembly-scapy.py).
    expect(made.map((s) => s.packet.reassembled?.frames)).toEqual([[1, 2, 3], [7, 8, 10], [13, 14, 15], [16, 17]]);
    // Each comes right after the frame that completed it, under its number.
    for (const whole of made) {
      const at = seen.indexOf(whole);
      expect(seen[at - 1].n).toBe(whole.n);
      expect(whole.packet.reassembled?.frames.at(-1)).toBe(whole.n);
    }
    expect(summary.reassembly).toEqual({
      reassembled: 4, fragments: 11, timedOut: 2, overflowed: 0, overlapping: 1, invalid: 0, incomplete: 1,
    });
  });

  it('agrees with tshark on which frames complete a datagram, but for the one past the 30 s timeout', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const theirs = numbers(tsharkReassembling(CASES, ['-Y', 'ip.reassembled.length || ipv6.reassembled.length',
      '-T', 'fields', '-e', 'frame.number']));
    // tshark keeps fragments however old; tunscope, like the kernel, drops a datagram begun 40 s before (frames 18-19).
    const { seen } = await decodeAll(CASES);
    expect(wholes(seen).map((s) => s.n)).toEqual(theirs.filter((n) => n !== 19));
  });

  it('verifies the UDP checksums over the whole datagram, as tshark does', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const theirs = tsharkReassembling(CASES, ['-o', 'udp.check_checksum:TRUE', '-Y', 'udp && (ip.reassembled.length || ipv6.reassembled.length)',
      '-T', 'fields', '-e', 'frame.number', '-e', 'udp.checksum.status']).trim().split('\n')
      .map((line) => line.split('\t')).filter(([n]) => n !== '19');
    const { seen } = await decodeAll(CASES);
    const ours = wholes(seen).map((s) => {
      const udp = s.packet.layers.filter((l) => l.proto === 'udp').at(-1);
      return [String(s.n), udp?.checksum?.status === 'good' ? '1' : 'not good'];
    });
    // tshark shows the last UDP header of the frame; the inner one for the datagram inside VXLAN.
    expect(ours).toEqual(theirs.map(([n, status]) => [n, status.split(',').at(-1)]));
  });

  it('takes the IPv6 Fragment header out of the whole datagram', async () => {
    const { seen } = await decodeAll(CASES);
    const six = wholes(seen).find((s) => s.n === 15) as Seen;
    const ip = six.packet.layers[1];
    expect(ip.proto).toBe('ipv6');
    expect(ip.extensions).toBeUndefined();
    expect(ip.payloadLength).toBe(8 + 3000);
    expect(six.packet.layers[2]).toMatchObject({ proto: 'udp', length: 3008, checksum: { status: 'good' } });
  });

  it('never calls a first fragment truncated or malformed, nor anything inside it', async () => {
    for (const file of [CASES, path.join(FIXTURES, 'fragments.pcap'), FRAG_LAB]) {
      const { seen } = await decodeAll(file, false);
      for (const { n, packet } of seen) {
        const kinds = packet.issues.map((issue) => issue.kind);
        expect(kinds, `${path.basename(file)} #${n}`).not.toContain('truncated');
        expect(kinds, `${path.basename(file)} #${n}`).not.toContain('malformed');
      }
      expect(runCli(['read', file, '--filter', 'malformed']).stdout).toBe('');
    }
  });

  it('with --no-reassemble shows only the frames, and stats reports no reassembly', () => {
    const off = runCli(['read', CASES, '--no-reassemble']).stdout;
    expect(off).not.toContain('reassembled');
    expect(off.trim().split('\n')).toHaveLength(19);
    expect(runCli(['read', CASES]).stdout.trim().split('\n')).toHaveLength(19 + 4);
    expect(JSON.parse(runCli(['stats', CASES, '--json', '--no-reassemble']).stdout).reassembly).toBeNull();
    const text = runCli(['stats', CASES]).stdout;
    expect(text).toMatch(/reassembled\s+4 IP datagrams from 11 fragments/);
    expect(text).toMatch(/dropped\s+3: 2 timed out, 0 over the bounds, 1 overlapping, 0 invalid/);
  });

  it('marks fragments in line mode in tcpdump -v\'s words', () => {
    if (!requireOrSkip(hasCommand('tcpdump'), 'tcpdump')) return;
    const file = path.join(FIXTURES, 'fragments.pcap');
    const theirs = run('tcpdump', ['-v', '-nr', file]);
    const ours = runCli(['read', file, '--no-reassemble']).stdout.trim().split('\n');
    const v4 = [...theirs.matchAll(/id (\d+), offset (\d+), flags \[([^\]]+)\]/g)]
      .filter(([, , offset, flags]) => offset !== '0' || flags.includes('+'));
    const v6 = [...theirs.matchAll(/frag \((0x[0-9a-f]+:\d+\|\d+)\)/g)];
    expect(v4.length + v6.length).toBe(8);
    const marks = [...v4.map(([, id, offset, flags]) => `(id ${id}, offset ${offset}, flags [${flags}])`),
      ...v6.map(([, place]) => `(frag (${place}),`)];
    for (const mark of marks) expect(ours.some((line) => line.includes(mark)), mark).toBe(true);
  });
});

describe('reassembly stays bounded', () => {
  const registry = new Registry();

  function feed(limits: { timeout: number; maxBytes: number; maxDatagrams: number }): { reassembler: Reassembler; wholes: number[][] } {
    const reassembler = new Reassembler({ registry }, limits);
    const made: number[][] = [];
    let n = 0;
    readCaptureFile(FLOOD, (record) => {
      n++;
      const packet = dissect(record.bytes, record.linktype, record.len, { registry });
      for (const whole of reassembler.add(n, record, packet)) made.push(whole.packet.reassembled?.frames ?? []);
    });
    return { reassembler, wholes: made };
  }

  it('drops the oldest datagrams of a first-fragment flood past the datagram bound, and counts them', () => {
    const { reassembler, wholes: made } = feed({ timeout: 30, maxBytes: 4 << 20, maxDatagrams: 100 });
    // 300 first fragments held to 100: ids 1000-1199 go; the last fragment of 1000 begins a
    // datagram of its own, which pushes out 1200; 1299 (frames 300 and 302) is whole.
    expect(made).toEqual([[300, 302]]);
    expect(reassembler.finish()).toMatchObject({ reassembled: 1, overflowed: 201, incomplete: 99 });
  });

  it('drops the oldest past the memory bound', () => {
    // Each first fragment holds its 34 bytes of Ethernet and IPv4 header and 8 of data.
    const { reassembler, wholes: made } = feed({ timeout: 30, maxBytes: 42 * 50, maxDatagrams: 4096 });
    expect(made).toEqual([[300, 302]]);
    const counts = reassembler.finish();
    expect(counts.incomplete).toBeLessThanOrEqual(50);
    expect(counts.overflowed + counts.incomplete + counts.reassembled).toBe(301);
  });

  it('holds the whole flood within the default bounds', async () => {
    const { seen, summary } = await decodeAll(FLOOD);
    expect(wholes(seen).map((s) => s.packet.reassembled?.frames)).toEqual([[1, 301], [300, 302]]);
    expect(summary.reassembly).toMatchObject({ reassembled: 2, overflowed: 0, incomplete: 298 });
  });
});

describe('flannel-style VXLAN labs (kernel, GSO on)', () => {
  it('device MTU 1450: super-packets counted as such, no MTU finding', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    // The lab's SYNs announce MSS 1410; tshark counts the TCP segments longer than that.
    const mss = new Set(tshark(GSO_LAB, ['-Y', 'tcp.flags.syn == 1', '-T', 'fields', '-e', 'tcp.options.mss_val']).trim().split('\n'));
    expect([...mss]).toEqual(['1410']);
    const longer = numbers(tshark(GSO_LAB, ['-Y', 'tcp.len > 1410', '-T', 'fields', '-e', 'frame.number'])).length;
    expect(longer).toBeGreaterThan(0);
    const report = JSON.parse(runCli(['stats', GSO_LAB, '--json']).stdout);
    expect(report.superPackets).toBe(longer);
    const kinds = report.findings.map((f: { kind: string }) => f.kind);
    expect(kinds).not.toContain('inner-mtu');
    expect(kinds).toContain('super-packets');
    expect(runCli(['stats', GSO_LAB]).stdout).toMatch(new RegExp(`GSO/GRO\\s+${longer} segmentation-offload super-packets`));
  });

  it('device MTU 1500: outer fragments reassembled as tshark does, inner TCP whole and verified, the MTU finding', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const theirs = tsharkReassembling(FRAG_LAB, ['-o', 'tcp.check_checksum:TRUE', '-Y', 'ip.reassembled.length',
      '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.checksum.status', '-e', 'tcp.len']).trim().split('\n');
    expect(theirs.length).toBeGreaterThan(0);
    const { seen, summary } = await decodeAll(FRAG_LAB);
    const made = wholes(seen);
    expect(made.map((s) => {
      const tcp = s.packet.layers.find((l) => l.proto === 'tcp');
      return `${s.n}\t${tcp?.checksum?.status === 'good' ? 1 : 0}\t${tcp?.payloadLength}`;
    })).toEqual(theirs);
    // The tunnel is found inside the whole datagram.
    for (const whole of made) expect(whole.packet.tunnels.map((t) => `${t.type} ${t.id}`)).toEqual(['vxlan 1']);
    expect(summary.reassembly).toMatchObject({ reassembled: theirs.length, fragments: 2 * theirs.length, incomplete: 0 });
    const report = JSON.parse(runCli(['stats', FRAG_LAB, '--json']).stdout);
    const mtu = report.findings.find((f: { kind: string }) => f.kind === 'inner-mtu');
    expect(mtu?.message).toContain(`${theirs.length} inner packets of up to 1500 bytes`);
    expect(report.reassembly).toMatchObject({ reassembled: theirs.length });
  });
});
