// What `tunscope capture` says of its interfaces: the summary at the end (in
// all, and per interface when there are several), the per-interface table
// under --stats, and the capture file it writes (pcapng with one interface
// description block per interface). The `listening on` line is said by
// capture-start.ts, before this module is loaded.

import { linktypeName } from '../../decoders/linktypes.js';
import { UsageError } from '../errors.js';
import { openCaptureWriter, PcapWriter, type PcapngWriter } from '../output/capture-writer.js';
import { interfaceDescription, LinkBook } from '../sources/link-details.js';
import type { LiveCapture, LiveStats } from '../sources/live-capture.js';
import type { CaptureFileFormat } from './capture-start.js';

/** The capture file for -w, with every interface described; classic pcap only takes one link type. */
export function openLiveWriter(live: LiveCapture, file: string, format: CaptureFileFormat, snaplen: number): PcapWriter | PcapngWriter {
  const { interfaces } = live;
  if (format === 'pcap') {
    const types = [...new Set(interfaces.map((i) => i.linktype))];
    if (types.length > 1) {
      throw new UsageError(`a pcap file has one link type, and these interfaces have ${types.length} ` +
        `(${interfaces.map((i) => `${i.spec.given} ${linktypeName(i.linktype)}`).join(', ')}): write pcapng (--pcapng, or -w FILE.pcapng)`);
    }
    return openCaptureWriter(file, 'pcap', snaplen);
  }
  const writer = openCaptureWriter(file, 'pcapng', snaplen) as PcapngWriter;
  const book = new LinkBook();
  for (const iface of interfaces) {
    writer.addInterface({
      linktype: iface.linktype, name: iface.spec.given, description: interfaceDescription(book, iface.spec.netns, iface.spec.device),
    });
  }
  return writer;
}

function countLine(n: number | null, what: string): string {
  return `${n === null ? '?' : n} packet${n === 1 ? '' : 's'} ${what}`;
}

function countText(n: number | null): string {
  return n === null ? '?' : String(n);
}

export interface InterfaceCounts {
  name: string;
  received: number;
  matched: number;
  droppedByKernel: number | null;
  droppedByInterface: number | null;
  /** Why it stopped before the end, or null. */
  gone: string | null;
}

export function interfaceCounts(live: LiveCapture, matched: number[]): InterfaceCounts[] {
  return live.interfaces.map((iface, id) => {
    const stats = live.interfaceStats(id);
    return {
      name: iface.spec.given,
      received: stats.received,
      matched: matched[id] ?? 0,
      droppedByKernel: stats.droppedByKernel,
      droppedByInterface: stats.droppedByInterface,
      gone: iface.gone,
    };
  });
}

/** The summary on stderr: the counts in all, then one line per interface when there are several. */
export function summary(stats: LiveStats, matched: number, written: string | null, each: InterfaceCounts[]): string {
  const lines = [
    countLine(stats.received, 'received (passed the kernel filter)'),
    countLine(matched, 'matched the filter'),
    ...(written === null ? [] : [written]),
    countLine(stats.droppedByKernel, 'dropped by the kernel'),
    countLine(stats.droppedByInterface, 'dropped by the interface'),
  ];
  if (each.length > 1) {
    for (const c of each) {
      lines.push(`  ${c.name}: ${c.received} received, ${c.matched} matched, ${countText(c.droppedByKernel)} dropped by the kernel, ` +
        `${countText(c.droppedByInterface)} by the interface${c.gone === null ? '' : ` (stopped: ${c.gone})`}`);
    }
  }
  return lines.join('\n');
}

/** The per-interface table printed under the --stats tables. */
export function interfaceTable(each: InterfaceCounts[]): string {
  const header = ['interface', 'received', 'matched', 'kernel drops', 'interface drops'];
  const rows = each.map((c) => [c.name + (c.gone === null ? '' : ' (stopped)'), String(c.received), String(c.matched),
    countText(c.droppedByKernel), countText(c.droppedByInterface)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return ['Interfaces', line(header), ...rows.map(line)].join('\n');
}

export { captureFormat, listeningLine } from './capture-start.js';
export { countLine, PcapWriter };
