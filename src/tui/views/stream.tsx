// The stream view: the payload of a TCP or UDP stream, both directions in
// capture order, as ASCII or hex.

import React from 'react';
import { Box, Text } from 'ink';
import { streamTotals } from '../follow.js';
import type { Shown } from '../model.js';
import { bytesText, fitText } from '../units.js';

/** Side A's lines in one colour, side B's in another, as tshark's follow dialog does. */
const SIDE_COLOURS = { a: 'red', b: 'blue' };

export function StreamView({ shown, width, height }: {
  shown: Extract<Shown, { kind: 'stream' }>; width: number; height: number;
}): React.JSX.Element {
  const { stream, list } = shown;
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
