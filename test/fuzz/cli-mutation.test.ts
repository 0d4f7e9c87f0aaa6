// A bounded mutation run of the command line (scripts/fuzz.mjs): 300 damaged
// captures (bit flips, cuts, lying record and block lengths, timestamps and
// interface clocks at their extremes, repeated packets, overwritten header
// bytes) made from the fixtures, and from the peer captures and reliability
// cases when they are there. read, read -v, read --json, stats --json, decap
// and the terminal UI's store run over each. None may end in an internal
// error, an exit code above 2, a stray stderr line, output that is not JSON
// where JSON was asked for, or a resident size over 500 MB. `npm run fuzz`
// runs 10,000 (docs/reliability.md).

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PEER_CAPTURES, PROJECT_ROOT, RELIABILITY_CASES, haveReliabilityCases, havePeerCaptures, requireOrSkip } from '../helpers/tools.js';

interface FuzzSummary {
  seeds: number;
  mutations: number;
  runs: number;
  internalErrors: number;
  failed: number;
  maxRssMiB: number;
  failures: { index: number; seed: string; what: string; problems: string[] }[];
}

describe('the command line over 300 mutated captures', () => {
  it('never fails inside: no internal error, exit code at most 2, JSON stays JSON, memory bounded', () => {
    requireOrSkip(havePeerCaptures, `the peer captures at ${PEER_CAPTURES}`);
    requireOrSkip(haveReliabilityCases, `the reliability cases at ${RELIABILITY_CASES}`);
    const result = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts/fuzz.mjs'), '--mutations', '300', '--json'], {
      encoding: 'utf8', maxBuffer: 64 << 20,
    });
    expect(result.stderr).toBe('');
    const summary = JSON.parse(result.stdout) as FuzzSummary;
    expect(summary.mutations).toBe(300);
    // Five commands and the store per mutation.
    expect(summary.runs).toBe(300 * 6);
    expect(summary.failures, JSON.stringify(summary.failures, null, 2)).toEqual([]);
    expect(summary.internalErrors).toBe(0);
    expect(summary.maxRssMiB).toBeLessThan(500);
    expect(result.status).toBe(0);
  }, 300_000);
});
