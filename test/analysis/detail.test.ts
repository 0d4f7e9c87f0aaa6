// `stats` decodes without detail (DissectOptions.detail false): no list of TCP
// options, no text of Ethernet II MAC addresses. Counting must not notice: the
// report of every capture here is the same either way, while the layers
// really are lighter.

import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { formatMac } from '../../decoders/address.js';
import { Registry } from '../../decoders/registry.js';
import { StatsAggregator } from '../../src/analysis/aggregate.js';
import { readCaptureFile } from '../../src/sources/file.js';
import { FIXTURES, PEER_CAPTURES, capturesIn } from '../helpers/tools.js';

const registry = new Registry();

function reportOf(file: string, detail: boolean): { report: unknown; lighter: number; tcpMss: number } {
  const aggregator = new StatsAggregator();
  let n = 0;
  let lighter = 0;
  let tcpMss = 0;
  readCaptureFile(file, (record) => {
    const packet = dissect(record.bytes, record.linktype, record.len, { registry, detail });
    for (const layer of packet.layers) {
      if (layer.proto === 'eth' && layer.length === 14 && layer.src === undefined) {
        lighter++;
        // The bytes the count reads instead are there, and say what the text would.
        expect(formatMac(record.bytes, layer.offset + 6)).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      }
      if (layer.proto === 'tcp' && typeof layer.headerLength === 'number' && layer.headerLength > 20 && layer.options === undefined) lighter++;
      if (layer.proto === 'tcp' && typeof layer.mss === 'number') tcpMss++;
    }
    aggregator.add(++n, record, packet);
  });
  return { report: aggregator.report(), lighter, tcpMss };
}

describe('decoding without detail', () => {
  const files = [...capturesIn(FIXTURES), ...capturesIn(PEER_CAPTURES)];

  it.each(files)('counts %s exactly as with detail', (file) => {
    const full = reportOf(file, true);
    const lean = reportOf(file, false);
    expect(lean.report).toEqual(full.report);
    expect(full.lighter).toBe(0);
    // The MSS a SYN carries is kept, for the MSS findings.
    expect(lean.tcpMss).toBe(full.tcpMss);
  });

  it('leaves out the MAC texts and TCP option lists of the fixtures', () => {
    let lighter = 0;
    for (const file of capturesIn(FIXTURES)) lighter += reportOf(file, false).lighter;
    expect(lighter).toBeGreaterThan(400);
  });
});
