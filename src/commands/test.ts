// `tunscope test PATH...`: regression tests over captures. Each capture found
// under PATH (by magic number) is decoded and compared with the expectation
// files beside it:
//
//   NAME.expected     the canonical decoding, one line per packet (text, or
//                     `read --json` lines with --format json); --update writes it
//   NAME.expect.json  hand-written assertions: packet counts, tunnels and ids,
//                     checksum verdicts, issues, findings that must or must not
//                     appear; --update never changes it
//
// A capture passes when both agree with its decoding.

import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { ChecksumStatus, IssueKind, Packet, TunnelType } from '../../decoders/types.js';
import {
  canonicalFormatOf, canonicalLine, differingLines, joinCanonical, numberRanges, splitCanonical, unifiedDiff,
  type CanonicalFormat,
} from '../output/canonical.js';
import { OutputWriter } from '../output/writer.js';
import { StatsAggregator } from '../analysis/aggregate.js';
import type { FindingKind } from '../analysis/report.js';
import { decodeCapture, prepareDecode, type PreparedDecode } from '../pipeline.js';
import { hasCaptureMagic } from '../sources/parser.js';
import { CaptureError, type CaptureRecord } from '../sources/record.js';
import { UsageError, WorkError } from '../errors.js';
import { Option } from './options.js';

interface TestFlags {
  update?: boolean;
  format: CanonicalFormat;
}

/** Diff lines shown per capture; the rest are counted. */
const MAX_DIFF_LINES = 60;

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
};

// ---------------------------------------------------------------------------
// Finding the captures

interface FoundCapture {
  path: string;
  /** Named on the command line rather than found in a folder. */
  named: boolean;
}

function startsWithCaptureMagic(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const head = new Uint8Array(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && hasCaptureMagic(head);
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/** Captures in a folder and its subfolders, in name order; hidden entries and symbolic links to folders are skipped. */
function capturesUnder(dir: string, found: FoundCapture[]): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) capturesUnder(full, found);
    else if ((entry.isFile() || entry.isSymbolicLink()) && startsWithCaptureMagic(full)) found.push({ path: full, named: false });
  }
}

/** Every capture under the paths, each once, in the order given. */
function findCaptures(paths: string[]): FoundCapture[] {
  const found: FoundCapture[] = [];
  for (const given of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(given);
    } catch {
      throw new WorkError(`cannot read ${given}: no such file or folder`);
    }
    if (stat.isDirectory()) capturesUnder(given, found);
    else found.push({ path: given, named: true });
  }
  const seen = new Set<string>();
  return found.filter((capture) => {
    const resolved = path.resolve(capture.path);
    if (seen.has(resolved)) return false;
    seen.add(resolved);
    return true;
  });
}

// ---------------------------------------------------------------------------
// NAME.expect.json

interface TunnelAssertion {
  type: TunnelType;
  /** Absent: every tunnel of the type. */
  id?: number | null;
  packets?: number;
}

interface Assertions {
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
class ExpectationFileError extends Error {}

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

function parseAssertions(text: string): Assertions {
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

class DecodingFacts {
  packets = 0;
  tunnelled = 0;
  /** Packets per tunnel, by type and id; a packet counts once per tunnel it passes through. */
  readonly tunnels = new Map<string, { type: TunnelType; id: number | null; packets: number }>();
  readonly checksums: Record<ChecksumStatus, number> = { good: 0, bad: 0, offload: 0, zero: 0, unverified: 0 };
  readonly issues = new Map<string, number>();

  add(packet: Packet): void {
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
      if (layer.checksum) this.checksums[layer.checksum.status]++;
    }
    for (const issue of packet.issues) this.issues.set(issue.kind, (this.issues.get(issue.kind) ?? 0) + 1);
  }
}

function tunnelName(t: { type: string; id?: number | null }): string {
  return t.id === undefined ? `${t.type} (any id)` : tunnelKey(t.type, t.id);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Every assertion that does not hold, in words. */
function failedAssertions(assertions: Assertions, facts: DecodingFacts, findingKinds: ReadonlySet<FindingKind>): string[] {
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

// ---------------------------------------------------------------------------
// One capture

interface Expectations {
  /** NAME.expected and NAME.expect.json beside the capture. */
  expected: string;
  assertions: string;
}

function expectationPaths(capture: string): Expectations {
  const { dir, name } = path.parse(capture);
  return { expected: path.join(dir, `${name}.expected`), assertions: path.join(dir, `${name}.expect.json`) };
}

function readIfPresent(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new WorkError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

interface Outcome {
  passed: boolean;
  /** The first line, after the capture's name. */
  headline: string;
  /** Lines under it: assertion failures, a diff, notes. */
  details: string[];
  /** What the failure asks of the user, said once at the end. */
  remedies: Remedy[];
}

type Remedy = 'update' | 'edit-assertions';

const REMEDIES: Record<Remedy, string> = {
  update: 'if the new decoding is right, accept it with --update',
  'edit-assertions': 'if the new decoding is right, edit NAME.expect.json (--update never changes it)',
};

function diffLines(expected: string[], actual: string[], expectedPath: string, capture: string): string[] {
  const diff = unifiedDiff(expected, actual, expectedPath, `${capture}, decoded now`);
  if (diff.length <= MAX_DIFF_LINES) return diff;
  return [...diff.slice(0, MAX_DIFF_LINES), `... ${diff.length - MAX_DIFF_LINES} more diff lines`];
}

function writeExpected(file: string, lines: string[]): void {
  try {
    fs.writeFileSync(file, joinCanonical(lines));
  } catch (err) {
    throw new WorkError(`cannot write ${file}: ${(err as Error).message}`);
  }
}

async function checkCapture(capture: string, flags: TestFlags, claimed: Map<string, string>): Promise<Outcome> {
  const files = expectationPaths(capture);
  const owner = claimed.get(files.expected);
  if (owner !== undefined) {
    return {
      passed: false, headline: `shares ${path.basename(files.expected)} with ${owner}; rename one of them`, details: [], remedies: [],
    };
  }
  claimed.set(files.expected, capture);

  const assertionsText = readIfPresent(files.assertions);
  let assertions: Assertions | null = null;
  if (assertionsText !== null) {
    try {
      assertions = parseAssertions(assertionsText);
    } catch (err) {
      if (err instanceof ExpectationFileError) {
        return { passed: false, headline: `${files.assertions}: ${err.message}`, details: [], remedies: [] };
      }
      throw err;
    }
  }

  let prepared: PreparedDecode;
  try {
    prepared = prepareDecode({ decodeAs: assertions?.decodeAs ?? [] });
  } catch (err) {
    if (err instanceof UsageError) {
      return { passed: false, headline: `${files.assertions}: decodeAs: ${err.message}`, details: [], remedies: [] };
    }
    throw err;
  }
  const lines: string[] = [];
  const facts = new DecodingFacts();
  // Findings are what `stats` reports; only captures whose assertions name findings need them.
  const aggregator = assertions?.findings ? new StatsAggregator() : null;
  let warning: string | null;
  try {
    const summary = await decodeCapture(capture, prepared, (n: number, record: CaptureRecord, packet: Packet) => {
      lines.push(canonicalLine(flags.format, n, record, packet));
      facts.add(packet);
      aggregator?.add(n, record, packet);
    });
    warning = summary.warning;
  } catch (err) {
    if (err instanceof CaptureError) return { passed: false, headline: err.message, details: [], remedies: [] };
    throw err;
  }

  const details: string[] = [];
  if (warning) details.push(`note: ${warning}`);
  const findingKinds = new Set(aggregator?.report().findings.map((finding) => finding.kind));
  const failures = assertions === null ? [] : failedAssertions(assertions, facts, findingKinds);
  for (const failure of failures) details.push(`${path.basename(files.assertions)}: ${failure}`);
  const assertionsHold = failures.length === 0;
  const remedies: Remedy[] = assertionsHold ? [] : ['edit-assertions'];

  const expectedText = readIfPresent(files.expected);
  const packets = plural(lines.length, 'packet');
  if (expectedText === null) {
    if (!flags.update) {
      return { passed: false, headline: `no ${files.expected} (write it with --update)`, details, remedies: ['update', ...remedies] };
    }
    writeExpected(files.expected, lines);
    return { passed: assertionsHold, headline: `created ${files.expected} (${packets})`, details, remedies };
  }

  const expected = splitCanonical(expectedText);
  const storedFormat = canonicalFormatOf(expected);
  if (!flags.update && storedFormat !== null && storedFormat !== flags.format) {
    return {
      passed: false,
      headline: `${files.expected} holds ${storedFormat} lines; run with --format ${storedFormat}, or rewrite it with --update`,
      details,
      remedies,
    };
  }
  const changed = differingLines(expected, lines);
  if (changed.length === 0) {
    const headline = assertionsHold ? packets : `${plural(failures.length, 'assertion')} in ${files.assertions} failed (${packets})`;
    return { passed: assertionsHold, headline, details, remedies };
  }

  const counts = expected.length === lines.length ? '' : ` (${plural(lines.length, 'packet')} now, ${expected.length} expected)`;
  const which = `${changed.length === 1 ? 'packet' : 'packets'} ${numberRanges(changed)}`;
  if (flags.update) {
    writeExpected(files.expected, lines);
    return { passed: assertionsHold, headline: `updated ${files.expected}: ${which} changed${counts}`, details, remedies };
  }
  return {
    passed: false,
    headline: `${which} ${changed.length === 1 ? 'differs' : 'differ'} from ${files.expected}${counts}`,
    details: [...details, ...diffLines(expected, lines, files.expected, capture)],
    remedies: ['update', ...remedies],
  };
}

// ---------------------------------------------------------------------------
// The command

async function runTest(paths: string[], flags: TestFlags): Promise<void> {
  const captures = findCaptures(paths);
  if (captures.length === 0) throw new WorkError(`no pcap or pcapng captures under ${paths.join(', ')}`);
  const out = new OutputWriter();
  const claimed = new Map<string, string>();
  let passed = 0;
  let failed = 0;
  const remedies = new Set<Remedy>();
  for (const capture of captures) {
    const outcome: Outcome = capture.named && !startsWithCaptureMagic(capture.path)
      ? { passed: false, headline: 'not a pcap or pcapng capture', details: [], remedies: [] }
      : await checkCapture(capture.path, flags, claimed);
    if (outcome.passed) {
      passed++;
    } else {
      failed++;
      for (const remedy of outcome.remedies) remedies.add(remedy);
    }
    out.line(`${outcome.passed ? 'ok  ' : 'FAIL'} ${capture.path}: ${outcome.headline}`);
    for (const line of outcome.details) out.line(line);
  }
  out.line(`${passed} passed, ${failed} failed`);
  out.flush();
  if (failed > 0) {
    throw new WorkError([`${plural(failed, 'capture')} failed`, ...[...remedies].map((r) => REMEDIES[r])].join('; '));
  }
}

export function defineTestCommand(program: Command): void {
  program
    .command('test')
    .description('decode every capture under PATH and compare it with the expectation files beside it')
    .argument('<path...>', 'capture files, or folders searched for captures (by magic number)')
    .option('--update', 'write NAME.expected from the current decoding and say which changed')
    .addOption(new Option('--format <format>', 'what NAME.expected holds: read\'s lines (text) or read --json lines (json)')
      .choices(['text', 'json']).default('text'))
    .action(runTest);
}
