// What a state shows, worked out without drawing: for the view on top of the
// stack, its rows, which is selected, which are on screen and where, and what
// Enter opens. The keys, the mouse and the search act on this; the body
// components draw it.

import type { Finding } from '../analysis/report.js';
import { tunnelTitle } from '../analysis/labels.js';
import {
  conversationPackets, conversationTitle, type ConversationRow, type FlowConversationRow,
} from './conversations.js';
import { asciiLines, hexLines, type FollowedStream, type StreamLine } from './follow.js';
import { layerByteRange, layerTreeRows, type TreeRow } from './layer-tree.js';
import { hexBytesPerRow } from './hex-rows.js';
import {
  BODY_LINE, START, bodyHeightOf, clamp, packetIndex, scrolled, selectedIndex, top, withTop,
  type Frame, type ListCursor, type PacketFrame, type PacketsFrame, type UiState,
} from './state.js';
import {
  listTunnels, type FlowRow, type OpenedPacket, type PacketListRef, type StoreSnapshot, type TuiStore, type TunnelRow,
} from './store.js';
import { interfacePanelLines } from './interface-lines.js';
import type { PacketRow } from './views/packets.js';

export interface ModelContext {
  store: TuiStore;
  snapshot: StoreSnapshot;
  width: number;
  height: number;
  /** A list's packet numbers (held still while paused). */
  numbers: (ref: PacketListRef) => Uint32Array;
  opened: (n: number) => OpenedPacket | null;
  /** The stream packet n belongs to, among the packets that matched. */
  stream: (n: number) => FollowedStream | null;
}

/** The selectable rows of a view, as the keys, the mouse and the search see them. */
export interface ListModel {
  rowCount: number;
  /** Rows on screen at once. */
  pageRows: number;
  cursor: number;
  /** First row on screen. */
  top: number;
  /** Screen line of the first row on screen. */
  firstLine: number;
  rowKey: (index: number) => string | undefined;
  /** A row's text, as the search matches it. */
  rowText: (index: number) => string;
  open: (index: number) => Frame | null;
  /** The state with the selection on row `index`. */
  select: (state: UiState, index: number) => UiState;
  /** The packets behind the view, for `w`. */
  packets: () => ArrayLike<number>;
  /** The packet whose stream `F` follows from row `index`, or null. */
  streamPacket: (index: number) => number | null;
}

export type Shown =
  | { kind: 'help'; list: ListModel }
  | {
    kind: 'tunnels'; list: ListModel; rows: TunnelRow[]; tableRows: number; tableTop: number; tableCursor: number;
    findings: Finding[]; findingsHeight: number; findingsTop: number; findingsCursor: number; focus: 'tunnels' | 'findings';
  }
  | { kind: 'conversations'; list: ListModel; rows: ConversationRow[] }
  | { kind: 'flows'; list: ListModel; rows: FlowRow[] }
  | { kind: 'flow-conversations'; list: ListModel; rows: FlowConversationRow[] }
  | { kind: 'packets'; list: ListModel; rows: PacketRow[] }
  | { kind: 'packet'; list: ListModel; opened: OpenedPacket | null; n: number; tree: TreeRow[]; hexRows: number; hexTop: number; focus: 'tree' | 'hex' }
  | { kind: 'stream'; list: ListModel; stream: FollowedStream | null; lines: StreamLine[]; hex: boolean };

const NO_PACKETS = new Uint32Array(0);

/** A list model of `count` rows on `pageRows` lines, its selection kept in `cursorOf`/`withCursor`. */
function listOf(
  count: number, pageRows: number, cursor: ListCursor, index: number, firstLine: number,
  parts: Partial<ListModel> & { withCursor: (next: ListCursor) => Frame },
): ListModel {
  const rowKey = parts.rowKey ?? (() => undefined);
  const first = scrolled(cursor.top, index, pageRows, count);
  return {
    rowCount: count, pageRows, cursor: index, top: first, firstLine, rowKey,
    rowText: parts.rowText ?? (() => ''),
    open: parts.open ?? (() => null),
    packets: parts.packets ?? (() => NO_PACKETS),
    streamPacket: parts.streamPacket ?? (() => null),
    select: (s, i) => withTop(s, parts.withCursor({ cursor: i, top: scrolled(first, i, pageRows, count), key: rowKey(i) })),
  };
}

function joinCells(...cells: (string | number | undefined)[]): string {
  return cells.filter((cell) => cell !== undefined).join(' ');
}

function packetsFrame(packets: PacketListRef, title: string, live: boolean): PacketsFrame {
  return { kind: 'packets', packets, title, list: START, follow: live };
}

function packetFrame(n: number): PacketFrame {
  return { kind: 'packet', n, expanded: new Set<number>(), tree: START, hexTop: 0, pane: 'tree' };
}

/** What the state shows, for a screen of the context's size. */
export function shownOf(state: UiState, ctx: ModelContext, helpLines: number): Shown {
  const { store, snapshot } = ctx;
  const frame = top(state);
  const bodyHeight = bodyHeightOf(state, ctx.height, interfacePanelLines(snapshot.status, ctx.width).length);
  const tableRows = Math.max(1, bodyHeight - 1);
  const firstLine = BODY_LINE + 1;
  const allPackets = (): Uint32Array => ctx.numbers({ all: true });
  if (state.help !== null) {
    const page = Math.max(1, bodyHeight - 1);
    const at = clamp(state.help, 0, Math.max(0, helpLines - page));
    const list = listOf(helpLines, page, { cursor: at, top: at }, at, firstLine, { withCursor: () => frame });
    return { kind: 'help', list: { ...list, top: at, select: (s, i) => ({ ...s, help: clamp(i, 0, Math.max(0, helpLines - page)) }) } };
  }
  switch (frame.kind) {
    case 'tunnels': {
      const rows = store.tunnelRows(snapshot.report, state.sort);
      const findings = snapshot.report.findings;
      // With the focus the pane grows, for the selected finding shown whole.
      const findingsHeight = findings.length === 0 ? 0 : frame.pane === 'findings'
        ? Math.min(findings.length + 3, Math.max(4, Math.floor(bodyHeight / 2)))
        : Math.min(findings.length + 1, Math.max(2, Math.floor(bodyHeight / 3)));
      const rowsHeight = Math.max(1, bodyHeight - 1 - findingsHeight);
      const cursor = selectedIndex(frame.list, rows.length, (i) => rows[i]?.key);
      const findingsRows = Math.max(1, findingsHeight - 1);
      const findingsCursor = clamp(frame.findings.cursor, 0, Math.max(0, findings.length - 1));
      const flowsOf = (row: TunnelRow | undefined): Frame | null =>
        (row === undefined ? null : { kind: 'flows', tunnel: row, title: tunnelTitle(row), list: START });
      const tunnelsList = listOf(rows.length, rowsHeight, frame.list, cursor, firstLine, {
        withCursor: (list) => ({ ...frame, list }),
        rowKey: (i) => rows[i]?.key,
        rowText: (i) => joinCells(rows[i].type, rows[i].id ?? '-', rows[i].src, rows[i].dst),
        open: (i) => flowsOf(rows[i]),
        packets: allPackets,
      });
      const findingsList = listOf(findings.length, findingsRows, frame.findings, findingsCursor, firstLine + rowsHeight + 1, {
        withCursor: (list) => ({ ...frame, findings: list }),
        rowText: (i) => `${findings[i].severity}: ${findings[i].message}`,
        open: (i) => flowsOf(rows.find((row) => findings[i]?.tunnel !== undefined && row.index === findings[i].tunnel)),
        packets: allPackets,
      });
      return {
        kind: 'tunnels', list: frame.pane === 'tunnels' ? tunnelsList : findingsList, rows, tableRows: rowsHeight,
        tableTop: tunnelsList.top, tableCursor: cursor, findings, findingsHeight, findingsTop: findingsList.top,
        findingsCursor, focus: frame.pane,
      };
    }
    case 'conversations': {
      const rows = store.conversationRows(snapshot.report, state.sort);
      const cursor = selectedIndex(frame.list, rows.length, (i) => rows[i]?.key);
      const list = listOf(rows.length, tableRows, frame.list, cursor, firstLine, {
        withCursor: (next) => ({ ...frame, list: next }),
        rowKey: (i) => rows[i]?.key,
        rowText: (i) => joinCells(rows[i].ref.type, rows[i].ref.id ?? '-', rows[i].ref.a, rows[i].ref.b),
        open: (i) => (rows[i] === undefined ? null : {
          kind: 'flow-conversations', conversation: rows[i].ref, title: conversationTitle(rows[i].ref), list: START,
        }),
        packets: allPackets,
      });
      return { kind: 'conversations', list, rows };
    }
    case 'flows': {
      const rows = store.flowRows(snapshot.report, frame.tunnel, state.sort);
      const cursor = selectedIndex(frame.list, rows.length, (i) => rows[i]?.key);
      const list = listOf(rows.length, tableRows, frame.list, cursor, firstLine, {
        withCursor: (next) => ({ ...frame, list: next }),
        rowKey: (i) => rows[i]?.key,
        rowText: (i) => joinCells(rows[i].proto, rows[i].src, rows[i].srcPort, rows[i].dst, rows[i].dstPort),
        open: (i) => {
          const row = rows[i];
          if (row === undefined) return null;
          const src = row.srcPort === undefined ? row.src : `${row.src}:${row.srcPort}`;
          const dst = row.dstPort === undefined ? row.dst : `${row.dst}:${row.dstPort}`;
          return packetsFrame({ tunnel: frame.tunnel, flow: row }, `${row.proto} ${src} > ${dst}`, store.live);
        },
        packets: () => ctx.numbers({ tunnel: frame.tunnel }),
        streamPacket: (i) => (rows[i] === undefined ? null : ctx.numbers({ tunnel: frame.tunnel, flow: rows[i] })[0] ?? null),
      });
      return { kind: 'flows', list, rows };
    }
    case 'flow-conversations': {
      const rows = store.flowConversationRows(snapshot.report, frame.conversation, state.sort);
      const cursor = selectedIndex(frame.list, rows.length, (i) => rows[i]?.key);
      const ref = frame.conversation;
      const conversation = store.conversationRows(snapshot.report, state.sort)
        .find((row) => row.ref.type === ref.type && row.ref.id === ref.id && row.ref.a === ref.a && row.ref.b === ref.b);
      const list = listOf(rows.length, tableRows, frame.list, cursor, firstLine, {
        withCursor: (next) => ({ ...frame, list: next }),
        rowKey: (i) => rows[i]?.key,
        rowText: (i) => joinCells(rows[i].proto, rows[i].a, rows[i].b),
        open: (i) => (rows[i] === undefined ? null : packetsFrame(rows[i].packets, `${rows[i].proto} ${rows[i].a} ↔ ${rows[i].b}`, store.live)),
        packets: () => (conversation === undefined ? NO_PACKETS : ctx.numbers(conversationPackets(conversation))),
        streamPacket: (i) => (rows[i] === undefined ? null : ctx.numbers(rows[i].packets)[0] ?? null),
      });
      return { kind: 'flow-conversations', list, rows };
    }
    case 'packets': {
      const numbers = ctx.numbers(frame.packets);
      const tunnels = listTunnels(frame.packets);
      const cursor = Math.max(0, frame.follow ? numbers.length - 1 : packetIndex(numbers, frame.list));
      const list = listOf(numbers.length, tableRows, frame.list, cursor, firstLine, {
        withCursor: (next) => ({ ...frame, list: next, follow: store.live && next.cursor === numbers.length - 1 }),
        rowKey: (i) => (i < numbers.length ? String(numbers[i]) : undefined),
        rowText: (i) => {
          const line = store.packetLine(numbers[i], tunnels);
          return line === null ? String(numbers[i]) : joinCells(line.n, line.time, line.len, line.summary);
        },
        open: (i) => (i < numbers.length ? packetFrame(numbers[i]) : null),
        packets: () => numbers,
        streamPacket: (i) => numbers[i] ?? null,
      });
      // Only the visible window is decoded.
      const rows: PacketRow[] = [];
      for (let i = list.top; i < Math.min(numbers.length, list.top + tableRows); i++) {
        rows.push({ n: numbers[i], line: store.packetLine(numbers[i], tunnels) });
      }
      return { kind: 'packets', list, rows };
    }
    case 'packet': {
      const opened = ctx.opened(frame.n);
      const tree = opened === null ? [] : layerTreeRows(opened.packet, frame.expanded);
      const paneRows = Math.max(1, bodyHeight - 2);
      const cursor = clamp(frame.tree.cursor, 0, Math.max(0, tree.length - 1));
      const list = listOf(tree.length, paneRows, frame.tree, cursor, BODY_LINE + 1, {
        withCursor: (next) => ({ ...frame, tree: next }),
        rowText: (i) => tree[i].text,
        packets: () => [frame.n],
        streamPacket: () => frame.n,
      });
      let hexRows = 0;
      let hexTop = 0;
      if (opened !== null) {
        const perRow = hexBytesPerRow(ctx.width);
        hexRows = Math.ceil(opened.record.bytes.length / perRow);
        // While the tree has the focus, the dump follows the selection: the selected layer's first bytes stay in view.
        const selected = tree[cursor];
        const selectedRow = selected === undefined ? 0
          : Math.floor(layerByteRange(opened.packet, selected.layer, opened.record.bytes.length)[0] / perRow);
        hexTop = frame.pane === 'tree'
          ? scrolled(frame.hexTop, selectedRow, paneRows, hexRows)
          : clamp(frame.hexTop, 0, Math.max(0, hexRows - paneRows));
      }
      return { kind: 'packet', list, opened, n: frame.n, tree, hexRows, hexTop, focus: frame.pane };
    }
    case 'stream': {
      const stream = ctx.stream(frame.n);
      const lines = stream === null ? [] : frame.hex ? hexLines(stream) : asciiLines(stream);
      const pageRows = Math.max(1, bodyHeight - 1);
      const cursor = clamp(frame.list.cursor, 0, Math.max(0, lines.length - 1));
      const list = listOf(lines.length, pageRows, frame.list, cursor, BODY_LINE + 1, {
        withCursor: (next) => ({ ...frame, list: next }),
        rowText: (i) => lines[i].text,
        packets: () => stream?.packets ?? [],
      });
      return { kind: 'stream', list, stream, lines, hex: frame.hex };
    }
  }
}

/** Frame that follows the stream of the selected row's packet, or null when there is none. */
export function streamFrameOf(shown: Shown, ctx: ModelContext): Frame | null {
  const n = shown.list.streamPacket(shown.list.cursor);
  if (n === null) return null;
  const stream = ctx.stream(n);
  if (stream === null) return null;
  return { kind: 'stream', n, title: `${stream.proto} stream ${stream.a} ↔ ${stream.b}`, hex: false, list: START };
}
