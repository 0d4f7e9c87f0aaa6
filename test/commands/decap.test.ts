// `tunscope decap` on the fixtures, its output read back by tshark and
// tcpdump: one frame per tunnelled packet, with the protocol stack tshark saw
// inside the tunnel of the original, and the original's timestamp.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pcapFile } from '../helpers/capture-files.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, capturesIn, hasCommand, haveTshark, requireOrSkip, tshark, tsharkReassembling } from '../helpers/tools.js';

const haveTcpdump = hasCommand('tcpdump');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-decap-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface Frame {
  time: string;
  protocols: string;
  /** tshark found a malformed packet in it. */
  malformed: boolean;
}

/** decap reassembles IP fragments by default, as tshark does: both sides are read reassembling. */
function framesOf(file: string): Frame[] {
  return tsharkReassembling(file, ['-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.protocols', '-e', '_ws.malformed'])
    .split('\n').filter((line) => line !== '')
    .map((line) => {
      const [time, protocols, malformed] = line.split('\t');
      return { time, protocols, malformed: malformed !== '' };
    });
}

/**
 * The part of tshark's protocol stack inside the packet's `depth`-th tunnel,
 * read from tshark's names alone: after vxlan, geneve, gre (and an erspan
 * header under it), after an IP header that directly carries another IP
 * header, and after a UDP header that directly carries Ethernet, IP or NSH
 * (tshark 4.0 shows VXLAN-GPE that way). A packet quoted by an ICMP error
 * is not tunnelled traffic, so the search ends at icmp.
 */
function innerStack(protocols: string, depth: number): string | null {
  const names = protocols.split(':');
  let found = 0;
  for (let i = 0; i < names.length - 1; i++) {
    const name = names[i];
    const next = names[i + 1];
    if (name === 'icmp' || name === 'icmpv6') return null;
    let start = -1;
    if (name === 'vxlan' || name === 'geneve') start = i + 1;
    else if (name === 'gre') start = next === 'erspan' ? i + 2 : i + 1;
    else if ((name === 'ip' || name === 'ipv6') && (next === 'ip' || next === 'ipv6')) start = i + 1;
    else if (name === 'udp' && ['eth', 'ip', 'ipv6', 'nsh'].includes(next)) start = i + 1;
    if (start < 0) continue;
    found++;
    if (found === depth) return names.slice(start).join(':');
    i = start - 1;
  }
  return null;
}

/** Frames decap must write: tunnelled ones whose inner frame is Ethernet or IP (NSH, for one, is not). */
function expectedInnerFrames(original: string, depth: number): Frame[] {
  const frames: Frame[] = [];
  for (const frame of framesOf(original)) {
    const stack = innerStack(frame.protocols, depth);
    if (stack !== null && /^(eth|ip|ipv6):/.test(stack)) frames.push({ ...frame, protocols: stack });
  }
  return frames;
}

/** tshark names the raw IP link layer "raw"; the stack inside the tunnel starts at IP. */
function withoutLinkName(frames: Frame[]): Frame[] {
  return frames.map((f) => ({ ...f, protocols: f.protocols.replace(/^raw:/, '') }));
}

function stackAndTime(frame: Frame): string {
  return `${frame.time} ${frame.protocols}`;
}

function decap(input: string, output: string, ...args: string[]) {
  return runCli(['decap', input, '-o', output, ...args]);
}

function tcpdumpRead(file: string): { status: number | null; packets: number; linktype: string; stderr: string } {
  const result = spawnSync('tcpdump', ['-nr', file], { encoding: 'utf8' });
  const packets = result.stdout.split('\n').filter((line) => /^\d\d:\d\d:\d\d\.\d+ /.test(line)).length;
  const linktype = /link-type (\S+)/.exec(result.stderr)?.[1] ?? '';
  return { status: result.status, packets, linktype, stderr: result.stderr };
}

describe('tunscope decap: every fixture, read back by tshark', () => {
  for (const file of capturesIn(FIXTURES)) {
    const name = path.basename(file);
    it(`writes the inner frames of ${name}`, () => {
      if (!requireOrSkip(haveTshark, 'tshark')) return;
      const out = path.join(work, `depth1-${name}`);
      const result = decap(file, out);
      expect(result.status, result.stderr).toBe(0);
      const expected = expectedInnerFrames(file, 1);
      const written = withoutLinkName(framesOf(out));
      expect(written.map(stackAndTime)).toEqual(expected.map(stackAndTime));
      // Decapsulation adds no damage: a frame tshark calls malformed was malformed inside the original.
      // (The reverse need not hold: an inner frame an outer fragment cut short is written as cut short.)
      for (let i = 0; i < written.length; i++) {
        if (written[i].malformed) expect(expected[i].malformed, `${name} frame ${i + 1}`).toBe(true);
      }
      expect(result.stderr).toContain(`wrote ${expected.length} inner frame`);
    });
  }

  it('peels two levels of nested tunnels with --depth 2', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const file = path.join(FIXTURES, 'vxlan-nested.pcap');
    const out = path.join(work, 'depth2.pcapng');
    const result = decap(file, out, '--depth', '2');
    expect(result.status, result.stderr).toBe(0);
    const expected = expectedInnerFrames(file, 2);
    // VXLAN 100 > VXLAN 200 > Ethernet (twice), VXLAN 300 > GRE > IP, GRE > VXLAN 400 > Ethernet.
    expect(expected.map((f) => f.protocols.split(':')[0])).toEqual(['eth', 'eth', 'ip', 'eth']);
    expect(withoutLinkName(framesOf(out)).map(stackAndTime)).toEqual(expected.map(stackAndTime));
  });

  it('leaves out packets with fewer tunnels than --depth and counts them', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const file = path.join(FIXTURES, 'vxlan-lab.pcap');
    const out = path.join(work, 'too-deep.pcap');
    const result = decap(file, out, '--depth', '2');
    expect(result.status).toBe(0);
    expect(framesOf(out)).toEqual([]);
    const tunnelled = framesOf(file).filter((f) => innerStack(f.protocols, 1) !== null).length;
    const plain = framesOf(file).length - tunnelled;
    expect(result.stderr).toContain(`${tunnelled} with fewer than 2 nested tunnels`);
    expect(result.stderr).toContain(`${plain} with no tunnel`);
  });

  it('writes pcap with link type RAW for IP inner frames and pcapng with one interface per kind when both occur', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const ip = path.join(work, 'gre.out');
    expect(decap(path.join(FIXTURES, 'gre-flags.pcap'), ip).status).toBe(0);
    // pcap (nanosecond magic) with LINKTYPE_RAW, 101 (https://www.tcpdump.org/linktypes.html).
    const header = fs.readFileSync(ip).subarray(0, 24);
    expect(header.readUInt32LE(0)).toBe(0xa1b23c4d);
    expect(header.readUInt32LE(20)).toBe(101);

    const mixed = path.join(work, 'geneve.out');
    expect(decap(path.join(FIXTURES, 'geneve-options.pcap'), mixed).status).toBe(0);
    expect(fs.readFileSync(mixed).readUInt32LE(0)).toBe(0x0a0d0d0a);
    const perFrame = tshark(mixed, ['-T', 'fields', '-e', 'frame.interface_id', '-e', 'frame.protocols']).trimEnd().split('\n');
    // geneve-options: frames 4 and 5 carry IPv4 and IPv6 with no Ethernet header (fixtures/README.md).
    expect(perFrame).toEqual([
      '0\teth:ethertype:ip:tcp', '0\teth:ethertype:ip:tcp', '0\teth:ethertype:ip:tcp',
      '1\traw:ip:tcp', '1\traw:ipv6:icmpv6:data', '0\teth:ethertype:ip:udp:data',
    ]);
  });

  it('cuts off the outer frame\'s padding and keeps an inner frame that an outer fragment cut short as cut short', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    // scapy: Ether()/IP(src='192.0.2.1', dst='192.0.2.2', id=1)/GRE()/IP(src='10.1.0.1', dst='10.1.0.2', proto=253, id=2),
    // 58 bytes, then 2 bytes of Ethernet padding to the 60-byte minimum.
    const frame = Buffer.from(
      '02000000000202000000000108004500002c00010000402ff69ec0000201c000020200000800' +
      '450000140002000040fd65e70a0100010a010002' + '0000', 'hex');
    const padded = path.join(work, 'padded.pcap');
    fs.writeFileSync(padded, pcapFile({}, [{ sec: 1700000000, frac: 0, data: frame }]));
    const out = path.join(work, 'padded-inner.pcap');
    expect(decap(padded, out).status).toBe(0);
    expect(tshark(out, ['-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'ip.len']).trim()).toBe('20\t20\t20');

    // fragments.pcap: the VXLAN packet's first outer fragment. With --no-reassemble the inner frame's
    // length is the UDP datagram's, less the UDP and VXLAN headers; what was captured of it ends with the fragment.
    const fragments = path.join(FIXTURES, 'fragments.pcap');
    const [udpLength, ipLength] = tshark(fragments, ['-Y', 'vxlan', '-T', 'fields', '-e', 'udp.length', '-e', 'ip.len'])
      .trim().split('\t').map((field) => Number(field.split(',')[0]));
    const fragOut = path.join(work, 'fragment-inner.pcap');
    expect(decap(fragments, fragOut, '--no-reassemble').status).toBe(0);
    const [len, caplen] = tshark(fragOut, ['-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len']).trim().split('\t').map(Number);
    expect(len).toBe(udpLength - 8 - 8);
    expect(caplen).toBe(ipLength - 20 - 8 - 8);
    // Reassembling (the default), the inner frame is whole: all of it captured.
    const wholeOut = path.join(work, 'fragment-whole.pcap');
    const result = decap(fragments, wholeOut);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('1 whose inner frame a fragment holds only part of');
    const whole = tshark(wholeOut, ['-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len']).trim().split('\t').map(Number);
    expect(whole).toEqual([udpLength - 8 - 8, udpLength - 8 - 8]);
  });

  it('writes frames without trailing bytes: no Ethernet trailer, raw IP frames as long as their IP packet', { timeout: 600_000 }, () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    for (const file of capturesIn(FIXTURES)) {
      const out = path.join(work, `lengths-${path.basename(file)}`);
      const result = decap(file, out);
      expect(result.status, result.stderr).toBe(0);
      const rows = tshark(out, ['-T', 'fields', '-e', 'frame.protocols', '-e', 'frame.len', '-e', 'ip.len', '-e', 'ipv6.plen',
        '-e', 'eth.trailer', '-e', 'eth.padding']).split('\n').filter((l) => l !== '');
      for (const row of rows) {
        const [protocols, frameLength, ipLength, ipv6Payload, trailer, padding] = row.split('\t');
        expect([trailer, padding], `${file}: ${row}`).toEqual(['', '']);
        if (protocols.startsWith('raw:ip:')) expect(Number(frameLength)).toBe(Number(ipLength.split(',')[0]));
        if (protocols.startsWith('raw:ipv6:')) expect(Number(frameLength)).toBe(Number(ipv6Payload.split(',')[0]) + 40);
      }
    }
    // One decap and one tshark per fixture: more time than one command needs, on a busy machine.
  }, 240_000);
});

describe('tunscope decap: tcpdump reads the output', () => {
  it('reads Ethernet and raw IP outputs, one packet per inner frame', () => {
    if (!requireOrSkip(haveTcpdump, 'tcpdump')) return;
    const cases: [string, string, number][] = [
      // fixtures/README.md: 26 of the 28 vxlan-lab frames are VXLAN; gre-flags holds 10 GRE packets carrying IP.
      ['vxlan-lab.pcap', 'EN10MB', 26],
      ['gre-flags.pcap', 'RAW', 10],
      ['ipip.pcap', 'RAW', 3],
      ['sit.pcap', 'RAW', 3],
      ['ip4in6.pcap', 'RAW', 3],
      ['ip6in6.pcap', 'RAW', 3],
      ['erspan.pcap', 'EN10MB', 5],
    ];
    for (const [name, linktype, packets] of cases) {
      const out = path.join(work, `tcpdump-${name}`);
      const result = decap(path.join(FIXTURES, name), out);
      expect(result.status, result.stderr).toBe(0);
      const read = tcpdumpRead(out);
      expect(read.status, read.stderr).toBe(0);
      expect(read.linktype).toBe(linktype);
      expect(read.packets).toBe(packets);
    }
  });

  it('splits a mix of Ethernet and IP frames with --link into two pcaps tcpdump reads', () => {
    if (!requireOrSkip(haveTcpdump, 'tcpdump')) return;
    const file = path.join(FIXTURES, 'vxlan-nested.pcap');
    const mixed = decap(file, path.join(work, 'mixed.pcapng'));
    expect(mixed.stderr).toContain('wrote 4 inner frames');
    expect(mixed.stderr).toContain('--link');
    const ethernet = path.join(work, 'only-ethernet.pcap');
    const ip = path.join(work, 'only-ip.pcap');
    expect(decap(file, ethernet, '--link', 'ethernet').stderr).toContain('left out 1 packet whose inner frame is not Ethernet');
    expect(decap(file, ip, '--link', 'ip').stderr).toContain('left out 3 packets whose inner frame is not raw IP');
    // fixtures/README.md: the outermost tunnel of packets 1-3 is VXLAN (Ethernet inside), of packet 4 GRE (IP inside).
    expect(tcpdumpRead(ethernet)).toMatchObject({ status: 0, linktype: 'EN10MB', packets: 3 });
    expect(tcpdumpRead(ip)).toMatchObject({ status: 0, linktype: 'RAW', packets: 1 });
  });
});

describe('tunscope decap: input and output', () => {
  it('writes the same bytes however it reads: a file in two passes, stdin held in memory, either streamed with --link', () => {
    const file = path.join(FIXTURES, 'vxlan-lab-2vni.pcap');
    const input = fs.readFileSync(file);
    const outputs = ['file', 'stdin', 'file-link', 'stdin-link'].map((name) => path.join(work, `same-${name}.pcap`));
    const filter = ['--filter', 'vxlan vni 43'];
    const link = ['--link', 'ethernet'];
    const runs = [
      decap(file, outputs[0], ...filter),
      runCli(['decap', '-', '-o', outputs[1], ...filter], { input }),
      decap(file, outputs[2], ...filter, ...link),
      runCli(['decap', '-', '-o', outputs[3], ...filter, ...link], { input }),
    ];
    for (const run of runs) {
      expect(run.status, run.stderr).toBe(0);
      // fixtures/README.md: VNI 43 carries ARP (2), two pings (4) and a UDP datagram and its echo (2).
      expect(run.stderr).toContain('wrote 8 inner frames');
    }
    const first = fs.readFileSync(outputs[0]);
    for (const other of outputs.slice(1)) expect(fs.readFileSync(other)).toEqual(first);
  });

  it('leaves no output behind when the input cannot be read', () => {
    const out = path.join(work, 'never.pcap');
    const result = decap(path.join(work, 'no-such-capture.pcap'), out, '--link', 'ip');
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(`tunscope: cannot read ${path.join(work, 'no-such-capture.pcap')}: no such file`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('keeps timestamps to the nanosecond', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const out = path.join(work, 'ns.pcap');
    expect(decap(path.join(FIXTURES, 'nanosecond.pcap'), out).status).toBe(0);
    // fixtures/README.md: 1700000000.000000001, .123456789 and .999999999.
    expect(tshark(out, ['-T', 'fields', '-e', 'frame.time_epoch']).trim().split('\n'))
      .toEqual(['1700000000.000000001', '1700000000.123456789', '1700000000.999999999']);
  });

  it('refuses to overwrite its input, and needs -o with a file name', () => {
    const copy = path.join(work, 'input.pcap');
    fs.copyFileSync(path.join(FIXTURES, 'ipip.pcap'), copy);
    const same = runCli(['decap', copy, '-o', copy]);
    expect(same.status).toBe(2);
    expect(same.stderr).toContain('is the input capture');
    expect(fs.readFileSync(copy)).toEqual(fs.readFileSync(path.join(FIXTURES, 'ipip.pcap')));
    const missing = runCli(['decap', copy]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("required option '-o, --output <file>'");
    const toStdout = runCli(['decap', copy, '-o', '-'], { cwd: work });
    expect(toStdout.status).toBe(2);
    expect(toStdout.stderr).toContain('give -o a file name');
    expect(fs.existsSync(path.join(work, '-'))).toBe(false);
  });

  it('fails with one line when the output cannot be written', () => {
    const result = decap(path.join(FIXTURES, 'ipip.pcap'), path.join(work, 'no-such-folder', 'out.pcap'));
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('no such directory');
  });
});
