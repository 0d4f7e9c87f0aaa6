// What is wrong with the tunnels, in plain words with the numbers behind
// them: MTU and fragmentation, ICMP too-big messages, MSS, checksums, ports,
// flags, one-way tunnels, moved MACs, full tables.

import type { TunnelType } from '../../decoders/types.js';
import { CHECKSUM_STATUSES, STATUS_COUNT, type TooBigEntry, type TunnelEntry } from './entries.js';
import type { FlowRow } from './flow-store.js';
import { encapsulationName, tunnelName, tunnelTitle } from './labels.js';
import { causeFindings, explainOneWay } from './cause-findings.js';
import type { Finding, TunnelStats } from './report.js';
import type { AggregateView } from './view.js';

export interface ReportRows {
  entries: TunnelEntry[];
  tunnels: TunnelStats[];
  tunnelIndex: Map<TunnelEntry, number>;
  /** Whether any flow advertised an MSS its path does not fit. */
  anyMssOverLimit: () => boolean;
  /** Every flow, sorted as the report's flow rows (sorting is left until something needs it). */
  sortedFlows: () => FlowRow[];
}

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;
const IPV4_TCP_HEADERS = 40;
const IPV6_TCP_HEADERS = 60;
const OFFLOAD_INDEX = CHECKSUM_STATUSES.indexOf('offload');

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "exceeds" for one, "exceed" for more. */
function agree(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}

function isTunnel(entry: TunnelEntry): entry is TunnelEntry & { type: TunnelType } {
  return entry.type !== 'none' && entry.type !== 'overflow';
}

function mtuFindings(agg: AggregateView, entry: TunnelEntry, tunnel: number, title: string, out: Finding[]): void {
  const mtu = agg.mtu;
  const encapsulation = entry.encapsulation;
  const encapsulationText = `${mtu} − ${encapsulation} for ${encapsulationName(entry.type, entry.outerIpVersion)}`;
  if (entry.overMtu > 0) {
    const innerMtu = mtu - encapsulation;
    const whole = entry.overMtu - entry.overMtuOuterFragmented - entry.overMtuDf;
    const fates: string[] = [];
    if (entry.overMtuOuterFragmented > 0) {
      fates.push(`${entry.overMtuOuterFragmented} went out in fragmented outer packets `
        + `(${plural(entry.outerFragments, 'outer fragment')}), which the far endpoint must reassemble`);
    }
    if (entry.overMtuDf > 0) {
      fates.push(`${entry.overMtuDf} had Don't Fragment set on the outer header, so a ${mtu}-byte link drops `
        + `${agree(entry.overMtuDf, 'it', 'them')} (look for ICMP fragmentation needed)`);
    }
    if (whole > 0) {
      fates.push(`${whole} went out whole as outer packets of up to ${entry.overMtuLargest + encapsulation} bytes, `
        + `which pass only where the underlay carries more than ${mtu}`);
    }
    out.push({
      kind: 'inner-mtu',
      severity: entry.overMtuDf > 0 ? 'error' : 'warning',
      tunnel,
      message: `${title}: ${plural(entry.overMtu, 'inner packet')} of ${agree(entry.overMtu, '', 'up to ')}`
        + `${entry.overMtuLargest} bytes ${agree(entry.overMtu, 'exceeds', 'exceed')} the inner MTU of ${innerMtu} `
        + `(${encapsulationText}); ${fates.join('; ')}.`,
      figures: {
        packets: entry.overMtu, largest: entry.overMtuLargest, innerMtu, encapsulation, mtu,
        outerFragmented: entry.overMtuOuterFragmented, dfSet: entry.overMtuDf, whole,
      },
    });
  } else if (entry.outerFragments > 0 && isTunnel(entry)) {
    out.push({
      kind: 'outer-fragments',
      severity: 'warning',
      tunnel,
      message: `${title}: ${plural(entry.outerFragments, 'outer fragment')} from the underlay: `
        + 'the encapsulated packets were larger than a link on the path.',
      figures: { fragments: entry.outerFragments },
    });
  }
  if (entry.innerFragments > 0) {
    const figures: Record<string, number> = { fragments: entry.innerFragments, largest: entry.largestInnerFragment };
    let message = `${title}: ${plural(entry.innerFragments, 'inner IP fragment')} of `
      + `${agree(entry.innerFragments, '', 'up to ')}${entry.largestInnerFragment} bytes`;
    if (entry.largestFragmentedDatagram > 0) {
      message += `, from datagrams of up to ${entry.largestFragmentedDatagram} bytes`;
      figures.datagram = entry.largestFragmentedDatagram;
    }
    if (encapsulation > 0) {
      message += `: the sender fragmented packets larger than the tunnel's inner MTU of ${mtu - encapsulation} `
        + `(${encapsulationText}) before encapsulating them`;
      figures.innerMtu = mtu - encapsulation;
      figures.encapsulation = encapsulation;
    }
    out.push({ kind: 'inner-fragments', severity: 'warning', tunnel, message: `${message}.`, figures });
  }
}

function tooBigFinding(agg: AggregateView, entry: TooBigEntry, rows: ReportRows): Finding {
  const what = entry.version === 4 ? 'ICMP fragmentation needed' : 'ICMPv6 packet too big';
  let message = `${what} from ${entry.reporter} to ${entry.to} (${plural(entry.count, 'message')}): `
    + `${entry.version === 4 ? 'next-hop ' : ''}MTU ${entry.mtu}`;
  const figures: Record<string, number> = { mtu: entry.mtu, messages: entry.count };
  const finding: Finding = { kind: 'frag-needed', severity: 'warning', message, figures };
  if (entry.quotedLength >= 0) {
    message += `, for a ${entry.quotedLength}-byte packet ${entry.quotedSrc} → ${entry.quotedDst}`;
    figures.quotedLength = entry.quotedLength;
  }
  if (entry.quotedTunnel !== null) {
    const type = entry.quotedTunnel as TunnelType;
    message += ` carrying ${tunnelName(type, entry.quotedTunnelId)}`;
    const types: TunnelType[] = type === 'gre' ? ['gre', 'gretap', 'erspan'] : [type];
    for (const candidate of types) {
      const found = agg.findTunnel(candidate, entry.quotedSrc, entry.quotedDst, entry.quotedTunnelId);
      if (found !== null) {
        finding.tunnel = rows.tunnelIndex.get(found);
        break;
      }
    }
    if (entry.quotedEncapsulation > 0) {
      const innerMtu = entry.mtu - entry.quotedEncapsulation;
      message += `; inner packets on this path must be at most ${innerMtu} bytes `
        + `(${entry.mtu} − ${entry.quotedEncapsulation})`;
      figures.innerMtu = innerMtu;
      figures.encapsulation = entry.quotedEncapsulation;
    }
  }
  finding.message = `${message}.`;
  return finding;
}

function mssFinding(agg: AggregateView, flow: FlowRow, index: number, rows: ReportRows): Finding {
  const tunnel = rows.tunnelIndex.get(flow.tunnel) as number;
  const headers = flow.src.includes(':') ? IPV6_TCP_HEADERS : IPV4_TCP_HEADERS;
  const encapsulation = agg.mtu - flow.mssLimit - headers;
  return {
    kind: 'mss',
    severity: 'warning',
    tunnel,
    flow: index,
    message: `${tunnelTitle(flow.tunnel)}: SYN ${flow.src}:${flow.srcPort} → ${flow.dst}:${flow.dstPort} `
      + `advertises MSS ${flow.mss}, but the tunnel fits ${flow.mssLimit} (${agg.mtu} − ${encapsulation} for `
      + `${encapsulationName(flow.tunnel.type, flow.tunnel.outerIpVersion)} − ${headers} `
      + `${headers === IPV4_TCP_HEADERS ? 'IPv4' : 'IPv6'} and TCP headers): full-size segments will not fit `
      + '(clamp the MSS, or lower the MTU inside the tunnel).',
    figures: { mss: flow.mss, fits: flow.mssLimit, encapsulation, mtu: agg.mtu },
  };
}

function checksumFindings(entry: TunnelEntry, tunnel: number, stats: TunnelStats, title: string, out: Finding[]): void {
  if (entry.innerBadByProto !== null && isTunnel(entry)) {
    let total = 0;
    const parts: string[] = [];
    const figures: Record<string, number> = {};
    for (const [proto, count] of entry.innerBadByProto) {
      total += count;
      parts.push(`${proto} ${count}`);
      figures[proto] = count;
    }
    figures.bad = total;
    const outerBad = stats.checksumsByDepth[0]?.bad ?? 0;
    out.push({
      kind: 'bad-inner-checksum',
      severity: 'error',
      tunnel,
      message: `${title}: ${plural(total, 'inner checksum')} bad on arrival (${parts.join(', ')}), not left for offload`
        + `${outerBad === 0 ? ' while the outer checksums hold' : ''}: the inner packets were damaged or checksummed wrong `
        + 'before encapsulation, the signature of the kernel/NIC checksum bug on overlay devices.',
      figures,
    });
  }
  const outerBad = stats.checksumsByDepth[0]?.bad ?? 0;
  if (outerBad > 0) {
    out.push({
      kind: 'bad-outer-checksum',
      severity: 'error',
      tunnel,
      message: `${title}: ${plural(outerBad, 'outer checksum')} bad on arrival (not offload): `
        + 'damaged on the underlay or by the sending NIC.',
      figures: { bad: outerBad },
    });
  }
}

function offloadFinding(agg: AggregateView, rows: ReportRows): Finding | null {
  let outer = 0;
  let inner = 0;
  for (let i = OFFLOAD_INDEX; i < agg.checksums.length; i += STATUS_COUNT) {
    if (i < STATUS_COUNT) outer += agg.checksums[i];
    else inner += agg.checksums[i];
  }
  if (outer + inner === 0) return null;
  const tunnels = rows.tunnels.filter((t) => t.checksums.offload > 0 && t.type !== 'none').length;
  return {
    kind: 'checksum-offload',
    severity: 'info',
    message: `${plural(outer + inner, 'checksum')} (${outer} outside tunnels, ${inner} inside) `
      + `${agree(outer + inner, 'was', 'were')} left for the NIC to fill `
      + '(checksum offload, CHECKSUM_PARTIAL): normal in captures taken on the sending host or a veth, not corruption.',
    figures: { checksums: outer + inner, outer, inner, tunnels },
  };
}

function tunnelFlagFindings(agg: AggregateView, entry: TunnelEntry, tunnel: number, title: string, out: Finding[]): void {
  if (entry.port8472 > 0) {
    out.push({
      kind: 'udp-8472',
      severity: 'info',
      tunnel,
      message: `${title}: ${plural(entry.port8472, 'packet')} on UDP port 8472, the Linux default (flannel, Cilium), `
        + 'decoded as VXLAN; IANA assigned 4789 (RFC 7348), so tools and peers that expect 4789 will not see this traffic as VXLAN.',
      figures: { packets: entry.port8472 },
    });
  }
  if (entry.vniFlagClear > 0) {
    out.push({
      kind: 'vxlan-i-flag',
      severity: 'warning',
      tunnel,
      message: `${title}: ${plural(entry.vniFlagClear, 'packet')} with the VXLAN I flag clear: `
        + 'RFC 7348 section 5 requires it set, and Linux drops such packets.',
      figures: { packets: entry.vniFlagClear },
    });
  }
  if (isTunnel(entry) && entry.type !== 'erspan' && !agg.hasReverse(entry)) {
    out.push({
      kind: 'one-way',
      severity: 'info',
      tunnel,
      message: `${title}: seen in one direction only (${plural(entry.packets, 'packet')}, none from ${entry.dst} to ${entry.src}): `
        + 'the capture saw one side of the path, or the return traffic takes other endpoints or does not arrive.',
      figures: { packets: entry.packets },
    });
  }
}

function capFindings(agg: AggregateView, out: Finding[]): void {
  if (agg.overflowTunnel !== null) {
    out.push({
      kind: 'table-full',
      severity: 'warning',
      message: `tunnel table full at ${agg.maxTunnels} tunnels: ${plural(agg.overflowTunnel.packets, 'packet')} `
        + 'of further tunnels are summed in the "other tunnels" row.',
      figures: { limit: agg.maxTunnels, packets: agg.overflowTunnel.packets },
    });
  }
  if (agg.overflowFlowPackets > 0) {
    out.push({
      kind: 'table-full',
      severity: 'warning',
      message: `flow table full at ${agg.maxFlows} flows: ${plural(agg.overflowFlowPackets, 'packet')} `
        + 'of further flows are summed in "overflow" flow rows, one per tunnel.',
      figures: { limit: agg.maxFlows, packets: agg.overflowFlowPackets },
    });
  }
  if (agg.overflowMacPackets > 0) {
    out.push({
      kind: 'table-full',
      severity: 'info',
      message: `address table full at ${agg.maxAddresses} MAC addresses: ${plural(agg.overflowMacPackets, 'packet')} `
        + 'from further addresses were not learned.',
      figures: { limit: agg.maxAddresses, packets: agg.overflowMacPackets },
    });
  }
}

export function findingsOf(agg: AggregateView, rows: ReportRows): Finding[] {
  const out: Finding[] = [];
  rows.entries.forEach((entry, tunnel) => {
    const title = tunnelTitle(entry);
    if (isTunnel(entry)) mtuFindings(agg, entry, tunnel, title, out);
    checksumFindings(entry, tunnel, rows.tunnels[tunnel], title, out);
    tunnelFlagFindings(agg, entry, tunnel, title, out);
  });
  for (const byReporter of agg.tooBig.values()) {
    for (const entry of byReporter.values()) out.push(tooBigFinding(agg, entry, rows));
  }
  // A finding names its flow's row, so the rows' order is needed only when there is one.
  if (rows.anyMssOverLimit()) {
    rows.sortedFlows().forEach((flow, index) => {
      if (flow.mss > flow.mssLimit) out.push(mssFinding(agg, flow, index, rows));
    });
  }
  for (const vni of agg.vnis.values()) {
    for (const mac of vni.macs) {
      if (mac.movedTo === null) continue;
      out.push({
        kind: 'mac-moved',
        severity: 'warning',
        tunnel: rows.tunnelIndex.get(vni.tunnels.find((t) => t.src === mac.movedTo) ?? vni.tunnels[0]),
        message: `${tunnelName(vni.type, vni.id)}: inner MAC ${mac.mac} seen behind ${mac.vtep} and then behind `
          + `${mac.movedTo}: a moved workload, or two hosts with one MAC.`,
        figures: { packets: mac.packets },
      });
    }
  }
  const offload = offloadFinding(agg, rows);
  if (offload !== null) out.push(offload);
  const superPackets = agg.superPackets;
  if (superPackets > 0) {
    out.push({
      kind: 'super-packets',
      severity: 'info',
      message: `${plural(superPackets, 'packet')} `
        + `${agree(superPackets, 'is a segmentation-offload super-packet', 'are segmentation-offload super-packets')} `
        + '(GSO/TSO/GRO): the capture point sat above the NIC, so their sizes are not held against the MTU.',
      figures: { packets: superPackets },
    });
  }
  capFindings(agg, out);
  causeFindings(agg.causes, rows, out);
  explainOneWay(agg.causes, rows, out);
  return out
    .map((finding, order) => ({ finding, order }))
    .sort((a, b) => SEVERITY_ORDER[a.finding.severity] - SEVERITY_ORDER[b.finding.severity] || a.order - b.order)
    .map(({ finding }) => finding);
}
