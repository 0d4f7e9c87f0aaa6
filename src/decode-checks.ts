// The decode options checked before any packet is read: a bad filter or
// --decode-as entry is a usage error. pipeline.ts checks them for every
// command; a capture checks them before it opens its interfaces, without
// loading the rest of the pipeline.

import { parseDecodeAs, type DecodeAs } from '../decoders/registry.js';
import { FilterError, parseFilter, type FilterNode } from './filter/parse.js';
import { UsageError } from './errors.js';

export function checkedDecodeAs(specs: string[] | undefined): DecodeAs[] {
  const overrides: DecodeAs[] = [];
  for (const spec of specs ?? []) {
    const parsed = parseDecodeAs(spec);
    if (typeof parsed === 'string') throw new UsageError(parsed);
    overrides.push(parsed);
  }
  return overrides;
}

export function checkedFilter(text: string | undefined): FilterNode | null {
  if (text === undefined) return null;
  try {
    return parseFilter(text);
  } catch (err) {
    if (err instanceof FilterError) throw new UsageError(`bad filter: ${err.describe()}`);
    throw err;
  }
}
