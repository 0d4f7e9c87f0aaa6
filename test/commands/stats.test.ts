// `tunscope stats` as a user runs it: tables, --top, --by, --json, --csv,
// --filter, --mtu, --no-verify, standard input, and the exit codes of
// mistakes. Expected numbers come from fixtures/stats-ground-truth.expected.json
// (written by the scapy generator) and from fixtures/README.md.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatsReport } from '../../src/analysis/report.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/tools.js';

const TRUTH = 'fixtures/stats-ground-truth.pcap';
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'stats-ground-truth.expected.json'), 'utf8')) as {
  packets: number;
  bytes: number;
  tunnels: { type: string; src: string; dst: string; id: number | null; packets: number; bytes: number }[];
};
const ROWS = expected.tunnels.length + 1;

function grouped(n: number): string {
  return n.toLocaleString('en-US');
}

/** RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') {
      field += c;
    }
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

function json(args: string[]): StatsReport {
  const result = runCli(['stats', ...args, '--json']);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as StatsReport;
}

describe('tables', () => {
  it('opens with the totals, then tunnels, tunnel health and findings', () => {
    const result = runCli(['stats', TRUTH, '--wide']);
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^fixtures/stats-ground-truth.pcap: ${expected.packets} packets, ${grouped(expected.bytes)} bytes in .* \\(EN10MB ${expected.packets}\\)$`));
    expect(result.stdout).toContain(`Tunnels, one row per direction, by bytes (${ROWS})`);
    expect(result.stdout).toContain('Tunnel health');
    expect(result.stdout).toMatch(/Findings \(\d+\)/);
    expect(result.stdout).toContain('geneve 500 192.0.2.1 → 192.0.2.2: SYN 10.1.0.1:45000 → 10.1.0.2:443 advertises MSS 1460');
  });

  it('shows the largest tunnel first, in the generator\'s numbers', () => {
    const largest = [...expected.tunnels].sort((a, b) => b.bytes - a.bytes)[0];
    const row = runCli(['stats', TRUTH, '--wide']).stdout.split('\n').find((line) => /^│ +0 │/.test(line)) as string;
    const cells = row.split('│').map((cell) => cell.trim());
    expect(cells.slice(2, 7)).toEqual([`${largest.type} ${largest.id}`, largest.src, largest.dst, grouped(largest.packets), grouped(largest.bytes)]);
  });

  it('cuts each table at --top rows and says how many were left out', () => {
    const out = runCli(['stats', TRUTH, '--top', '3', '--wide']).stdout;
    const tunnelRows = out.split('Tunnel health')[0].split('\n').filter((line) => /^│ +\d+ │/.test(line));
    expect(tunnelRows).toHaveLength(3);
    expect(out).toContain(`… ${ROWS - 3} more tunnels not shown (--top ${ROWS} shows all)`);
    // At most three findings of a kind, and a line for the rest: the capture has 9 one-way tunnels.
    expect(out.split('\n').filter((line) => line.includes('seen in one direction only'))).toHaveLength(3);
    expect(out).toContain('… 6 more one-way findings not shown (--json lists all)');
  });

  it('shows 20 rows by default, and every row with --top 0', () => {
    const byDefault = runCli(['stats', TRUTH, '--wide']).stdout;
    expect(byDefault).toContain(`… ${ROWS - 20} more tunnels not shown`);
    const all = runCli(['stats', TRUTH, '--top', '0', '--wide']).stdout;
    expect(all).not.toContain('more tunnels not shown');
    expect(all.split('Tunnel health')[0].split('\n').filter((line) => /^│ +\d+ │/.test(line))).toHaveLength(ROWS);
  });

  it('--by flow shows inner flows with their TCP flags and MSS', () => {
    const out = runCli(['stats', TRUTH, '--by', 'flow', '--top', '0', '--wide']).stdout;
    expect(out).toContain('Flows inside each tunnel, one row per direction, by bytes');
    expect(out).not.toContain('Tunnel health');
    const synFlow = out.split('\n').find((line) => line.includes('45000') && line.includes('443')) as string;
    expect(synFlow).toContain('geneve 500');
    expect(synFlow).toContain('SYN 1, MSS 1460');
  });

  it('--by vni shows virtual networks, the MACs behind each endpoint, ARP, and a moved MAC', () => {
    const out = runCli(['stats', TRUTH, '--by', 'vni', '--top', '0', '--wide']).stdout;
    expect(out).toContain('Virtual networks, by bytes');
    const vni100 = out.split('\n').find((line) => line.startsWith('│ vxlan 100 ')) as string;
    // VNI 100: three directions (A→B, B→A, C→B), one ARP request and one reply.
    expect(vni100.split('│').map((cell) => cell.trim()).filter((cell) => cell !== '').slice(1, 2)).toEqual(['3']);
    expect(vni100.trim().split(/\s*│\s*/).slice(-3, -1)).toEqual(['1', '1']);
    expect(out).toMatch(/│ vxlan 100 +│ 02:00:00:00:02:01 │ 192\.0\.2\.1, then 192\.0\.2\.3 │ 10\.1\.0\.1 +│/);
  });
});

describe('timestamps', () => {
  it('keeps nanoseconds in the tables and in firstTime/lastTime (nanosecond.pcap: .000000001, .123456789, .999999999)', () => {
    const out = runCli(['stats', 'fixtures/nanosecond.pcap', '--wide']).stdout;
    expect(out).toMatch(/│ 22:13:20\.000000001 │ 22:13:20\.999999999 │/);
    expect(out).toMatch(/│ 22:13:20\.123456789 │ 22:13:20\.123456789 │/);
    const report = json(['fixtures/nanosecond.pcap']);
    expect([report.firstTime, report.lastTime]).toEqual(['2023-11-14T22:13:20.000000001Z', '2023-11-14T22:13:20.999999999Z']);
  });
});

describe('--json', () => {
  it('prints one object with the design\'s fields and every tunnel direction', () => {
    const result = runCli(['stats', TRUTH, '--json', '--top', '2']);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(result.stdout) as StatsReport;
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['packets', 'bytes', 'linktypes', 'tunnels', 'flows', 'findings']));
    expect(report.packets).toBe(expected.packets);
    expect(report.bytes).toBe(expected.bytes);
    // --top does not cut the JSON.
    expect(report.tunnels).toHaveLength(ROWS);
    expect(Object.keys(report.tunnels[0])).toEqual(expect.arrayContaining([
      'type', 'src', 'dst', 'id', 'packets', 'bytes', 'innerBytes', 'overheadBytes', 'flows', 'firstTs', 'lastTs',
      'checksums', 'fragments', 'maxOuterLength',
    ]));
    expect(Object.keys(report.flows[0])).toEqual(expect.arrayContaining(['tunnel', 'proto', 'src', 'dst', 'packets', 'bytes']));
    for (const finding of report.findings) expect(['info', 'warning', 'error']).toContain(finding.severity);
  });

  it('counts only what --filter keeps', () => {
    const report = json([TRUTH, '--filter', 'vxlan vni 100']);
    const want = expected.tunnels.filter((t) => t.type === 'vxlan' && t.id === 100);
    expect(report.packets).toBe(want.reduce((sum, t) => sum + t.packets, 0));
    expect(report.tunnels.map((t) => `${t.src} ${t.dst} ${t.packets}`).sort())
      .toEqual(want.map((t) => `${t.src} ${t.dst} ${t.packets}`).sort());
  });

  it('reads standard input for "-"', () => {
    const result = runCli(['stats', '-', '--json'], { input: fs.readFileSync(path.join(FIXTURES, 'stats-ground-truth.pcap')) });
    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as StatsReport).packets).toBe(expected.packets);
  });

  it('--mtu moves the line: the 1400-byte kernel lab ping (1478 outer bytes) does not fit a 1400-byte underlay', () => {
    expect(json(['fixtures/vxlan-lab.pcap']).findings.some((f) => f.kind === 'inner-mtu')).toBe(false);
    const found = json(['fixtures/vxlan-lab.pcap', '--mtu', '1400']).findings.filter((f) => f.kind === 'inner-mtu');
    // README: one ping -s 1400, echo request and reply: 1428-byte inner packets in each direction.
    expect(found).toHaveLength(2);
    for (const f of found) expect(f.figures).toMatchObject({ packets: 1, largest: 1428, innerMtu: 1350, mtu: 1400 });
  });

  it('--no-verify leaves checksums uncounted', () => {
    const report = json(['fixtures/vxlan-lab.pcap', '--no-verify']);
    expect(report.tunnels.every((t) => t.checksums.offload === 0 && t.checksums.bad === 0)).toBe(true);
    expect(report.findings.some((f) => f.kind === 'checksum-offload')).toBe(false);
  });
});

describe('--csv', () => {
  it('writes the tunnel table, every row, quoted by RFC 4180', () => {
    const rows = parseCsv(runCli(['stats', TRUTH, '--csv']).stdout);
    const [head, ...body] = rows;
    expect(head.slice(0, 7)).toEqual(['index', 'type', 'id', 'src', 'dst', 'packets', 'bytes']);
    expect(body).toHaveLength(ROWS);
    for (const want of expected.tunnels) {
      const row = body.find((r) => r[1] === want.type && r[2] === String(want.id ?? '') && r[3] === want.src && r[4] === want.dst);
      expect(row?.slice(5, 7)).toEqual([String(want.packets), String(want.bytes)]);
    }
  });

  it('writes the flow or VNI table with --by, cut at --top only when --top is given', () => {
    const flows = parseCsv(runCli(['stats', TRUTH, '--csv', '--by', 'flow']).stdout);
    expect(flows[0].slice(0, 8)).toEqual(['tunnel', 'tunnelType', 'tunnelId', 'proto', 'src', 'srcPort', 'dst', 'dstPort']);
    const report = json([TRUTH]);
    expect(flows).toHaveLength(report.flows.length + 1);
    expect(parseCsv(runCli(['stats', TRUTH, '--csv', '--by', 'flow', '--top', '4']).stdout)).toHaveLength(5);
    const vnis = parseCsv(runCli(['stats', TRUTH, '--csv', '--by', 'vni']).stdout);
    expect(vnis[0].slice(0, 3)).toEqual(['row', 'type', 'id']);
    const column = (name: string) => vnis[0].indexOf(name);
    expect(vnis.some((r) => r[0] === 'mac' && r[1] === 'vxlan' && r[2] === '100' && r[column('mac')] === '02:00:00:00:02:01'
      && r[column('movedTo')] === '192.0.2.3')).toBe(true);
  });
});

describe('mistakes', () => {
  it('exits 2 with one line for --json together with --csv', () => {
    const result = runCli(['stats', TRUTH, '--json', '--csv']);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('--json and --csv');
  });

  it('exits 2 for an unknown --by, a negative --top, an impossible --mtu and a bad filter', () => {
    for (const args of [['--by', 'host'], ['--top', '-1'], ['--mtu', '20'], ['--filter', 'vxlan vni']]) {
      const result = runCli(['stats', TRUTH, ...args]);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('exits 1 for a file that is not there or not a capture', () => {
    for (const file of ['fixtures/no-such-file.pcap', 'fixtures/README.md']) {
      const result = runCli(['stats', file]);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^tunscope: /);
    }
  });
});

describe('tunscope stats --threads', () => {
  const files = ['stats-ground-truth.pcap', 'vxlan-lab-mtu.pcap', 'icmp-errors.pcap', 'two-interfaces.pcapng']
    .map((name) => `fixtures/${name}`);

  it.each(files)('%s: the parts counted on worker threads and merged give the report of one thread', (file) => {
    for (const args of [['--json'], ['--by', 'flow'], ['--filter', 'inner icmp', '--json']]) {
      const one = runCli(['stats', file, ...args, '--threads', '1']);
      expect(one.status).toBe(0);
      for (const threads of ['2', '3']) {
        const parallel = runCli(['stats', file, ...args, '--threads', threads]);
        expect(parallel.status).toBe(0);
        expect(parallel.stdout, `${threads} threads, ${args.join(' ')}`).toBe(one.stdout);
      }
    }
  });

  it('a file cut short: the same report, and the warning names the packet and offset in the whole file', () => {
    const data = fs.readFileSync(TRUTH);
    const cut = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-threads-')), 'cut.pcap');
    fs.writeFileSync(cut, data.subarray(0, data.length - 10));
    const one = runCli(['stats', cut, '--json', '--threads', '1']);
    const three = runCli(['stats', cut, '--json', '--threads', '3']);
    expect(one.stderr).toMatch(/^tunscope: warning: capture ends in the middle of packet \d+ at byte offset \d+/);
    expect(three.stdout).toBe(one.stdout);
    expect(three.stderr).toBe(one.stderr);
    fs.rmSync(path.dirname(cut), { recursive: true, force: true });
  });
});
