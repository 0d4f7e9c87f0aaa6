// The packets view: a list of packets, of which only the visible window is decoded.

import React from 'react';
import type { Shown } from '../model.js';
import type { PacketLine } from '../store.js';
import { Table, listTableProps, type Column } from '../table.js';

/** A packet list row: its number always; the rest once decoded (null when no longer held). */
export interface PacketRow {
  n: number;
  line: PacketLine | null;
}

export const PACKET_COLUMNS: Column<PacketRow>[] = [
  { title: 'NO.', width: 7, alignRight: true, cell: (row) => String(row.n) },
  // HH:MM:SS and nine digits of the second: live captures and nanosecond files have them.
  { title: 'TIME', width: 18, cell: (row) => row.line?.time ?? '' },
  { title: 'LEN', width: 5, alignRight: true, cell: (row) => (row.line === null ? '' : String(row.line.len)) },
  { title: 'SUMMARY', width: 0, cell: (row) => row.line?.summary ?? '(no longer in the buffer)' },
];

export function packetTone(row: PacketRow): string | undefined {
  if (row.line === null) return 'gray';
  if (row.line.badChecksum) return 'red';
  if (row.line.issues > 0) return 'yellow';
  return undefined;
}

export function PacketsView({ shown, width, reading }: {
  shown: Extract<Shown, { kind: 'packets' }>; width: number; reading: boolean;
}): React.JSX.Element {
  const { list } = shown;
  // Only the visible window is decoded: the table gets it as rows starting at 0.
  return (
    <Table columns={PACKET_COLUMNS} rows={shown.rows} {...listTableProps(list, width)} top={0} cursor={list.cursor - list.top}
      tone={packetTone} empty={reading ? 'reading…' : 'no packets held here'} />
  );
}
