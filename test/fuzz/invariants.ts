// What must hold for every packet tunscope decodes, whatever its bytes
// (DESIGN.md, "The decoder contract" and "Machine-readable output"): each
// record yields a Packet; what could not be decoded is an issue of a stable
// kind on a layer that exists; length problems say how many bytes were
// needed and how many there were; every printer copes; --json stays JSON.

import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import type { Packet } from '../../decoders/types.js';
import { parseFilter, type FilterNode } from '../../src/filter/parse.js';
import { matchesFilter } from '../../src/filter/evaluate.js';
import { packetJson } from '../../src/output/json.js';
import { packetLine } from '../../src/output/line.js';
import { packetTree } from '../../src/output/tree.js';
import type { CaptureRecord } from '../../src/sources/record.js';

/** Issue kinds by the names DESIGN.md and decoders/types.ts give them; tests and stats count them. */
export const ISSUE_KINDS: ReadonlySet<string> = new Set([
  'truncated', 'malformed', 'depth-exceeded', 'unsupported-linktype', 'bad-checksum', 'segmentation-offload',
  'zero-checksum',
]);

/** Malformed issues that say a length field claims more bytes than its container holds. */
const OVERRUN = /exceeds the|runs past|bytes past|past the end of/;

/** DESIGN.md, "Vocabulary". */
const PROTO_NAMES: ReadonlySet<string> = new Set([
  'eth', 'vlan', 'sll', 'sll2', 'null', 'arp', 'ipv4', 'ipv6', 'gre', 'erspan', 'ppp', 'udp', 'tcp', 'icmp', 'icmpv6',
  'vxlan', 'vxlan-gpe', 'geneve', 'payload',
]);

const TUNNEL_TYPES: ReadonlySet<string> = new Set([
  'vxlan', 'vxlan-gpe', 'geneve', 'gre', 'gretap', 'erspan', 'ipip', 'sit', 'ip4in6', 'ip6in6',
]);

/** Every link type the registry decodes, and two it does not. */
export const LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147, 0xffff];

const REGISTRY = new Registry();

/** Filters of every primitive kind, run over every fuzzed packet: evaluation must cope with any layer stack. */
const FILTERS: FilterNode[] = [
  'vxlan vni 42 and inner tcp port 443',
  'outer udp and inner icmp or inner icmp6',
  'not (gre key 7 or geneve or erspan id 3) and tunnel',
  'src host 10.0.0.1 or dst net 2001:db8::/32 or port 53',
  'vlan 10 or arp or ip or ip6 or frag',
  'bad-cksum or offload-cksum or malformed',
  'ether src host 02:00:00:00:00:01 or inner portrange 1-1024 or ip proto 47 or ip6 proto 17 or len > 100 or less 60',
  'inner malformed and outer ipip',
].map(parseFilter);

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Numbers that JSON cannot carry (NaN, Infinity) or that no field should hold, anywhere in a value. */
function badNumbers(value: unknown, where: string, out: string[]): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) out.push(`${where} is ${value}`);
  } else if (typeof value === 'bigint') {
    out.push(`${where} is a bigint`);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => badNumbers(item, `${where}[${i}]`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) badNumbers(item, `${where}.${key}`, out);
  }
}

/** What is wrong with a dissected packet, as sentences; empty when it keeps every invariant. */
export function packetProblems(packet: Packet, bytes: Uint8Array): string[] {
  const problems: string[] = [];
  const layerCount = packet.layers.length;
  if (layerCount === 0 && packet.issues.length === 0) problems.push('no layer and no issue: the record says nothing');
  let lastOffset = 0;
  packet.layers.forEach((layer, i) => {
    if (!PROTO_NAMES.has(layer.proto)) problems.push(`layer ${i} has proto ${String(layer.proto)}`);
    if (!isCount(layer.offset) || layer.offset > bytes.length) {
      problems.push(`layer ${i} (${layer.proto}) starts at ${String(layer.offset)}, outside the ${bytes.length} bytes`);
    } else if (layer.offset < lastOffset) {
      problems.push(`layer ${i} (${layer.proto}) starts at ${layer.offset}, before the layer above it (${lastOffset})`);
    } else {
      lastOffset = layer.offset;
    }
    if (!isCount(layer.length)) problems.push(`layer ${i} (${layer.proto}) has length ${String(layer.length)}`);
    badNumbers(layer, `layer ${i} (${layer.proto})`, problems);
  });
  packet.issues.forEach((issue, i) => {
    const name = `issue ${i} (${issue.kind}: ${issue.message})`;
    if (!ISSUE_KINDS.has(issue.kind)) problems.push(`${name} has an unknown kind`);
    if (!Number.isInteger(issue.layer) || issue.layer < 0 || issue.layer >= layerCount) {
      problems.push(`${name} names layer ${issue.layer}, but the packet has ${layerCount} layers`);
    }
    if (typeof issue.message !== 'string' || issue.message === '') problems.push(`issue ${i} has no message`);
    // The engine turns a decoder that threw into an issue; a decoder must never throw.
    if (/decoder failed/.test(issue.message)) problems.push(`${name}: a decoder threw`);
    if ((issue.needed === undefined) !== (issue.available === undefined)) {
      problems.push(`${name} carries only one of needed and available`);
    }
    if (issue.needed !== undefined && (!isCount(issue.needed) || !isCount(issue.available))) {
      problems.push(`${name} has needed ${issue.needed} and available ${issue.available}`);
    }
    // A length problem: the bytes run out, or a length field claims more than its container holds.
    const lengthProblem = issue.kind === 'truncated' || (issue.kind === 'malformed' && OVERRUN.test(issue.message));
    if (lengthProblem && issue.needed === undefined) problems.push(`${name} does not say how many bytes were needed`);
    if (issue.needed !== undefined && !(issue.needed > (issue.available as number))) {
      problems.push(`${name} needed no more than was available`);
    }
  });
  packet.tunnels.forEach((tunnel, i) => {
    if (!TUNNEL_TYPES.has(tunnel.type)) problems.push(`tunnel ${i} has type ${String(tunnel.type)}`);
    if (!Number.isInteger(tunnel.layer) || tunnel.layer < 0 || tunnel.layer >= layerCount) {
      problems.push(`tunnel ${i} (${tunnel.type}) starts at layer ${tunnel.layer}, but the packet has ${layerCount} layers`);
    }
    if (tunnel.id !== null && !isCount(tunnel.id)) problems.push(`tunnel ${i} has id ${String(tunnel.id)}`);
  });
  if (packet.quotedFrom !== undefined && (!isCount(packet.quotedFrom) || packet.quotedFrom > layerCount)) {
    problems.push(`quotedFrom ${packet.quotedFrom} is outside the ${layerCount} layers`);
  }
  return problems;
}

/** What is wrong with the printed forms of a packet: --json must parse and say what the packet says. */
export function outputProblems(n: number, record: CaptureRecord, packet: Packet): string[] {
  const problems: string[] = [];
  const json = packetJson(n, record, packet);
  let parsed: { n: number; layers: { proto: string }[]; tunnels: unknown; issues: unknown };
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    return [`--json line does not parse (${(err as Error).message}): ${json}`];
  }
  if (json.includes('\n')) problems.push('--json output spans more than one line');
  if (parsed.n !== n) problems.push(`--json n is ${parsed.n}, not ${n}`);
  const protos = packet.layers.map((l) => l.proto).join(',');
  if (parsed.layers.map((l) => l.proto).join(',') !== protos) problems.push(`--json layers differ from ${protos}`);
  if (JSON.stringify(parsed.issues) !== JSON.stringify(packet.issues)) problems.push('--json issues differ from the packet');
  if (JSON.stringify(parsed.tunnels) !== JSON.stringify(packet.tunnels)) problems.push('--json tunnels differ from the packet');
  for (const [name, text] of [['line', packetLine(record, packet)], ['tree', packetTree(n, record, packet)]]) {
    if (/\bundefined\b|\bNaN\b|\[object Object\]/.test(text)) problems.push(`the ${name} output shows a missing value: ${text}`);
  }
  for (const filter of FILTERS) matchesFilter(filter, packet, record.bytes, record.len);
  return problems;
}

/** A record as a reader would deliver it. */
export function recordOf(bytes: Uint8Array, linktype: number, wireLength = bytes.length): CaptureRecord {
  return { linktype, interfaceId: 0, sec: 1_700_000_000, nsec: 1000, tsDigits: 6, caplen: bytes.length, len: wireLength, bytes };
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Dissects the bytes and throws, naming every broken invariant and the input,
 * unless the packet and all its printed forms keep them. Returns the packet.
 */
export function checkDissect(bytes: Uint8Array, linktype: number, wireLength = bytes.length, registry = REGISTRY): Packet {
  const record = recordOf(bytes, linktype, wireLength);
  let packet: Packet;
  try {
    packet = dissect(bytes, linktype, wireLength, { registry });
  } catch (err) {
    throw new Error(`dissect threw ${(err as Error).stack}\n  linktype ${linktype}, wire length ${wireLength}, bytes ${hexOf(bytes)}`);
  }
  let problems = packetProblems(packet, bytes);
  if (problems.length === 0) {
    try {
      problems = outputProblems(1, record, packet);
    } catch (err) {
      problems = [`a printer or the filter threw ${(err as Error).stack}`];
    }
  }
  if (problems.length > 0) {
    throw new Error(`${problems.join('\n')}\n  linktype ${linktype}, wire length ${wireLength}, bytes ${hexOf(bytes)}\n  ` +
      `packet ${JSON.stringify(packet)}`);
  }
  return packet;
}
