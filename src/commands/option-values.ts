// Option values and option tables that need no command-line library: a
// capture parses its own words with them (command-line.ts), so that commander
// is not loaded before it is listening, and commander builds its options from
// the same tables (options.ts, capture.ts).

/**
 * A value an option does not take. Commander words it as its own
 * InvalidArgumentError, which it recognises by this code.
 */
export class InvalidOptionValue extends Error {
  readonly code = 'commander.invalidArgument';
  readonly exitCode = 1;
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidOptionValue('expected a whole number of 1 or more.');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidOptionValue('expected a number greater than 0.');
  return n;
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function warn(message: string): void {
  process.stderr.write(`tunscope: ${message}\n`);
}

/** One option as commander's `.option(flags, description, parse, default)` takes it. */
export interface OptionSpec {
  /** `-c, --count <n>`, `--no-verify`, `--json`. */
  flags: string;
  description: string;
  parse?: (value: string, previous: never) => unknown;
  default?: unknown;
}

/**
 * The options every packet-reading command takes: --filter (or tshark's -Y),
 * --decode-as, --no-verify, and tcpdump's -n, accepted and ignored.
 */
export const DECODE_OPTIONS: OptionSpec[] = [
  { flags: '-f, --filter <expr>', description: 'keep only packets that match the filter expression (see docs/filters.md)' },
  { flags: '-Y, --display-filter <expr>', description: 'the same as --filter, as tshark takes it (in tunscope\'s filter language)' },
  { flags: '--decode-as <table:value=proto>', description: 'decode a port or type as a protocol, e.g. udp:9999=vxlan (repeatable)', parse: collect },
  { flags: '--no-verify', description: 'do not verify checksums' },
  { flags: '--no-reassemble', description: 'do not put IP fragments back together (by default a whole datagram follows its last fragment)' },
  { flags: '-n, --numeric', description: 'accepted for tcpdump\'s -n and -nn: tunscope never resolves addresses or ports to names' },
];

interface ParsedFlags {
  short?: string;
  long: string;
  /** The key in the options object: camelCase of the long name, without `no-`. */
  key: string;
  takesValue: boolean;
  negate: boolean;
}

function parseFlags(flags: string): ParsedFlags {
  const match = /^(?:(-[A-Za-z]), )?(--[a-z][a-z-]*)(?: <[^>]+>)?$/.exec(flags);
  if (match === null) throw new Error(`option flags not understood: ${flags}`);
  const long = match[2];
  const negate = long.startsWith('--no-');
  const key = long.slice(negate ? 5 : 2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return { short: match[1], long, key, takesValue: flags.endsWith('>'), negate };
}

/**
 * The words of a command line (after the command's name) read with the given
 * options, as commander reads them: options anywhere among the arguments,
 * `--long value`, `--long=value`, `-s value`, values checked by their parser,
 * defaults filled in. Null when the words hold anything else (an unknown
 * option, --help, a grouped or missing value, a value the parser refuses, `--`):
 * commander then reads them and says what is wrong.
 */
export function readOptionWords(words: string[], specs: OptionSpec[]): { args: string[]; opts: Record<string, unknown> } | null {
  const options = specs.map((spec) => ({ spec, ...parseFlags(spec.flags) }));
  const opts: Record<string, unknown> = {};
  for (const o of options) {
    if (o.spec.default !== undefined) opts[o.key] = o.spec.default;
    else if (o.negate) opts[o.key] = true;
  }
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word.length < 2 || !word.startsWith('-')) {
      args.push(word);
      continue;
    }
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = eq < 0 ? word : word.slice(0, eq);
    const option = options.find((o) => o.long === name || o.short === name);
    if (option === undefined) return null;
    if (!option.takesValue) {
      if (eq >= 0) return null;
      opts[option.key] = !option.negate;
      continue;
    }
    const value = eq >= 0 ? word.slice(eq + 1) : words[++i];
    if (value === undefined) return null;
    try {
      opts[option.key] = option.spec.parse === undefined ? value : option.spec.parse(value, opts[option.key] as never);
    } catch (err) {
      if (err instanceof InvalidOptionValue) return null;
      throw err;
    }
  }
  return { args, opts };
}

/** What addOptions needs of a commander command (a type only: commander is not loaded here). */
interface OptionTarget {
  option(flags: string, description: string, ...parseAndDefault: never[]): unknown;
}

/** Gives a commander command the options of a table. */
export function addOptions<C extends OptionTarget>(command: C, specs: OptionSpec[]): C {
  for (const spec of specs) {
    // Commander takes (flags, description, default) or (flags, description, parse, default).
    const rest = spec.parse === undefined ? [spec.default] : [spec.parse, spec.default];
    command.option(spec.flags, spec.description, ...(rest as never[]));
  }
  return command;
}
