// Option parsers and the decode options shared by every command that reads
// packets, with the tcpdump and tshark habits they accept (docs/habits.md).
// Commander is only a type here: the values and tables are in option-values.ts,
// which a capture reads its words with before commander is loaded.

import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { DecodeOptions } from '../pipeline.js';
import { DECODE_OPTIONS, addOptions } from './option-values.js';

export { collect, positiveInteger, positiveNumber, warn } from './option-values.js';

/**
 * The options every packet-reading command takes: --filter (or tshark's -Y),
 * --decode-as, --no-verify, and tcpdump's -n, accepted and ignored.
 */
export function addDecodeOptions(command: Command): Command {
  return addOptions(command, DECODE_OPTIONS);
}

/** The trailing words that are a filter, as tcpdump takes it: `read FILE udp port 4789`. */
export const FILTER_WORDS_ARGUMENT: [name: string, description: string] = [
  '[expression...]', 'a filter, as trailing words (as tcpdump takes it): the same as --filter "EXPRESSION"',
];

/** -q of the commands that read a file and print no packets: no progress line (src/output/progress.ts). */
export const QUIET_OPTION: [flags: string, description: string] = [
  '-q, --quiet', 'show no progress line on standard error (it is shown only on a terminal)',
];

export interface DecodeFlags {
  filter?: string;
  displayFilter?: string;
  decodeAs?: string[];
  verify: boolean;
  reassemble?: boolean;
  count?: number;
}

/**
 * The one filter of a command line: --filter, -Y or the trailing words.
 * Given twice, it is a usage error (which one was meant cannot be told).
 */
export function filterOf(flags: DecodeFlags, words: string[] = []): string | undefined {
  const given: [string, string][] = [];
  if (flags.filter !== undefined) given.push(['--filter', flags.filter]);
  if (flags.displayFilter !== undefined) given.push(['-Y', flags.displayFilter]);
  if (words.length > 0) given.push(['trailing words', words.join(' ')]);
  if (given.length > 1) {
    throw new UsageError(`the filter is given twice (${given.map(([how]) => how).join(' and ')}); give it once`);
  }
  return given[0]?.[1];
}

/**
 * Before a command runs (a preAction hook): its one filter, from --filter, -Y
 * or the trailing words, becomes its --filter, the only one the command reads.
 */
export function settleFilter(command: Command): void {
  if (!command.options.some((option) => option.attributeName() === 'filter')) return;
  const last = command.registeredArguments.at(-1);
  const words = last?.name() === 'expression' ? (command.processedArgs.at(-1) as string[] | undefined) ?? [] : [];
  const flags = command.opts() as DecodeFlags;
  command.setOptionValue('filter', filterOf(flags, words));
  command.setOptionValue('displayFilter', undefined);
}

export function decodeOptionsOf(flags: DecodeFlags): DecodeOptions {
  return { filter: flags.filter, decodeAs: flags.decodeAs, verify: flags.verify, count: flags.count, reassemble: flags.reassemble };
}

/** "1 packet read", "12 packets matched the filter". */
export function countLine(n: number | null, what: string): string {
  return `${n === null ? '?' : n} packet${n === 1 ? '' : 's'} ${what}`;
}
