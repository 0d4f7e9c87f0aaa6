// parallelStats on worker threads, from the built dist/ (a worker runs
// compiled JavaScript): it must take the parallel path where it can, and give
// the report one thread gives.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURES, PROJECT_ROOT } from '../helpers/tools.js';
import { statsOf } from './stats-of.js';

type ParallelModule = typeof import('../../src/analysis/parallel.js');
type ProgressModule = typeof import('../../src/output/progress.js');
const { parallelStats } = (await import(
  pathToFileURL(path.join(PROJECT_ROOT, 'dist/src/analysis/parallel.js')).href
)) as ParallelModule;
const { Progress } = (await import(pathToFileURL(path.join(PROJECT_ROOT, 'dist/src/output/progress.js')).href)) as ProgressModule;

describe('parallelStats', () => {
  it.each(['stats-ground-truth.pcap', 'vxlan-lab-mtu.pcap', 'vxlan-nested.pcap'])(
    '%s: counted on 2, 3 and 4 threads, the report of one',
    async (name) => {
      const file = path.join(FIXTURES, name);
      const expected = JSON.stringify(await statsOf(file));
      for (const threads of [2, 3, 4]) {
        const result = await parallelStats(file, {}, {}, threads);
        expect(result, `${threads} threads`).not.toBeNull();
        expect(JSON.stringify(result!.aggregator.report())).toBe(expected);
        expect(result!.summary.warning).toBeNull();
      }
    },
  );

  it('leaves pcapng, and parts that cannot be merged exactly, to one thread (null)', async () => {
    expect(await parallelStats(path.join(FIXTURES, 'two-interfaces.pcapng'), {}, {}, 2)).toBeNull();
    expect(await parallelStats(path.join(FIXTURES, 'stats-ground-truth.pcap'), {}, { maxFlows: 2 }, 2)).toBeNull();
  });

  it('stops counting its part at the packet that reaches a cap, not at the end of the part', async () => {
    const file = path.join(FIXTURES, 'stats-ground-truth.pcap');
    const progress = new Progress({ write: () => true, isTTY: true }, 0, () => 0);
    expect(await parallelStats(file, {}, { maxFlows: 2 }, 2, undefined, progress)).toBeNull();
    // This thread's part is more than half the file's 56 packets; the third flow comes within its first few.
    const read = Number(/([\d,]+) packets/.exec(progress.text(1000))![1].replace(/,/g, ''));
    expect((await statsOf(file)).packets).toBe(56);
    expect(read).toBeLessThan(10);
  });

  it('leaves the file to one thread (null) when a worker runs out of its heap', async () => {
    // A 1 MiB old generation cannot even hold a worker's modules.
    expect(await parallelStats(path.join(FIXTURES, 'stats-ground-truth.pcap'), {}, {}, 2, 1)).toBeNull();
  });

  it('counts only what the filter keeps, in every part', async () => {
    const file = path.join(FIXTURES, 'stats-ground-truth.pcap');
    const three = await parallelStats(file, { filter: 'vxlan' }, {}, 3);
    expect(three!.summary.matched).toBe(three!.aggregator.report().packets);
    expect(three!.summary.matched).toBeLessThan(three!.summary.records);
  });
});
