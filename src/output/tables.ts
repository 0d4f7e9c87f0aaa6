// `tunscope stats` as text: a summary line, cli-table3 tables sorted by
// bytes (tunnels, flows or VNIs), each cut at --top rows with a line saying
// how many were left out, and the findings. Everything fits the terminal's
// width (fit.ts) unless --wide asks for whole cells on long lines.

import { tunnelName } from '../analysis/labels.js';
import type { DepthChecksums, Finding, FlowStats, StatsReport, TunnelStats } from '../analysis/report.js';
import { fitLines, fitTable, terminalWidth, wrapText, type Column } from './fit.js';

export type StatsGrouping = 'tunnel' | 'vni' | 'flow';

export interface StatsTextOptions {
  by: StatsGrouping;
  /** Most rows per table, and most findings of each kind; 0 shows everything. */
  top: number;
  /** What was read, for the summary line: a file name or "-". */
  source: string;
  /** Every cell whole and no line wrapped, however wide (--wide). */
  wide?: boolean;
  /** The width to fit; the terminal's (terminalWidth) when not given. */
  width?: number;
}

const SEVERITY_WIDTH = 8;
/** "  warning " before a finding's message. */
const FINDING_INDENT = 2 + SEVERITY_WIDTH + 1;

/** A table being filled: its columns (right-aligned by index, elided by index) and rows. */
class TextTable {
  readonly rows: (string | number)[][] = [];
  private readonly columns: Column[];

  constructor(head: string[], rightAligned: number[], elided: number[], private readonly key: number) {
    this.columns = head.map((h, i) => ({
      head: h, align: rightAligned.includes(i) ? 'right' : 'left', elide: elided.includes(i),
    }));
  }

  push(row: (string | number)[]): void {
    this.rows.push(row);
  }

  text(width: number | null): string {
    return fitTable(this.columns, this.rows, { width, key: this.key });
  }
}

/** 1234567 as "1,234,567". */
export function groupDigits(value: number): string {
  const [whole, fraction] = String(value).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

export function rateText(bitsPerSecond: number | null): string {
  if (bitsPerSecond === null) return '-';
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
  let value = bitsPerSecond;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** The time of day of an ISO 8601 timestamp from the report, with all its digits: 22:13:20.000123. */
export function clockText(isoTime: string): string {
  return isoTime.slice(11, -1);
}

function durationText(first: number | null, last: number | null): string {
  if (first === null || last === null) return '';
  const seconds = last - first;
  if (seconds < 60) return `${seconds.toFixed(3)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Counts of one verdict by depth, "0" when none: "12 (d0 6, d1 6)". */
function depthText(byDepth: DepthChecksums[], status: 'bad' | 'offload'): string {
  let total = 0;
  const parts: string[] = [];
  for (const row of byDepth) {
    if (row[status] === 0) continue;
    total += row[status];
    parts.push(`d${row.depth} ${groupDigits(row[status])}`);
  }
  if (total === 0) return '0';
  return `${groupDigits(total)} (${parts.join(', ')})`;
}

function dfText(tunnel: TunnelStats): string {
  const { set, clear } = tunnel.df;
  if (set === 0 && clear === 0) return '-';
  if (clear === 0) return 'set';
  if (set === 0) return 'clear';
  return `set ${groupDigits(set)}, clear ${groupDigits(clear)}`;
}

function leftOut(lines: string[], shown: number, total: number, what: string): void {
  if (shown < total) lines.push(`… ${groupDigits(total - shown)} more ${what} not shown (--top ${total} shows all)`);
}

function limit(top: number, total: number): number {
  return top === 0 || top > total ? total : top;
}

function endpointsText(tunnel: TunnelStats): [string, string] {
  return tunnel.type === 'none' || tunnel.type === 'overflow' ? ['', ''] : [tunnel.src, tunnel.dst];
}

function tunnelTables(report: StatsReport, top: number, width: number | null, lines: string[]): void {
  const shown = limit(top, report.tunnels.length);
  const traffic = new TextTable(
    ['#', 'tunnel', 'outer src', 'outer dst', 'packets', 'bytes', 'inner bytes', 'overhead', 'flows', 'first', 'last', 'rate'],
    [0, 4, 5, 6, 7, 8], [1, 2, 3], 2,
  );
  const health = new TextTable(
    [
      '#', 'tunnel', 'bad checksums', 'offload checksums', 'outer frags', 'inner frags', 'largest frame', 'largest inner',
      'outer DF',
    ],
    [0, 4, 5, 6, 7], [1], 2,
  );
  for (let i = 0; i < shown; i++) {
    const t = report.tunnels[i];
    const [src, dst] = endpointsText(t);
    traffic.push([
      i, tunnelName(t.type, t.id), src, dst, groupDigits(t.packets), groupDigits(t.bytes), groupDigits(t.innerBytes),
      `${groupDigits(t.overheadBytes)} (${t.overheadPercent.toFixed(1)}%)`, groupDigits(t.flows),
      clockText(t.firstTime), clockText(t.lastTime), rateText(t.bitsPerSecond),
    ]);
    health.push([
      i, tunnelName(t.type, t.id), depthText(t.checksumsByDepth, 'bad'), depthText(t.checksumsByDepth, 'offload'),
      groupDigits(t.fragments.outer), groupDigits(t.fragments.inner), groupDigits(t.maxOuterLength),
      t.largestInnerPacket === 0 ? '-' : groupDigits(t.largestInnerPacket), dfText(t),
    ]);
  }
  lines.push('', `Tunnels, one row per direction, by bytes (${groupDigits(report.tunnels.length)})`, traffic.text(width));
  leftOut(lines, shown, report.tunnels.length, 'tunnels');
  lines.push('', 'Tunnel health (checksums by depth: d0 outside every tunnel, d1 inside one, ...)', health.text(width));
  leftOut(lines, shown, report.tunnels.length, 'tunnels');
}

function tcpText(flow: FlowStats): string {
  if (flow.tcp === undefined) return '';
  const flags: string[] = [];
  if (flow.tcp.syn > 0) flags.push(`SYN ${flow.tcp.syn}`);
  if (flow.tcp.fin > 0) flags.push(`FIN ${flow.tcp.fin}`);
  if (flow.tcp.rst > 0) flags.push(`RST ${flow.tcp.rst}`);
  if (flow.tcp.mss !== undefined) flags.push(`MSS ${flow.tcp.mss}`);
  return flags.join(', ');
}

function flowProtoText(flow: FlowStats): string {
  if (flow.proto === 'ip') return `ip proto ${flow.ipProtocol}`;
  if (flow.proto === 'eth') return `eth 0x${(flow.ethertype ?? 0).toString(16).padStart(4, '0')}`;
  return flow.laterFragments === true ? `${flow.proto} (later fragments)` : flow.proto;
}

function flowTable(report: StatsReport, top: number, width: number | null, lines: string[]): void {
  const shown = limit(top, report.flows.length);
  const flows = new TextTable(
    ['tunnel', 'proto', 'src', 'sport', 'dst', 'dport', 'packets', 'bytes', 'first', 'last', 'TCP'],
    [3, 5, 6, 7], [0, 2, 4], 1,
  );
  for (let i = 0; i < shown; i++) {
    const f = report.flows[i];
    const t = report.tunnels[f.tunnel];
    flows.push([
      `#${f.tunnel} ${tunnelName(t.type, t.id)}`, flowProtoText(f), f.src, f.srcPort ?? '', f.dst, f.dstPort ?? '',
      groupDigits(f.packets), groupDigits(f.bytes), clockText(f.firstTime), clockText(f.lastTime), tcpText(f),
    ]);
  }
  const title = `Flows inside each tunnel, one row per direction, by bytes (${groupDigits(report.flows.length)})`;
  lines.push('', title, flows.text(width));
  leftOut(lines, shown, report.flows.length, 'flows');
}

function vniTables(report: StatsReport, top: number, width: number | null, lines: string[]): void {
  const shown = limit(top, report.vnis.length);
  const vnis = new TextTable(
    ['vni', 'directions', 'packets', 'bytes', 'flows', 'MACs', 'ARP requests', 'ARP replies'],
    [1, 2, 3, 4, 5, 6, 7], [0], 1,
  );
  const addresses = new TextTable(['vni', 'MAC', 'behind', 'IPs', 'packets'], [4], [0, 2, 3], 1);
  let addressRows = 0;
  let addressTotal = 0;
  for (let i = 0; i < report.vnis.length; i++) {
    const v = report.vnis[i];
    addressTotal += v.macs.length;
    if (i >= shown) continue;
    vnis.push([
      tunnelName(v.type, v.id), v.tunnels.length, groupDigits(v.packets), groupDigits(v.bytes), groupDigits(v.flows),
      v.macs.length, groupDigits(v.arp.requests), groupDigits(v.arp.replies),
    ]);
    for (const mac of v.macs) {
      if (top !== 0 && addressRows >= top) break;
      addresses.push([
        tunnelName(v.type, v.id), mac.mac, mac.movedTo === undefined ? mac.vtep : `${mac.vtep}, then ${mac.movedTo}`,
        mac.ips.join(' '), groupDigits(mac.packets),
      ]);
      addressRows++;
    }
  }
  lines.push('', `Virtual networks, by bytes (${groupDigits(report.vnis.length)})`, vnis.text(width));
  leftOut(lines, shown, report.vnis.length, 'virtual networks');
  lines.push('', 'Inner addresses (what a bridge forwarding table and an ARP table learn)', addresses.text(width));
  leftOut(lines, addressRows, addressTotal, 'addresses');
}

function findingLines(findings: Finding[], top: number, width: number | null, lines: string[]): void {
  lines.push('', findings.length === 0 ? 'Findings: none' : `Findings (${findings.length})`);
  const perKind = new Map<string, number>();
  const hidden = new Map<string, number>();
  for (const finding of findings) {
    const count = (perKind.get(finding.kind) ?? 0) + 1;
    perKind.set(finding.kind, count);
    if (top !== 0 && count > top) {
      hidden.set(finding.kind, (hidden.get(finding.kind) ?? 0) + 1);
      continue;
    }
    const message = width === null ? [finding.message] : wrapText(finding.message, Math.max(width - FINDING_INDENT, 20));
    message.forEach((part, i) => lines.push(`${i === 0 ? `  ${finding.severity.padEnd(SEVERITY_WIDTH)} ` : ' '.repeat(FINDING_INDENT)}${part}`));
  }
  for (const [kind, count] of hidden) {
    lines.push(`  … ${groupDigits(count)} more ${kind} findings not shown (--json lists all)`);
  }
}

/** The rows of what reassembly put together or dropped, and of super-packets, when there were any. */
function offloadAndReassemblyLines(report: StatsReport, lines: string[]): void {
  const rows: string[] = [];
  const r = report.reassembly;
  if (r !== null) {
    const dropped = r.timedOut + r.overflowed + r.overlapping + r.invalid;
    if (r.reassembled + dropped + r.incomplete > 0) {
      rows.push(`  reassembled  ${groupDigits(r.reassembled)} IP datagrams from ${groupDigits(r.fragments)} fragments`);
      rows.push(`  dropped      ${groupDigits(dropped)}: ${groupDigits(r.timedOut)} timed out, `
        + `${groupDigits(r.overflowed)} over the bounds, ${groupDigits(r.overlapping)} overlapping, ${groupDigits(r.invalid)} invalid`);
      rows.push(`  incomplete   ${groupDigits(r.incomplete)} still missing fragments at the end`);
    }
  }
  if (report.superPackets > 0) {
    rows.push(`  GSO/GRO      ${groupDigits(report.superPackets)} segmentation-offload super-packets, not held against the MTU`);
  }
  if (rows.length > 0) lines.push('', 'Reassembly and offload', ...rows);
}

export function statsText(report: StatsReport, options: StatsTextOptions): string {
  const linktypes = Object.entries(report.linktypes).map(([name, count]) => `${name} ${groupDigits(count)}`).join(', ');
  const span = durationText(report.firstTs, report.lastTs);
  const lines = [
    `${options.source}: ${groupDigits(report.packets)} packets, ${groupDigits(report.bytes)} bytes`
      + `${span === '' ? '' : ` in ${span}`}${linktypes === '' ? '' : ` (${linktypes})`}`,
  ];
  const width = options.wide ? null : options.width ?? terminalWidth();
  if (options.by === 'tunnel') tunnelTables(report, options.top, width, lines);
  else if (options.by === 'flow') flowTable(report, options.top, width, lines);
  else vniTables(report, options.top, width, lines);
  offloadAndReassemblyLines(report, lines);
  findingLines(report.findings, options.top, width, lines);
  // Tables are lines of their own width already; the summary, titles and notes wrap.
  return fitLines(lines.join('\n').split('\n'), width).join('\n');
}
