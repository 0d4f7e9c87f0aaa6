// One line per packet, in tcpdump's manner, with every tunnel level shown:
//
//   22:13:20.000123 VXLAN vni 42 10.0.0.1.53421 > 10.0.0.2.4789 [udp cksum offload] | IP 172.18.1.1 > 172.18.1.2: ICMP echo request, id 7, seq 1, length 64
//
// Each tunnel is one "|"-separated part, labelled with its type, id and outer
// endpoints; the last part describes the innermost traffic. Checksum verdicts
// other than good, and issues, are bracketed after the part they belong to.

import type { Layer, Packet, Tunnel } from '../../decoders/types.js';
import { isIpLayer, layerChecksum } from '../../decoders/layers.js';
import type {
  ArpLayer, EthLayer, IcmpLayer, Icmpv6Layer, IpLayer, Sll2Layer, SllLayer, TcpLayer, TcpOption, VlanLayer,
} from '../../decoders/layers.js';
import { hex16 } from '../../decoders/address.js';
import { ipFragment } from '../../decoders/ip-common.js';

/** RFC 8200 section 3: the fixed IPv6 header. */
const IPV6_FIXED = 40;
import type { CaptureRecord } from '../sources/record.js';
import { timeOfDayText } from './timestamp.js';

const TUNNEL_LABELS: Record<Tunnel['type'], string> = {
  vxlan: 'VXLAN', 'vxlan-gpe': 'VXLAN-GPE', geneve: 'GENEVE', gre: 'GRE', gretap: 'GRETAP', erspan: 'ERSPAN',
  ipip: 'IPIP', sit: 'SIT', ip4in6: 'IP4IN6', ip6in6: 'IP6IN6',
};

const TUNNEL_ID_WORDS: Partial<Record<Tunnel['type'], string>> = {
  vxlan: 'vni', 'vxlan-gpe': 'vni', geneve: 'vni', gre: 'key', gretap: 'key', erspan: 'session',
};

const TCP_FLAG_LETTERS: [number, string][] = [
  [0x002, 'S'], [0x001, 'F'], [0x004, 'R'], [0x008, 'P'], [0x020, 'U'], [0x040, 'E'], [0x080, 'W'], [0x010, '.'],
];

/** Destination unreachable, in tcpdump's words; `%` is the quoted packet's destination. */
const ICMP_UNREACHABLE: Record<number, string> = {
  0: 'net % unreachable', 1: 'host % unreachable', 5: '% unreachable - source route failed',
  9: 'net % unreachable - admin prohibited', 10: 'host % unreachable - admin prohibited',
  13: '% unreachable - admin prohibited filter',
};

const ICMPV6_NAMES: Record<number, string> = {
  1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded in-transit', 4: 'parameter problem',
  128: 'echo request', 129: 'echo reply', 133: 'router solicitation', 134: 'router advertisement',
  135: 'neighbor solicitation', 136: 'neighbor advertisement', 137: 'redirect', 143: 'multicast listener report v2',
};

export function tcpFlagsText(flags: number): string {
  let out = '';
  for (const [bit, letter] of TCP_FLAG_LETTERS) if (flags & bit) out += letter;
  return out === '' ? 'none' : out;
}

/** `quoted` holds the layers of the packet an ICMP error quotes, when it has one. */
function icmpText(icmp: IcmpLayer, quoted: Layer[]): string {
  const type = icmp.type;
  const code = icmp.code;
  // describeLevel shows a whole 8-byte header only.
  if (type === undefined || code === undefined) return cut('icmp');
  const [first, upper] = quoted;
  const ip = first !== undefined && isIpLayer(first) ? first : undefined;
  const dst = String(ip?.dst ?? '?');
  switch (type) {
    case 0: case 8:
      return `ICMP echo ${type === 8 ? 'request' : 'reply'}, id ${icmp.id}, seq ${icmp.seq}`;
    case 3:
      if (code === 2) return `ICMP ${dst} protocol ${ip?.protocol ?? '?'} unreachable`;
      if (code === 3) {
        const port = (upper?.proto === 'udp' || upper?.proto === 'tcp') && upper.dstPort !== undefined
          ? `${upper.proto} port ${upper.dstPort}` : 'port';
        return `ICMP ${dst} ${port} unreachable`;
      }
      if (code === 4) return `ICMP ${dst} unreachable - need to frag (mtu ${icmp.mtu})`;
      return `ICMP ${(ICMP_UNREACHABLE[code] ?? `% unreachable code ${code}`).replace('%', dst)}`;
    case 5:
      return `ICMP redirect ${dst} to host ${icmp.gateway}`;
    case 11:
      return code === 0 ? 'ICMP time exceeded in-transit' : 'ICMP ip reassembly time exceeded';
    case 12:
      return 'ICMP parameter problem';
    default:
      return `ICMP type ${type} code ${code}`;
  }
}

function icmpv6Text(icmp: Icmpv6Layer): string {
  const type = icmp.type;
  // describeLevel shows a whole 8-byte header only.
  if (type === undefined) return cut('icmp6');
  let text = `ICMP6, ${ICMPV6_NAMES[type] ?? `type ${type} code ${icmp.code}`}`;
  if (type === 128 || type === 129) text += `, id ${icmp.id}, seq ${icmp.seq}`;
  else if (type === 2) text += `, mtu ${icmp.mtu}`;
  else if (type === 135) text += `, who has ${icmp.target}`;
  else if (type === 136) text += `, tgt is ${icmp.target}`;
  return text;
}

function arpText(arp: ArpLayer): string {
  const op = arp.opcode;
  if (op === undefined) return 'ARP, [|arp]';
  if (arp.senderIp === undefined) return `ARP, opcode ${op}, length ${arp.length}`;
  if (op === 1) return `ARP, Request who-has ${arp.targetIp} tell ${arp.senderIp}, length ${arp.length}`;
  if (op === 2) return `ARP, Reply ${arp.senderIp} is-at ${arp.senderMac}, length ${arp.length}`;
  // RARP (RFC 903), as tcpdump words it.
  if (op === 3) return `ARP, Reverse Request who-is ${arp.targetMac} tell ${arp.senderMac}, length ${arp.length}`;
  if (op === 4) return `ARP, Reverse Reply ${arp.targetMac} at ${arp.targetIp}, length ${arp.length}`;
  return `ARP, opcode ${op}, ${arp.senderIp} > ${arp.targetIp}, length ${arp.length}`;
}

/** tcpdump's mark for an option whose length does not fit its kind. */
const BAD_OPTION = '[bad opt]';

/** TCP options as tcpdump lists them: [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7]. */
function tcpOptionsText(options: TcpOption[]): string {
  return options.map((o) => {
    switch (o.kind) {
      case 0: return 'eol';
      case 1: return 'nop';
      case 2: return o.mss === undefined ? `mss ${BAD_OPTION}` : `mss ${o.mss}`;
      case 3: return o.windowScale === undefined ? `wscale ${BAD_OPTION}` : `wscale ${o.windowScale}`;
      case 4: return 'sackOK';
      case 5: return `sack ${o.sack?.length ?? 0} ${(o.sack ?? []).map(([l, r]) => `{${l}:${r}}`).join('')}`;
      case 8: return o.timestamp === undefined ? `TS ${BAD_OPTION}` : `TS val ${o.timestamp.value} ecr ${o.timestamp.echo}`;
      default: return `opt-${o.kind}`;
    }
  }).join(',');
}

/** As tcpdump -S: the sequence numbers when there is data or SYN/FIN/RST, the ack when ACK is set. */
function tcpText(tcp: TcpLayer): string {
  // describeLevel shows a whole header only (payloadLength is set with it), where these are all set.
  const flags = tcp.flags ?? 0;
  const length = tcp.payloadLength ?? 0;
  const seq = tcp.seq ?? 0;
  let text = `Flags [${tcpFlagsText(flags)}]`;
  if (length > 0) text += `, seq ${seq}:${(seq + length) % 0x100000000}`;
  else if (flags & 0x007) text += `, seq ${seq}`;
  if (flags & 0x010) text += `, ack ${tcp.ack}`;
  text += `, win ${tcp.window}`;
  if (flags & 0x020) text += `, urg ${tcp.urgentPointer}`;
  if (tcp.options !== undefined) text += `, options [${tcpOptionsText(tcp.options)}]`;
  return `${text}, length ${length}`;
}

/**
 * A fragment's place, in the words of tcpdump -v: IPv4 "id 777, offset 1480,
 * flags [+]", IPv6 "frag (0x00000063:1232|1232)" (id:offset|length), with
 * IPv6's more-fragments flag as IPv4's.
 */
function fragmentText(ip: IpLayer): string {
  const fragment = ipFragment(ip);
  if (fragment === null) return '';
  const flags = (ip.proto === 'ipv4' && ip.df === true ? 'DF' : '') + (fragment.more ? '+' : '') || 'none';
  if (ip.proto === 'ipv4') return ` (id ${fragment.id}, offset ${fragment.offset}, flags [${flags}])`;
  // A fragment header is walked only after a whole fixed header.
  const length = IPV6_FIXED + (ip.payloadLength ?? 0) - ip.length;
  return ` (frag (0x${fragment.id.toString(16).padStart(8, '0')}:${fragment.offset}|${length}), flags [${flags}])`;
}

function cut(name: string): string {
  return `[|${name}]`;
}

function endpoint(address: string | undefined, port: number | undefined): string {
  return port === undefined ? String(address) : `${address}.${port}`;
}

/** Describe the traffic of one level: its network layer and what it carries; `linkShown`: its link header is shown before. */
function describeLevel(layers: Layer[], quoted: Layer[], linkShown = false): string {
  const vlans = linkShown ? ''
    : layers.filter((l): l is VlanLayer => l.proto === 'vlan')
      .map((l) => (l.vid === undefined ? `${cut('vlan')}, ` : `vlan ${l.vid}, `)).join('');
  let netIndex = -1;
  let net: IpLayer | ArpLayer | null = null;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    if (layer.proto === 'ipv4' || layer.proto === 'ipv6' || layer.proto === 'arp') {
      netIndex = i;
      net = layer;
      break;
    }
  }
  if (net === null) {
    const last = layers[layers.length - 1];
    if (!last) return 'no layers';
    const eth = layers.find((l): l is EthLayer => l.proto === 'eth');
    const what = last.proto === 'payload' && last.of !== undefined ? last.of : last.proto;
    const macs = !linkShown && eth?.src !== undefined && eth.dst !== undefined ? `${eth.src} > ${eth.dst}, ` : '';
    return `${vlans}${macs}${what}, length ${last.length}`;
  }
  if (net.proto === 'arp') return vlans + arpText(net);
  const ipWord = net.proto === 'ipv4' ? 'IP' : 'IP6';
  if (net.dst === undefined) return `${vlans}${ipWord} ${cut(net.proto === 'ipv4' ? 'ip' : 'ip6')}`;
  const upper = layers[netIndex + 1];
  const frag = fragmentText(net);
  // The addresses are there: the fixed header was whole, and its lengths with it.
  const ipLength = net.proto === 'ipv4'
    ? (net.totalLength ?? 0) - (net.headerLength ?? 0)
    : (net.payloadLength ?? 0) - net.length + 40;
  if (upper === undefined) {
    return `${vlans}${ipWord} ${net.src} > ${net.dst}: ip-proto-${net.protocol}, length ${ipLength}${frag}`;
  }
  // A transport header cut before the fields the line shows (payloadLength comes with a whole TCP header, the
  // checksum with a whole UDP header, everything past type and code with 8 bytes of ICMP).
  if ((upper.proto === 'tcp' && upper.payloadLength === undefined) || (upper.proto === 'udp' && upper.checksum === undefined)) {
    const endpoints = `${endpoint(net.src, upper.srcPort)} > ${endpoint(net.dst, upper.dstPort)}`;
    return `${vlans}${ipWord} ${endpoints}: ${cut(upper.proto)}${frag}`;
  }
  // Types 135 and 136 are ICMPv6 neighbor discovery, whose target follows the 8 bytes (ICMP has no target).
  if ((upper.proto === 'icmp' || upper.proto === 'icmpv6') && (upper.length < 8 ||
    ((upper.type === 135 || upper.type === 136) && (upper.proto === 'icmp' || upper.target === undefined)))) {
    return `${vlans}${ipWord} ${net.src} > ${net.dst}: ${cut(upper.proto === 'icmp' ? 'icmp' : 'icmp6')}${frag}`;
  }
  switch (upper.proto) {
    case 'tcp':
      return `${vlans}${ipWord} ${net.src}.${upper.srcPort} > ${net.dst}.${upper.dstPort}: ${tcpText(upper)}${frag}`;
    case 'udp':
      return `${vlans}${ipWord} ${net.src}.${upper.srcPort} > ${net.dst}.${upper.dstPort}: UDP, length ${upper.length - 8}${frag}`;
    case 'icmp':
      return `${vlans}${ipWord} ${net.src} > ${net.dst}: ${icmpText(upper, quoted)}, length ${ipLength}${frag}`;
    case 'icmpv6':
      return `${vlans}${ipWord} ${net.src} > ${net.dst}: ${icmpv6Text(upper)}, length ${ipLength}${frag}`;
    default:
      return `${vlans}${ipWord} ${net.src} > ${net.dst}: ${upper.proto}, length ${ipLength}${frag}`;
  }
}

/** The mark of the IP header that carries a tunnel, when it is a fragment: the tunnel is in a first fragment. */
function carrierFragmentText(layers: Layer[], from: number, to: number): string {
  for (let i = to - 1; i >= from; i--) {
    const layer = layers[i];
    if (isIpLayer(layer)) return fragmentText(layer);
  }
  return '';
}

function tunnelLabel(tunnel: Tunnel, carrier: Layer | undefined): string {
  const id = tunnel.id === null ? '' : ` ${TUNNEL_ID_WORDS[tunnel.type] ?? 'id'} ${tunnel.id}`;
  const ports = carrier?.proto === 'udp';
  const src = ports ? `${tunnel.src}.${carrier.srcPort}` : tunnel.src;
  const dst = ports ? `${tunnel.dst}.${carrier.dstPort}` : tunnel.dst;
  return `${TUNNEL_LABELS[tunnel.type]}${id} ${src} > ${dst}`;
}

/** Bracketed notes for layers [from, to): checksums that are not good, and issues. */
function annotations(packet: Packet, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const layer = packet.layers[i];
    const sum = layerChecksum(layer);
    if (sum?.status === 'bad') out += ` [bad ${layer.proto} cksum ${hex16(sum.value)} -> ${hex16(sum.expected ?? 0)}]`;
    else if (sum?.status === 'offload') out += ` [${layer.proto} cksum offload]`;
    else if (sum?.status === 'zero') out += ` [${layer.proto} cksum zero]`;
  }
  for (const issue of packet.issues) {
    if (issue.layer >= from && issue.layer < to && issue.kind !== 'bad-checksum') {
      out += ` [${issue.kind}: ${issue.message}]`;
    }
  }
  return out;
}

/** tcpdump's names of the ethertypes (print-ether.c, ethertype.c). */
const ETHERTYPE_NAMES: Record<number, string> = {
  0x0800: 'IPv4', 0x0806: 'ARP', 0x8035: 'Reverse ARP', 0x86dd: 'IPv6', 0x8100: '802.1Q', 0x88a8: '802.1Q-QinQ',
  0x9100: '802.1Q-9100', 0x9200: '802.1Q-9200', 0x8847: 'MPLS unicast', 0x8848: 'MPLS multicast', 0x6558: 'TEB',
  0x88cc: 'LLDP', 0x8863: 'PPPoE D', 0x8864: 'PPPoE S', 0x888e: 'EAPOL', 0x894f: 'NSH',
};

function ethertypeText(type: number | undefined): string {
  const value = Number(type);
  return `ethertype ${ETHERTYPE_NAMES[value] ?? 'Unknown'} (0x${hex16(value).slice(2)})`;
}

/** Linux cooked capture packet types, as tcpdump names them. */
const SLL_PACKET_TYPES: Record<number, string> = { 0: 'In', 1: 'B', 2: 'M', 3: 'P', 4: 'Out' };

/** The length of the frame that starts at layer `at`: the wire length for the first, else the end of the IP packet around it. */
function frameLength(layers: Layer[], at: number, wireLength: number): number {
  const rest = wireLength - layers[at].offset;
  for (let i = at - 1; i >= 0; i--) {
    const ip = layers[i];
    if (ip.proto !== 'ipv4' && ip.proto !== 'ipv6') continue;
    const total = ip.proto === 'ipv4' ? ip.totalLength : ip.payloadLength === undefined ? undefined : 40 + ip.payloadLength;
    if (total === undefined) return rest;
    const length = ip.offset + total - layers[at].offset;
    return length > 0 ? Math.min(length, rest) : rest;
  }
  return rest;
}

/**
 * The link-level header of layers [from, to), as tcpdump -e prints it (MACs,
 * ethertype, length, then each VLAN tag); '' when the level has none before
 * its network layer.
 */
function linkText(layers: Layer[], from: number, to: number, wireLength: number): string {
  let at = from;
  let link: EthLayer | SllLayer | Sll2Layer | null = null;
  for (; at < to; at++) {
    const layer = layers[at];
    if (layer.proto === 'eth' || layer.proto === 'sll' || layer.proto === 'sll2') {
      link = layer;
      break;
    }
    if (layer.proto === 'ipv4' || layer.proto === 'ipv6' || layer.proto === 'arp') return '';
  }
  if (link === null) return '';
  const length = frameLength(layers, at, wireLength);
  let text: string;
  if (link.proto === 'eth') {
    if (link.src === undefined) return `${cut('ether')} `;
    text = `${link.src} > ${link.dst}, ${ethertypeText(link.type)}, length ${length}: `;
  } else {
    if (link.protocol === undefined) return `${cut(link.proto)} `;
    const known = link.packetType === undefined ? undefined : SLL_PACKET_TYPES[link.packetType];
    const type = known ?? `type ${link.packetType}`;
    const ifindex = link.proto === 'sll2' ? ` ifindex ${link.ifindex}` : '';
    const address = link.address === undefined || link.address === '' ? '' : ` ${link.address}`;
    text = `${type}${ifindex}${address} ${ethertypeText(link.protocol)}, length ${length}: `;
  }
  for (let i = at + 1; i < to; i++) {
    const tag = layers[i];
    if (tag.proto !== 'vlan') break;
    text += tag.vid === undefined ? `${cut('vlan')}, `
      : `vlan ${tag.vid}, p ${tag.pcp}${tag.dei ? ', DEI' : ''}, ${ethertypeText(tag.type)}, `;
  }
  return text;
}

export interface LineOptions {
  /** Show each level's link-level header (tcpdump -e); needs the packet's wire length. */
  link?: { wireLength: number };
}

/** The text after the timestamp: every tunnel level, then the innermost traffic. */
export function packetSummary(packet: Packet, options: LineOptions = {}): string {
  const { layers, tunnels } = packet;
  const shownEnd = packet.quotedFrom ?? layers.length;
  const link = (from: number, to: number) => (options.link === undefined ? '' : linkText(layers, from, to, options.link.wireLength));
  const parts: string[] = [];
  let from = 0;
  for (const tunnel of tunnels) {
    parts.push(link(from, tunnel.layer) + tunnelLabel(tunnel, layers[tunnel.layer - 1]) + carrierFragmentText(layers, from, tunnel.layer)
      + annotations(packet, from, tunnel.layer));
    from = tunnel.layer;
  }
  const header = link(from, shownEnd);
  parts.push(header + describeLevel(layers.slice(from, shownEnd), layers.slice(shownEnd), header !== '')
    + annotations(packet, from, layers.length));
  const whole = packet.reassembled;
  return `${whole === undefined ? '' : `[reassembled from ${whole.frames.join(',')}] `}${parts.join(' | ')}`;
}

/** One line for the packet; with `link`, each level's link-level header too (tcpdump -e). */
export function packetLine(record: CaptureRecord, packet: Packet, link = false): string {
  return `${timeOfDayText(record)} ${packetSummary(packet, link ? { link: { wireLength: record.len } } : {})}`;
}
