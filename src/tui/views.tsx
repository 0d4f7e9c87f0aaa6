// The columns of the list views: tunnels (with their findings), tunnel
// conversations, the inner flows of one tunnel or conversation, and packets.

import React from 'react';
import { Box, Text } from 'ink';
import type { Finding } from '../analysis/report.js';
import type { ConversationRow, FlowConversationRow } from './conversations.js';
import type { FlowRow, PacketLine, TunnelRow } from './store.js';
import type { Column } from './table.js';
import { bytesText, countText, fitText } from './units.js';

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

/** Packets and bytes from A to B, then from B to A. */
function twoWayColumns<Row extends ConversationRow | FlowConversationRow>(): Column<Row>[] {
  return [
    { title: 'PKTS A>B', width: 8, alignRight: true, cell: (row) => countText(row.packetsAB) },
    { title: 'BYTES A>B', width: 9, alignRight: true, cell: (row) => bytesText(row.bytesAB) },
    { title: 'PKTS B>A', width: 8, alignRight: true, cell: (row) => countText(row.packetsBA) },
    { title: 'BYTES B>A', width: 9, alignRight: true, cell: (row) => bytesText(row.bytesBA) },
  ];
}

export const CONVERSATION_COLUMNS: Column<ConversationRow>[] = [
  { title: 'TUNNEL', width: 9, cell: (row) => row.ref.type },
  { title: 'ID', width: 8, alignRight: true, cell: (row) => (row.ref.id === null ? '-' : String(row.ref.id)) },
  { title: 'A', width: 0, cell: (row) => (row.ref.type === 'none' ? '(not tunnelled)' : row.ref.a) },
  { title: 'B', width: 0, cell: (row) => row.ref.b },
  ...twoWayColumns<ConversationRow>(),
  { title: 'FLOWS', width: 5, alignRight: true, cell: (row) => countText(row.flows) },
];

export const FLOW_CONVERSATION_COLUMNS: Column<FlowConversationRow>[] = [
  { title: 'PROTO', width: 7, cell: (row) => row.proto },
  { title: 'A', width: 0, cell: (row) => row.a },
  { title: 'B', width: 0, cell: (row) => row.b },
  ...twoWayColumns<FlowConversationRow>(),
];

export function conversationTone(row: ConversationRow | FlowConversationRow): string | undefined {
  return row.bad > 0 ? 'red' : undefined;
}

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

export function tunnelTone(row: TunnelRow): string | undefined {
  if (row.checksums.bad > 0) return 'red';
  if (row.findings > 0) return 'yellow';
  return undefined;
}

export function flowTone(row: FlowRow): string | undefined {
  return row.badChecksums > 0 ? 'red' : undefined;
}

export function packetTone(row: PacketRow): string | undefined {
  if (row.line === null) return 'gray';
  if (row.line.badChecksum) return 'red';
  if (row.line.issues > 0) return 'yellow';
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
