// `w`: the packets in view written to a capture file, their bytes as they
// were read. A name ending in .pcapng gets pcapng (which holds several link
// types); any other name gets pcap, which holds one.

import fs from 'node:fs';
import { WorkError } from '../errors.js';
import { openCaptureWriter, type CaptureFormat } from '../output/capture-writer.js';
import type { CaptureRecord } from '../sources/record.js';

export interface SaveResult {
  text: string;
  error: boolean;
}

export function formatFor(path: string): CaptureFormat {
  return path.toLowerCase().endsWith('.pcapng') ? 'pcapng' : 'pcap';
}

/** Write packets `numbers` (those still held) to `path`; what happened, as the status line says it. */
export function savePackets(path: string, numbers: ArrayLike<number>, record: (n: number) => CaptureRecord | null): SaveResult {
  const name = path.trim();
  if (name === '') return { text: 'nothing written: no file name', error: true };
  const format = formatFor(name);
  let missing = 0;
  try {
    const writer = openCaptureWriter(name, format);
    let linktype = 1;
    try {
      for (let i = 0; i < numbers.length; i++) {
        const found = record(numbers[i]);
        if (found === null) {
          missing++;
          continue;
        }
        linktype = found.linktype;
        writer.write(found, found.linktype);
      }
    } catch (err) {
      // No half-written file is left behind.
      writer.close();
      fs.rmSync(name, { force: true });
      throw err;
    }
    if ('closeWithLinktype' in writer) writer.closeWithLinktype(linktype);
    else writer.close();
    const gone = missing === 0 ? '' : ` (${missing} no longer held)`;
    return { text: `wrote ${writer.packets} packet${writer.packets === 1 ? '' : 's'} to ${name} (${format})${gone}`, error: false };
  } catch (err) {
    if (err instanceof WorkError) return { text: err.message, error: true };
    throw err;
  }
}
