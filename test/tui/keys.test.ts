// The key reducer on its own, without Ink: a state and a key in, the next
// state out, against a view of ten rows whose texts the test chooses.

import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { keyPressed, mousePressed, type KeyContext } from '../../src/tui/keys.js';
import type { ListModel, Shown } from '../../src/tui/model.js';
import { INITIAL, top, withTop, type UiState } from '../../src/tui/state.js';

const NO_KEY: Key = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
  return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
  super: false, hyper: false, capsLock: false, numLock: false,
};
const ENTER: Key = { ...NO_KEY, return: true };

const TEXTS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'alpha two', 'golf', 'hotel', 'india', 'juliet'];

/** The tunnels frame's cursor stands for the selection; four rows a page, the first on screen line 4. */
function context(saved: [string, number[]][] = []): KeyContext {
  const shown = (state: UiState): Shown => {
    const frame = top(state);
    const cursor = frame.kind === 'tunnels' ? frame.list.cursor : 0;
    const list: ListModel = {
      rowCount: TEXTS.length, pageRows: 4, cursor, top: Math.max(0, cursor - 3), firstLine: 4,
      rowKey: () => undefined, rowText: (i) => TEXTS[i], open: () => null, packets: () => [7, 9],
      streamPacket: () => null,
      select: (s, i) => (frame.kind === 'tunnels' ? withTop(s, { ...frame, list: { cursor: i, top: 0 } }) : s),
    };
    return { kind: 'help', list };
  };
  return {
    live: false, shown, filterText: () => '', applyFilter: () => null, snapshot: () => { throw new Error('not paused here'); },
    save: (path, numbers) => {
      saved.push([path, Array.from(numbers)]);
      return { text: `wrote ${numbers.length}`, error: false };
    },
    streamFrame: () => null,
  };
}

function typed(state: UiState, ctx: KeyContext, ...keys: (string | Key)[]): UiState {
  let next = state;
  for (const key of keys) {
    const result = typeof key === 'string' ? keyPressed(next, key, NO_KEY, ctx) : keyPressed(next, '', key, ctx);
    if (result === 'quit') throw new Error('quit');
    next = result;
  }
  return next;
}

function cursorOf(state: UiState): number {
  const frame = top(state);
  return frame.kind === 'tunnels' ? frame.list.cursor : -1;
}

describe('the key reducer', () => {
  it('finds a text from the selection on, wraps, and goes back with N', () => {
    const ctx = context();
    let state = typed(INITIAL, ctx, 'f', 'a', 'l', 'p', 'h', 'a', ENTER);
    expect(cursorOf(state)).toBe(5);
    expect(state.notice).toEqual({ text: '"alpha": row 6 of 10', error: false });
    state = typed(state, ctx, 'n');
    expect(cursorOf(state)).toBe(0);
    expect(state.notice?.text).toBe('"alpha": row 1 of 10, wrapped');
    state = typed(state, ctx, 'N');
    expect(cursorOf(state)).toBe(5);
    expect(typed(state, ctx, 'j').notice).toBeNull();
  });

  it('says so when there is nothing to find', () => {
    const ctx = context();
    expect(typed(INITIAL, ctx, 'n').notice).toEqual({ text: 'nothing to find yet: f, then the text', error: true });
    expect(typed(INITIAL, ctx, 'f', 'z', ENTER).notice?.error).toBe(true);
  });

  it('hands the packets in view and the typed name to the writer', () => {
    const saved: [string, number[]][] = [];
    const state = typed(INITIAL, context(saved), 'w', 'o', 'u', 't', ENTER);
    expect(saved).toEqual([['out', [7, 9]]]);
    expect(state.notice?.text).toBe('wrote 2');
    expect(state.prompt).toBeNull();
  });

  it('selects the clicked row and ignores clicks off the rows', () => {
    const ctx = context();
    const click = (y: number) => ({ kind: 'press' as const, button: 0, x: 3, y });
    expect(cursorOf(mousePressed(INITIAL, click(6), ctx))).toBe(2);
    expect(mousePressed(INITIAL, click(3), ctx)).toBe(INITIAL);
    expect(mousePressed(INITIAL, click(8), ctx)).toBe(INITIAL);
    expect(cursorOf(mousePressed(INITIAL, { kind: 'wheel-down', button: 1, x: 0, y: 0 }, ctx))).toBe(3);
  });

  it('switches between the three first views with 1, 2 and 3', () => {
    const ctx = context();
    expect(top(typed(INITIAL, ctx, '2')).kind).toBe('conversations');
    const packets = top(typed(INITIAL, ctx, '2', '3'));
    expect(packets.kind === 'packets' && 'all' in packets.packets).toBe(true);
    expect(typed(INITIAL, ctx, '3', '1').stack).toHaveLength(1);
    expect(keyPressed(INITIAL, 'q', NO_KEY, ctx)).toBe('quit');
  });
});
