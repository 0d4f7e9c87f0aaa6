// The trace report as text: the verdict first, then the points and their
// clocks, then each group with where it was seen, each hop's latency and
// changes, and each loss with its evidence.

import type { HopReport, LossReport, TraceReport } from '../trace/report.js';

/** A duration in the unit that reads best: us below a millisecond, ms below a second. */
export function formatSeconds(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  if (s < 1e-3) return `${sign}${(s * 1e6).toFixed(0)} us`;
  if (s < 1) return `${sign}${(s * 1e3).toFixed(3)} ms`;
  return `${sign}${s.toFixed(3)} s`;
}

function packets(count: number): string {
  return `${count} packet${count === 1 ? '' : 's'}`;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function clockLine(report: TraceReport): string[] {
  if (report.hosts.length < 2) return [];
  const first = report.hosts[0].name;
  return report.hosts.slice(1).map(({ name, clock }) => {
    switch (clock.source) {
      case 'given': return `  ${name}: offset given (--offset, or 0 for live points, which read one kernel clock)`;
      case 'unknown': return `  ${name}: no packet crossed both ways between ${name} and a placed host: clock taken as ${first}'s`;
      default: {
        const ahead = clock.offset >= 0 ? `+${formatSeconds(clock.offset)}` : formatSeconds(clock.offset);
        const [there, back] = clock.crossings ?? [0, 0];
        return `  ${name} against ${first}: ${ahead} ± ${formatSeconds(clock.uncertainty ?? 0)} (from ${there} and ${back} crossing each way)`;
      }
    }
  });
}

function hopLine(hop: HopReport, width: number): string {
  let line = `  ${pad(`${hop.from} -> ${hop.to}`, width)}  ${hop.packets}`;
  if (hop.latency !== null) {
    line += `  latency median ${formatSeconds(hop.latency.median)}, max ${formatSeconds(hop.latency.max)}`;
    if (hop.clocksDisagree) line += ' (negative: the clocks disagree; see --offset)';
  }
  for (const { change, packets } of hop.changes) line += `\n  ${' '.repeat(width)}    ${change}${packets === hop.packets ? '' : ` (${packets})`}`;
  return line;
}

function lossLines(loss: LossReport): string[] {
  const where = loss.before === null ? `after ${loss.after}` : `after ${loss.after} before ${loss.before}`;
  return [
    `  lost ${loss.packets} of ${loss.of} ${where}: ${loss.stage}`,
    ...loss.evidence.map((line) => `    evidence: ${line}`),
  ];
}

export function traceText(report: TraceReport): string {
  const out: string[] = [...report.verdict.map((line) => `verdict: ${line}`), ''];
  const nameWidth = Math.max(...report.points.map((p) => p.name.length));
  const countWidth = Math.max(...report.points.map((p) => packets(p.packets).length));
  out.push('points (path order):');
  for (const p of report.points) {
    const iface = p.interface !== null ? ` interface ${p.interface}` : '';
    out.push(`  ${pad(p.name, nameWidth)}  ${pad(packets(p.packets), countWidth)}  host ${p.host}  ${p.file}${iface}`);
  }
  for (const note of report.notes) out.push(`note: ${note}`);
  const clocks = clockLine(report);
  if (clocks.length > 0) out.push('clocks:', ...clocks);
  if (report.outside > 0) {
    out.push(`${packets(report.outside)} seen before every point started or after one stopped are not counted as lost`);
  }
  const hopWidth = Math.max(...report.groups.flatMap((g) => g.hops.map((h) => `${h.from} -> ${h.to}`.length)), 0);
  for (const group of report.groups) {
    out.push('', `${group.kind} ${group.flow} (${group.direction}): ${packets(group.packets)}`);
    out.push(`  seen  ${Object.entries(group.seen).map(([name, n]) => `${name} ${n}`).join('  ')}`);
    for (const hop of group.hops) out.push(hopLine(hop, hopWidth));
    for (const loss of group.losses) out.push(...lossLines(loss));
  }
  return out.join('\n');
}
