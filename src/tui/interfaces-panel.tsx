// The panel of a live capture's interfaces, under the view (its lines:
// interface-lines.ts).

import React from 'react';
import { Box, Text } from 'ink';

export function InterfacesPanel({ lines }: { lines: string[] }): React.JSX.Element | null {
  if (lines.length === 0) return null;
  return (
    <Box flexDirection="column">
      {lines.map((text, i) => <Text key={i} wrap="truncate" dimColor={i === 0}>{text}</Text>)}
    </Box>
  );
}
