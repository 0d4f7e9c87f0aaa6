// The terminal UI: a stack of views (tunnels or conversations, their flows,
// packets, one packet, a stream), a header with the source's state, and a
// foot line for hints, notices and prompts. The state lives in state.ts,
// what it shows is worked out in model.ts, the keys in keys.ts; this
// component holds them together, and redraws follow the store at most ten
// times a second.

import React, { useEffect, useRef, useState } from 'react';
import { Box, Text, useApp, useInput, useStdout, type Key } from 'ink';
import { Body } from './body.js';
import { Footer, breadcrumbs, headerLines } from './chrome.js';
import { followStream, type FollowedStream } from './follow.js';
import { HELP_LINES } from './help.js';
import { interfacePanelLines } from './interface-lines.js';
import { InterfacesPanel } from './interfaces-panel.js';
import { keyPressed, mousePressed, type KeyContext } from './keys.js';
import { shownOf, streamFrameOf, type ModelContext } from './model.js';
import { parseMouse } from './mouse.js';
import { savePackets } from './save.js';
import { INITIAL, bodyHeightOf, top, type UiState } from './state.js';
import type { OpenedPacket, PacketListRef, StoreSnapshot, TuiStore } from './store.js';
import { fitText } from './units.js';

const REDRAW_MS = 100;
const READING_REDRAW_MS = 250;
const STREAM_REGATHER_MS = 1000;

function useTerminalSize(fixedWidth: number | undefined, fixedHeight: number | undefined): { width: number; height: number } {
  const { stdout } = useStdout();
  const [, setResizes] = useState(0);
  useEffect(() => {
    const resized = (): void => setResizes((count) => count + 1);
    stdout.on('resize', resized);
    return () => {
      stdout.off('resize', resized);
    };
  }, [stdout]);
  return { width: fixedWidth ?? (stdout.columns || 80), height: fixedHeight ?? (stdout.rows || 24) };
}

/**
 * Re-render when the store has moved on: at most every REDRAW_MS, and every
 * READING_REDRAW_MS while a file is being read, so that the reading goes
 * fast; a paused UI stays still.
 */
function useStoreRedraw(store: TuiStore, paused: boolean): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (paused) return undefined;
    let drawn = store.version;
    let drawnAt = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
      const now = performance.now();
      if (store.reading && now - drawnAt < READING_REDRAW_MS) return;
      // Once a second even when idle: a live rate falls when nothing arrives.
      if (store.version !== drawn || ticks % 10 === 0) {
        drawn = store.version;
        drawnAt = now;
        setTick((tick) => tick + 1);
      }
    }, REDRAW_MS);
    return () => clearInterval(timer);
  }, [store, paused]);
}

const DELETE_CHARACTERS = new Set(['\x7f', '\b']);

/**
 * Ink hands over plain characters that arrive together (a paste, keys typed
 * faster than a busy screen redraws) as one input: each is a key of its own.
 */
function separateKeys(input: string, key: Key): [string, Key][] {
  if (input.length <= 1 || key.ctrl || key.meta) return [[input, key]];
  const keys: [string, Key][] = [];
  for (const character of input) {
    if (DELETE_CHARACTERS.has(character)) keys.push(['', { ...key, backspace: true }]);
    // A typed text and the Enter after it can come in one read.
    else if (character === '\r' || character === '\n') keys.push(['', { ...key, return: true }]);
    else if (character === '\t') keys.push(['', { ...key, tab: true }]);
    else if (character >= ' ') keys.push([character, key]);
  }
  return keys;
}

/** The store as the views read it: packet lists held still while paused, the opened packet and stream kept. */
class StoreReader {
  private frozenLists = new Map<PacketListRef, Uint32Array>();
  private opened: OpenedPacket | null = null;
  private stream: { n: number; version: number; at: number; stream: FollowedStream | null } | null = null;
  private frozenAt: StoreSnapshot | null = null;

  constructor(private readonly store: TuiStore) {}

  /** Everything read before is stale (a new filter). */
  reset(): void {
    this.frozenLists.clear();
    this.opened = null;
    this.stream = null;
  }

  context(state: UiState, width: number, height: number): ModelContext {
    const store = this.store;
    if (state.frozen !== this.frozenAt) {
      this.frozenLists.clear();
      this.frozenAt = state.frozen;
    }
    const numbers = (ref: PacketListRef): Uint32Array => {
      if (state.frozen === null) return store.packetNumbers(ref);
      let held = this.frozenLists.get(ref);
      if (held === undefined) {
        held = store.packetNumbers(ref);
        this.frozenLists.set(ref, held);
      }
      return held;
    };
    const opened = (n: number): OpenedPacket | null => {
      if (this.opened === null || this.opened.n !== n) this.opened = store.openPacket(n);
      return this.opened;
    };
    const stream = (n: number): FollowedStream | null => {
      const version = state.frozen?.version ?? store.version;
      const now = performance.now();
      // Gathered again when packets have come in since, at most once a second (it decodes every packet held).
      const stale = this.stream !== null && this.stream.version !== version && !store.reading && now - this.stream.at >= STREAM_REGATHER_MS;
      if (this.stream === null || this.stream.n !== n || stale) {
        this.stream = { n, version, at: now, stream: followStream(n, numbers({ all: true }), (m) => store.openPacket(m)) };
      }
      return this.stream.stream;
    };
    return { store, snapshot: state.frozen ?? store.snapshot(), width, height, numbers, opened, stream };
  }
}

export interface AppProps {
  store: TuiStore;
  /** Fixed size (tests); by default the terminal's, following resizes. */
  width?: number;
  height?: number;
}

export function App({ store, width: fixedWidth, height: fixedHeight }: AppProps): React.JSX.Element {
  const { exit } = useApp();
  const { width, height } = useTerminalSize(fixedWidth, fixedHeight);
  const [ui, setUi] = useState<UiState>(INITIAL);
  // Keys that arrive together are handled before React renders again: each must see the state the last one left.
  const uiRef = useRef(ui);
  const readerRef = useRef<StoreReader | null>(null);
  readerRef.current ??= new StoreReader(store);
  const reader = readerRef.current;
  useStoreRedraw(store, ui.frozen !== null);

  const shown = (state: UiState) => shownOf(state, reader.context(state, width, height), HELP_LINES);
  const keyContext: KeyContext = {
    live: store.live,
    shown,
    filterText: (state) => (state.frozen ?? store.snapshot()).status.filter,
    applyFilter: (text) => {
      const error = store.applyFilter(text);
      if (error === null) reader.reset();
      return error;
    },
    snapshot: () => store.snapshot(),
    save: (path, numbers) => savePackets(path, numbers, (n) => store.openPacket(n)?.record ?? null),
    streamFrame: (view) => streamFrameOf(view, reader.context(uiRef.current, width, height)),
  };

  useInput((input, key) => {
    let state = uiRef.current;
    const mouse = parseMouse(input);
    if (mouse !== null) {
      state = mousePressed(state, mouse, keyContext);
    } else {
      for (const [oneInput, oneKey] of separateKeys(input, key)) {
        const next = keyPressed(state, oneInput, oneKey, keyContext);
        if (next === 'quit') {
          exit();
          return;
        }
        state = next;
      }
    }
    if (state !== uiRef.current) {
      uiRef.current = state;
      setUi(state);
    }
  });

  const snapshot = ui.frozen ?? store.snapshot();
  const panel = interfacePanelLines(snapshot.status, width);
  const bodyHeight = bodyHeightOf(ui, height, panel.length);
  const [line1, line2] = headerLines(snapshot.status, ui.sort, ui.frozen !== null);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate" bold color={snapshot.status.state === 'failed' ? 'red' : undefined}>{fitText(line1, width)}</Text>
      <Text wrap="truncate" color={ui.frozen !== null ? 'yellow' : undefined}>
        {fitText(snapshot.status.message === null ? line2 : `${line2} · ${snapshot.status.message}`, width)}
      </Text>
      <Text wrap="truncate" color="cyan">{breadcrumbs(ui, width)}</Text>
      <Box height={bodyHeight} flexDirection="column">
        <Body shown={shown(ui)} width={width} height={bodyHeight} reading={snapshot.status.state === 'reading'} />
      </Box>
      <InterfacesPanel lines={panel} />
      <Footer state={ui} kind={top(ui).kind} width={width} />
    </Box>
  );
}
