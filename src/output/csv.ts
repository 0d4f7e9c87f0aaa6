// `tunscope stats --csv`: the table --by chooses, one header line and one
// line per row, quoted as RFC 4180 section 2 says (fields holding a comma,
// a quote or a line break are quoted; quotes are doubled). No number is
// written twice: summing a column never counts a packet twice.

import type { StatsReport } from '../analysis/report.js';
import type { StatsGrouping } from './tables.js';

type CsvValue = string | number | null | undefined;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(values: CsvValue[]): string {
  return values.map(csvField).join(',');
}

function tunnelRows(report: StatsReport, rows: number): string[] {
  const lines = [csvLine([
    'index', 'type', 'id', 'src', 'dst', 'packets', 'bytes', 'innerBytes', 'overheadBytes', 'overheadPercent', 'flows',
    'firstTs', 'lastTs', 'firstTime', 'lastTime', 'bitsPerSecond', 'packetsPerSecond', 'checksumsBad', 'checksumsOffload',
    'fragmentsOuter', 'fragmentsInner', 'maxOuterLength', 'largestInnerPacket', 'encapsulation', 'dfSet', 'dfClear',
  ])];
  for (let i = 0; i < rows; i++) {
    const t = report.tunnels[i];
    lines.push(csvLine([
      i, t.type, t.id, t.src, t.dst, t.packets, t.bytes, t.innerBytes, t.overheadBytes, t.overheadPercent, t.flows,
      t.firstTs, t.lastTs, t.firstTime, t.lastTime, t.bitsPerSecond, t.packetsPerSecond, t.checksums.bad, t.checksums.offload,
      t.fragments.outer, t.fragments.inner, t.maxOuterLength, t.largestInnerPacket, t.encapsulation, t.df.set, t.df.clear,
    ]));
  }
  return lines;
}

function flowRows(report: StatsReport, rows: number): string[] {
  const lines = [csvLine([
    'tunnel', 'tunnelType', 'tunnelId', 'proto', 'src', 'srcPort', 'dst', 'dstPort', 'packets', 'bytes', 'firstTs', 'lastTs',
    'firstTime', 'lastTime', 'fragments', 'ipProtocol', 'ethertype', 'syn', 'fin', 'rst', 'mss',
  ])];
  for (let i = 0; i < rows; i++) {
    const f = report.flows[i];
    const t = report.tunnels[f.tunnel];
    lines.push(csvLine([
      f.tunnel, t.type, t.id, f.proto, f.src, f.srcPort, f.dst, f.dstPort, f.packets, f.bytes, f.firstTs, f.lastTs,
      f.firstTime, f.lastTime, f.fragments, f.ipProtocol, f.ethertype, f.tcp?.syn, f.tcp?.fin, f.tcp?.rst, f.tcp?.mss,
    ]));
  }
  return lines;
}

/**
 * One `vni` row per virtual network with its totals, then one `mac` row per
 * inner MAC behind it with that MAC's own count. No row repeats another's
 * number, so the sum of any count column is a total: `packets` the packets of
 * every network, `macPackets` those of every MAC.
 */
function vniRows(report: StatsReport, rows: number): string[] {
  const lines = [csvLine([
    'row', 'type', 'id', 'packets', 'bytes', 'flows', 'macs', 'arpRequests', 'arpReplies', 'mac', 'vtep', 'movedTo', 'ips',
    'macPackets',
  ])];
  for (let i = 0; i < rows; i++) {
    const v = report.vnis[i];
    lines.push(csvLine(['vni', v.type, v.id, v.packets, v.bytes, v.flows, v.macs.length, v.arp.requests, v.arp.replies, '', '', '', '', '']));
    for (const mac of v.macs) {
      lines.push(csvLine(['mac', v.type, v.id, '', '', '', '', '', '', mac.mac, mac.vtep, mac.movedTo, mac.ips.join(' '), mac.packets]));
    }
  }
  return lines;
}

/** The rows of one table; `top` 0 means all of them. */
export function statsCsv(report: StatsReport, by: StatsGrouping, top: number): string {
  const total = by === 'tunnel' ? report.tunnels.length : by === 'flow' ? report.flows.length : report.vnis.length;
  const rows = top === 0 || top > total ? total : top;
  const lines = by === 'tunnel' ? tunnelRows(report, rows) : by === 'flow' ? flowRows(report, rows) : vniRows(report, rows);
  return lines.join('\n');
}
