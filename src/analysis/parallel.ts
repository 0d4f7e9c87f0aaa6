// `stats` on several cores: a classic pcap file is cut into parts at record
// boundaries (sources/split.ts), this thread counts the first part while
// worker threads count the others, and the others' counters are merged, in
// file order, into what one aggregator reading the whole file would hold
// (StatsAggregator.absorbParts). Where the parts are not the file (a cut
// fell inside a record, or the file is damaged before its last part) or a
// merge could not be exact (a table cap reached), the answer is null and the
// caller reads the file whole.

import { Worker } from 'node:worker_threads';
import { decodeRecords, fileSource, prepareDecode, type DecodeOptions, type DecodeSummary } from '../pipeline.js';
import { Progress, withProgress } from '../output/progress.js';
import { readCaptureFile } from '../sources/file.js';
import { CaptureError } from '../sources/record.js';
import { splitPcapFile } from '../sources/split.js';
import { noReassembly, type ReassemblyCounts } from '../reassembly/reassembler.js';
import { DEFAULT_MAX_FLOWS, StatsAggregator, type AggregatorOptions, type PartState } from './aggregate.js';
import type { StatsWorkerData } from './stats-worker.js';

/**
 * How much larger this thread's part is than a worker's: starting a worker and
 * copying its counters back cost it about a sixth of its part (measured on
 * 1,000,000 packets: at 1.1 this thread waited 0.13 s for the worker, at 1.2
 * 0.04 s, at 1.3 the worker waited for it).
 */
const FIRST_PART_SHARE = 1.2;

/**
 * A worker's young generation, in MiB (V8's default is 32 on 64-bit
 * machines). Decoding leaves garbage that dies young: a smaller nursery is
 * collected more often at nearly the same cost, and the whole count on two
 * threads stays smaller by the difference (measured on 1,000,000 packets: 28
 * MB less, in times within the noise of the runs).
 */
const WORKER_YOUNG_GENERATION_MB = 4;

/** Old generation a worker needs besides its flows, in MiB, and per flow, in bytes (about 300 measured, with room to spare). */
const WORKER_OLD_GENERATION_BASE_MB = 256;
const WORKER_BYTES_PER_FLOW = 400;

/**
 * A worker's old generation, in MiB: enough for a part with as many flows as
 * the flow table takes. Under a limit of this size V8 lets the heap grow to
 * less than twice what survived its last full collection before collecting
 * again, where on a machine with memory to spare it lets it grow to four
 * times: the garbage between collections is much of a worker's heap. A worker
 * that runs out anyway gives up its part, and the file is counted on one
 * thread.
 */
export function workerOldGenerationMb(maxFlows = DEFAULT_MAX_FLOWS): number {
  return WORKER_OLD_GENERATION_BASE_MB + Math.ceil((maxFlows * WORKER_BYTES_PER_FLOW) / (1024 * 1024));
}

interface WorkerResult {
  state: PartState;
  summary: DecodeSummary;
}

type WorkerMessage = WorkerResult | { capped: true } | { error: string; unreadable: boolean };

/**
 * A worker counting one part; its result is null when its part cannot be
 * merged: it ran out of memory, or it reached a table's cap.
 */
function countPart(data: StatsWorkerData, oldGenerationMb: number): { result: Promise<WorkerResult | null>; stop: () => void } {
  const worker = new Worker(new URL('./stats-worker.js', import.meta.url), {
    workerData: data,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, maxOldGenerationSizeMb: oldGenerationMb },
  });
  const result = new Promise<WorkerResult | null>((resolve, reject) => {
    let received: WorkerMessage | null = null;
    worker.once('message', (message: WorkerMessage) => {
      // Its part is copied over: nothing is left for the worker to do, and its heap can go.
      received = message;
      void worker.terminate();
    });
    worker.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') resolve(null);
      else reject(err);
    });
    // The part is taken once the worker is gone, so that its heap is given back before the merge grows this one.
    worker.once('exit', (code) => {
      if (received === null) reject(new Error(`stats worker ended (exit code ${code}) before its part was counted`));
      else if ('capped' in received) resolve(null);
      else if (!('error' in received)) resolve(received);
      else reject(received.unreadable ? new CaptureError(received.error) : new Error(`stats worker: ${received.error}`));
    });
  });
  // Rejections are taken where the results are awaited; until then they are not unhandled.
  result.catch(() => undefined);
  return { result, stop: () => void worker.terminate() };
}

/**
 * Whether a part's count goes on after a packet: not once any part's
 * aggregator reached a table's cap (this one's is told to the others through
 * `capped`).
 */
export function countOn(aggregator: StatsAggregator, capped: Int32Array): boolean {
  if (aggregator.capped()) Atomics.store(capped, 0, 1);
  return Atomics.load(capped, 0) === 0;
}

/** The parts' reassembly counts added up (null with --no-reassemble). */
function sumReassembly(summaries: DecodeSummary[]): ReassemblyCounts | null {
  if (summaries[0].reassembly === null) return null;
  const sum = noReassembly();
  for (const summary of summaries) {
    for (const key of Object.keys(sum) as (keyof ReassemblyCounts)[]) sum[key] += summary.reassembly?.[key] ?? 0;
  }
  return sum;
}

/**
 * The aggregator of the whole file counted on `threads` threads, with the
 * summary of reading it; null when the file cannot be split (not classic
 * pcap, too small), the parts are not the file, the parts cannot be merged
 * exactly, or a worker ran out of its `oldGenerationMb`.
 */
export async function parallelStats(
  path: string, decode: DecodeOptions, options: AggregatorOptions, threads: number,
  oldGenerationMb = workerOldGenerationMb(options.maxFlows), progress: Progress | null = null,
): Promise<{ aggregator: StatsAggregator; summary: DecodeSummary } | null> {
  // The first part is this thread's, which need not start a worker nor wait for a part to be copied over.
  const ranges = splitPcapFile(path, threads, FIRST_PART_SHARE);
  if (ranges === null) return null;
  // Set by the first part to reach a table's cap: the parts can then not be merged exactly, and every
  // part stops there, for the file to be counted whole (a capture of more flows than --max-flows lost
  // the time of a whole count of its parts before).
  const capped = new Int32Array(new SharedArrayBuffer(4));
  // This thread counts the first part, into the aggregator the others' parts are merged into.
  const parts = ranges.slice(1).map((range, i) => countPart({ path, range, decode, options, part: { index: i + 1 }, capped }, oldGenerationMb));
  try {
    const aggregator = new StatsAggregator(options);
    // The progress shown is this thread's, through the first part; the workers read theirs alongside.
    progress?.setTotal(ranges[0].end - ranges[0].start);
    const first = await decodeRecords(withProgress(fileSource(path, ranges[0]), progress), prepareDecode(decode), (n, record, packet) => {
      aggregator.add(n, record, packet);
      return countOn(aggregator, capped);
    });
    if (Atomics.load(capped, 0) !== 0) return null;
    // A part that does not end exactly where the next one starts was cut where no record begins
    // (sources/split.ts), or the file is damaged before its last part: the parts are not the file.
    if (first.warning !== null) return null;
    const settled = await Promise.all(parts.map((p) => p.result));
    if (settled.includes(null)) return null;
    const results = settled as WorkerResult[];
    const summaries = [first, ...results.map((result) => result.summary)];
    if (summaries.slice(0, -1).some((summary) => summary.warning !== null)) return null;
    if (!aggregator.absorbParts(results.map((result) => result.state))) return null;
    // A datagram whose fragments a cut between parts separated is put together by one reading only.
    if (summaries.slice(0, -1).some((summary) => (summary.reassembly?.incomplete ?? 0) > 0)) return null;
    let records = 0;
    let matched = 0;
    for (const summary of summaries) {
      records += summary.records;
      matched += summary.matched;
    }
    const reassembly = sumReassembly(summaries);
    // Each part numbered its records from 1; a warning of the last names a packet by its number in
    // the file, so that part's records are read once more (only on a damaged or cut file), numbered from there.
    const last = summaries[summaries.length - 1];
    const warning = last.warning === null ? null
      : readCaptureFile(path, () => true, undefined, { ...ranges[ranges.length - 1], recordsBefore: records - last.records }).warning;
    return { aggregator, summary: { ...last, records, matched, warning, reassembly } };
  } finally {
    for (const p of parts) p.stop();
  }
}
