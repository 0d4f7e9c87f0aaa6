// The command line, parsed and run: each command's module loaded when it is
// named, tcpdump's and tshark's habits (-r, -i, a bare file) turned into
// commands, errors turned into one line on stderr and an exit code (0 done,
// 1 the work failed, 2 the command line was wrong; anything else thrown is an
// internal error). cli.ts runs it for the process; the fuzz harness runs it
// many times in one process.

import fs from 'node:fs';
import type { Command } from 'commander';
import { warn } from './commands/option-values.js';
import { CaptureError } from './sources/record.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, WorkError } from './errors.js';

type DefineCommand = (program: Command) => void;

/**
 * Each command's module, in the order `--help` lists them. Only the module of
 * the command being run is loaded (every one for `--help`, `help` or a word
 * that is no command): the others' took 25-30 ms of every start.
 */
const COMMANDS: Record<string, () => Promise<DefineCommand>> = {
  read: async () => (await import('./commands/read.js')).defineReadCommand,
  tui: async () => (await import('./commands/tui.js')).defineTuiCommand,
  stats: async () => (await import('./commands/stats.js')).defineStatsCommand,
  capture: async () => (await import('./commands/capture.js')).defineCaptureCommand,
  interfaces: async () => (await import('./commands/interfaces.js')).defineInterfacesCommand,
  trace: async () => (await import('./commands/trace.js')).defineTraceCommand,
  decap: async () => (await import('./commands/decap.js')).defineDecapCommand,
  test: async () => (await import('./commands/test.js')).defineTestCommand,
};

/** Flags of tcpdump and tshark that take no value and may share a word with -r or -i (`-nnr FILE`). */
const CLUSTER_FLAGS = /^[neqvVx]*$/;
/** -r or -i, after such flags, with its value joined or not. */
const INPUT_FLAG = /^-([A-Za-z]*?)([ri])(.*)$/;

/**
 * tcpdump's and tshark's way of naming the input: `-r FILE ...` is
 * `read FILE ...`, `-i IFACE ...` is `capture IFACE ...`, wherever -r or -i
 * stands among the options (also as the last letter of a cluster, `-nnr FILE`,
 * or with the value joined, `-rFILE`). Other command lines are returned as they are.
 */
export function commandOfHabit(args: string[]): string[] {
  const first = args.find((arg) => arg !== '--debug');
  if (first === undefined || !first.startsWith('-') || first.startsWith('--')) return args;
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  const found: number[] = [];
  for (let i = 0; i < end; i++) if (INPUT_FLAG.test(args[i]) && CLUSTER_FLAGS.test(INPUT_FLAG.exec(args[i])![1])) found.push(i);
  if (found.length === 0) return args;
  if (found.length > 1) throw new UsageError('give one input: -r FILE (read a file) or -i IFACE (capture live), once');
  const i = found[0];
  const [, flags, letter, joined] = INPUT_FLAG.exec(args[i])!;
  const value = joined !== '' ? joined : args[i + 1];
  if (value === undefined) throw new UsageError(`-${letter} needs ${letter === 'r' ? 'a file' : 'an interface'}`);
  const rest = [...args.slice(0, i), ...(flags === '' ? [] : [`-${flags}`]), ...args.slice(i + (joined !== '' ? 1 : 2))];
  return [letter === 'r' ? 'read' : 'capture', value, ...rest];
}

/** A word as a shell would need it typed again. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function isFile(path: string): boolean {
  try {
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Commander, once loaded: a capture that reads its own words never loads it. */
let commander: typeof import('commander') | null = null;

async function buildProgram(args: string[]): Promise<Command> {
  commander = await import('commander');
  const { settleFilter } = await import('./commands/options.js');
  const program = new commander.Command();
  program
    .name('tunscope')
    .description('Decode, verify and summarise tunnelled network traffic (VXLAN, Geneve, GRE, ERSPAN, IP-in-IP).')
    .version('0.1.0', '--version', 'print the version')
    .option('--debug', 'show stack traces for errors')
    .addHelpText('after', '\nAs in tcpdump: `tunscope -r FILE [EXPRESSION]` is `read`, `tunscope -i IFACE` is `capture IFACE`\n'
      + '(docs/habits.md lists the tcpdump and tshark flags tunscope takes).');
  // The program's own options take no values: the first other word names the command.
  const named = args.find((arg) => !arg.startsWith('-'));
  // `tunscope FILE`, as tcpdump users may type it.
  if (named !== undefined && named !== 'help' && !Object.hasOwn(COMMANDS, named) && isFile(named)) {
    throw new UsageError(`unknown command '${named}'; did you mean: tunscope read ${shellWord(named)}`);
  }
  const names = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  for (const define of await Promise.all(names.map((name) => COMMANDS[name]()))) define(program);
  for (const command of [program, ...program.commands]) {
    command.exitOverride().showHelpAfterError('(run with --help for usage)').configureOutput({
      // Every message starts with "tunscope:"; commander's "(Did you mean x?)" joins its line.
      outputError: (text, write) => write(`tunscope: ${text.replace(/^error: /, '').replace(/\n\(Did you mean (.*)\?\)/, '; did you mean $1?')}`),
    });
  }
  program.hook('preAction', (_program, command) => settleFilter(command));
  return program;
}

/**
 * `capture ...` run without commander when capture's own table reads its
 * words (capture-start.ts): what is loaded before `listening on` is what
 * opening the interfaces needs. False when commander must read them.
 */
async function captureQuickly(args: string[]): Promise<boolean> {
  const words = args[0] === '--debug' ? args.slice(1) : args;
  if (words[0] !== 'capture') return false;
  const { readCaptureWords, startCapture } = await import('./commands/capture-start.js');
  const read = readCaptureWords(words.slice(1).filter((word) => word !== '--debug'));
  if (read === null) return false;
  const started = await startCapture(read.interfaces, read.flags);
  await (await import('./commands/capture.js')).captureFrom(started, read.flags, null);
  return true;
}

/** Runs one command line (`argv` as process.argv has it) and returns its exit code; errors are told on stderr. */
export async function runCommandLine(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const args = commandOfHabit(argv.slice(2));
    if (!(await captureQuickly(args))) await (await buildProgram(args)).parseAsync(args, { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    // Commander has printed its own message (an unknown option, --help, --version).
    if (commander !== null && err instanceof commander.CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (debug) process.stderr.write(`${(err as Error).stack}\n`);
    if (err instanceof UsageError) {
      warn(err.message);
      return EXIT_USAGE;
    }
    if (err instanceof CaptureError || err instanceof WorkError) {
      warn(err.message);
      return EXIT_FAILED;
    }
    warn(`internal error: ${(err as Error).message} (run with --debug for details)`);
    return EXIT_FAILED;
  }
}
