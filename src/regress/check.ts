// The regression engine of `tunscope test PATH...`: each capture found under
// PATH (discovery.ts) is decoded and compared with the expectation files
// beside it (expectations.ts):
//
//   NAME.expected     the canonical decoding, one line per packet (text, or
//                     `read --json` lines with --format json); --update writes it
//   NAME.expect.json  hand-written assertions (assertions.ts): packet counts,
//                     tunnels and ids, checksum verdicts, issues, findings that
//                     must or must not appear; --update never changes it
//
// A capture passes when both agree with its decoding.

import fs from 'node:fs';
import path from 'node:path';
import type { Packet } from '../../decoders/types.js';
import {
  canonicalFormatOf, canonicalLine, differingLines, numberRanges, splitCanonical, unifiedDiff, type CanonicalFormat,
} from '../output/canonical.js';
import type { OutputWriter } from '../output/writer.js';
import { StatsAggregator } from '../analysis/aggregate.js';
import { decodeCapture, prepareDecode, type PreparedDecode } from '../pipeline.js';
import { CaptureError, type CaptureRecord } from '../sources/record.js';
import { UsageError, WorkError } from '../errors.js';
import {
  DecodingFacts, ExpectationFileError, failedAssertions, parseAssertions, plural, type Assertions,
} from './assertions.js';
import { findCaptures, notRegular, startsWithCaptureMagic } from './discovery.js';
import {
  MAX_ASSERTIONS_BYTES, MAX_EXPECTED_BYTES, UnusableFileError, expectationPaths, readExpectationFile, writeExpectationFile,
} from './expectations.js';

export interface RegressionOptions {
  /** Write NAME.expected from the current decoding. */
  update?: boolean;
  format: CanonicalFormat;
  /** false with --no-reassemble. */
  reassemble?: boolean;
}

/** Diff lines shown per capture; the rest are counted. */
const MAX_DIFF_LINES = 60;

// ---------------------------------------------------------------------------
// One capture

interface Outcome {
  passed: boolean;
  /** Not tested: an expectation file that cannot be used (the headline says why). */
  skipped?: boolean;
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

function failure(headline: string): Outcome {
  return { passed: false, headline, details: [], remedies: [] };
}

/** A capture named on the command line that cannot be tested: a pipe, a device, not a capture. */
function unusableCapture(file: string): Outcome | null {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return null;
  }
  const what = notRegular(stat);
  if (what !== null) return failure(`${what}, not a capture file`);
  return startsWithCaptureMagic(file) ? null : failure('not a pcap or pcapng capture');
}

async function checkCapture(capture: string, flags: RegressionOptions, claimed: Map<string, string>): Promise<Outcome> {
  const files = expectationPaths(capture);
  const owner = claimed.get(files.expected);
  if (owner !== undefined) {
    return failure(`shares ${path.basename(files.expected)} with ${owner}; rename one of them`);
  }
  claimed.set(files.expected, capture);

  const assertionsText = readExpectationFile(files.assertions, MAX_ASSERTIONS_BYTES);
  let assertions: Assertions | null = null;
  if (assertionsText !== null) {
    try {
      assertions = parseAssertions(assertionsText);
    } catch (err) {
      if (err instanceof ExpectationFileError) {
        return failure(`${files.assertions}: ${err.message}`);
      }
      throw err;
    }
  }

  let prepared: PreparedDecode;
  try {
    prepared = prepareDecode({ decodeAs: assertions?.decodeAs ?? [], reassemble: flags.reassemble !== false });
  } catch (err) {
    if (err instanceof UsageError) {
      return failure(`${files.assertions}: decodeAs: ${err.message}`);
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
    if (err instanceof CaptureError) return failure(err.message);
    throw err;
  }

  const details: string[] = [];
  if (warning) details.push(`note: ${warning}`);
  const findingKinds = new Set(aggregator?.report().findings.map((finding) => finding.kind));
  const failures = assertions === null ? [] : failedAssertions(assertions, facts, findingKinds);
  for (const failure of failures) details.push(`${path.basename(files.assertions)}: ${failure}`);
  const assertionsHold = failures.length === 0;
  const remedies: Remedy[] = assertionsHold ? [] : ['edit-assertions'];

  const expectedText = readExpectationFile(files.expected, MAX_EXPECTED_BYTES);
  const packets = plural(lines.length, 'packet');
  if (expectedText === null) {
    if (!flags.update) {
      return { passed: false, headline: `no ${files.expected} (write it with --update)`, details, remedies: ['update', ...remedies] };
    }
    writeExpectationFile(files.expected, lines, 'none was made');
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
    writeExpectationFile(files.expected, lines, `it is left as it was (${plural(expected.length, 'packet')})`);
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
// Every capture

/**
 * Every capture under the paths checked, a line for each (and its details)
 * written to `out`, then the counts; a WorkError naming the remedies when any failed.
 */
export async function runRegression(paths: string[], flags: RegressionOptions, out: OutputWriter): Promise<void> {
  const captures = findCaptures(paths);
  if (captures.length === 0) throw new WorkError(`no pcap or pcapng captures under ${paths.join(', ')}`);
  const claimed = new Map<string, string>();
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const remedies = new Set<Remedy>();
  for (const capture of captures) {
    let outcome = capture.named ? unusableCapture(capture.path) : null;
    try {
      outcome ??= await checkCapture(capture.path, flags, claimed);
    } catch (err) {
      if (!(err instanceof UnusableFileError)) throw err;
      outcome = { passed: false, skipped: true, headline: err.message, details: [], remedies: [] };
    }
    if (outcome.skipped) {
      skipped++;
    } else if (outcome.passed) {
      passed++;
    } else {
      failed++;
      for (const remedy of outcome.remedies) remedies.add(remedy);
    }
    out.line(`${outcome.skipped ? 'SKIP' : outcome.passed ? 'ok  ' : 'FAIL'} ${capture.path}: ${outcome.headline}`);
    for (const line of outcome.details) out.line(line);
  }
  out.line(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  out.flush();
  if (failed > 0) {
    throw new WorkError([`${plural(failed, 'capture')} failed`, ...[...remedies].map((r) => REMEDIES[r])].join('; '));
  }
}
