// The body of the screen: the view on top of the stack, drawn from what the
// model worked out (rows, selection, scroll); nothing here decides anything.

import React from 'react';
import { Box, Text } from 'ink';
import { streamTotals } from './follow.js';
import { HelpView } from './help.js';
import type { Shown } from './model.js';
import { PacketView } from './packet-view.js';
import { Table } from './table.js';
import { bytesText, fitText } from './units.js';
import {
  CONVERSATION_COLUMNS, FLOW_COLUMNS, FLOW_CONVERSATION_COLUMNS, FindingsPane, PACKET_COLUMNS, TUNNEL_COLUMNS,
  conversationTone, flowTone, packetTone, tunnelTone,
} from './views.js';

export interface BodyProps {
  shown: Shown;
  width: number;
  height: number;
  /** The source is still being read (an empty table says so). */
  reading: boolean;
}

/** Side A's lines in one colour, side B's in another, as tshark's follow dialog does. */
const SIDE_COLOURS = { a: 'red', b: 'blue' };

export function Body({ shown, width, height, reading }: BodyProps): React.JSX.Element {
  const { list } = shown;
  const tableProps = { width, height: list.pageRows, top: list.top, cursor: list.cursor, focused: true };
  switch (shown.kind) {
    case 'help':
      return <HelpView width={width} height={height} top={list.top} />;
    case 'tunnels':
      return (
        <Box flexDirection="column" height={height}>
          <Table columns={TUNNEL_COLUMNS} rows={shown.rows} {...tableProps} height={shown.tableRows}
            top={shown.tableTop} cursor={shown.tableCursor} focused={shown.focus === 'tunnels'} tone={tunnelTone}
            empty={reading ? 'reading…' : 'no packets match'} />
          {shown.findingsHeight > 0 ? (
            <FindingsPane findings={shown.findings} width={width} height={shown.findingsHeight}
              top={shown.findingsTop} cursor={shown.findingsCursor} focused={shown.focus === 'findings'} />
          ) : null}
        </Box>
      );
    case 'conversations':
      return (
        <Table columns={CONVERSATION_COLUMNS} rows={shown.rows} {...tableProps} tone={conversationTone}
          empty={reading ? 'reading…' : 'no packets match'} />
      );
    case 'flows':
      return <Table columns={FLOW_COLUMNS} rows={shown.rows} {...tableProps} tone={flowTone} empty="no flows in this tunnel" />;
    case 'flow-conversations':
      return (
        <Table columns={FLOW_CONVERSATION_COLUMNS} rows={shown.rows} {...tableProps} tone={conversationTone}
          empty="no flows in this conversation" />
      );
    case 'packets':
      // Only the visible window is decoded: the table gets it as rows starting at 0.
      return (
        <Table columns={PACKET_COLUMNS} rows={shown.rows} {...tableProps} top={0} cursor={list.cursor - list.top}
          tone={packetTone} empty={reading ? 'reading…' : 'no packets held here'} />
      );
    case 'packet':
      if (shown.opened === null) return <Text color="yellow">{`Packet ${shown.n} is no longer held (the live buffer has moved on).`}</Text>;
      return (
        <PacketView opened={shown.opened} rows={shown.tree} width={width} height={height}
          treeTop={list.top} cursor={list.cursor} hexTop={shown.hexTop} focus={shown.focus} />
      );
    case 'stream': {
      const { stream } = shown;
      if (stream === null) return <Text color="yellow">The packet is no longer held (the live buffer has moved on).</Text>;
      const totals = streamTotals(stream);
      const title = `A ${stream.a}: ${bytesText(totals.a)} · B ${stream.b}: ${bytesText(totals.b)} · `
        + `${stream.packets.length} packets, ${stream.segments.length} with payload · ${shown.hex ? 'hex' : 'ASCII'} (x: ${shown.hex ? 'ASCII' : 'hex'})`;
      return (
        <Box flexDirection="column" height={height}>
          <Text bold wrap="truncate">{fitText(title, width)}</Text>
          {shown.lines.length === 0 ? <Text dimColor>no payload in this stream</Text> : null}
          {shown.lines.slice(list.top, list.top + list.pageRows).map((line, i) => (
            <Text key={list.top + i} wrap="truncate" color={line.fromA ? SIDE_COLOURS.a : SIDE_COLOURS.b}
              inverse={list.top + i === list.cursor}>
              {fitText(line.text === '' ? ' ' : line.text, width)}
            </Text>
          ))}
        </Box>
      );
    }
  }
}
