// NAME.expect.json, the hand-written assertions of `tunscope test`: packet
// counts, tunnels and their ids, checksum verdicts, issues, and findings that
// must or must not appear. Parsed strictly (an unknown key or name is a
// mistake in the file, said in words), then held against what a decoding showed.

import { layerChecksum } from '../../decoders/layers.js';
import type { ChecksumStatus, IssueKind, Packet, TunnelType } from '../../decoders/types.js';
import type { FindingKind } from '../analysis/report.js';

// The names an expectation file may use. Records rather than lists, so that
// a name added to the decoders or to `stats` cannot be left out here.
const TUNNEL_TYPES: Record<TunnelType, true> = {
  vxlan: true, 'vxlan-gpe': true, geneve: true, gre: true, gretap: true, erspan: true,
  ipip: true, sit: true, ip4in6: true, ip6in6: true,
};
const CHECKSUM_STATUSES: Record<ChecksumStatus, true> = { good: true, bad: true, offload: true, zero: true, unverified: true };
const ISSUE_KINDS: Record<IssueKind, true> = {
  truncated: true, malformed: true, 'depth-exceeded': true, 'unsupported-linktype': true, 'bad-checksum': true,
  'segmentation-offload': true, 'zero-checksum': true,
};
const FINDING_KINDS: Record<FindingKind, true> = {
  'inner-mtu': true, 'inner-fragments': true, 'outer-fragments': true, 'frag-needed': true, mss: true,
  'bad-inner-checksum': true, 'bad-outer-checksum': true, 'checksum-offload': true, 'udp-8472': true,
  'vxlan-i-flag': true, 'one-way': true, 'mac-moved': true, 'super-packets': true, 'table-full': true,
  'vni-mismatch': true, 'tunnel-port-unreachable': true, 'vtep-unreachable': true, 'tunnel-prohibited': true,
  'vtep-arp-unanswered': true, 'arp-unanswered': true, 'echo-unanswered': true, 'syn-unanswered': true,
  'vxlan-gpe-next-protocol-0': true,
};

// ---------------------------------------------------------------------------
// NAME.expect.json

interface TunnelAssertion {
  type: TunnelType;
  /** Absent: every tunnel of the type. */
  id?: number | null;
  packets?: number;
}

export interface Assertions {
  decodeAs: string[];
  packets?: number;
  tunnelled?: number;
  tunnels?: TunnelAssertion[];
  checksums?: Partial<Record<ChecksumStatus, number>>;
  issues?: Partial<Record<IssueKind, number>>;
  findings?: { present: FindingKind[]; absent: FindingKind[] };
}

const ASSERTION_KEYS = ['decodeAs', 'packets', 'tunnelled', 'tunnels', 'checksums', 'issues', 'findings'];

/** A mistake in a NAME.expect.json file: the capture fails with this message. */
export class ExpectationFileError extends Error {}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function countOf(value: unknown, where: string): number {
  if (!isCount(value)) throw new ExpectationFileError(`${where} must be a whole number of 0 or more, not ${JSON.stringify(value)}`);
  return value;
}

function isNameIn<K extends string>(names: Record<K, true>, name: string): name is K {
  return Object.hasOwn(names, name);
}

function known(names: Record<string, true>): string {
  return Object.keys(names).join(', ');
}

function countsOf<K extends string>(value: unknown, where: string, names: Record<K, true>): Partial<Record<K, number>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ExpectationFileError(`${where} must be an object of counts, e.g. {"${Object.keys(names)[0]}": 0}`);
  }
  const counts: Partial<Record<K, number>> = {};
  for (const [key, n] of Object.entries(value)) {
    if (!isNameIn(names, key)) throw new ExpectationFileError(`${where} has an unknown key "${key}" (known: ${known(names)})`);
    counts[key] = countOf(n, `${where}.${key}`);
  }
  return counts;
}

function stringsOf(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) {
    throw new ExpectationFileError(`${where} must be a list of strings`);
  }
  return value;
}

function findingKindsOf(value: unknown, where: string): FindingKind[] {
  return stringsOf(value, where).map((kind) => {
    if (!isNameIn(FINDING_KINDS, kind)) {
      throw new ExpectationFileError(`${where} has an unknown finding kind "${kind}" (known: ${known(FINDING_KINDS)})`);
    }
    return kind;
  });
}

export function parseAssertions(text: string): Assertions {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ExpectationFileError(`not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ExpectationFileError('must hold one JSON object');
  const source = raw as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (!ASSERTION_KEYS.includes(key)) throw new ExpectationFileError(`unknown key "${key}" (known: ${ASSERTION_KEYS.join(', ')})`);
  }
  const assertions: Assertions = { decodeAs: source.decodeAs === undefined ? [] : stringsOf(source.decodeAs, 'decodeAs') };
  if (source.packets !== undefined) assertions.packets = countOf(source.packets, 'packets');
  if (source.tunnelled !== undefined) assertions.tunnelled = countOf(source.tunnelled, 'tunnelled');
  if (source.tunnels !== undefined) {
    if (!Array.isArray(source.tunnels)) throw new ExpectationFileError('tunnels must be a list of {"type", "id", "packets"} objects');
    assertions.tunnels = source.tunnels.map((entry: unknown, i) => {
      const where = `tunnels[${i}]`;
      if (typeof entry !== 'object' || entry === null) throw new ExpectationFileError(`${where} must be an object`);
      const { type, id, packets, ...rest } = entry as Record<string, unknown>;
      const extra = Object.keys(rest)[0];
      if (extra !== undefined) throw new ExpectationFileError(`${where} has an unknown key "${extra}" (known: type, id, packets)`);
      if (typeof type !== 'string' || !isNameIn(TUNNEL_TYPES, type)) {
        throw new ExpectationFileError(`${where}.type must be one of ${known(TUNNEL_TYPES)}`);
      }
      const tunnel: TunnelAssertion = { type };
      if (id !== undefined) {
        if (id !== null && !isCount(id)) throw new ExpectationFileError(`${where}.id must be a number or null`);
        tunnel.id = id;
      }
      if (packets !== undefined) tunnel.packets = countOf(packets, `${where}.packets`);
      return tunnel;
    });
  }
  if (source.checksums !== undefined) assertions.checksums = countsOf(source.checksums, 'checksums', CHECKSUM_STATUSES);
  if (source.issues !== undefined) assertions.issues = countsOf(source.issues, 'issues', ISSUE_KINDS);
  if (source.findings !== undefined) {
    const findings = source.findings;
    if (typeof findings !== 'object' || findings === null || Array.isArray(findings)) {
      throw new ExpectationFileError('findings must be {"present": [kinds], "absent": [kinds]}');
    }
    const { present, absent, ...rest } = findings as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new ExpectationFileError(`findings has an unknown key "${extra}" (known: present, absent)`);
    assertions.findings = {
      present: present === undefined ? [] : findingKindsOf(present, 'findings.present'),
      absent: absent === undefined ? [] : findingKindsOf(absent, 'findings.absent'),
    };
  }
  return assertions;
}

// ---------------------------------------------------------------------------
// What a decoding shows, for the assertions

function tunnelKey(type: string, id: number | null): string {
  return `${type} ${id === null ? 'no id' : id}`;
}

export class DecodingFacts {
  packets = 0;
  tunnelled = 0;
  /** Packets per tunnel, by type and id; a packet counts once per tunnel it passes through. */
  readonly tunnels = new Map<string, { type: TunnelType; id: number | null; packets: number }>();
  readonly checksums: Record<ChecksumStatus, number> = { good: 0, bad: 0, offload: 0, zero: 0, unverified: 0 };
  readonly issues = new Map<string, number>();

  add(packet: Packet): void {
    // The facts are of the capture's frames; a datagram made whole from some of them is none.
    if (packet.reassembled !== undefined) return;
    this.packets++;
    if (packet.tunnels.length > 0) this.tunnelled++;
    const seen = new Set<string>();
    for (const tunnel of packet.tunnels) {
      const key = tunnelKey(tunnel.type, tunnel.id);
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = this.tunnels.get(key);
      if (entry) entry.packets++;
      else this.tunnels.set(key, { type: tunnel.type, id: tunnel.id, packets: 1 });
    }
    for (const layer of packet.layers) {
      const checksum = layerChecksum(layer);
      if (checksum) this.checksums[checksum.status]++;
    }
    for (const issue of packet.issues) this.issues.set(issue.kind, (this.issues.get(issue.kind) ?? 0) + 1);
  }
}

function tunnelName(t: { type: string; id?: number | null }): string {
  return t.id === undefined ? `${t.type} (any id)` : tunnelKey(t.type, t.id);
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Every assertion that does not hold, in words. */
export function failedAssertions(assertions: Assertions, facts: DecodingFacts, findingKinds: ReadonlySet<FindingKind>): string[] {
  const failures: string[] = [];
  const compare = (what: string, expected: number | undefined, found: number): void => {
    if (expected !== undefined && expected !== found) failures.push(`${what}: expected ${expected}, found ${found}`);
  };
  compare('packets', assertions.packets, facts.packets);
  compare('tunnelled packets', assertions.tunnelled, facts.tunnelled);
  if (assertions.tunnels) {
    const matched = new Set<string>();
    for (const expected of assertions.tunnels) {
      let packets = 0;
      let any = false;
      for (const [key, seen] of facts.tunnels) {
        if (seen.type !== expected.type || (expected.id !== undefined && seen.id !== expected.id)) continue;
        any = true;
        packets += seen.packets;
        matched.add(key);
      }
      if (!any) failures.push(`tunnel ${tunnelName(expected)}: not seen`);
      else compare(`tunnel ${tunnelName(expected)} packets`, expected.packets, packets);
    }
    for (const [key, seen] of facts.tunnels) {
      if (!matched.has(key)) failures.push(`tunnel ${key}: seen in ${plural(seen.packets, 'packet')} but not listed`);
    }
  }
  for (const [status, expected] of Object.entries(assertions.checksums ?? {})) {
    compare(`checksums ${status}`, expected, facts.checksums[status as ChecksumStatus]);
  }
  for (const [kind, expected] of Object.entries(assertions.issues ?? {})) {
    compare(`issues ${kind}`, expected, facts.issues.get(kind) ?? 0);
  }
  if (assertions.findings) {
    for (const kind of assertions.findings.present) {
      if (!findingKinds.has(kind)) failures.push(`finding ${kind}: expected, not found`);
    }
    for (const kind of assertions.findings.absent) {
      if (findingKinds.has(kind)) failures.push(`finding ${kind}: found, expected none`);
    }
  }
  return failures;
}

