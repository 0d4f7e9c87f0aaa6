// `stats` decodes without detail (DissectOptions.detail false): no list of TCP
// options, no text of Ethernet II MAC addresses, '' for the addresses of a
// whole IP header. Counting and filtering must not notice: the report of
// every capture here is the same either way, and so is what a host filter
// matches, while the layers really are lighter.

import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { formatMac } from '../../decoders/address.js';
import { Registry } from '../../decoders/registry.js';
import { StatsAggregator } from '../../src/analysis/aggregate.js';
import { readCaptureFile } from '../../src/sources/file.js';
import { parseFilter } from '../../src/filter/parse.js';
import { matchesFilter } from '../../src/filter/evaluate.js';
import type { Packet } from '../../decoders/types.js';
import { FIXTURES, PEER_CAPTURES, capturesIn, havePeerCaptures, requireOrSkip } from '../helpers/tools.js';

const registry = new Registry();

function reportOf(file: string, detail: boolean): { report: unknown; lighter: number; lighterIp: number; tcpMss: number } {
  const aggregator = new StatsAggregator();
  let n = 0;
  let lighter = 0;
  let lighterIp = 0;
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
      if ((layer.proto === 'ipv4' || layer.proto === 'ipv6') && layer.src === '') {
        lighterIp++;
        expect(layer.dst).toBe('');
      }
      if (layer.proto === 'tcp' && typeof layer.mss === 'number') tcpMss++;
    }
    aggregator.add(++n, record, packet);
  });
  return { report: aggregator.report(), lighter, lighterIp, tcpMss };
}

describe('decoding without detail', () => {
  const files = [...capturesIn(FIXTURES), ...capturesIn(PEER_CAPTURES)];

  it('takes in the peer captures as well as the fixtures', (ctx) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) return ctx.skip();
    expect(capturesIn(PEER_CAPTURES).length).toBeGreaterThan(10);
  });

  it.each(files)('counts %s exactly as with detail', (file) => {
    const full = reportOf(file, true);
    const lean = reportOf(file, false);
    expect(lean.report).toEqual(full.report);
    expect(full.lighter).toBe(0);
    expect(full.lighterIp).toBe(0);
    // The MSS a SYN carries is kept, for the MSS findings.
    expect(lean.tcpMss).toBe(full.tcpMss);
  });

  it('leaves out the MAC texts, TCP option lists and IP address texts of the fixtures', () => {
    let lighter = 0;
    let lighterIp = 0;
    for (const file of capturesIn(FIXTURES)) {
      const lean = reportOf(file, false);
      lighter += lean.lighter;
      lighterIp += lean.lighterIp;
    }
    expect(lighter).toBeGreaterThan(400);
    expect(lighterIp).toBeGreaterThan(300);
  });

  it.each(files)('matches the same packets of %s to host filters, and names each tunnel by the IP layer before it', (file) => {
    const full: Packet[] = [];
    const lean: Packet[] = [];
    const frames: Uint8Array[] = [];
    const addresses = new Set<string>();
    readCaptureFile(file, (record) => {
      const bytes = record.bytes.slice();
      frames.push(bytes);
      const packet = dissect(bytes, record.linktype, record.len, { registry, detail: true });
      full.push(packet);
      lean.push(dissect(bytes, record.linktype, record.len, { registry, detail: false }));
      // A filter does not look into the packet an ICMP error quotes.
      for (const layer of packet.layers.slice(0, packet.quotedFrom)) {
        if ((layer.proto === 'ipv4' || layer.proto === 'ipv6') && typeof layer.dst === 'string') {
          addresses.add(layer.src as string);
          addresses.add(layer.dst);
        }
      }
    });
    // A tunnel names the addresses of the IP layer before it, which counting reads.
    for (const packet of full) {
      for (const tunnel of packet.tunnels) {
        const carrier = packet.layers.slice(0, tunnel.layer).reverse().find((l) => l.proto === 'ipv4' || l.proto === 'ipv6');
        expect([tunnel.src, tunnel.dst]).toEqual([carrier?.src, carrier?.dst]);
      }
    }
    for (const address of [...addresses].slice(0, 6)) {
      for (const text of [`host ${address}`, `src host ${address}`, `dst host ${address}`, `inner host ${address}`]) {
        const filter = parseFilter(text);
        const matched = full.map((p, i) => matchesFilter(filter, p, frames[i], frames[i].length));
        expect(lean.map((p, i) => matchesFilter(filter, p, frames[i], frames[i].length)), text).toEqual(matched);
        if (text.startsWith('host')) expect(matched, text).toContain(true);
      }
    }
  });
});
