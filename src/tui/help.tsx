// The `?` screen: every key the terminal UI knows, and the mouse.

import React from 'react';
import { Box, Text } from 'ink';
import { fitText } from './units.js';

export const KEY_HELP: [keys: string, what: string][] = [
  ['1', 'tunnels, one row per direction (the first view)'],
  ['2', 'conversations: both directions of each tunnel on one row, packets and bytes each way'],
  ['3', 'every packet of the capture that matches the filter'],
  ['↑ ↓  j k', 'move the selection'],
  ['PgUp PgDn', 'move a page'],
  ['Home End  g G', 'first / last row'],
  ['Enter', 'open: a tunnel\'s flows, a conversation\'s flows, a flow\'s packets, a packet'],
  ['Esc  Backspace', 'back to the previous view'],
  ['Tab', 'switch pane: tunnels / findings, layer tree / hex dump'],
  ['a', 'in a tunnel\'s flows: all packets of the tunnel'],
  ['→ ←  l h  Space', 'packet view: expand / collapse a layer'],
  ['e', 'packet view: expand or collapse every layer'],
  ['F', 'follow the TCP or UDP stream of the selected packet or flow: its payload, both directions'],
  ['x', 'stream view: ASCII or hex (Tab too)'],
  ['/', 'type a filter (the filter language): Enter applies it, Esc cancels, Ctrl-U clears'],
  ['f', 'find: type a text, Enter selects the next row that holds it (any case); an empty one, the last text again'],
  ['n  N', 'next / previous row that holds the text to find'],
  ['w', 'write the packets in view to a file: pcapng if its name ends in .pcapng, else pcap'],
  ['s', 'sort by bytes, packets or bad checksums'],
  ['p', 'pause / resume the display (reading goes on)'],
  ['mouse', 'click selects a row, a click on the selected row opens it, the wheel moves'],
  ['?', 'this help (↑ ↓ scroll it); any other key closes it'],
  ['q  Ctrl-C', 'quit'],
];

/** Lines the help has below its title. */
export const HELP_LINES = KEY_HELP.length;

export function HelpView({ width, height, top }: { width: number; height: number; top: number }): React.JSX.Element {
  const keyWidth = Math.max(...KEY_HELP.map(([keys]) => keys.length)) + 2;
  const more = top + height - 1 < KEY_HELP.length ? '  (↓ for more)' : '';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold>{`Keys${more}`}</Text>
      {KEY_HELP.slice(top, top + Math.max(0, height - 1)).map(([keys, what]) => (
        <Text key={keys} wrap="truncate">
          <Text color="cyan">{keys.padEnd(keyWidth)}</Text>
          {fitText(what, width - keyWidth)}
        </Text>
      ))}
    </Box>
  );
}
