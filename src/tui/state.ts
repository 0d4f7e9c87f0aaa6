// What the keys change: a stack of views (frames), the sort order, the
// paused snapshot, and the prompt being typed. Plain data and the small
// helpers that move a selection; nothing here draws.

import type { FilterError } from '../filter/parse.js';
import type { ConversationRef } from './conversations.js';
import type { PacketListRef, SortKey, StoreSnapshot, TunnelIdentity } from './store.js';

export interface ListCursor {
  cursor: number;
  top: number;
  /** The selected row's key, so a live re-sort keeps the selection on the same row. */
  key?: string;
}

export const START: ListCursor = { cursor: 0, top: 0 };

export type TunnelsFrame = { kind: 'tunnels'; list: ListCursor; findings: ListCursor; pane: 'tunnels' | 'findings' };
/** Tunnels with both directions on one row. */
export type ConversationsFrame = { kind: 'conversations'; list: ListCursor };
export type FlowsFrame = { kind: 'flows'; tunnel: TunnelIdentity; title: string; list: ListCursor };
/** The flows of a tunnel conversation, both directions on one row. */
export type FlowConversationsFrame = { kind: 'flow-conversations'; conversation: ConversationRef; title: string; list: ListCursor };
/** `follow`: the selection stays on the newest packet as more arrive (live, once at the end of the list). */
export type PacketsFrame = { kind: 'packets'; packets: PacketListRef; title: string; list: ListCursor; follow: boolean };
export type PacketFrame = { kind: 'packet'; n: number; expanded: ReadonlySet<number>; tree: ListCursor; hexTop: number; pane: 'tree' | 'hex' };
/** The payload of the TCP or UDP stream packet `n` belongs to, both directions in capture order. */
export type StreamFrame = { kind: 'stream'; n: number; title: string; hex: boolean; list: ListCursor };
export type Frame = TunnelsFrame | ConversationsFrame | FlowsFrame | FlowConversationsFrame | PacketsFrame | PacketFrame | StreamFrame;

/** A line being typed at the foot of the screen: a filter, a text to find, a file to write. */
export interface Prompt {
  kind: 'filter' | 'find' | 'write';
  text: string;
  /** Filter only: where the text does not parse. */
  error: FilterError | null;
}

export interface UiState {
  stack: Frame[];
  sort: SortKey;
  /** The snapshot shown while paused. */
  frozen: StoreSnapshot | null;
  /** The help screen is open, scrolled to this line; null when closed. */
  help: number | null;
  prompt: Prompt | null;
  /** The text `n` and `N` look for ('' before the first search). */
  find: string;
  /** The outcome of the last search or write, shown under the header until the next key. */
  notice: { text: string; error: boolean } | null;
}

export const ROOT_FRAMES = {
  tunnels: (): TunnelsFrame => ({ kind: 'tunnels', list: START, findings: START, pane: 'tunnels' }),
  conversations: (): ConversationsFrame => ({ kind: 'conversations', list: START }),
  packets: (live: boolean): PacketsFrame => ({ kind: 'packets', packets: { all: true }, title: 'All packets', list: START, follow: live }),
};

export const INITIAL: UiState = {
  stack: [ROOT_FRAMES.tunnels()],
  sort: 'bytes',
  frozen: null,
  help: null,
  prompt: null,
  find: '',
  notice: null,
};

export function clamp(value: number, low: number, high: number): number {
  return Math.max(low, Math.min(high, value));
}

/** The first visible row that keeps the cursor on screen, moving as little as possible. */
export function scrolled(top: number, cursor: number, visible: number, count: number): number {
  return clamp(clamp(top, cursor - visible + 1, cursor), 0, Math.max(0, count - visible));
}

/** Where the selection is now: the row with its key, or the last cursor when that row is gone. */
export function selectedIndex(list: ListCursor, count: number, keyAt: (index: number) => string | undefined): number {
  if (list.key !== undefined) {
    for (let i = 0; i < count; i++) if (keyAt(i) === list.key) return i;
  }
  return clamp(list.cursor, 0, Math.max(0, count - 1));
}

/** A packet list's selection: the packet it was on (numbers ascend), or the row it was at. */
export function packetIndex(numbers: Uint32Array, list: ListCursor): number {
  if (list.key === undefined) return clamp(list.cursor, 0, Math.max(0, numbers.length - 1));
  const n = Number(list.key);
  let low = 0;
  let high = numbers.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (numbers[mid] < n) low = mid + 1;
    else high = mid;
  }
  return Math.min(low, Math.max(0, numbers.length - 1));
}

export function top(state: UiState): Frame {
  return state.stack[state.stack.length - 1];
}

export function withTop(state: UiState, frame: Frame): UiState {
  return { ...state, stack: [...state.stack.slice(0, -1), frame] };
}

export function pushed(state: UiState, frame: Frame): UiState {
  return { ...state, stack: [...state.stack, frame] };
}

/** Lines left for the view: below two header lines and the breadcrumb, above the hints or the prompt. */
export function bodyHeightOf(state: UiState, height: number, panelLines = 0): number {
  const footerLines = state.prompt?.error != null ? 3 : 1;
  return Math.max(3, height - 3 - footerLines - panelLines);
}

/** The screen line (0-based) where the view's body starts. */
export const BODY_LINE = 3;
