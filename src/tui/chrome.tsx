// Around the view: the two header lines (the source and its state, the
// filter and sort), the breadcrumb of open views, and the foot line (the
// keys of this view, a notice, or the prompt being typed).

import React from 'react';
import { Box, Text } from 'ink';
import type { Frame, UiState } from './state.js';
import type { SortKey, StoreStatus } from './store.js';
import { clockText } from '../output/progress.js';
import { countText, fitText, rateText } from './units.js';

export function headerLines(status: StoreStatus, sort: SortKey, paused: boolean): [string, string] {
  const matched = status.filter === '' ? '' : `, ${countText(status.matched)} match`;
  const parts = [`tunscope · ${status.source}`, `${countText(status.seen)} packets${matched}`, rateText(status.rate)];
  if (status.kind === 'live') parts.push(`drops ${status.drops === null ? '?' : countText(status.drops)}`);
  let state: string;
  switch (status.state) {
    case 'reading':
      state = `reading ${Math.floor((status.progress ?? 0) * 100)}%`;
      if (typeof status.readRate === 'number') state += `, ${rateText(status.readRate)} read`;
      if (typeof status.secondsLeft === 'number') state += `, ${clockText(status.secondsLeft)} left`;
      break;
    case 'done': state = 'done'; break;
    case 'live': state = 'live'; break;
    case 'ended': state = 'capture ended'; break;
    case 'failed': state = 'failed'; break;
  }
  parts.push(paused ? `${state}, PAUSED` : state);
  return [parts.join(' · '), `filter: ${status.filter === '' ? '(none)' : status.filter} · sort: ${sort}`];
}

function frameTitle(frame: Frame): string {
  switch (frame.kind) {
    case 'tunnels': return 'Tunnels';
    case 'conversations': return 'Conversations';
    case 'packet': return `packet ${frame.n}`;
    default: return frame.title;
  }
}

/** The view titles from the root, leaving out the first ones when they do not fit: the last is where you are. */
export function breadcrumbs(state: UiState, width: number): string {
  const titles = [...state.stack.map(frameTitle), ...(state.help !== null ? ['help'] : [])];
  let text = titles.join(' › ');
  for (let skip = 1; text.length > width && skip < titles.length; skip++) text = ['…', ...titles.slice(skip)].join(' › ');
  return fitText(text, width);
}

const HINTS: Record<Frame['kind'], string> = {
  tunnels: 'Enter flows · Tab findings · 2 conv · 3 all · f find · w write · ? help · q quit',
  conversations: 'Enter flows · 1 tunnels · 3 all · s sort · f find · w write · ? help · q quit',
  flows: 'Enter packets · F follow · a all · Esc back · f find · w write · ? help · q quit',
  'flow-conversations': 'Enter packets · F follow · Esc back · f find · w write · ? help · q quit',
  packets: 'Enter open · F follow · Esc back · f find · n N next · w write · ? help · q quit',
  packet: '←→ fold · e all · Tab hex · F follow · w write · Esc back · ? help · q quit',
  stream: 'x ASCII/hex · f find · n N next · w write · Esc back · ? help · q quit',
};

const PROMPT_LABELS = { filter: '/ ', find: 'find: ', write: 'write to: ' };

export function Footer({ state, kind, width }: { state: UiState; kind: Frame['kind']; width: number }): React.JSX.Element {
  const { prompt } = state;
  if (prompt === null) {
    if (state.notice !== null) {
      return <Text wrap="truncate" color={state.notice.error ? 'red' : 'green'}>{fitText(state.notice.text, width)}</Text>;
    }
    return <Text wrap="truncate" dimColor>{fitText(HINTS[kind], width)}</Text>;
  }
  const label = PROMPT_LABELS[prompt.kind];
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">{`${label}${prompt.text}`}<Text inverse> </Text></Text>
      {prompt.error !== null ? <Text color="red" wrap="truncate">{`${' '.repeat(label.length + prompt.error.column)}^`}</Text> : null}
      {prompt.error !== null ? (
        <Text color="red" wrap="truncate">{fitText(`${prompt.error.message} (column ${prompt.error.column + 1})`, width)}</Text>
      ) : null}
    </Box>
  );
}
