// One JSON object per packet per line: the public shape of `read --json`
// (README, "JSON output"). Layers are written field by field: `offset` and
// `length` locate a layer in the bytes and are not part of the shape, except
// where `length` is the protocol's own Length field and covers the layer (UDP).

import type { Layer, Packet } from '../../decoders/types.js';
import type { CaptureRecord } from '../sources/record.js';
import { epochText } from './timestamp.js';

const LENGTH_IS_A_FIELD = new Set(['udp']);

function layerJson(layer: Layer): string {
  let out = `{"proto":${JSON.stringify(layer.proto)}`;
  for (const key in layer) {
    if (key === 'proto' || key === 'offset' || (key === 'length' && !LENGTH_IS_A_FIELD.has(layer.proto))) continue;
    const value = layer[key];
    if (value === undefined) continue;
    out += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  }
  return `${out}}`;
}

export function packetJson(n: number, record: CaptureRecord, packet: Packet): string {
  return `{"n":${n},"ts":${epochText(record)},"caplen":${record.caplen},"len":${record.len},` +
    `"layers":[${packet.layers.map(layerJson).join(',')}],` +
    `"tunnels":${JSON.stringify(packet.tunnels)},"issues":${JSON.stringify(packet.issues)}}`;
}
