// The captures `tunscope test` finds under its paths (by magic number). A
// folder may hold anything: links to devices (/dev/zero never ends), named
// pipes (opening one waits for a writer), trees deeper than the system's path
// limit. Captures are read as regular files only; anything else is skipped
// with a message, and an error of the system is one line naming the path.

import fs from 'node:fs';
import path from 'node:path';
import { systemWords } from '../output/checked-file.js';
import { hasCaptureMagic } from '../sources/parser.js';
import { WorkError } from '../errors.js';

export interface FoundCapture {
  path: string;
  /** Named on the command line rather than found in a folder. */
  named: boolean;
}


const PATH_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENAMETOOLONG: 'the path is longer than the system allows',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EIO: 'input/output error',
};

/** A path short enough for one line of a message: its start and its end. */
function shortPath(file: string): string {
  return file.length <= 200 ? file : `${file.slice(0, 80)}...${file.slice(-100)} (${file.length} characters)`;
}

/** One line for what the system refused about a path. */
export function pathError(verb: string, file: string, err: unknown): WorkError {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const why = (code !== undefined ? PATH_ERRORS[code] : undefined) ?? systemWords(err);
  return new WorkError(`cannot ${verb} ${shortPath(file)}: ${why}`);
}

/** What a file that is not a regular file is, in words; null for a regular file. */
export function notRegular(stat: fs.Stats): string | null {
  if (stat.isFile()) return null;
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens a file for reading without waiting: O_NONBLOCK keeps open(2) on a
 * named pipe from waiting for a writer. The caller checks what it opened.
 */
export function openNonBlocking(file: string): number {
  return fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
}

/** Whether a regular file starts with a pcap or pcapng magic number. */
export function startsWithCaptureMagic(file: string): boolean {
  let fd: number;
  try {
    fd = openNonBlocking(file);
  } catch {
    return false;
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return false;
    const head = new Uint8Array(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && hasCaptureMagic(head);
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

function byName(a: fs.Dirent, b: fs.Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Captures in a folder and its subfolders, in name order; hidden entries and symbolic links to folders are skipped. */
function capturesUnder(dir: string, found: FoundCapture[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true }).sort(byName);
  } catch (err) {
    throw pathError('read the folder', dir, err);
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) capturesUnder(full, found);
    else if ((entry.isFile() || entry.isSymbolicLink()) && startsWithCaptureMagic(full)) found.push({ path: full, named: false });
  }
}

/** Every capture under the paths, each once, in the order given. */
export function findCaptures(paths: string[]): FoundCapture[] {
  const found: FoundCapture[] = [];
  for (const given of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(given);
    } catch (err) {
      throw pathError('read', given, err);
    }
    if (stat.isDirectory()) capturesUnder(given, found);
    else found.push({ path: given, named: true });
  }
  const seen = new Set<string>();
  return found.filter((capture) => {
    const resolved = path.resolve(capture.path);
    if (seen.has(resolved)) return false;
    seen.add(resolved);
    return true;
  });
}
