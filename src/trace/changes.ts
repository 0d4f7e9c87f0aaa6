// What happened to a packet between two sightings of it: encapsulated,
// decapsulated, a VNI or key changed, addresses or ports rewritten by NAT, TTL
// and DSCP/ECN, fragmented, split by GSO or merged by GRO, a checksum turned bad.

import type { Fingerprint, TunnelSeen } from './fingerprint.js';
import type { Sight } from './matcher.js';

export function tunnelText(t: TunnelSeen): string {
  const id = t.id === null ? '' : ` ${t.id}`;
  const port = t.port === null ? '' : ` udp ${t.port}`;
  return `${t.type}${id} ${t.src} > ${t.dst}${port}`;
}

function tunnelChanges(a: TunnelSeen[], b: TunnelSeen[]): string[] {
  const changes: string[] = [];
  const common = Math.min(a.length, b.length);
  // Tunnels are listed outermost first: those in common are the innermost ones, and
  // what one side has more of was added or removed around them.
  const outerA = a.length - common;
  const outerB = b.length - common;
  for (let i = 0; i < outerB; i++) changes.push(`encapsulated ${tunnelText(b[i])}`);
  for (let i = 0; i < outerA; i++) {
    const t = a[i];
    changes.push(`decapsulated ${t.type}${t.id === null ? '' : ` ${t.id}`}`);
  }
  for (let i = 0; i < common; i++) {
    const x = a[outerA + i];
    const y = b[outerB + i];
    if (x.type !== y.type || x.id !== y.id) {
      changes.push(`${x.type}${x.id === null ? '' : ` ${x.id}`} became ${y.type}${y.id === null ? '' : ` ${y.id}`}`);
    }
    if (x.src !== y.src || x.dst !== y.dst) changes.push(`outer ${x.src} > ${x.dst} became ${y.src} > ${y.dst}`);
  }
  return changes;
}

function addressChanges(a: Fingerprint, b: Fingerprint): string[] {
  const changes: string[] = [];
  if (a.src !== b.src) changes.push(`source ${a.src} became ${b.src} (NAT)`);
  if (a.dst !== b.dst) changes.push(`destination ${a.dst} became ${b.dst} (NAT)`);
  if (a.srcPort !== null && b.srcPort !== null && a.srcPort !== b.srcPort) {
    changes.push(`source port ${a.srcPort} became ${b.srcPort} (NAT)`);
  }
  if (a.dstPort !== null && b.dstPort !== null && a.dstPort !== b.dstPort) {
    changes.push(`destination port ${a.dstPort} became ${b.dstPort} (NAT)`);
  }
  return changes;
}

function hex8(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`;
}

/** The changes from sighting `a` to sighting `b` of one packet, in words; empty when nothing changed. */
export function describeHop(a: Sight, b: Sight): string[] {
  const x = a.fp;
  const y = b.fp;
  const changes = [...tunnelChanges(x.tunnels, y.tunnels), ...addressChanges(x, y)];
  if (x.ttl !== null && y.ttl !== null && x.ttl !== y.ttl) changes.push(`ttl ${x.ttl} -> ${y.ttl}`);
  if (x.tos !== null && y.tos !== null && x.tos !== y.tos) changes.push(`dscp/ecn ${hex8(x.tos)} -> ${hex8(y.tos)}`);
  if (y.fragment !== null && x.fragment === null) changes.push(`fragmented into ${b.pieces}`);
  else if (x.fragment !== null && y.fragment === null) changes.push(`reassembled from ${a.pieces} fragments`);
  else if (x.fragment !== null && b.pieces < a.pieces) changes.push(`${a.pieces - b.pieces} of ${a.pieces} fragments lost`);
  else if (x.tcpFlow !== null) {
    if (b.merged || y.payloadLength > x.payloadLength) changes.push('merged (GRO)');
    else if (b.pieces > a.pieces) changes.push(`split (GSO) into ${b.pieces}`);
  }
  const wasFine = x.checksum === 'good' || x.checksum === 'offload' || x.checksum === 'zero';
  if (wasFine && y.checksum === 'bad') changes.push('checksum turned bad');
  return changes;
}
