// tcpdump's and tshark's habits, through the built command line: -r and -i
// for the input, a filter as trailing words or -Y, read -w for a subset
// written unchanged (checked against tshark -Y ... -w), -n, -V, -e (checked
// against tcpdump -e), -q, and `tunscope FILE`.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { mixedPcapng } from '../helpers/capture-files.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { FIXTURES, hasCommand, haveTshark, requireOrSkip, run, tshark } from '../helpers/tools.js';

const haveTcpdump = hasCommand('tcpdump');
const TWO_VNI = path.join(FIXTURES, 'vxlan-lab-2vni.pcap');
const TWO_INTERFACES = path.join(FIXTURES, 'two-interfaces.pcapng');
const EXIT_USAGE = 2;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-habits-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function tsharkRows(file: string, fields: string[], extra: string[] = []): string[][] {
  const out = tshark(file, [...extra, '-T', 'fields', ...fields.flatMap((field) => ['-e', field])]);
  return out.split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
}

/**
 * Every packet of a file: its bytes, lengths and link type (test/helpers/pcap-files.ts), its time as tshark reads
 * it, and for a pcapng file the name of its interface (tshark writes pcapng, "unknown" interfaces, from a pcap file).
 */
function packetsOf(file: string): { time: string; iface?: string; linktype: number; wireLength: number; bytes: string }[] {
  const records = readCaptureRecords(file);
  const rows = tsharkRows(file, ['frame.time_epoch', 'frame.interface_name']);
  expect(rows).toHaveLength(records.length);
  const pcapng = fs.readFileSync(file).readUInt32BE(0) === 0x0a0d0d0a;
  return records.map((r, i) => ({
    time: rows[i][0], ...(pcapng ? { iface: rows[i][1] } : {}),
    linktype: r.linktype, wireLength: r.wireLength, bytes: Buffer.from(r.data).toString('hex'),
  }));
}

/** The packets without the interface names: for a pcap file written by tunscope against the pcapng tshark writes. */
function withoutInterfaces(packets: ReturnType<typeof packetsOf>): ReturnType<typeof packetsOf> {
  return packets.map(({ iface: _iface, ...rest }) => rest);
}

/** The blocks of a little-endian pcapng file, by type. */
function pcapngBlocks(file: string): { type: number; hex: string }[] {
  const bytes = fs.readFileSync(file);
  const blocks: { type: number; hex: string }[] = [];
  for (let at = 0; at < bytes.length;) {
    const length = bytes.readUInt32LE(at + 4);
    blocks.push({ type: bytes.readUInt32LE(at), hex: bytes.subarray(at, at + length).toString('hex') });
    at += length;
  }
  return blocks;
}

/** A classic pcap file's header, read apart from tunscope's reader. */
function pcapHeaderOf(file: string): { magic: number; snaplen: number; linktypeField: number } {
  const h = fs.readFileSync(file).subarray(0, 24);
  const le = h.readUInt32LE(0) === 0xa1b2c3d4 || h.readUInt32LE(0) === 0xa1b23c4d;
  const read32 = (at: number) => (le ? h.readUInt32LE(at) : h.readUInt32BE(at));
  return { magic: read32(0), snaplen: read32(16), linktypeField: read32(20) };
}

// Each test runs tshark several times: on a busy machine that takes more than the usual minute.
describe('read -w: the packets that match, unchanged, as tshark -Y ... -w writes them', { timeout: 240_000 }, () => {
  it('the pcap fixture carries more than one VNI', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const vnis = new Set(tsharkRows(TWO_VNI, ['vxlan.vni']).map(([vni]) => vni).filter((vni) => vni !== ''));
    expect([...vnis].sort()).toEqual(['42', '43']);
  });

  for (const file of [TWO_VNI, TWO_INTERFACES]) {
    const name = path.basename(file);
    it(`${name}: tunscope -r F -w OUT vxlan vni 42 writes what tshark -r F -Y 'vxlan.vni == 42' -w OUT writes`, () => {
      if (!requireOrSkip(haveTshark, 'tshark')) return;
      const ours = path.join(dir, `ours-${name}`);
      const theirs = path.join(dir, `theirs-${name}`);
      const result = runCli(['-r', file, '-w', ours, 'vxlan', 'vni', '42']);
      tshark(file, ['-Y', 'vxlan.vni == 42', '-w', theirs]);
      const expected = packetsOf(theirs);
      const all = packetsOf(file);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(all.length);
      expect(packetsOf(ours)).toEqual(file === TWO_VNI ? withoutInterfaces(expected) : expected);
      if (file === TWO_VNI) expect(pcapHeaderOf(ours)).toEqual(pcapHeaderOf(file));
      expect(result.status).toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `${all.length} packets read\n${expected.length} packets matched the filter\n${expected.length} packets written to ${ours}\n`);
    });
  }

  it('pcap in, pcap out: the input\'s link type field, snapshot length and time stamp resolution', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    for (const name of ['vxlan-lab-2vni.pcap', 'nanosecond.pcap', 'big-endian.pcap']) {
      const file = path.join(FIXTURES, name);
      const out = path.join(dir, `all-${name}`);
      expect(runCli(['read', file, '-w', out]).status).toBe(0);
      expect(pcapHeaderOf(out), name).toEqual(pcapHeaderOf(file));
      expect(packetsOf(out), name).toEqual(packetsOf(file));
    }
  });

  it('pcapng in, pcapng out: every interface description kept, and each packet\'s block as the input had it', () => {
    for (const name of ['two-interfaces.pcapng', 'pcapng-binary-tsresol.pcapng']) {
      const file = path.join(FIXTURES, name);
      const out = path.join(dir, `vni42-${name}`);
      expect(runCli(['read', file, '-w', out, 'vxlan', 'vni', '42']).status).toBe(0);
      const input = pcapngBlocks(file);
      const output = pcapngBlocks(out);
      expect(output.filter((b) => b.type === 1), name).toEqual(input.filter((b) => b.type === 1));
      // two-interfaces.pcapng: VXLAN is on eth0 only, in frames 1 and 3 (fixtures/README.md); every frame of the other file.
      const packets = input.filter((b) => b.type === 6);
      const kept = name === 'two-interfaces.pcapng' ? [packets[0], packets[2]] : packets;
      expect(output.filter((b) => b.type === 6), name).toEqual(kept);
    }
  });

  it('a pcapng of two sections in both byte orders: the same packets, times and interfaces as tshark reads in the input', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    for (const le of [true, false]) {
      const file = path.join(dir, `mixed-${le}.pcapng`);
      fs.writeFileSync(file, mixedPcapng(le));
      const out = path.join(dir, `mixed-${le}-out.pcapng`);
      expect(runCli(['read', file, '-w', out]).status).toBe(0);
      const fields = ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.interface_id', 'frame.encap_type', 'frame.protocols'];
      const theirs = tsharkRows(file, fields);
      expect(theirs.length).toBeGreaterThan(5);
      const ours = tsharkRows(out, fields);
      // A simple packet block has no time stamp (tshark shows none); tunscope writes it as an enhanced packet block at time 0.
      expect(ours.map((row, i) => (theirs[i][0] === '' ? ['', ...row.slice(1)] : row))).toEqual(theirs);
    }
  });

  it('-c N writes the first N packets that match', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const out = path.join(dir, 'first-two.pcap');
    expect(runCli(['read', TWO_VNI, '-w', out, '-c', '2', 'vxlan', 'vni', '43']).status).toBe(0);
    const theirs = path.join(dir, 'theirs-43.pcap');
    tshark(TWO_VNI, ['-Y', 'vxlan.vni == 43', '-w', theirs]);
    expect(packetsOf(out)).toEqual(withoutInterfaces(packetsOf(theirs)).slice(0, 2));
  });

  it('refuses to write over the file it reads, and names a file it cannot write', () => {
    const copy = path.join(dir, 'copy.pcap');
    fs.copyFileSync(TWO_VNI, copy);
    const result = runCli(['read', copy, '-w', copy]);
    expect(result.status).toBe(EXIT_USAGE);
    expect(result.stderr).toBe(`tunscope: -w ${copy} is the file being read; write to another file\n`);
    expect(fs.readFileSync(copy)).toEqual(fs.readFileSync(TWO_VNI));
    const nowhere = path.join(dir, 'no-such-dir', 'out.pcap');
    const failed = runCli(['read', TWO_VNI, '-w', nowhere]);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toBe(`tunscope: cannot write ${nowhere}: no such directory\n`);
  });
});

describe('tcpdump and tshark habits', () => {
  const plain = runCli(['read', TWO_VNI]);
  const filtered = runCli(['read', TWO_VNI, '--filter', 'udp port 4789']);

  it('the readings these tests compare with', () => {
    expect(plain.status).toBe(0);
    expect(filtered.status).toBe(0);
    expect(filtered.stdout.length).toBeGreaterThan(0);
    expect(filtered.stdout.length).toBeLessThan(plain.stdout.length);
  });

  it('-r FILE is read FILE, wherever -r stands, also as the last letter of -nnr or joined to the file', () => {
    for (const args of [['-r', TWO_VNI], ['-n', '-r', TWO_VNI], ['-nnr', TWO_VNI], [`-r${TWO_VNI}`], ['-nn', '-r', TWO_VNI, '-n']]) {
      const result = runCli(args);
      expect(result.status, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toBe(plain.stdout);
    }
  });

  it('a filter as trailing words, or with -Y, is --filter', () => {
    for (const args of [
      ['read', TWO_VNI, 'udp', 'port', '4789'], ['read', TWO_VNI, 'udp port 4789'], ['-r', TWO_VNI, 'udp', 'port', '4789'],
      ['-nr', TWO_VNI, 'udp', 'port', '4789'], ['read', TWO_VNI, '-Y', 'udp port 4789'], ['read', TWO_VNI, 'udp', '-n', 'port', '4789'],
    ]) {
      expect(runCli(args).stdout, args.join(' ')).toBe(filtered.stdout);
    }
    const stats = runCli(['stats', TWO_VNI, 'vxlan', 'vni', '43', '--json']);
    expect(stats.status).toBe(0);
    expect(stats.stdout).toBe(runCli(['stats', TWO_VNI, '--json', '-f', 'vxlan vni 43']).stdout);
    expect(stats.stdout).not.toBe(runCli(['stats', TWO_VNI, '--json']).stdout);
  });

  it('a filter given twice is refused', () => {
    const result = runCli(['read', TWO_VNI, '-Y', 'udp', 'vxlan']);
    expect(result.status).toBe(EXIT_USAGE);
    expect(result.stderr).toBe('tunscope: the filter is given twice (-Y and trailing words); give it once\n');
    expect(runCli(['read', TWO_VNI, '-f', 'udp', '-Y', 'udp']).stderr)
      .toBe('tunscope: the filter is given twice (--filter and -Y); give it once\n');
  });

  it('a bad filter in trailing words points into the words', () => {
    for (const args of [['read', TWO_VNI, 'udp', 'prot', '4789'], ['-r', TWO_VNI, 'udp', 'prot', '4789'], ['stats', TWO_VNI, 'udp', 'prot', '4789']]) {
      const result = runCli(args);
      expect(result.status, args.join(' ')).toBe(EXIT_USAGE);
      expect(result.stderr, args.join(' ')).toMatch(/^tunscope: bad filter: [^\n]*"prot" \(column 5\)\n {2}udp prot 4789\n {6}\^\n$/);
    }
  });

  it('-i IFACE is capture IFACE', () => {
    const name = 'tshabit0';
    const viaHabit = runCli(['-i', name, '-c', '1', '-f', 'udp']);
    const direct = runCli(['capture', name, '-c', '1', '-f', 'udp']);
    expect(viaHabit).toEqual(direct);
    expect(viaHabit.status).not.toBe(0);
    expect(viaHabit.stderr).toMatch(/^tunscope: /);
  });

  it('-V is the layer tree of -v; the version is --version', () => {
    const tree = runCli(['read', TWO_VNI, '-v', '-c', '3']);
    expect(tree.stdout).toMatch(/^Packet 1: /);
    expect(runCli(['read', TWO_VNI, '-V', '-c', '3']).stdout).toBe(tree.stdout);
    expect(runCli(['-V', '-r', TWO_VNI, '-c', '3']).stdout).toBe(tree.stdout);
    const version = JSON.parse(fs.readFileSync(path.join(FIXTURES, '..', 'package.json'), 'utf8')).version;
    expect(runCli(['--version']).stdout).toBe(`${version}\n`);
  });

  it('-q prints no packets, and counts on stderr what tshark counts', () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const all = tsharkRows(TWO_VNI, ['frame.number']).length;
    const vni42 = tsharkRows(TWO_VNI, ['frame.number'], ['-Y', 'vxlan.vni == 42']).length;
    const quiet = runCli(['read', TWO_VNI, '-q']);
    expect([quiet.status, quiet.stdout, quiet.stderr]).toEqual([0, '', `${all} packets read\n`]);
    const filteredQuiet = runCli(['-qr', TWO_VNI, 'vxlan', 'vni', '42']);
    expect([filteredQuiet.status, filteredQuiet.stdout, filteredQuiet.stderr])
      .toEqual([0, '', `${all} packets read\n${vni42} packets matched the filter\n`]);
  });

  it('tunscope FILE suggests tunscope read FILE', () => {
    const result = runCli([TWO_VNI]);
    expect(result.status).toBe(EXIT_USAGE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`tunscope: unknown command '${TWO_VNI}'; did you mean: tunscope read ${TWO_VNI}\n`);
    const spaced = path.join(dir, 'a capture.pcap');
    fs.copyFileSync(TWO_VNI, spaced);
    expect(runCli([spaced]).stderr).toBe(`tunscope: unknown command '${spaced}'; did you mean: tunscope read '${spaced}'\n`);
  });
});

describe('-e: each level\'s link-level header, as tcpdump -e prints it', () => {
  /** Our link header of one "|" part: MACs (or the cooked header), ethertype, length, then each VLAN tag. */
  const LINK = /^(.*?length \d+: (?:vlan \d+, p \d+, (?:DEI, )?ethertype [^,]+, )*)/;

  /** tcpdump -e's text of each packet, its lines joined. */
  function tcpdumpPackets(file: string): string[] {
    const packets: string[] = [];
    for (const line of run('tcpdump', ['-enr', file]).split('\n')) {
      if (line === '') continue;
      if (/^\d\d:\d\d:\d\d\.\d+ /.test(line)) packets.push(line.replace(/^\S+ +/, ''));
      else packets[packets.length - 1] += ` ${line.trim()}`;
    }
    return packets;
  }

  // Captures whose every level tcpdump decodes: VXLAN, Geneve, GRE, gretap, VLAN tags, Linux cooked capture, fragments.
  const files = ['vxlan-lab-2vni.pcap', 'qinq.pcap', 'sll.pcap', 'gretap.pcap', 'geneve-options.pcap', 'vxlan-nested.pcap',
    'vxlan-lab-mtu.pcap', 'icmp-errors.pcap'];
  for (const name of files) {
    it(`${name}: the MACs, ethertypes, lengths and VLAN tags tcpdump -e shows, level by level`, () => {
      if (!requireOrSkip(haveTcpdump, 'tcpdump')) return;
      const file = path.join(FIXTURES, name);
      // tcpdump shows each frame and never a datagram made of fragments.
      const result = runCli(['read', file, '-e', '--no-reassemble']);
      expect(result.status).toBe(0);
      const ours = result.stdout.trimEnd().split('\n');
      const theirs = tcpdumpPackets(file);
      expect(ours).toHaveLength(theirs.length);
      let links = 0;
      ours.forEach((line, i) => {
        let at = 0;
        for (const part of line.slice(line.indexOf(' ') + 1).split(' | ')) {
          const link = LINK.exec(part)?.[1];
          if (link === undefined) continue;
          const found = theirs[i].indexOf(link, at);
          expect(found, `packet ${i + 1}: ${link}\n${theirs[i]}`).toBeGreaterThanOrEqual(0);
          at = found + link.length;
          links++;
        }
      });
      expect(links).toBeGreaterThanOrEqual(ours.length);
    });
  }

  it('a level with tags: tcpdump\'s words for 802.1ad and the priority', () => {
    const first = runCli(['read', path.join(FIXTURES, 'qinq.pcap'), '-e', '-c', '1']).stdout;
    // qinq.pcap frame 1 (fixtures/README.md): S-tag 100 (0x88a8), C-tag 200, then IPv4/UDP.
    expect(first).toMatch(/ethertype 802\.1Q-QinQ \(0x88a8\), length \d+: vlan 100, p \d, ethertype 802\.1Q \(0x8100\), vlan 200, p \d, ethertype IPv4 \(0x0800\), IP /);
  });

  it('Linux cooked capture v2: packet type, interface index and address (sll2.pcap)', () => {
    // sll2.pcap (fixtures/README.md): interface index 3; "sent by us" then "to us"; the frames of sll.pcap.
    const lines = runCli(['read', path.join(FIXTURES, 'sll2.pcap'), '-e']).stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\S+ Out ifindex 3 02:00:00:00:01:01 ethertype IPv4 \(0x0800\), length 130: VXLAN /);
    expect(lines[1]).toMatch(/^\S+ In ifindex 3 02:00:00:00:01:02 ethertype IPv4 \(0x0800\), length 130: VXLAN /);
  });

  it('without -e, no link-level header', () => {
    const line = runCli(['read', TWO_VNI, '-c', '1']).stdout;
    expect(line).not.toMatch(/ethertype/);
    expect(runCli(['read', TWO_VNI, '-c', '1', '-e']).stdout).toMatch(/ethertype ARP \(0x0806\)/);
  });
});
