// Option parsers and the decode options shared by every command that reads packets.

import { Command, InvalidArgumentError, Option } from 'commander';
import type { DecodeOptions } from '../pipeline.js';

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more.');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('expected a number greater than 0.');
  return n;
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The options every packet-reading command takes: --filter, --decode-as, --no-verify. */
export function addDecodeOptions(command: Command): Command {
  return command
    .option('-f, --filter <expr>', 'keep only packets that match the filter expression (see docs/filters.md)')
    .option('--decode-as <table:value=proto>', 'decode a port or type as a protocol, e.g. udp:9999=vxlan (repeatable)', collect)
    .option('--no-verify', 'do not verify checksums');
}

export interface DecodeFlags {
  filter?: string;
  decodeAs?: string[];
  verify: boolean;
  count?: number;
}

export function decodeOptionsOf(flags: DecodeFlags): DecodeOptions {
  return { filter: flags.filter, decodeAs: flags.decodeAs, verify: flags.verify, count: flags.count };
}

export function warn(message: string): void {
  process.stderr.write(`tunscope: ${message}\n`);
}

export { Option };
