// The tunnels view: one row per tunnel direction (type, id, outer addresses)
// with its counts, and the findings pane under it.

import React from 'react';
import { Box, Text } from 'ink';
import type { Finding } from '../../analysis/report.js';
import type { Shown } from '../model.js';
import type { TunnelRow } from '../store.js';
import { Table, listTableProps, type Column } from '../table.js';
import { bytesText, countText, fitText } from '../units.js';

export const TUNNEL_COLUMNS: Column<TunnelRow>[] = [
  { title: 'TUNNEL', width: 9, cell: (row) => row.type },
  { title: 'ID', width: 8, alignRight: true, cell: (row) => (row.id === null ? '-' : String(row.id)) },
  { title: 'OUTER SRC > DST', width: 0, cell: (row) => (row.type === 'none' ? '(not tunnelled)' : `${row.src} > ${row.dst}`) },
  { title: 'PACKETS', width: 8, alignRight: true, cell: (row) => countText(row.packets) },
  { title: 'BYTES', width: 8, alignRight: true, cell: (row) => bytesText(row.bytes) },
  { title: 'FLOWS', width: 6, alignRight: true, cell: (row) => countText(row.flows) },
  { title: 'BAD', width: 5, alignRight: true, cell: (row) => countText(row.checksums.bad) },
  { title: 'OFFLOAD', width: 7, alignRight: true, cell: (row) => countText(row.checksums.offload) },
];

export function tunnelTone(row: TunnelRow): string | undefined {
  if (row.checksums.bad > 0) return 'red';
  if (row.findings > 0) return 'yellow';
  return undefined;
}

const SEVERITY_COLOURS: Record<Finding['severity'], string> = { error: 'red', warning: 'yellow', info: 'cyan' };

export interface FindingsProps {
  findings: Finding[];
  width: number;
  height: number;
  top: number;
  cursor: number;
  focused: boolean;
}

/** The findings; with the focus, the selected one is shown whole, wrapped, and Enter opens its tunnel. */
export function FindingsPane({ findings, width, height, top, cursor, focused }: FindingsProps): React.JSX.Element {
  const shown = findings.slice(top, top + height - 1);
  const hint = focused ? '  Enter: the finding\'s tunnel' : '  Tab to browse';
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate">{`FINDINGS (${findings.length})${hint}`}</Text>
      {shown.map((finding, i) => {
        const selected = focused && top + i === cursor;
        const text = `${finding.severity}: ${finding.message}`;
        return (
          <Text key={top + i} wrap={selected ? 'wrap' : 'truncate'} color={SEVERITY_COLOURS[finding.severity]} inverse={selected}>
            {selected ? text : fitText(text, width)}
          </Text>
        );
      })}
    </Box>
  );
}

export interface TunnelsViewProps {
  shown: Extract<Shown, { kind: 'tunnels' }>;
  width: number;
  height: number;
  reading: boolean;
}

export function TunnelsView({ shown, width, height, reading }: TunnelsViewProps): React.JSX.Element {
  return (
    <Box flexDirection="column" height={height}>
      <Table columns={TUNNEL_COLUMNS} rows={shown.rows} {...listTableProps(shown.list, width)} height={shown.tableRows}
        top={shown.tableTop} cursor={shown.tableCursor} focused={shown.focus === 'tunnels'} tone={tunnelTone}
        empty={reading ? 'reading…' : 'no packets match'} />
      {shown.findingsHeight > 0 ? (
        <FindingsPane findings={shown.findings} width={width} height={shown.findingsHeight}
          top={shown.findingsTop} cursor={shown.findingsCursor} focused={shown.focus === 'findings'} />
      ) : null}
    </Box>
  );
}
