// The packet view: the nested layer tree beside a hex dump in which the
// bytes of the selected layer are highlighted.

import React from 'react';
import { Box, Text } from 'ink';
import type { ChecksumStatus } from '../../decoders/types.js';
import { isoText } from '../output/timestamp.js';
import { hexBytesPerRow, hexRowWidth, hexRows } from './hex-rows.js';
import { layerByteRange, type TreeRow } from './layer-tree.js';
import type { OpenedPacket } from './store.js';
import { fitText } from './units.js';

export const VERDICT_COLOURS: Record<ChecksumStatus, string> = {
  good: 'green', bad: 'red', offload: 'yellow', zero: 'cyan', unverified: 'gray',
};

function rowColour(row: TreeRow): string | undefined {
  if (row.kind === 'issue') return 'red';
  if (row.kind === 'tunnel' || row.kind === 'quote') return 'magenta';
  if (row.verdict !== undefined && (row.kind === 'field' || row.verdict !== 'good')) return VERDICT_COLOURS[row.verdict];
  return undefined;
}

function rowText(row: TreeRow): string {
  const marker = row.kind === 'layer' ? (row.expanded ? '▾ ' : '▸ ') : '  ';
  return `${'  '.repeat(row.depth)}${marker}${row.text}`;
}

export interface PacketViewProps {
  opened: OpenedPacket;
  rows: TreeRow[];
  width: number;
  height: number;
  treeTop: number;
  cursor: number;
  hexTop: number;
  focus: 'tree' | 'hex';
}

export function PacketView(props: PacketViewProps): React.JSX.Element {
  const { opened, rows, width, height, treeTop, cursor, hexTop, focus } = props;
  const { record, packet, n } = opened;
  const perRow = hexBytesPerRow(width);
  const hexWidth = hexRowWidth(perRow);
  const treeWidth = Math.max(10, width - hexWidth - 3);
  const paneHeight = Math.max(1, height - 2);
  const selected = rows[cursor];
  const [start, end] = selected === undefined ? [0, 0] : layerByteRange(packet, selected.layer, record.bytes.length);
  const hex = hexRows(record.bytes, perRow, hexTop, paneHeight, start, end);
  const shown = rows.slice(treeTop, treeTop + paneHeight);
  const layer = selected === undefined ? undefined : packet.layers[selected.layer];
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate" bold>
        {fitText(`Packet ${n}: ${record.len} bytes on wire, ${record.caplen} captured, ${isoText(record)}`, width)}
      </Text>
      <Box flexDirection="row" height={paneHeight}>
        <Box flexDirection="column" width={treeWidth}>
          {shown.map((row, i) => {
            const index = treeTop + i;
            return (
              <Text key={index} wrap="truncate" color={rowColour(row)} bold={row.kind === 'layer'}
                inverse={index === cursor && focus === 'tree'} underline={index === cursor && focus !== 'tree'}>
                {fitText(rowText(row), treeWidth)}
              </Text>
            );
          })}
        </Box>
        <Box width={2} marginLeft={1} borderStyle="single" borderTop={false} borderBottom={false} borderRight={false} borderDimColor />
        <Box flexDirection="column" width={hexWidth}>
          {hex.map((line) => (
            <Text key={line.offset} wrap="truncate">
              <Text dimColor={focus !== 'hex'}>{`${line.offset}  `}</Text>
              {line.hex.map((span, i) => <Text key={i} inverse={span.highlighted} color={span.highlighted ? 'cyan' : undefined}>{span.text}</Text>)}
              <Text> </Text>
              {line.ascii.map((span, i) => <Text key={i} inverse={span.highlighted} color={span.highlighted ? 'cyan' : undefined}>{span.text}</Text>)}
            </Text>
          ))}
        </Box>
      </Box>
      <Text wrap="truncate" dimColor>
        {fitText(selected === undefined || layer === undefined ? '' : `${selected.text.trim()}  ·  ${layer.proto} bytes ${start}-${Math.max(start, end - 1)}`, width)}
      </Text>
    </Box>
  );
}
