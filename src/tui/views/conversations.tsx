// The conversation views: tunnels with both directions on one row, and the
// inner flows of one tunnel conversation, both directions on one row.

import React from 'react';
import type { ConversationRow, FlowConversationRow } from '../conversations.js';
import type { Shown } from '../model.js';
import { Table, listTableProps, type Column } from '../table.js';
import { bytesText, countText } from '../units.js';

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

export function ConversationsView({ shown, width, reading }: {
  shown: Extract<Shown, { kind: 'conversations' }>; width: number; reading: boolean;
}): React.JSX.Element {
  return (
    <Table columns={CONVERSATION_COLUMNS} rows={shown.rows} {...listTableProps(shown.list, width)} tone={conversationTone}
      empty={reading ? 'reading…' : 'no packets match'} />
  );
}

export function FlowConversationsView({ shown, width }: {
  shown: Extract<Shown, { kind: 'flow-conversations' }>; width: number;
}): React.JSX.Element {
  return (
    <Table columns={FLOW_CONVERSATION_COLUMNS} rows={shown.rows} {...listTableProps(shown.list, width)} tone={conversationTone}
      empty="no flows in this conversation" />
  );
}
