// The two ways a command fails (README, "Exit codes"): the command line was
// wrong (2), or the work could not be done (1). Either is one or two lines on
// stderr; a stack trace only with --debug.

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The command line was wrong: an option, a filter, a value. */
export class UsageError extends Error {}

/** The work failed: a file, an interface, a permission. */
export class WorkError extends Error {}
