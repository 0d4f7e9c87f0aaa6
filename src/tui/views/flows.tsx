// The flows view: the inner flows of one tunnel direction.

import React from 'react';
import type { Shown } from '../model.js';
import type { FlowRow } from '../store.js';
import { Table, listTableProps, type Column } from '../table.js';
import { bytesText, countText } from '../units.js';

function endpoint(address: string, port: number | undefined): string {
  if (port === undefined) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export const FLOW_COLUMNS: Column<FlowRow>[] = [
  { title: 'PROTO', width: 7, cell: (row) => row.proto },
  { title: 'SOURCE', width: 0, cell: (row) => endpoint(row.src, row.srcPort) },
  { title: 'DESTINATION', width: 0, cell: (row) => endpoint(row.dst, row.dstPort) },
  { title: 'PACKETS', width: 8, alignRight: true, cell: (row) => countText(row.packets) },
  { title: 'BYTES', width: 8, alignRight: true, cell: (row) => bytesText(row.bytes) },
  { title: 'BAD', width: 5, alignRight: true, cell: (row) => countText(row.badChecksums) },
];

export function flowTone(row: FlowRow): string | undefined {
  return row.badChecksums > 0 ? 'red' : undefined;
}

export function FlowsView({ shown, width }: { shown: Extract<Shown, { kind: 'flows' }>; width: number }): React.JSX.Element {
  return <Table columns={FLOW_COLUMNS} rows={shown.rows} {...listTableProps(shown.list, width)} tone={flowTone} empty="no flows in this tunnel" />;
}
