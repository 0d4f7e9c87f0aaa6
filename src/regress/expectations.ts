// The expectation files beside each capture: NAME.expected (the canonical
// decoding) and NAME.expect.json (assertions, assertions.ts). They are read
// as regular files only, up to a size limit; anything else is skipped with a
// message. NAME.expected is replaced whole: written beside it through the
// checked writer, then renamed over it.

import fs from 'node:fs';
import path from 'node:path';
import { CheckedFile, systemWords } from '../output/checked-file.js';
import { WorkError } from '../errors.js';
import { notRegular, openNonBlocking, pathError } from './discovery.js';

/** NAME.expected is one line per packet; this is some millions of them. */
export const MAX_EXPECTED_BYTES = 256 << 20;

/** NAME.expect.json is written by hand. */
export const MAX_ASSERTIONS_BYTES = 1 << 20;

export interface ExpectationPaths {
  /** NAME.expected and NAME.expect.json beside the capture. */
  expected: string;
  assertions: string;
}

export function expectationPaths(capture: string): ExpectationPaths {
  const { dir, name } = path.parse(capture);
  return { expected: path.join(dir, `${name}.expected`), assertions: path.join(dir, `${name}.expect.json`) };
}

/** An expectation file that is there but cannot be used: the capture is skipped with this message. */
export class UnusableFileError extends Error {}

/**
 * The text of an expectation file, or null when there is none. A file that
 * is not a regular file, or is larger than `limit` bytes, is an
 * UnusableFileError; an error of the system is a WorkError.
 */
export function readExpectationFile(file: string, limit: number): string | null {
  let fd: number;
  try {
    fd = openNonBlocking(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw pathError('read', file, err);
  }
  try {
    const stat = fs.fstatSync(fd);
    const what = notRegular(stat);
    if (what !== null) throw new UnusableFileError(`${file} is ${what}, not a regular file; skipped`);
    const tooLarge = `${file} is larger than the ${limit >> 20 || limit} ${limit >= 1 << 20 ? 'MiB' : 'bytes'} an expectation file may hold; skipped`;
    if (stat.size > limit) throw new UnusableFileError(tooLarge);
    // Read up to one byte past the limit: a file that grows while it is read is caught too.
    const buffer = Buffer.alloc(Math.min(stat.size, limit) + 1);
    let length = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length === buffer.length) {
        if (length > limit) throw new UnusableFileError(tooLarge);
        break;
      }
    }
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    if (err instanceof UnusableFileError) throw err;
    throw pathError('read', file, err);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Replaces `file` (or what its symbolic link points to) with the lines, or
 * leaves it as it was: the lines go to a hidden file beside it, through the
 * checked writer, and are renamed over it only once they are all on disk.
 */
export function writeExpectationFile(file: string, lines: readonly string[], was: string): void {
  let target = file;
  try {
    target = fs.realpathSync(file);
  } catch {
    // Not there yet: written where it was named.
  }
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  let out: CheckedFile | null = null;
  try {
    out = new CheckedFile(temporary, 'line');
    for (const line of lines) out.unit([Buffer.from(`${line}\n`)], true);
    out.close();
    fs.renameSync(temporary, target);
  } catch (err) {
    out?.close();
    if (out !== null) fs.rmSync(temporary, { force: true });
    const why = out?.reason ?? (err instanceof WorkError ? err.message.replace(`cannot write ${temporary}: `, '') : systemWords(err));
    throw new WorkError(`cannot write ${file}: ${why}; ${was}`);
  }
}
