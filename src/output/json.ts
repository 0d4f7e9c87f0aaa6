// One JSON object per packet per line: the public shape of `read --json`
// (README, "JSON output"). Layers keep every field but `offset` and `length`,
// which locate a layer in the bytes and are not part of the shape, except
// where `length` is the protocol's own Length field and covers the layer (UDP).

import { layerFields } from '../../decoders/layers.js';
import type { Layer, Packet } from '../../decoders/types.js';
import type { CaptureRecord } from '../sources/record.js';
import { epochText } from './timestamp.js';

const LENGTH_IS_A_FIELD = new Set(['udp']);

/**
 * The head of each layer object in the serialised layer array: its proto
 * name, its offset and, where it comes next, its length. Every decoder writes
 * `proto`, `offset` and `length` first (UDP: `proto`, `offset`, then its own
 * fields, Length among them). Only a layer's own keys can match: inside a
 * string value every quote is escaped, and no nested object has a `proto`.
 */
const LAYER_HEAD = /\{"proto":"([a-z0-9-]+)","offset":\d+(,"length":\d+)?/g;

/**
 * The layers as JSON: one native JSON.stringify of the whole array with the
 * offsets and lengths cut out, instead of one call per field. When a layer is
 * laid out otherwise, they are written field by field.
 */
function layersJson(layers: Layer[], quotedFrom: number): string {
  const all = JSON.stringify(layers);
  let heads = 0;
  let irregular = false;
  const cut = all.replace(LAYER_HEAD, (_head: string, proto: string, length: string | undefined) => {
    const mark = heads++ >= quotedFrom ? QUOTED_MARK : '';
    if (LENGTH_IS_A_FIELD.has(proto)) return `{"proto":"${proto}"${mark}${length ?? ''}`;
    if (length === undefined) irregular = true;
    return `{"proto":"${proto}"${mark}`;
  });
  if (heads !== layers.length || irregular) return layers.map((layer, i) => layerJsonByField(layer, i >= quotedFrom)).join(',');
  return cut.slice(1, -1);
}

/**
 * Each layer of the packet an ICMP error quotes says so, right after its
 * proto: a script that looks for an echo reply or a TCP reset must not take
 * the quoted one for a real one. The packet's `quotedFrom` is the first.
 */
const QUOTED_MARK = ',"quoted":true';

function layerJsonByField(layer: Layer, quoted: boolean): string {
  let out = `{"proto":${JSON.stringify(layer.proto)}${quoted ? QUOTED_MARK : ''}`;
  for (const [key, value] of layerFields(layer)) {
    if (key === 'proto' || key === 'offset' || (key === 'length' && !LENGTH_IS_A_FIELD.has(layer.proto))) continue;
    if (value === undefined) continue;
    out += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  }
  return `${out}}`;
}

export function packetJson(n: number, record: CaptureRecord, packet: Packet): string {
  return `{"n":${n},"ts":${epochText(record)},"caplen":${record.caplen},"len":${record.len},` +
    `"layers":[${layersJson(packet.layers, packet.quotedFrom ?? packet.layers.length)}],` +
    (packet.quotedFrom === undefined ? '' : `"quotedFrom":${packet.quotedFrom},`) +
    `"tunnels":${JSON.stringify(packet.tunnels)},"issues":${JSON.stringify(packet.issues)}` +
    `${packet.reassembled === undefined ? '' : `,"reassembled":${JSON.stringify(packet.reassembled)}`}}`;
}
