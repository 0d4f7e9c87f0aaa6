// The command line, parsed and run: each command's module loaded when it is
// named, its errors turned into one line on stderr and an exit code (0 done,
// 1 the work failed, 2 the command line was wrong; anything else thrown is an
// internal error). cli.ts runs it for the process; the fuzz harness runs it
// many times in one process.

import { Command, CommanderError } from 'commander';
import { warn } from './commands/options.js';
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

async function buildProgram(argv: string[]): Promise<Command> {
  const program = new Command();
  program
    .name('tunscope')
    .description('Decode, verify and summarise tunnelled network traffic (VXLAN, Geneve, GRE, ERSPAN, IP-in-IP).')
    .version('0.1.0')
    .option('--debug', 'show stack traces for errors');
  // The program's own options take no values: the first other word names the command.
  const named = argv.slice(2).find((arg) => !arg.startsWith('-'));
  const names = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  for (const define of await Promise.all(names.map((name) => COMMANDS[name]()))) define(program);
  for (const command of [program, ...program.commands]) {
    command.exitOverride().showHelpAfterError('(run with --help for usage)');
  }
  return program;
}

/** Runs one command line (`argv` as process.argv has it) and returns its exit code; errors are told on stderr. */
export async function runCommandLine(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    await (await buildProgram(argv)).parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    // Commander has printed its own message (an unknown option, --help, --version).
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
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

