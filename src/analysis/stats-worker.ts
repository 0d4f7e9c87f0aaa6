// One part of a capture file, counted on a worker thread for parallel.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { decodeRecords, fileSource, prepareDecode, type DecodeOptions } from '../pipeline.js';
import type { FileRange } from '../sources/file.js';
import { CaptureError } from '../sources/record.js';
import { StatsAggregator, type AggregatorOptions, type PartOptions } from './aggregate.js';
import { FlowStore } from './flow-store.js';
import { countOn } from './parallel.js';

export interface StatsWorkerData {
  path: string;
  range: FileRange;
  decode: DecodeOptions;
  options: AggregatorOptions;
  part: PartOptions;
  /** Shared by every part: set once one reaches a table's cap (countOn()). */
  capped: Int32Array;
}

const { path, range, decode, options, part, capped } = workerData as StatsWorkerData;
const aggregator = new StatsAggregator({ ...options, part });
try {
  const summary = await decodeRecords(fileSource(path, range), prepareDecode(decode), (n, record, packet) => {
    aggregator.add(n, record, packet);
    return countOn(aggregator, capped);
  });
  if (Atomics.load(capped, 0) !== 0) {
    // A part stopped at a cap is of no use: the file is counted whole.
    parentPort!.postMessage({ capped: true });
  } else {
    const state = aggregator.exportPart(true);
    // The flows' numbers move to the receiving thread instead of being copied.
    parentPort!.postMessage({ state, summary }, FlowStore.transferables(state.flows));
  }
} catch (err) {
  // A file that cannot be read is reported as reading it whole would report it; anything else is a fault.
  parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err), unreadable: err instanceof CaptureError });
}
