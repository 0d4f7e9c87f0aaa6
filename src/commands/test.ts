// `tunscope test PATH...`: regression tests over captures, each compared with
// the expectation files beside it (NAME.expected, NAME.expect.json). The
// engine is src/regress/: discovery of captures, expectation files,
// assertions, and the check of each capture (check.ts).

import { Option, type Command } from 'commander';
import { OutputWriter } from '../output/writer.js';
import { runRegression, type RegressionOptions } from '../regress/check.js';

async function runTest(paths: string[], flags: RegressionOptions): Promise<void> {
  await runRegression(paths, flags, new OutputWriter());
}

export function defineTestCommand(program: Command): void {
  program
    .command('test')
    .description('decode every capture under PATH and compare it with the expectation files beside it')
    .argument('<path...>', 'capture files, or folders searched for captures (by magic number)')
    .option('--update', 'write NAME.expected from the current decoding and say which changed')
    .addOption(new Option('--format <format>', 'what NAME.expected holds: read\'s lines (text) or read --json lines (json)')
      .choices(['text', 'json']).default('text'))
    .option('--no-reassemble', 'do not put IP fragments back together (by default a whole datagram follows its last fragment)')
    .action(runTest);
}
