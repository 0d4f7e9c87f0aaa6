// `tunscope test`: the project's own fixtures pass, and a folder of captures
// goes from failing (no expectations) to passing (--update) to failing with a
// readable diff (one byte changed) to passing again (--update). The diff is
// checked against GNU diff's unified output of the same two texts.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, capturesIn, hasCommand, requireOrSkip } from '../helpers/tools.js';
import { unifiedDiff } from '../../src/output/canonical.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

let folders = 0;
function freshFolder(...fixtures: string[]): string {
  const dir = path.join(work, `case-${++folders}`);
  fs.mkdirSync(dir);
  for (const name of fixtures) fs.copyFileSync(path.join(FIXTURES, name), path.join(dir, name));
  return dir;
}

function outputLines(stdout: string): string[] {
  return stdout.trimEnd().split('\n');
}

/** GNU diff -U1 of two texts, without the two file-name lines. */
function gnuDiff(expected: string, actual: string): string[] {
  const a = path.join(work, 'a.txt');
  const b = path.join(work, 'b.txt');
  fs.writeFileSync(a, expected);
  fs.writeFileSync(b, actual);
  const result = spawnSync('diff', ['-U1', a, b], { encoding: 'utf8' });
  return result.stdout.trimEnd().split('\n').slice(2);
}

describe('tunscope test fixtures/', () => {
  it('passes on every fixture capture, each compared with its expectation files', () => {
    const result = runCli(['test', 'fixtures/']);
    const lines = outputLines(result.stdout);
    const captures = capturesIn(FIXTURES, true).length;
    expect(lines.at(-1), result.stdout).toBe(`${captures} passed, 0 failed`);
    expect(result.status).toBe(0);
    for (const file of capturesIn(FIXTURES, true)) {
      expect(fs.existsSync(file.replace(/\.(pcap|pcapng)$/, '.expected')), file).toBe(true);
    }
  });
});

describe('tunscope test on a folder of captures', () => {
  it('fails without expectations, passes after --update, fails with a diff after one byte changes, passes after --update', () => {
    const dir = freshFolder('gretap.pcap', 'ipip.pcap');
    const gretap = path.join(dir, 'gretap.pcap');
    const expectedFile = path.join(dir, 'gretap.expected');

    const first = runCli(['test', dir]);
    expect(first.status).toBe(1);
    expect(first.stdout).toContain(`FAIL ${gretap}: no ${expectedFile} (write it with --update)`);
    expect(outputLines(first.stdout).at(-1)).toBe('0 passed, 2 failed');
    expect(first.stderr).toContain('accept it with --update');

    const update = runCli(['test', dir, '--update']);
    expect(update.status).toBe(0);
    // fixtures/README.md: gretap.pcap holds SYN, SYN-ACK and ACK; ipip.pcap three packets.
    expect(update.stdout).toContain(`created ${expectedFile} (3 packets)`);
    expect(outputLines(update.stdout).at(-1)).toBe('2 passed, 0 failed');
    const before = fs.readFileSync(expectedFile, 'utf8');
    expect(before.split('\n').filter((l) => l !== '').map((l) => l.split(' ')[0])).toEqual(['1', '2', '3']);

    const again = runCli(['test', dir]);
    expect(again.status).toBe(0);
    expect(outputLines(again.stdout).at(-1)).toBe('2 passed, 0 failed');

    // The last byte of the file is the last byte of packet 3 (a TCP option of the ACK).
    const bytes = fs.readFileSync(gretap);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(gretap, bytes);
    const changed = runCli(['test', dir]);
    expect(changed.status).toBe(1);
    const lines = outputLines(changed.stdout);
    expect(lines).toContain(`FAIL ${gretap}: packet 3 differs from ${expectedFile}`);
    expect(lines.at(-1)).toBe('1 passed, 1 failed');
    const diffStart = lines.indexOf(`--- ${expectedFile}`);
    expect(diffStart).toBeGreaterThan(0);
    expect(lines[diffStart + 1]).toBe(`+++ ${gretap}, decoded now`);

    const accepted = runCli(['test', dir, '--update']);
    expect(accepted.status).toBe(0);
    expect(accepted.stdout).toContain(`updated ${expectedFile}: packet 3 changed`);
    const after = fs.readFileSync(expectedFile, 'utf8');
    // The printed diff is the one GNU diff makes of the old and the new expectation.
    const diffEnd = lines.findIndex((line, i) => i > diffStart && /^(ok|FAIL) |^\d+ passed/.test(line));
    const hunks = lines.slice(diffStart + 2, diffEnd);
    expect(hunks).toEqual(gnuDiff(before, after));
    expect(hunks.filter((l) => l.startsWith('-')).map((l) => l.split(' ')[0])).toEqual(['-3']);

    const final = runCli(['test', dir]);
    expect(final.status).toBe(0);
    expect(outputLines(final.stdout).at(-1)).toBe('2 passed, 0 failed');
  });

  it('finds captures by magic number in subfolders, whatever their names', () => {
    const dir = freshFolder();
    fs.mkdirSync(path.join(dir, 'nested'));
    fs.copyFileSync(path.join(FIXTURES, 'sit.pcap'), path.join(dir, 'nested', 'trace.bin'));
    fs.writeFileSync(path.join(dir, 'notes.pcap'), 'not a capture\n');
    const result = runCli(['test', dir, '--update']);
    expect(result.status).toBe(0);
    expect(outputLines(result.stdout)).toEqual([
      `ok   ${path.join(dir, 'nested', 'trace.bin')}: created ${path.join(dir, 'nested', 'trace.expected')} (3 packets)`,
      '1 passed, 0 failed',
    ]);
  });

  it('counts a named file that is not a capture as failed, and a missing path as an error', () => {
    const dir = freshFolder();
    const text = path.join(dir, 'readme.txt');
    fs.writeFileSync(text, 'hello\n');
    const result = runCli(['test', text]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`FAIL ${text}: not a pcap or pcapng capture`);
    const missing = runCli(['test', path.join(dir, 'nothing-here')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toBe(`tunscope: cannot read ${path.join(dir, 'nothing-here')}: no such file or folder`);
  });

  it('keeps read --json lines with --format json and names the format a file holds', () => {
    const dir = freshFolder('ipip.pcap');
    expect(runCli(['test', dir, '--update', '--format', 'json']).status).toBe(0);
    const stored = fs.readFileSync(path.join(dir, 'ipip.expected'), 'utf8');
    expect(stored).toBe(runCli(['read', path.join(dir, 'ipip.pcap'), '--json']).stdout);
    expect(runCli(['test', dir, '--format', 'json']).status).toBe(0);
    const asText = runCli(['test', dir]);
    expect(asText.status).toBe(1);
    expect(asText.stdout).toContain('holds json lines; run with --format json, or rewrite it with --update');
  });
});

describe('tunscope test: NAME.expect.json assertions', () => {
  /** A folder with the fixture, its NAME.expect.json, and NAME.expected written by --update. */
  function withAssertions(fixture: string, assertions: unknown): { dir: string; capture: string } {
    const dir = freshFolder(fixture);
    const capture = path.join(dir, fixture);
    fs.writeFileSync(capture.replace(/\.pcap$/, '.expect.json'), JSON.stringify(assertions));
    runCli(['test', dir, '--update']);
    return { dir, capture };
  }

  it('holds for what the fixture documentation says vxlan-lab-2vni.pcap contains', () => {
    // fixtures/README.md: VNI 42 carries ARP and 2 pings (6 frames), VNI 43 those and a UDP exchange (8), 4 frames untunnelled.
    const { dir } = withAssertions('vxlan-lab-2vni.pcap', {
      packets: 18, tunnelled: 14,
      tunnels: [{ type: 'vxlan', id: 42, packets: 6 }, { type: 'vxlan', id: 43, packets: 8 }],
      checksums: { bad: 0 },
      findings: { present: ['checksum-offload'], absent: ['bad-inner-checksum'] },
    });
    const result = runCli(['test', dir]);
    expect(result.status, result.stdout).toBe(0);
  });

  it('fails, in words, on every assertion that does not hold, and --update leaves the file alone', () => {
    const assertions = {
      packets: 5,
      tunnels: [{ type: 'vxlan', id: 42 }, { type: 'geneve' }],
      checksums: { bad: 1 },
      issues: { truncated: 2 },
      findings: { present: ['frag-needed'], absent: ['bad-inner-checksum'] },
    };
    // vxlan-bad-inner.pcap (fixtures/README.md): 4 VXLAN 42 packets, 3 of them with one bad inner checksum each.
    const { dir, capture } = withAssertions('vxlan-bad-inner.pcap', assertions);
    const result = runCli(['test', dir]);
    expect(result.status).toBe(1);
    const lines = outputLines(result.stdout);
    expect(lines).toEqual([
      `FAIL ${capture}: 6 assertions in ${capture.replace(/\.pcap$/, '.expect.json')} failed (4 packets)`,
      'vxlan-bad-inner.expect.json: packets: expected 5, found 4',
      'vxlan-bad-inner.expect.json: tunnel geneve (any id): not seen',
      'vxlan-bad-inner.expect.json: checksums bad: expected 1, found 3',
      'vxlan-bad-inner.expect.json: issues truncated: expected 2, found 0',
      'vxlan-bad-inner.expect.json: finding frag-needed: expected, not found',
      'vxlan-bad-inner.expect.json: finding bad-inner-checksum: found, expected none',
      '0 passed, 1 failed',
    ]);
    expect(result.stderr).toContain('edit NAME.expect.json (--update never changes it)');
    const update = runCli(['test', dir, '--update']);
    expect(update.status).toBe(1);
    expect(JSON.parse(fs.readFileSync(capture.replace(/\.pcap$/, '.expect.json'), 'utf8'))).toEqual(assertions);
  });

  it('names a tunnel the assertions leave out', () => {
    const { dir } = withAssertions('vxlan-lab-2vni.pcap', { tunnels: [{ type: 'vxlan', id: 42 }] });
    const result = runCli(['test', dir]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('vxlan-lab-2vni.expect.json: tunnel vxlan 43: seen in 8 packets but not listed');
  });

  it('rejects a misspelt key or finding kind with the known ones', () => {
    const misspelt = withAssertions('ipip.pcap', { tunels: [] });
    const result = runCli(['test', misspelt.dir]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('ipip.expect.json: unknown key "tunels" (known: decodeAs, packets, tunnelled, tunnels,');
    const kind = withAssertions('ipip.pcap', { findings: { absent: ['mtu'] } });
    expect(runCli(['test', kind.dir]).stdout).toContain('findings.absent has an unknown finding kind "mtu" (known: inner-mtu,');
  });

  it('decodes with the decodeAs the assertions give', () => {
    // vxlan-lab-8472.pcap: 8 VXLAN packets of VNI 42 on UDP 8472. Geneve keeps its VNI in the same bytes
    // as VXLAN (RFC 8926 section 3.4, RFC 7348 section 5), so decoded as Geneve they are Geneve VNI 42.
    const asGeneve = withAssertions('vxlan-lab-8472.pcap', {
      decodeAs: ['udp:8472=geneve'], tunnels: [{ type: 'geneve', id: 42, packets: 8 }],
    });
    const result = runCli(['test', asGeneve.dir]);
    expect(result.status, result.stdout).toBe(0);
    const stored = fs.readFileSync(path.join(asGeneve.dir, 'vxlan-lab-8472.expected'), 'utf8');
    expect(stored.match(/GENEVE vni 42 /g)).toHaveLength(8);
    const wrong = withAssertions('ipip.pcap', { decodeAs: ['udp:99999=vxlan'] });
    expect(runCli(['test', wrong.dir]).stdout).toContain('ipip.expect.json: decodeAs: --decode-as value 99999 is out of range for udp');
  });
});

describe('the unified diff tunscope test prints', () => {
  const cases: [string, string[], string[]][] = [
    ['one line changed', ['1 a', '2 b', '3 c', '4 d', '5 e'], ['1 a', '2 b', '3 X', '4 d', '5 e']],
    ['changes far apart', ['1 a', '2 b', '3 c', '4 d', '5 e', '6 f', '7 g'], ['1 A', '2 b', '3 c', '4 d', '5 e', '6 f', '7 G']],
    ['changes close together', ['1 a', '2 b', '3 c', '4 d', '5 e'], ['1 a', '2 B', '3 c', '4 D', '5 e']],
    ['packets added at the end', ['1 a', '2 b'], ['1 a', '2 b', '3 c', '4 d']],
    ['packets gone from the end', ['1 a', '2 b', '3 c', '4 d'], ['1 a', '2 b']],
    ['everything new', [], ['1 a', '2 b']],
    ['everything gone', ['1 a', '2 b'], []],
  ];
  for (const [what, expected, actual] of cases) {
    it(`is GNU diff's -U1 output: ${what}`, () => {
      if (!requireOrSkip(hasCommand('diff'), 'GNU diff')) return;
      const join = (lines: string[]) => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);
      expect(unifiedDiff(expected, actual, 'a', 'b').slice(2)).toEqual(gnuDiff(join(expected), join(actual)));
    });
  }
});
