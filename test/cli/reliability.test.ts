// The captures and conditions a reliability trial found tunscope failing on,
// each read in place: a record whose original length runs past what 32-bit
// cells held (decap: internal error), timestamps beyond the years a date can
// show (stats --json: internal error), and a disk that fills while decap
// writes (it said it wrote every frame). A full disk is a small tmpfs mounted
// for the test; the cut file is read back by tshark and by our reader.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/sources/file.js';
import { runCli } from '../helpers/cli.js';
import {
  FIXTURES, haveReliabilityCases, haveTshark, isRoot, reliabilityCase, requireOrSkip, RELIABILITY_CASES, run,
} from '../helpers/tools.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-reliability-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function casesThere(): boolean {
  return requireOrSkip(haveReliabilityCases, `the reliability cases at ${RELIABILITY_CASES}`);
}

/** Every record of a capture file, with the reader's warning. */
function readBack(file: string): { caplens: number[]; lens: number[]; warning: string | null } {
  const caplens: number[] = [];
  const lens: number[] = [];
  const summary = readCaptureFile(file, (r) => {
    caplens.push(r.caplen);
    lens.push(r.len);
  });
  return { caplens, lens, warning: summary.warning };
}

/** tshark's frame count and its complaint (empty when it has none). */
function tsharkReads(file: string): { frames: number; complaint: string } {
  const result = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
  const frames = result.stdout.split('\n').filter((line) => line !== '').length;
  const complaint = result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('Running as user')).join('\n');
  return { frames, complaint };
}

function writtenCount(stderr: string): number {
  const match = /wrote (\d+) inner frames? to /.exec(stderr);
  if (match === null) throw new Error(`no count of frames written in: ${stderr}`);
  return Number(match[1]);
}

describe('decap of a record whose original length is 0xfffffffe, past its 80156 captured bytes', () => {
  for (const name of ['decap-origlen-ffff.pcap', 'm00126.pcap']) {
    it(`${name}: writes its inner frame, caplen within len, instead of an internal error`, () => {
      if (!casesThere()) return;
      const out = path.join(work, `${name}.inner.pcap`);
      const result = runCli(['decap', reliabilityCase(name), '-o', out]);
      expect(result.stderr).not.toContain('internal error');
      expect(result.status).toBe(0);
      const written = writtenCount(result.stderr);
      expect(written).toBeGreaterThan(0);
      const back = readBack(out);
      expect(back.warning).toBeNull();
      expect(back.caplens).toHaveLength(written);
      back.caplens.forEach((caplen, i) => expect(back.lens[i]).toBeGreaterThanOrEqual(caplen));
      if (!requireOrSkip(haveTshark, 'tshark')) return;
      expect(tsharkReads(out)).toEqual({ frames: written, complaint: '' });
    });
  }
});

describe('stats --json on a pcapng whose timestamps lie beyond the years a date shows', () => {
  for (const name of ['ts-beyond-date.pcapng', 'm00039.pcapng']) {
    it(`${name}: one JSON object, the last time in seconds as tshark gives it`, () => {
      if (!casesThere() || !requireOrSkip(haveTshark, 'tshark')) return;
      const file = reliabilityCase(name);
      const result = runCli(['stats', '--json', file]);
      expect(result.stderr).not.toContain('internal error');
      expect(result.status).toBe(0);
      const report = JSON.parse(result.stdout) as { firstTs: number; lastTs: number; firstTime: string; lastTime: string };
      const epochs = run('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch'])
        .split('\n').filter((line) => line !== '');
      const latest = epochs.reduce((a, b) => (Number(a) >= Number(b) ? a : b));
      const earliest = epochs.reduce((a, b) => (Number(a) <= Number(b) ? a : b));
      // Year 9999 ends at 253402300799 s: beyond it, seconds (with the capture's 6 digits).
      expect(Number(latest)).toBeGreaterThan(253402300799);
      expect(report.lastTime).toBe(latest.slice(0, latest.indexOf('.') + 7));
      expect(report.lastTs).toBe(Number(latest));
      expect(report.firstTs).toBe(Number(earliest.slice(0, earliest.indexOf('.') + 7)));
      expect(report.firstTime).toBe(`${new Date(Math.floor(Number(earliest)) * 1000).toISOString().slice(0, 19)}${earliest.slice(earliest.indexOf('.'), earliest.indexOf('.') + 7)}Z`);
    });
  }

  it('read -v shows such a packet\'s time in seconds, and read --json stays JSON', () => {
    if (!casesThere()) return;
    const file = reliabilityCase('ts-beyond-date.pcapng');
    const tree = runCli(['read', '-v', file]);
    expect(tree.status).toBe(0);
    expect(tree.stdout).toMatch(/^Packet \d+: .*, \d+\.\d{6} seconds since 1970$/m);
    const json = runCli(['read', '--json', file]);
    expect(json.status).toBe(0);
    for (const line of json.stdout.trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });
});

/** A tmpfs of `kib` KiB, mounted for the test, and a filler taking `fillKib` of it. */
function smallDisk(name: string, kib: number, fillKib: number): string | null {
  const mount = path.join(work, name);
  fs.mkdirSync(mount);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', mount], { stdio: 'ignore' }).status === 0;
  if (!mounted) return null;
  fs.writeFileSync(path.join(mount, 'filler'), Buffer.alloc(fillKib * 1024));
  mounts.push(mount);
  return mount;
}

const mounts: string[] = [];
afterAll(() => {
  for (const mount of mounts) spawnSync('umount', [mount], { stdio: 'ignore' });
});

describe('a disk that fills while writing', () => {
  let disk: string | null = null;
  beforeAll(() => {
    if (isRoot) disk = smallDisk('full', 1024, 600);
  });

  it.each([
    ['read twice', []],
    ['with --link ethernet, read once', ['--link', 'ethernet']],
  ])('decap %s: exit 1, the file and its complete packets named, the file cut back to its last whole packet', (_how, flags) => {
    if (!casesThere() || !requireOrSkip(isRoot && disk !== null, 'root, to mount a small tmpfs')) return;
    const out = path.join(disk as string, 'inner.pcap');
    fs.rmSync(out, { force: true });
    const result = runCli(['decap', reliabilityCase('decap-short-write-8000.pcap'), ...flags, '-o', out]);
    expect(result.status).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const match = new RegExp(`^tunscope: cannot write ${out}: no space left on device; it holds (\\d+) complete packets$`).exec(lines[0]);
    expect(match, result.stderr).not.toBeNull();
    const complete = Number(match?.[1]);
    // 8000 inner frames of 100 bytes and their 16-byte headers do not fit in the ~400 KiB left.
    expect(complete).toBeGreaterThan(0);
    expect(complete).toBeLessThan(8000);
    const back = readBack(out);
    expect(back.warning).toBeNull();
    expect(back.caplens).toHaveLength(complete);
    expect(fs.statSync(out).size).toBe(24 + back.caplens.reduce((sum, caplen) => sum + 16 + caplen, 0));
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    expect(tsharkReads(out)).toEqual({ frames: complete, complaint: '' });
  });

  it('test --update: exit 1, NAME.expected left as it was', () => {
    if (!requireOrSkip(isRoot && disk !== null, 'root, to mount a small tmpfs')) return;
    const dir = path.join(disk as string, 'suite');
    fs.mkdirSync(dir);
    fs.rmSync(path.join(disk as string, 'inner.pcap'), { force: true });
    fs.copyFileSync(path.join(FIXTURES, 'vxlan-lab.pcap'), path.join(dir, 'vxlan-lab.pcap'));
    // Fill what is left, so that not even the expectation file fits.
    spawnSync('sh', ['-c', `cat /dev/zero > ${path.join(disk as string, 'rest')}`], { stdio: 'ignore' });
    const result = runCli(['test', '--update', dir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`tunscope: cannot write ${path.join(dir, 'vxlan-lab.expected')}: no space left on device; none was made\n`);
    expect(fs.readdirSync(dir)).toEqual(['vxlan-lab.pcap']);
  });
});
