// `read -v`: every layer and field, indented one step per tunnel level, as
// tshark -V shows a packet.

import { layerChecksum, layerFields } from '../../decoders/layers.js';
import type { Checksum, Layer, Packet } from '../../decoders/types.js';
import { hex16 } from '../../decoders/address.js';
import type { CaptureRecord } from '../sources/record.js';
import { isoText } from './timestamp.js';

/** Fields shown in hexadecimal, per protocol ('*' for every protocol). */
const HEX_FIELDS: Record<string, Set<string>> = {
  '*': new Set(['protocolType', 'flags']),
  eth: new Set(['type']),
  vlan: new Set(['type']),
  sll: new Set(['protocol']),
  sll2: new Set(['protocol']),
  ppp: new Set(['protocol', 'address', 'control']),
};

export function checksumText(sum: Checksum): string {
  switch (sum.status) {
    case 'good': return `${hex16(sum.value)} good`;
    case 'bad': return `${hex16(sum.value)} bad, expected ${hex16(sum.expected ?? 0)}`;
    case 'offload':
      if (sum.reason === 'local-checksum-offload') {
        return `${hex16(sum.value)} offload (right once the NIC fills in the inner checksums; as captured: ${hex16(sum.expected ?? 0)})`;
      }
      return `${hex16(sum.value)} offload (pseudo-header sum left for the NIC; complete: ${hex16(sum.expected ?? 0)})`;
    case 'zero': return '0x0000 zero (not computed by the sender)';
    case 'unverified': return `${hex16(sum.value)} unverified (${sum.reason ?? 'unknown'})`;
  }
}

/** A field's value as the tree shows it: hex where the protocol writes it so, nested values inline. */
export function valueText(proto: string, key: string, value: unknown): string {
  if (typeof value === 'number' && (HEX_FIELDS['*'].has(key) || HEX_FIELDS[proto]?.has(key))) {
    return `0x${value.toString(16).padStart(value > 0xff ? 4 : 2, '0')}`;
  }
  if (Array.isArray(value)) return value.map((v) => valueText(proto, key, v)).join(', ');
  if (value !== null && typeof value === 'object') {
    return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${valueText(proto, k, v)}`).join(', ')} }`;
  }
  return String(value);
}

function layerLines(layer: Layer, indent: string): string[] {
  const last = layer.offset + layer.length - 1;
  const lines = [`${indent}${layer.proto} (bytes ${layer.offset}-${Math.max(layer.offset, last)})`];
  const sum = layerChecksum(layer);
  for (const [key, value] of layerFields(layer)) {
    if (key === 'proto' || key === 'offset' || key === 'length') continue;
    if (value === undefined) continue;
    const text = key === 'checksum' && sum !== undefined ? checksumText(sum) : valueText(layer.proto, key, value);
    lines.push(`${indent}  ${key}: ${text}`);
  }
  return lines;
}

export function packetTree(n: number, record: CaptureRecord, packet: Packet): string {
  const whole = packet.reassembled;
  const lines = [whole === undefined
    ? `Packet ${n}: ${record.len} bytes on wire, ${record.caplen} captured, ${isoText(record)}`
    : `Packet ${n}, reassembled: ${record.len} bytes from ${whole.frames.length} fragments in frames ${whole.frames.join(', ')}, ${isoText(record)}`];
  let level = 0;
  packet.layers.forEach((layer, i) => {
    const tunnel = packet.tunnels[level];
    if (tunnel && tunnel.layer === i) {
      level++;
      const id = tunnel.id === null ? '' : ` id ${tunnel.id}`;
      lines.push(`${'  '.repeat(level)}── tunnel ${level}: ${tunnel.type}${id}, ${tunnel.src} > ${tunnel.dst}`);
    }
    if (packet.quotedFrom === i) lines.push(`${'  '.repeat(level + 1)}── quoted packet (ICMP error)`);
    const indent = '  '.repeat(level + 1 + (packet.quotedFrom !== undefined && i >= packet.quotedFrom ? 1 : 0));
    lines.push(...layerLines(layer, indent));
    for (const issue of packet.issues) {
      if (issue.layer === i) lines.push(`${indent}  ! ${issue.kind}: ${issue.message}`);
    }
  });
  return lines.join('\n');
}
