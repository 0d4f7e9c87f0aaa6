// The packet view's layer tree as rows: a line per layer (expandable into its
// fields), a marker where each tunnel begins, and the issues of each layer.
// Every depth is indented one step more than the tunnel that carries it.

import { layerChecksum, layerFields } from '../../decoders/layers.js';
import type { ChecksumStatus, Layer, Packet } from '../../decoders/types.js';
import { checksumText, valueText } from '../output/tree.js';

export type TreeRowKind = 'layer' | 'field' | 'tunnel' | 'quote' | 'issue';

export interface TreeRow {
  kind: TreeRowKind;
  /** Indentation steps. */
  depth: number;
  text: string;
  /** The layer the row belongs to: its bytes are the ones highlighted when the row is selected. */
  layer: number;
  /** For a layer row: whether its fields are shown. */
  expanded?: boolean;
  /** A checksum verdict the row shows, for its colour. */
  verdict?: ChecksumStatus;
}

const ID_WORDS: Record<string, string> = {
  vxlan: 'vni', 'vxlan-gpe': 'vni', geneve: 'vni', gre: 'key', gretap: 'key', erspan: 'session',
};

/** The few fields that name a layer at a glance, after its protocol name. */
function layerGist(layer: Layer): string {
  switch (layer.proto) {
    case 'eth': return layer.src === undefined ? '' : `${layer.src} > ${layer.dst}`;
    case 'sll': case 'sll2': return layer.address ?? '';
    case 'vlan': return `vid ${layer.vid}`;
    case 'ipv4': case 'ipv6': return layer.src === undefined ? '' : `${layer.src} > ${layer.dst}`;
    case 'udp': case 'tcp': return layer.srcPort === undefined ? '' : `${layer.srcPort} > ${layer.dstPort}`;
    case 'icmp': case 'icmpv6': return layer.type === undefined ? '' : `type ${layer.type} code ${layer.code}`;
    case 'arp': return layer.senderIp === undefined ? `opcode ${layer.opcode}` : `opcode ${layer.opcode} ${layer.senderIp} > ${layer.targetIp}`;
    case 'vxlan': case 'vxlan-gpe': case 'geneve': return layer.vni === undefined ? '' : `vni ${layer.vni}`;
    case 'gre': return layer.key !== undefined ? `key ${layer.key}` : '';
    case 'erspan': return layer.sessionId !== undefined ? `session ${layer.sessionId}` : '';
    case 'payload': return `${layer.length} bytes${layer.of !== undefined ? ` (${layer.of})` : ''}`;
    default: return '';
  }
}

/**
 * Where a layer's own bytes end: its length, or sooner where the next layer
 * starts (a UDP layer's length covers its whole datagram).
 */
export function layerByteRange(packet: Packet, index: number, captured: number): [start: number, end: number] {
  const layer = packet.layers[index];
  let end = layer.offset + layer.length;
  const next = packet.layers[index + 1];
  if (next !== undefined && next.offset > layer.offset && next.offset < end) end = next.offset;
  return [Math.min(layer.offset, captured), Math.min(end, captured)];
}

/** The rows of the tree, with the fields of the layers in `expanded` shown. */
export function layerTreeRows(packet: Packet, expanded: ReadonlySet<number>): TreeRow[] {
  const rows: TreeRow[] = [];
  const whole = packet.reassembled;
  if (whole !== undefined) {
    // As tshark's packet view shows the frame that completed a datagram: the datagram whole.
    rows.push({ kind: 'quote', depth: 0, layer: whole.layer, text: `── reassembled from frames ${whole.frames.join(', ')}` });
  }
  let level = 0;
  packet.layers.forEach((layer, i) => {
    const tunnel = packet.tunnels[level];
    if (tunnel !== undefined && tunnel.layer === i) {
      const id = tunnel.id === null ? '' : ` ${ID_WORDS[tunnel.type] ?? 'id'} ${tunnel.id}`;
      rows.push({ kind: 'tunnel', depth: level, layer: i, text: `── tunnel ${level + 1}: ${tunnel.type}${id}, ${tunnel.src} > ${tunnel.dst}` });
      level++;
    }
    const quoted = packet.quotedFrom !== undefined && i >= packet.quotedFrom;
    if (packet.quotedFrom === i) rows.push({ kind: 'quote', depth: level, layer: i, text: '── quoted packet (ICMP error)' });
    const depth = level + (quoted ? 1 : 0);
    const open = expanded.has(i);
    const gist = layerGist(layer);
    const sum = layerChecksum(layer);
    rows.push({
      kind: 'layer', depth, layer: i, expanded: open, verdict: sum?.status,
      text: `${layer.proto}${gist === '' ? '' : ` ${gist}`}${sum === undefined || sum.status === 'good' ? '' : ` [cksum ${sum.status}]`}`,
    });
    if (open) {
      for (const [key, value] of layerFields(layer)) {
        if (key === 'proto' || key === 'offset' || key === 'length') continue;
        if (value === undefined) continue;
        if (key === 'checksum' && sum !== undefined) {
          rows.push({ kind: 'field', depth: depth + 1, layer: i, text: `checksum: ${checksumText(sum)}`, verdict: sum.status });
        } else {
          rows.push({ kind: 'field', depth: depth + 1, layer: i, text: `${key}: ${valueText(layer.proto, key, value)}` });
        }
      }
      const last = layer.offset + layer.length - 1;
      rows.push({ kind: 'field', depth: depth + 1, layer: i, text: `bytes ${layer.offset}-${Math.max(layer.offset, last)}` });
    }
    for (const issue of packet.issues) {
      if (issue.layer === i) rows.push({ kind: 'issue', depth: depth + 1, layer: i, text: `! ${issue.kind}: ${issue.message}` });
    }
  });
  return rows;
}
