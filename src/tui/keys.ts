// The keys (and mouse clicks): what each does to the state. A reducer: the
// state and a key in, the next state out. What it needs from outside (the
// rows a state shows, applying a filter, writing a file) comes through the
// context, so it runs, and is tested, without Ink.

import type { Key } from 'ink';
import type { FilterError } from '../filter/parse.js';
import { layerTreeRows } from './layer-tree.js';
import type { Shown } from './model.js';
import type { MouseEvent } from './mouse.js';
import type { SaveResult } from './save.js';
import {
  ROOT_FRAMES, START, clamp, pushed, top, withTop, type Frame, type Prompt, type UiState,
} from './state.js';
import { SORT_KEYS, type StoreSnapshot } from './store.js';

export interface KeyContext {
  live: boolean;
  /** What a state shows. */
  shown: (state: UiState) => Shown;
  /** The filter in force. */
  filterText: (state: UiState) => string;
  /** Apply a new filter: null when it parses. */
  applyFilter: (text: string) => FilterError | null;
  /** The snapshot to hold while paused. */
  snapshot: () => StoreSnapshot;
  /** Write packets to a file. */
  save: (path: string, numbers: ArrayLike<number>) => SaveResult;
  /** The view that follows the stream of what `shown` has selected, or null. */
  streamFrame: (shown: Shown) => Frame | null;
}

export type KeyResult = UiState | 'quit';

/** Rows a wheel turn scrolls. */
const WHEEL_ROWS = 3;

/** The cursor a key moves to, or null when the key does not move. */
export function movedCursor(input: string, key: Key, cursor: number, count: number, page: number): number | null {
  const last = Math.max(0, count - 1);
  if (key.upArrow || input === 'k') return clamp(cursor - 1, 0, last);
  if (key.downArrow || input === 'j') return clamp(cursor + 1, 0, last);
  if (key.pageUp) return clamp(cursor - page, 0, last);
  if (key.pageDown) return clamp(cursor + page, 0, last);
  if (key.home || input === 'g') return 0;
  if (key.end || input === 'G') return last;
  return null;
}

function notice(state: UiState, text: string, error = false): UiState {
  return { ...state, notice: { text, error } };
}

/** The next (or previous) row whose text holds the search text, the selection moved there. */
export function searched(state: UiState, ctx: KeyContext, forward: boolean): UiState {
  if (state.find === '') return notice(state, 'nothing to find yet: f, then the text', true);
  const { list } = ctx.shown(state);
  const needle = state.find.toLowerCase();
  const count = list.rowCount;
  for (let step = 1; step <= count; step++) {
    const i = (((list.cursor + (forward ? step : -step)) % count) + count) % count;
    if (list.rowText(i).toLowerCase().includes(needle)) {
      const wrapped = forward ? i <= list.cursor : i >= list.cursor;
      return notice(list.select(state, i), `"${state.find}": row ${i + 1} of ${count}${wrapped && step < count ? ', wrapped' : ''}`);
    }
  }
  return notice(state, `"${state.find}": no match in this view`, true);
}

function promptKey(state: UiState, prompt: Prompt, input: string, key: Key, ctx: KeyContext): UiState {
  const edit = (text: string): UiState => ({ ...state, prompt: { ...prompt, text, error: null } });
  if (key.escape) return { ...state, prompt: null };
  if (key.backspace || key.delete) return edit(prompt.text.slice(0, -1));
  if (key.ctrl && input === 'u') return edit('');
  if (key.return) {
    const closed: UiState = { ...state, prompt: null };
    if (prompt.kind === 'filter') {
      const error = ctx.applyFilter(prompt.text);
      if (error !== null) return { ...state, prompt: { ...prompt, error } };
      return { ...closed, frozen: state.frozen === null ? null : ctx.snapshot() };
    }
    // An empty find looks again for the last text, as `n` does.
    if (prompt.kind === 'find') return searched(prompt.text === '' ? closed : { ...closed, find: prompt.text }, ctx, true);
    const result = ctx.save(prompt.text, ctx.shown(state).list.packets());
    return notice(closed, result.text, result.error);
  }
  if (input !== '' && !key.ctrl && !key.meta) return edit(prompt.text + input);
  return state;
}

/** The packet view's keys: folding layers, moving in the tree or scrolling the hex dump. */
function packetKey(state: UiState, shown: Extract<Shown, { kind: 'packet' }>, input: string, key: Key): UiState | null {
  const frame = top(state);
  if (frame.kind !== 'packet' || shown.opened === null) return null;
  const { list } = shown;
  if (frame.pane === 'hex') {
    const moved = movedCursor(input, key, shown.hexTop, Math.max(1, shown.hexRows - list.pageRows + 1), list.pageRows);
    return moved === null ? null : withTop(state, { ...frame, hexTop: moved });
  }
  const packet = shown.opened.packet;
  const row = shown.tree[list.cursor];
  const fold = (open: boolean): UiState => {
    const expanded = new Set(frame.expanded);
    if (open) expanded.add(row.layer);
    else expanded.delete(row.layer);
    // Folding from one of its fields moves the cursor up to the layer's own row.
    const next = open ? list.cursor : layerTreeRows(packet, expanded).findIndex((r) => r.kind === 'layer' && r.layer === row.layer);
    return withTop(state, { ...frame, expanded, tree: { ...frame.tree, cursor: next < 0 ? list.cursor : next } });
  };
  if (row !== undefined) {
    if (key.rightArrow || input === 'l') return fold(true);
    if (key.leftArrow || input === 'h') return fold(false);
    if (input === ' ' || key.return) return fold(!frame.expanded.has(row.layer));
  }
  if (input === 'e') {
    const all = frame.expanded.size < packet.layers.length;
    return withTop(state, { ...frame, expanded: new Set(all ? packet.layers.map((_, i) => i) : []) });
  }
  return null;
}

function openPrompt(state: UiState, kind: Prompt['kind'], text: string): UiState {
  return { ...state, prompt: { kind, text, error: null } };
}

/** What a key does to the state. */
export function keyPressed(previous: UiState, input: string, key: Key, ctx: KeyContext): KeyResult {
  if (previous.prompt !== null) return promptKey(previous, previous.prompt, input, key, ctx);
  // A notice lasts until the next key.
  const state: UiState = previous.notice === null ? previous : { ...previous, notice: null };
  if (state.help !== null) {
    const { list } = ctx.shown(state);
    const moved = movedCursor(input, key, list.top, Math.max(1, list.rowCount - list.pageRows + 1), list.pageRows);
    if (moved !== null) return { ...state, help: moved };
    // Any other key closes the help; q still quits.
    if (input !== 'q') return { ...state, help: null };
  }
  if (input === 'q' || (key.ctrl && input === 'c')) return 'quit';
  if (input === '?') return { ...state, help: 0 };
  if (input === '/') return openPrompt(state, 'filter', ctx.filterText(state));
  if (input === 'f') return openPrompt(state, 'find', '');
  if (input === 'w') return openPrompt(state, 'write', '');
  if (input === 'n' || input === 'N') return searched(state, ctx, input === 'n');
  if (input === 'p') return { ...state, frozen: state.frozen === null ? ctx.snapshot() : null };
  if (input === 's') return { ...state, sort: SORT_KEYS[(SORT_KEYS.indexOf(state.sort) + 1) % SORT_KEYS.length] };
  if (input === '1') return { ...state, stack: [ROOT_FRAMES.tunnels()] };
  if (input === '2') return { ...state, stack: [ROOT_FRAMES.conversations()] };
  if (input === '3') return { ...state, stack: [ROOT_FRAMES.packets(ctx.live)] };
  if (key.escape || key.backspace || key.delete) {
    return state.stack.length > 1 ? { ...state, stack: state.stack.slice(0, -1) } : state;
  }
  const current = top(state);
  const shown = ctx.shown(state);
  if (input === 'F') {
    const stream = ctx.streamFrame(shown);
    return stream === null ? notice(state, 'no TCP or UDP stream here to follow', true) : pushed(state, stream);
  }
  if (key.tab || (input === 'x' && current.kind === 'stream')) {
    if (current.kind === 'tunnels') return withTop(state, { ...current, pane: current.pane === 'tunnels' ? 'findings' : 'tunnels' });
    if (current.kind === 'packet' && shown.kind === 'packet') {
      return withTop(state, { ...current, hexTop: shown.hexTop, pane: current.pane === 'tree' ? 'hex' : 'tree' });
    }
    if (current.kind === 'stream') return withTop(state, { ...current, hex: !current.hex, list: START });
    return state;
  }
  if (shown.kind === 'packet') {
    const next = packetKey(state, shown, input, key);
    if (next !== null) return next;
  }
  if (input === 'a' && current.kind === 'flows') {
    return pushed(state, { kind: 'packets', packets: { tunnel: current.tunnel }, title: 'all packets', list: START, follow: ctx.live });
  }
  const { list } = shown;
  if (key.return) {
    const next = list.open(list.cursor);
    return next === null ? state : pushed(state, next);
  }
  const moved = movedCursor(input, key, list.cursor, list.rowCount, list.pageRows);
  return moved === null ? state : list.select(state, moved);
}

/** What a mouse event does: a click selects the row under it (a click on the selected row opens it), the wheel moves. */
export function mousePressed(previous: UiState, event: MouseEvent, ctx: KeyContext): UiState {
  if (previous.prompt !== null) return previous;
  const state: UiState = previous.notice === null ? previous : { ...previous, notice: null };
  const { list } = ctx.shown(state);
  if (event.kind === 'wheel-up' || event.kind === 'wheel-down') {
    if (list.rowCount === 0) return state;
    const step = event.kind === 'wheel-up' ? -WHEEL_ROWS : WHEEL_ROWS;
    return list.select(state, clamp(list.cursor + step, 0, list.rowCount - 1));
  }
  if (event.kind !== 'press' || event.button !== 0 || state.help !== null) return state;
  const shownRows = Math.min(list.pageRows, list.rowCount - list.top);
  const offset = event.y - list.firstLine;
  if (offset < 0 || offset >= shownRows) return state;
  const index = list.top + offset;
  if (index === list.cursor) {
    const next = list.open(index);
    return next === null ? state : pushed(state, next);
  }
  return list.select(state, index);
}
