#!/usr/bin/env node
// Command-line wiring only: parse options, build a source and its sinks.

import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { decodeCapture, prepareDecode, type DecodeOptions } from './pipeline.js';
import { OutputWriter } from './output/writer.js';
import { packetJson } from './output/json.js';
import { packetLine } from './output/line.js';
import { packetTree } from './output/tree.js';
import { hexDump } from './output/hex.js';
import { CaptureError } from './sources/record.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, WorkError } from './errors.js';

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more.');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface ReadOptions {
  verbose?: boolean;
  hex?: boolean;
  json?: boolean;
  count?: number;
  filter?: string;
  decodeAs: string[];
  verify: boolean;
}

function warn(message: string): void {
  process.stderr.write(`tunscope: ${message}\n`);
}

async function runRead(file: string, options: ReadOptions): Promise<void> {
  const decodeOptions: DecodeOptions = {
    filter: options.filter, decodeAs: options.decodeAs, verify: options.verify, count: options.count,
  };
  const prepared = prepareDecode(decodeOptions);
  const out = new OutputWriter();
  const summary = await decodeCapture(file, prepared, (n, record, packet) => {
    if (options.json) out.line(packetJson(n, record, packet));
    else if (options.verbose) out.line(packetTree(n, record, packet));
    else out.line(packetLine(record, packet));
    if (options.hex) out.line(hexDump(record.bytes));
    if (options.verbose && !options.json) out.line('');
    return !out.closed;
  });
  out.flush();
  if (summary.warning && !out.closed) warn(`warning: ${summary.warning}`);
}

function buildProgram(): Command {
  const program = new Command();
  program
    .name('tunscope')
    .description('Decode, verify and summarise tunnelled network traffic (VXLAN, Geneve, GRE, ERSPAN, IP-in-IP).')
    .version('0.1.0')
    .option('--debug', 'show stack traces for errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('read')
    .description('print every packet of a capture, one line each, every tunnel level shown')
    .argument('<file>', 'a pcap or pcapng file, or - for standard input')
    .option('-v, --verbose', 'print every layer and field as a tree, indented by tunnel depth')
    .option('-x, --hex', 'print a hex and ASCII dump under each packet')
    .option('--json', 'print one JSON object per packet per line')
    .option('-c, --count <n>', 'stop after N matching packets', positiveInteger)
    .option('-f, --filter <expr>', 'print only packets that match the filter expression')
    .option('--decode-as <table:value=proto>', 'decode a port or type as a protocol, e.g. udp:9999=vxlan (repeatable)', collect, [])
    .option('--no-verify', 'do not verify checksums')
    .action(runRead);

  for (const command of program.commands) command.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message already.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (debug) process.stderr.write(`${(err as Error).stack}\n`);
    if (err instanceof UsageError) {
      warn((err as Error).message);
      return EXIT_USAGE;
    }
    if (err instanceof CaptureError || err instanceof WorkError) {
      warn((err as Error).message);
      return EXIT_FAILED;
    }
    warn(`internal error: ${(err as Error).message} (run with --debug for details)`);
    return EXIT_FAILED;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
