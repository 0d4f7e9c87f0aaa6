// The terminal UI: a stack of views (tunnels, a tunnel's flows, a flow's
// packets, one packet), a header with the source's state, a filter box, and
// the keys that move between them. Redraws follow the store at most ten
// times a second.

import React, { useEffect, useRef, useState } from 'react';
import { Box, Text, useApp, useInput, useStdout, type Key } from 'ink';
import type { FilterError } from '../filter/parse.js';
import { tunnelTitle } from '../analysis/labels.js';
import { HelpView } from './help.js';
import { layerByteRange, layerTreeRows } from './layer-tree.js';
import { PacketView, hexBytesPerRow } from './packet-view.js';
import {
  SORT_KEYS, type OpenedPacket, type PacketListRef, type SortKey, type StoreSnapshot, type StoreStatus, type TuiStore,
  type TunnelIdentity,
} from './store.js';
import { Table } from './table.js';
import { countText, fitText, rateText } from './units.js';
import {
  FLOW_COLUMNS, FindingsPane, PACKET_COLUMNS, TUNNEL_COLUMNS, flowTone, packetTone, tunnelTone, type PacketRow,
} from './views.js';

const REDRAW_MS = 100;
const READING_REDRAW_MS = 250;

interface ListCursor {
  cursor: number;
  top: number;
  /** The selected row's key, so a live re-sort keeps the selection on the same row. */
  key?: string;
}

const START: ListCursor = { cursor: 0, top: 0 };

type TunnelsFrame = { kind: 'tunnels'; list: ListCursor; findings: ListCursor; pane: 'tunnels' | 'findings' };
type FlowsFrame = { kind: 'flows'; tunnel: TunnelIdentity; title: string; list: ListCursor };
/** `follow`: the selection stays on the newest packet as more arrive (live, once at the end of the list). */
type PacketsFrame = { kind: 'packets'; packets: PacketListRef; title: string; list: ListCursor; follow: boolean };
type PacketFrame = { kind: 'packet'; n: number; expanded: ReadonlySet<number>; tree: ListCursor; hexTop: number; pane: 'tree' | 'hex' };
type Frame = TunnelsFrame | FlowsFrame | PacketsFrame | PacketFrame;

/** Everything the keys change. */
interface UiState {
  stack: Frame[];
  sort: SortKey;
  /** The snapshot shown while paused. */
  frozen: StoreSnapshot | null;
  help: boolean;
  /** The filter being typed, or null when the filter box is closed. */
  filterInput: string | null;
  filterError: FilterError | null;
}

const INITIAL: UiState = {
  stack: [{ kind: 'tunnels', list: START, findings: START, pane: 'tunnels' }],
  sort: 'bytes',
  frozen: null,
  help: false,
  filterInput: null,
  filterError: null,
};

/** What the keys need to know of the view a state shows: its rows, their page, what Enter opens. */
interface ShownView {
  rowCount: number;
  pageRows: number;
  rowKey: (index: number) => string | undefined;
  /** Where a list's selection is now. */
  cursorOf: (list: ListCursor) => number;
  open: (index: number) => Frame | null;
  hexRows: number;
  /** The first hex row on screen. */
  hexTop: number;
}

const NO_VIEW: ShownView = {
  rowCount: 0, pageRows: 1, rowKey: () => undefined, cursorOf: (list) => list.cursor, open: () => null, hexRows: 0, hexTop: 0,
};

function clamp(value: number, low: number, high: number): number {
  return Math.max(low, Math.min(high, value));
}

/** The first visible row that keeps the cursor on screen, moving as little as possible. */
function scrolled(top: number, cursor: number, visible: number, count: number): number {
  return clamp(clamp(top, cursor - visible + 1, cursor), 0, Math.max(0, count - visible));
}

/** Where the selection is now: the row with its key, or the last cursor when that row is gone. */
function selectedIndex(list: ListCursor, count: number, keyAt: (index: number) => string | undefined): number {
  if (list.key !== undefined) {
    for (let i = 0; i < count; i++) if (keyAt(i) === list.key) return i;
  }
  return clamp(list.cursor, 0, Math.max(0, count - 1));
}

/** A packet list's selection: the packet it was on (numbers ascend), or the row it was at. */
function packetIndex(numbers: Uint32Array, list: ListCursor): number {
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

/** The cursor a key moves to, or null when the key does not move. */
function movedCursor(input: string, key: Key, cursor: number, count: number, page: number): number | null {
  const last = Math.max(0, count - 1);
  if (key.upArrow || input === 'k') return clamp(cursor - 1, 0, last);
  if (key.downArrow || input === 'j') return clamp(cursor + 1, 0, last);
  if (key.pageUp) return clamp(cursor - page, 0, last);
  if (key.pageDown) return clamp(cursor + page, 0, last);
  if (key.home || input === 'g') return 0;
  if (key.end || input === 'G') return last;
  return null;
}

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

function headerLines(status: StoreStatus, sort: SortKey, paused: boolean): [string, string] {
  const matched = status.filter === '' ? '' : `, ${countText(status.matched)} match`;
  const parts = [`tunscope · ${status.source}`, `${countText(status.seen)} packets${matched}`, rateText(status.rate)];
  if (status.kind === 'live') parts.push(`drops ${status.drops === null ? '?' : countText(status.drops)}`);
  let state: string;
  switch (status.state) {
    case 'reading': state = `reading ${Math.floor((status.progress ?? 0) * 100)}%`; break;
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
    case 'flows': return frame.title;
    case 'packets': return frame.title;
    case 'packet': return `packet ${frame.n}`;
  }
}

/** The view titles from the root, leaving out the first ones when they do not fit: the last is where you are. */
function breadcrumbs(titles: string[], width: number): string {
  let text = titles.join(' › ');
  for (let skip = 1; text.length > width && skip < titles.length; skip++) text = ['…', ...titles.slice(skip)].join(' › ');
  return fitText(text, width);
}

const HINTS: Record<Frame['kind'], string> = {
  tunnels: 'Enter flows · Tab findings · s sort · / filter · p pause · ? help · q quit',
  flows: 'Enter packets · a all packets · Esc back · s sort · / filter · ? help · q quit',
  packets: 'Enter open · Esc back · / filter · p pause · ? help · q quit',
  packet: '←→/Space fold · e all · Tab hex · Esc back · ? help · q quit',
};

/** Lines left for the view: below two header lines and the breadcrumb, above the hints or the filter box. */
function bodyHeightOf(ui: UiState, height: number): number {
  const footerLines = ui.filterInput !== null && ui.filterError !== null ? 3 : 1;
  return Math.max(3, height - 3 - footerLines);
}

function top(state: UiState): Frame {
  return state.stack[state.stack.length - 1];
}

function withTop(state: UiState, frame: Frame): UiState {
  return { ...state, stack: [...state.stack.slice(0, -1), frame] };
}

/** The packet view's keys: folding layers, moving in the tree or scrolling the hex dump. */
function packetKey(state: UiState, frame: PacketFrame, opened: OpenedPacket, input: string, key: Key, view: ShownView): UiState | null {
  if (frame.pane === 'hex') {
    const moved = movedCursor(input, key, frame.hexTop, Math.max(1, view.hexRows - view.pageRows + 1), view.pageRows);
    return moved === null ? null : withTop(state, { ...frame, hexTop: moved });
  }
  const rows = layerTreeRows(opened.packet, frame.expanded);
  const cursor = clamp(frame.tree.cursor, 0, Math.max(0, rows.length - 1));
  const row = rows[cursor];
  const fold = (open: boolean): UiState => {
    const expanded = new Set(frame.expanded);
    if (open) expanded.add(row.layer);
    else expanded.delete(row.layer);
    // Folding from one of its fields moves the cursor up to the layer's own row.
    const folded = layerTreeRows(opened.packet, expanded);
    const next = open ? cursor : folded.findIndex((r) => r.kind === 'layer' && r.layer === row.layer);
    return withTop(state, { ...frame, expanded, tree: { ...frame.tree, cursor: next < 0 ? cursor : next } });
  };
  if (row !== undefined) {
    if (key.rightArrow || input === 'l') return fold(true);
    if (key.leftArrow || input === 'h') return fold(false);
    if (input === ' ' || key.return) return fold(!frame.expanded.has(row.layer));
  }
  if (input === 'e') {
    const all = frame.expanded.size < opened.packet.layers.length;
    return withTop(state, { ...frame, expanded: new Set(all ? opened.packet.layers.map((_, i) => i) : []) });
  }
  const moved = movedCursor(input, key, cursor, rows.length, view.pageRows);
  return moved === null ? null : withTop(state, { ...frame, tree: { cursor: moved, top: scrolled(frame.tree.top, moved, view.pageRows, rows.length) } });
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
    else if (character >= ' ') keys.push([character, key]);
  }
  return keys;
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
  const update = (next: UiState): void => {
    uiRef.current = next;
    setUi(next);
  };
  const frozenLists = useRef(new Map<PacketListRef, Uint32Array>());
  const openedRef = useRef<OpenedPacket | null>(null);
  useStoreRedraw(store, ui.frozen !== null);

  const openedPacket = (n: number): OpenedPacket | null => {
    const cached = openedRef.current;
    if (cached !== null && cached.n === n) return cached;
    openedRef.current = store.openPacket(n);
    return openedRef.current;
  };
  const packetNumbers = (ref: PacketListRef, frozen: boolean): Uint32Array => {
    if (!frozen) return store.packetNumbers(ref);
    let numbers = frozenLists.current.get(ref);
    if (numbers === undefined) {
      numbers = store.packetNumbers(ref);
      frozenLists.current.set(ref, numbers);
    }
    return numbers;
  };

  /**
   * The body of the screen for a state, and what the keys need to know of it.
   * The key handler asks again for the state it is about to change: keys that
   * arrive together must not act on a screen React has not drawn yet.
   */
  const bodyOf = (ui: UiState): { body: React.JSX.Element; view: ShownView } => {
    const snapshot = ui.frozen ?? store.snapshot();
    const frame = top(ui);
    const bodyHeight = bodyHeightOf(ui, height);
    let body: React.JSX.Element;
    let view: ShownView = NO_VIEW;
    if (ui.help) {
      body = <HelpView width={width} height={bodyHeight} />;
    } else if (frame.kind === 'tunnels') {
      const rows = store.tunnelRows(snapshot.report, ui.sort);
      const findings = snapshot.report.findings;
      // With the focus the pane grows, for the selected finding shown whole.
      const findingsHeight = findings.length === 0 ? 0 : frame.pane === 'findings'
        ? Math.min(findings.length + 3, Math.max(4, Math.floor(bodyHeight / 2)))
        : Math.min(findings.length + 1, Math.max(2, Math.floor(bodyHeight / 3)));
      const tableRows = Math.max(1, bodyHeight - 1 - findingsHeight);
      const cursor = selectedIndex(frame.list, rows.length, (i) => rows[i]?.key);
      const findingsRows = Math.max(1, findingsHeight - 1);
      const findingsCursor = clamp(frame.findings.cursor, 0, Math.max(0, findings.length - 1));
      body = (
        <Box flexDirection="column" height={bodyHeight}>
          <Table columns={TUNNEL_COLUMNS} rows={rows} width={width} height={tableRows}
            top={scrolled(frame.list.top, cursor, tableRows, rows.length)} cursor={cursor}
            focused={frame.pane === 'tunnels'} tone={tunnelTone}
            empty={snapshot.status.state === 'reading' ? 'reading…' : 'no packets match'} />
          {findingsHeight > 0 ? (
            <FindingsPane findings={findings} width={width} height={findingsHeight}
              top={scrolled(frame.findings.top, findingsCursor, findingsRows, findings.length)}
              cursor={findingsCursor} focused={frame.pane === 'findings'} />
          ) : null}
        </Box>
      );
      const flowsOf = (row: (typeof rows)[number] | undefined): Frame | null =>
        (row === undefined ? null : { kind: 'flows', tunnel: row, title: tunnelTitle(row), list: START });
      view = frame.pane === 'tunnels'
        ? { ...view, rowCount: rows.length, pageRows: tableRows, rowKey: (i) => rows[i]?.key, open: (i) => flowsOf(rows[i]) }
        : {
          ...view, rowCount: findings.length, pageRows: findingsRows,
          open: (i) => flowsOf(rows.find((row) => findings[i]?.tunnel !== undefined && row.index === findings[i].tunnel)),
        };
    } else if (frame.kind === 'flows') {
      const rows = store.flowRows(snapshot.report, frame.tunnel, ui.sort);
      const tableRows = Math.max(1, bodyHeight - 1);
      const cursor = selectedIndex(frame.list, rows.length, (i) => rows[i]?.key);
      body = (
        <Box flexDirection="column" height={bodyHeight}>
          <Table columns={FLOW_COLUMNS} rows={rows} width={width} height={tableRows}
            top={scrolled(frame.list.top, cursor, tableRows, rows.length)} cursor={cursor}
            focused tone={flowTone} empty="no flows in this tunnel" />
        </Box>
      );
      view = {
        ...view, rowCount: rows.length, pageRows: tableRows, rowKey: (i) => rows[i]?.key,
        open: (i) => {
          const row = rows[i];
          if (row === undefined) return null;
          const src = row.srcPort === undefined ? row.src : `${row.src}:${row.srcPort}`;
          const dst = row.dstPort === undefined ? row.dst : `${row.dst}:${row.dstPort}`;
          return { kind: 'packets', packets: { tunnel: frame.tunnel, flow: row }, title: `${row.proto} ${src} > ${dst}`, list: START, follow: store.live };
        },
      };
    } else if (frame.kind === 'packets') {
      const numbers = packetNumbers(frame.packets, ui.frozen !== null);
      const tableRows = Math.max(1, bodyHeight - 1);
      const cursorOf = (list: ListCursor): number => (frame.follow ? numbers.length - 1 : packetIndex(numbers, list));
      const cursor = Math.max(0, cursorOf(frame.list));
      const first = scrolled(frame.list.top, cursor, tableRows, numbers.length);
      const rows: PacketRow[] = [];
      for (let i = first; i < Math.min(numbers.length, first + tableRows); i++) {
        rows.push({ n: numbers[i], line: store.packetLine(numbers[i], frame.packets.tunnel) });
      }
      // Only the visible window is decoded: the table gets it as rows starting at 0.
      body = (
        <Box flexDirection="column" height={bodyHeight}>
          <Table columns={PACKET_COLUMNS} rows={rows} width={width} height={tableRows} top={0} cursor={cursor - first}
            focused tone={packetTone} empty="no packets held for this flow" />
        </Box>
      );
      view = {
        ...view, rowCount: numbers.length, pageRows: tableRows, cursorOf,
        rowKey: (i) => (i < numbers.length ? String(numbers[i]) : undefined),
        open: (i) => (i < numbers.length
          ? { kind: 'packet', n: numbers[i], expanded: new Set<number>(), tree: START, hexTop: 0, pane: 'tree' }
          : null),
      };
    } else {
      const opened = openedPacket(frame.n);
      if (opened === null) {
        body = <Text color="yellow">{`Packet ${frame.n} is no longer held (the live buffer has moved on).`}</Text>;
      } else {
        const rows = layerTreeRows(opened.packet, frame.expanded);
        const paneRows = Math.max(1, bodyHeight - 2);
        const cursor = clamp(frame.tree.cursor, 0, Math.max(0, rows.length - 1));
        const perRow = hexBytesPerRow(width);
        const hexRows = Math.ceil(opened.record.bytes.length / perRow);
        // While the tree has the focus, the dump follows the selection: the selected layer's first bytes stay in view.
        const selected = rows[cursor];
        const selectedRow = selected === undefined ? 0 : Math.floor(layerByteRange(opened.packet, selected.layer, opened.record.bytes.length)[0] / perRow);
        const hexTop = frame.pane === 'tree'
          ? scrolled(frame.hexTop, selectedRow, paneRows, hexRows)
          : clamp(frame.hexTop, 0, Math.max(0, hexRows - paneRows));
        body = (
          <PacketView opened={opened} rows={rows} width={width} height={bodyHeight}
            treeTop={scrolled(frame.tree.top, cursor, paneRows, rows.length)} cursor={cursor}
            hexTop={hexTop} focus={frame.pane} />
        );
        view = { ...view, rowCount: rows.length, pageRows: paneRows, hexRows, hexTop };
      }
    }
    return { body, view };
  };

  const filterKey = (state: UiState, input: string, key: Key): UiState => {
    const text = state.filterInput ?? '';
    if (key.escape) return { ...state, filterInput: null, filterError: null };
    if (key.return) {
      const error = store.applyFilter(text);
      if (error !== null) return { ...state, filterError: error };
      frozenLists.current.clear();
      openedRef.current = null;
      return { ...state, filterInput: null, filterError: null, frozen: state.frozen === null ? null : store.snapshot() };
    }
    if (key.backspace || key.delete) return { ...state, filterInput: text.slice(0, -1), filterError: null };
    if (key.ctrl && input === 'u') return { ...state, filterInput: '', filterError: null };
    if (input !== '' && !key.ctrl && !key.meta) return { ...state, filterInput: text + input, filterError: null };
    return state;
  };

  const keyPressed = (state: UiState, input: string, key: Key): UiState | 'quit' => {
    if (state.filterInput !== null) return filterKey(state, input, key);
    if (state.help) {
      // Any key closes the help; q still quits.
      if (input !== 'q') return { ...state, help: false };
    }
    if (input === 'q' || (key.ctrl && input === 'c')) return 'quit';
    if (input === '?') return { ...state, help: true };
    if (input === '/') return { ...state, filterInput: (state.frozen ?? store.snapshot()).status.filter, filterError: null };
    if (input === 'p') {
      frozenLists.current.clear();
      return { ...state, frozen: state.frozen === null ? store.snapshot() : null };
    }
    if (input === 's') return { ...state, sort: SORT_KEYS[(SORT_KEYS.indexOf(state.sort) + 1) % SORT_KEYS.length] };
    if (key.escape || key.backspace || key.delete) {
      return state.stack.length > 1 ? { ...state, stack: state.stack.slice(0, -1) } : state;
    }
    const current = top(state);
    const shown = bodyOf(state).view;
    if (key.tab) {
      if (current.kind === 'tunnels') return withTop(state, { ...current, pane: current.pane === 'tunnels' ? 'findings' : 'tunnels' });
      if (current.kind === 'packet') return withTop(state, { ...current, hexTop: shown.hexTop, pane: current.pane === 'tree' ? 'hex' : 'tree' });
      return state;
    }
    if (current.kind === 'packet') {
      const opened = openedPacket(current.n);
      return (opened === null ? null : packetKey(state, current, opened, input, key, shown)) ?? state;
    }
    if (input === 'a' && current.kind === 'flows') {
      const all: PacketsFrame = { kind: 'packets', packets: { tunnel: current.tunnel }, title: 'all packets', list: START, follow: store.live };
      return { ...state, stack: [...state.stack, all] };
    }
    const findings = current.kind === 'tunnels' && current.pane === 'findings';
    const list = current.kind === 'tunnels' && findings ? current.findings : current.list;
    const cursor = current.kind === 'packets' ? shown.cursorOf(list) : selectedIndex(list, shown.rowCount, shown.rowKey);
    if (key.return) {
      const next = shown.open(cursor);
      return next === null ? state : { ...state, stack: [...state.stack, next] };
    }
    const moved = movedCursor(input, key, cursor, shown.rowCount, shown.pageRows);
    if (moved === null) return state;
    const next: ListCursor = { cursor: moved, top: scrolled(list.top, moved, shown.pageRows, shown.rowCount), key: shown.rowKey(moved) };
    if (current.kind === 'tunnels') return withTop(state, findings ? { ...current, findings: next } : { ...current, list: next });
    if (current.kind === 'packets') return withTop(state, { ...current, list: next, follow: store.live && moved === shown.rowCount - 1 });
    return withTop(state, { ...current, list: next });
  };

  useInput((input, key) => {
    let state = uiRef.current;
    for (const [oneInput, oneKey] of separateKeys(input, key)) {
      const next = keyPressed(state, oneInput, oneKey);
      if (next === 'quit') {
        exit();
        return;
      }
      state = next;
    }
    if (state !== uiRef.current) update(state);
  });

  const snapshot = ui.frozen ?? store.snapshot();
  const frame = top(ui);
  const { body } = bodyOf(ui);
  const bodyHeight = bodyHeightOf(ui, height);
  const [line1, line2] = headerLines(snapshot.status, ui.sort, ui.frozen !== null);
  const crumbs = breadcrumbs([...ui.stack.map(frameTitle), ...(ui.help ? ['help'] : [])], width);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate" bold color={snapshot.status.state === 'failed' ? 'red' : undefined}>{fitText(line1, width)}</Text>
      <Text wrap="truncate" color={ui.frozen !== null ? 'yellow' : undefined}>
        {fitText(snapshot.status.message === null ? line2 : `${line2} · ${snapshot.status.message}`, width)}
      </Text>
      <Text wrap="truncate" color="cyan">{crumbs}</Text>
      <Box height={bodyHeight} flexDirection="column">{body}</Box>
      {ui.filterInput === null ? (
        <Text wrap="truncate" dimColor>{fitText(HINTS[frame.kind], width)}</Text>
      ) : (
        <Box flexDirection="column">
          <Text wrap="truncate">{`/ ${ui.filterInput}`}<Text inverse> </Text></Text>
          {ui.filterError !== null ? <Text color="red" wrap="truncate">{`  ${' '.repeat(ui.filterError.column)}^`}</Text> : null}
          {ui.filterError !== null ? (
            <Text color="red" wrap="truncate">{fitText(`${ui.filterError.message} (column ${ui.filterError.column + 1})`, width)}</Text>
          ) : null}
        </Box>
      )}
    </Box>
  );
}
