// A second reader of capture files, written apart from src/sources/: the
// decoder tests take the records of the peer captures from it, so that a
// fault in the reader under test cannot hide one in a decoder. Layouts:
// draft-ietf-opsawg-pcap and draft-ietf-opsawg-pcapng.

import fs from 'node:fs';

export interface FileRecord {
  linktype: number;
  /** The captured bytes, copied out of the file. */
  data: Uint8Array;
  /** The length of the packet on the wire. */
  wireLength: number;
}

const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
const PCAPNG_SECTION_HEADER = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_INTERFACE_DESCRIPTION = 1;
const PCAPNG_ENHANCED_PACKET = 6;

/**
 * The records of a classic pcap file (either byte order, micro- or
 * nanosecond time stamps) or of a pcapng file (its enhanced packet blocks;
 * other blocks are skipped). A record or block that runs past the end of the
 * file is an error: the files read here are whole.
 */
export function readCaptureRecords(file: string): FileRecord[] {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 4 && view.getUint32(0, false) === PCAPNG_SECTION_HEADER) return pcapngRecords(file, bytes, view);
  return pcapRecords(file, bytes, view);
}

function pcapRecords(file: string, bytes: Uint8Array, view: DataView): FileRecord[] {
  const isMagic = (value: number) => value === PCAP_MAGIC_MICROSECONDS || value === PCAP_MAGIC_NANOSECONDS;
  if (bytes.length < 24 || !(isMagic(view.getUint32(0, true)) || isMagic(view.getUint32(0, false)))) {
    throw new Error(`${file} is neither a pcap nor a pcapng file`);
  }
  const little = isMagic(view.getUint32(0, true));
  // The link type is the low 16 bits of its field; the bits above say whether frames carry an FCS.
  const linktype = view.getUint32(20, little) & 0xffff;
  const records: FileRecord[] = [];
  for (let at = 24; at < bytes.length;) {
    if (at + 16 > bytes.length) throw new Error(`${file}: the record header at byte ${at} runs past the end`);
    const start = at + 16;
    const end = start + view.getUint32(at + 8, little);
    if (end > bytes.length) throw new Error(`${file}: the record at byte ${at} runs past the end`);
    records.push({ linktype, data: bytes.slice(start, end), wireLength: view.getUint32(at + 12, little) });
    at = end;
  }
  return records;
}

function pcapngRecords(file: string, bytes: Uint8Array, view: DataView): FileRecord[] {
  const records: FileRecord[] = [];
  let little = true;
  // Interface ids count from 0 in each section.
  const linktypes: number[] = [];
  for (let at = 0; at < bytes.length;) {
    if (at + 12 > bytes.length) throw new Error(`${file}: the block at byte ${at} runs past the end`);
    if (view.getUint32(at, false) === PCAPNG_SECTION_HEADER) {
      little = view.getUint32(at + 8, true) === PCAPNG_BYTE_ORDER_MAGIC;
      linktypes.length = 0;
    }
    const type = view.getUint32(at, little);
    const length = view.getUint32(at + 4, little);
    if (length < 12 || at + length > bytes.length) throw new Error(`${file}: the block at byte ${at} runs past the end`);
    if (type === PCAPNG_INTERFACE_DESCRIPTION) linktypes.push(view.getUint16(at + 8, little));
    if (type === PCAPNG_ENHANCED_PACKET) {
      const interfaceId = view.getUint32(at + 8, little);
      const linktype = linktypes[interfaceId];
      if (linktype === undefined) throw new Error(`${file}: the packet at byte ${at} names interface ${interfaceId}, which the section does not describe`);
      const start = at + 28;
      const end = start + view.getUint32(at + 20, little);
      if (end > at + length - 4) throw new Error(`${file}: the packet at byte ${at} runs past its block`);
      records.push({ linktype, data: bytes.slice(start, end), wireLength: view.getUint32(at + 24, little) });
    }
    at += length;
  }
  return records;
}
