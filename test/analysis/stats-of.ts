// The aggregator over a whole capture file, through the same pipeline the
// stats command uses.

import { StatsAggregator, type AggregatorOptions } from '../../src/analysis/aggregate.js';
import type { StatsReport } from '../../src/analysis/report.js';
import { decodeCapture, prepareDecode } from '../../src/pipeline.js';

export async function statsOf(file: string, options: AggregatorOptions = {}): Promise<StatsReport> {
  const aggregator = new StatsAggregator(options);
  await decodeCapture(file, prepareDecode({}), (n, record, packet) => {
    aggregator.add(n, record, packet);
  });
  return aggregator.report();
}
