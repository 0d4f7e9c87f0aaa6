// One JSON object per packet per line: the public shape of `read --json`
// (README, "JSON output"). Layers are written field by field: `offset` and
// `length` locate a layer in the bytes and are not part of the shape, except
// where `length` is the protocol's own Length field and covers the layer (UDP).

import type { Layer, Packet } from '../../decoders/types.js';
import type { CaptureRecord } from '../sources/record.js';
import { epochText } from './timestamp.js';

const LENGTH_IS_A_FIELD = new Set(['udp']);

const PROTO_KEY = '{"proto":"';
const OFFSET_KEY = ',"offset":';
const LENGTH_KEY = ',"length":';

/** Index of the ',' or '}' that ends the number starting at `from`. */
function endOfNumber(json: string, from: number): number {
  let i = from;
  while (i < json.length) {
    const c = json.charCodeAt(i);
    if (c === 0x2c || c === 0x7d) return i;
    i++;
  }
  return -1;
}

/**
 * Every decoder writes `proto`, `offset` and `length` first (UDP: `proto`,
 * `offset`, then its fields), so the layer's native serialisation with those
 * two numbers cut out is its JSON: one JSON.stringify call per layer instead
 * of one per field. A layer laid out otherwise is written field by field.
 */
function layerJson(layer: Layer): string {
  const whole = JSON.stringify(layer);
  const proto = layer.proto;
  const afterProto = PROTO_KEY.length + proto.length + 1;
  if (whole.startsWith(PROTO_KEY) && whole.startsWith(proto, PROTO_KEY.length) && whole.charCodeAt(afterProto - 1) === 0x22 &&
      whole.startsWith(OFFSET_KEY, afterProto)) {
    const offsetEnd = endOfNumber(whole, afterProto + OFFSET_KEY.length);
    if (LENGTH_IS_A_FIELD.has(proto)) {
      if (offsetEnd > 0) return whole.slice(0, afterProto) + whole.slice(offsetEnd);
    } else if (offsetEnd > 0 && whole.startsWith(LENGTH_KEY, offsetEnd)) {
      const lengthEnd = endOfNumber(whole, offsetEnd + LENGTH_KEY.length);
      if (lengthEnd > 0) return whole.slice(0, afterProto) + whole.slice(lengthEnd);
    }
  }
  return layerJsonByField(layer);
}

function layerJsonByField(layer: Layer): string {
  let out = `{"proto":${JSON.stringify(layer.proto)}`;
  for (const key in layer) {
    if (key === 'proto' || key === 'offset' || (key === 'length' && !LENGTH_IS_A_FIELD.has(layer.proto))) continue;
    const value = layer[key];
    if (value === undefined) continue;
    out += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  }
  return `${out}}`;
}

function layersJson(layers: Layer[]): string {
  let out = layers.length > 0 ? layerJson(layers[0]) : '';
  for (let i = 1; i < layers.length; i++) out += `,${layerJson(layers[i])}`;
  return out;
}

export function packetJson(n: number, record: CaptureRecord, packet: Packet): string {
  return `{"n":${n},"ts":${epochText(record)},"caplen":${record.caplen},"len":${record.len},` +
    `"layers":[${layersJson(packet.layers)}],` +
    `"tunnels":${JSON.stringify(packet.tunnels)},"issues":${JSON.stringify(packet.issues)}}`;
}
