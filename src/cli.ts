#!/bin/sh
// 2>/dev/null; exec node --max-semi-space-size=4 --no-parallel-scavenge "$0" "$@"
// Run as a program, the two lines above are a shell script that starts this
// file again under node with two V8 settings, which can only be given when
// node starts: the shell tries to run the directory "//", quietly fails, and
// goes on; to JavaScript the line is a comment.
// - Young-generation semi-spaces of at most 4 MiB (node lets them grow to 16):
//   decoding leaves garbage that dies young, and a smaller nursery keeps 20-25
//   MB less resident at any size of capture, for a count that collects it four
//   times as often.
// - Young-generation collections on the collecting thread alone: `stats` keeps
//   every core busy with its own threads, and helpers that must wait for a core
//   made each collection longer (over 1,000,000 packets on two threads, 0.67 s
//   of pauses in all against 0.75-0.88 s).
//
// Command-line wiring only: command-line.ts parses and runs; each command
// defines its options in src/commands/.

import { runCommandLine } from './command-line.js';

runCommandLine(process.argv).then((code) => {
  process.exitCode = code;
});
