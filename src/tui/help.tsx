// The `?` screen: every key the terminal UI knows.

import React from 'react';
import { Box, Text } from 'ink';
import { fitText } from './units.js';

export const KEY_HELP: [keys: string, what: string][] = [
  ['↑ ↓  j k', 'move the selection'],
  ['PgUp PgDn', 'move a page'],
  ['Home End  g G', 'first / last row'],
  ['Enter', 'open: a tunnel\'s flows, a flow\'s packets, a packet'],
  ['Esc  Backspace', 'back to the previous view'],
  ['Tab', 'switch pane: tunnels / findings, layer tree / hex dump'],
  ['a', 'in a tunnel\'s flows: all packets of the tunnel'],
  ['→ ←  l h  Space', 'packet view: expand / collapse a layer'],
  ['e', 'packet view: expand or collapse every layer'],
  ['/', 'type a filter (the filter language): Enter applies it, Esc cancels, Ctrl-U clears'],
  ['s', 'sort by bytes, packets or bad checksums'],
  ['p', 'pause / resume the display (reading goes on)'],
  ['?', 'this help; any key closes it'],
  ['q  Ctrl-C', 'quit'],
];

export function HelpView({ width, height }: { width: number; height: number }): React.JSX.Element {
  const keyWidth = Math.max(...KEY_HELP.map(([keys]) => keys.length)) + 2;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold>Keys</Text>
      {KEY_HELP.slice(0, Math.max(0, height - 1)).map(([keys, what]) => (
        <Text key={keys} wrap="truncate">
          <Text color="cyan">{keys.padEnd(keyWidth)}</Text>
          {fitText(what, width - keyWidth)}
        </Text>
      ))}
    </Box>
  );
}
