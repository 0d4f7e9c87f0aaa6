// A table of one-line rows that fits a given width: fixed columns keep their
// width, the flexible ones share the rest. Only the visible window of rows is
// drawn, so a table of a million rows costs what the screen shows.

import React from 'react';
import { Box, Text } from 'ink';
import { cellText } from './units.js';

export interface Column<Row> {
  title: string;
  /** Columns, or 0 for a column that takes a share of what the fixed ones leave. */
  width: number;
  alignRight?: boolean;
  cell: (row: Row) => string;
}

/** The widths of the columns for `total` columns of terminal, one space between columns. */
export function columnWidths<Row>(columns: Column<Row>[], total: number): number[] {
  const fixed = columns.reduce((sum, column) => sum + column.width, 0) + columns.length - 1;
  const flexible = columns.filter((column) => column.width === 0).length;
  const share = flexible === 0 ? 0 : Math.max(4, Math.floor((total - fixed) / flexible));
  return columns.map((column) => (column.width === 0 ? share : column.width));
}

function lineOf<Row>(columns: Column<Row>[], widths: number[], text: (column: Column<Row>) => string): string {
  return columns.map((column, i) => cellText(text(column), widths[i], column.alignRight)).join(' ');
}

export interface TableProps<Row> {
  columns: Column<Row>[];
  rows: readonly Row[];
  width: number;
  /** Lines for the rows (the title line is extra). */
  height: number;
  /** First row drawn. */
  top: number;
  /** Selected row, or -1. */
  cursor: number;
  /** Whether the table has the focus (the selection is drawn brighter). */
  focused: boolean;
  /** Colour of a row that needs attention, or undefined. */
  tone?: (row: Row) => string | undefined;
  empty: string;
}

export function Table<Row>(props: TableProps<Row>): React.JSX.Element {
  const { columns, rows, width, height, top, cursor, focused, tone, empty } = props;
  const widths = columnWidths(columns, width);
  const shown = rows.slice(top, top + height);
  return (
    <Box flexDirection="column" width={width} height={height + 1}>
      <Text bold wrap="truncate">{lineOf(columns, widths, (column) => column.title)}</Text>
      {rows.length === 0 ? <Text dimColor wrap="truncate">{empty}</Text> : null}
      {shown.map((row, i) => {
        const selected = top + i === cursor;
        return (
          <Text key={top + i} wrap="truncate" color={tone?.(row)} inverse={selected && focused} underline={selected && !focused}>
            {lineOf(columns, widths, (column) => column.cell(row))}
          </Text>
        );
      })}
    </Box>
  );
}

/** A table over a list model's window: its rows on screen, the first of them, and the selection. */
export function listTableProps(list: { pageRows: number; top: number; cursor: number }, width: number): {
  width: number; height: number; top: number; cursor: number; focused: boolean;
} {
  return { width, height: list.pageRows, top: list.top, cursor: list.cursor, focused: true };
}
