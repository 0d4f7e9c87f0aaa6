// `tunscope stats` fits the terminal: every line within COLUMNS, or within 80
// when standard output is not a terminal, on the fixtures and on a large
// generated capture; --wide shows every cell whole. And `--by vni --csv`
// writes no number twice: its columns sum to what tshark counts.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, PROJECT_ROOT, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';

/** The environment of a run off a terminal, COLUMNS as given (or unset). */
function envWith(columns?: string): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.COLUMNS;
  return columns === undefined ? env : { ...env, COLUMNS: columns };
}

function stats(args: string[], columns?: string): string {
  const result = runCli(['stats', ...args], { env: envWith(columns) });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

/** Lines longer than `width` characters (the table borders are one column each). */
function tooLong(text: string, width: number): string[] {
  return text.split('\n').filter((line) => line.length > width);
}

const FILES = [
  'stats-ground-truth.pcap', 'vxlan-lab.pcap', 'vxlan-lab-2vni.pcap', 'geneve-options.pcap', 'ip6in6.pcap', 'erspan.pcap',
  'two-interfaces.pcapng', 'qinq.pcap',
].map((name) => path.join('fixtures', name));

describe('stats tables fit the width', () => {
  for (const file of FILES) {
    it(`${path.basename(file)}: every line within 80 columns off a terminal, and within COLUMNS`, () => {
      for (const by of ['tunnel', 'flow', 'vni']) {
        const args = [file, '--by', by, '--top', '0'];
        expect(tooLong(stats(args), 80), `--by ${by}`).toEqual([]);
        for (const columns of ['60']) {
          expect(tooLong(stats(args, columns), Number(columns)), `--by ${by}, COLUMNS=${columns}`).toEqual([]);
        }
      }
    });
  }

  it('--wide shows every cell whole: the moved MAC\'s two endpoints (stats-ground-truth.pcap, fixtures/README.md)', () => {
    const moved = '192.0.2.1, then 192.0.2.3';
    const args = ['fixtures/stats-ground-truth.pcap', '--by', 'vni', '--top', '0'];
    // Too narrow for the column: elided in the middle.
    const narrow = stats(args, '40');
    expect(tooLong(narrow, 40)).toEqual([]);
    expect(narrow).not.toContain(moved);
    expect(narrow).toMatch(/│ 192\.0\.2\.1[^│]*…[^│]*192\.0\.2\.3 │/);
    // --wide wins over COLUMNS: one table, one row per MAC, the cell whole.
    const wide = stats([...args, '--wide'], '40');
    expect(wide).toMatch(/│ vxlan 100 +│ 02:00:00:00:02:01 │ 192\.0\.2\.1, then 192\.0\.2\.3 │ 10\.1\.0\.1 +│ +\d+ │/);
    expect(tooLong(wide, 100).length).toBeGreaterThan(0);
  });

  it('a COLUMNS that is not a whole number is ignored', () => {
    expect(stats(['fixtures/vxlan-lab.pcap'], 'wide')).toBe(stats(['fixtures/vxlan-lab.pcap']));
  });

  describe('a large generated capture (bench/generate.mjs): wide numbers, IPv6, thousands of flows', () => {
    let dir = '';
    let big = '';
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-fit-'));
      big = path.join(dir, 'big.pcap');
      const made = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bench/generate.mjs'), '--packets', '100000', '--out', big],
        { encoding: 'utf8' });
      expect(made.status, made.stderr).toBe(0);
    }, 300_000);
    afterAll(() => {
      if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
    });

    it('every line within 80 columns, and within COLUMNS=120, for each table', () => {
      for (const by of ['tunnel', 'flow', 'vni']) {
        const text = stats([big, '--by', by, '--top', '50']);
        expect(text).toContain('100,000 packets');
        expect(tooLong(text, 80), `--by ${by}`).toEqual([]);
        const at120 = stats([big, '--by', by, '--top', '50'], '120');
        expect(tooLong(at120, 120), `--by ${by}, COLUMNS=120`).toEqual([]);
        // COLUMNS is taken, not just obeyed: the wider width is used.
        expect(tooLong(at120, 80).length, `--by ${by}, COLUMNS=120`).toBeGreaterThan(0);
      }
    }, 600_000);
  });
});

/** RFC 4180 rows of a CSV without quoted fields. */
function csvRows(text: string): Record<string, string>[] {
  const [head, ...body] = text.trimEnd().split('\n').map((line) => line.split(','));
  for (const row of body) expect(row).toHaveLength(head.length);
  return body.map((row) => Object.fromEntries(head.map((name, i) => [name, row[i]])));
}

function sum(rows: Record<string, string>[], column: string): number {
  return rows.reduce((total, row) => total + (row[column] === '' ? 0 : Number(row[column])), 0);
}

/** Frame lengths of the frames a display filter keeps. */
function frameLengths(file: string, displayFilter: string): number[] {
  const out = tshark(path.join(FIXTURES, file), ['-Y', displayFilter, '-T', 'fields', '-e', 'frame.len']).trim();
  return out === '' ? [] : out.split('\n').map(Number);
}

describe('stats --by vni --csv repeats no total', () => {
  for (const file of ['vxlan-lab.pcap', 'vxlan-lab-2vni.pcap', 'vxlan-lab-8472.pcap']) {
    it(`${file}: the columns sum to tshark's counts, each network and each MAC once`, () => {
      if (!requireOrSkip(haveTshark, 'tshark')) return;
      const rows = csvRows(stats([path.join('fixtures', file), '--by', 'vni', '--csv']));
      const vnis = rows.filter((r) => r.row === 'vni');
      const macs = rows.filter((r) => r.row === 'mac');
      expect(vnis.length + macs.length).toBe(rows.length);
      // The whole column: every VXLAN frame once.
      const all = frameLengths(file, 'vxlan');
      expect(sum(rows, 'packets')).toBe(all.length);
      expect(sum(rows, 'bytes')).toBe(all.reduce((a, b) => a + b, 0));
      expect(sum(rows, 'macPackets')).toBe(all.length);
      expect(sum(rows, 'macs')).toBe(macs.length);
      expect(sum(rows, 'arpRequests')).toBe(frameLengths(file, 'vxlan && arp.opcode == 1').length);
      expect(sum(rows, 'arpReplies')).toBe(frameLengths(file, 'vxlan && arp.opcode == 2').length);
      for (const v of vnis) {
        const frames = frameLengths(file, `vxlan.vni == ${v.id}`);
        expect(Number(v.packets), `vni ${v.id}`).toBe(frames.length);
        expect(Number(v.bytes), `vni ${v.id}`).toBe(frames.reduce((a, b) => a + b, 0));
        const own = macs.filter((m) => m.id === v.id);
        expect(own).toHaveLength(Number(v.macs));
        for (const m of own) {
          // A MAC row's count is its own; it never repeats the network's.
          expect([m.packets, m.bytes, m.flows, m.arpRequests, m.arpReplies]).toEqual(['', '', '', '', '']);
          expect(Number(m.macPackets), m.mac).toBe(frameLengths(file, `vxlan.vni == ${v.id} && eth.src == ${m.mac}`).length);
        }
      }
    });
  }
});
