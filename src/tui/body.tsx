// The body of the screen: the view on top of the stack, one module per view
// (views/, packet-view.tsx, help.tsx), drawn from what the model worked out
// (rows, selection, scroll); nothing here decides anything.

import React from 'react';
import { Text } from 'ink';
import { HelpView } from './help.js';
import type { Shown } from './model.js';
import { PacketView } from './packet-view.js';
import { ConversationsView, FlowConversationsView } from './views/conversations.js';
import { FlowsView } from './views/flows.js';
import { PacketsView } from './views/packets.js';
import { StreamView } from './views/stream.js';
import { TunnelsView } from './views/tunnels.js';

export interface BodyProps {
  shown: Shown;
  width: number;
  height: number;
  /** The source is still being read (an empty table says so). */
  reading: boolean;
}

export function Body({ shown, width, height, reading }: BodyProps): React.JSX.Element {
  const { list } = shown;
  switch (shown.kind) {
    case 'help':
      return <HelpView width={width} height={height} top={list.top} />;
    case 'tunnels':
      return <TunnelsView shown={shown} width={width} height={height} reading={reading} />;
    case 'conversations':
      return <ConversationsView shown={shown} width={width} reading={reading} />;
    case 'flows':
      return <FlowsView shown={shown} width={width} />;
    case 'flow-conversations':
      return <FlowConversationsView shown={shown} width={width} />;
    case 'packets':
      return <PacketsView shown={shown} width={width} reading={reading} />;
    case 'packet':
      if (shown.opened === null) return <Text color="yellow">{`Packet ${shown.n} is no longer held (the live buffer has moved on).`}</Text>;
      return (
        <PacketView opened={shown.opened} rows={shown.tree} width={width} height={height}
          treeTop={list.top} cursor={list.cursor} hexTop={shown.hexTop} focus={shown.focus} />
      );
    case 'stream':
      return <StreamView shown={shown} width={width} height={height} />;
  }
}
