// Timestamps as text at the edges: the last second ISO 8601 writes with a
// four-digit year, the first beyond it, before 1970, and beyond any date.
// GNU date is the oracle for the dates.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dateTimeText, epochText, isoText, secondsText } from '../../src/output/timestamp.js';
import { hasCommand, requireOrSkip } from '../helpers/tools.js';

function gnuDate(sec: number): string {
  return spawnSync('date', ['-u', '-d', `@${sec}`, '+%Y-%m-%dT%H:%M:%S'], { encoding: 'utf8' }).stdout.trim();
}

describe('dates and seconds', () => {
  it('writes a date from year 0000 to 9999, as GNU date does', () => {
    if (!requireOrSkip(hasCommand('date'), 'date')) return;
    for (const sec of [0, 1700000000, -1, -62167219200, 253402300799]) expect(dateTimeText(sec), String(sec)).toBe(gnuDate(sec));
  });

  it('has no date beyond the year 9999 or before the year 0000, nor for what is not a number', () => {
    for (const sec of [253402300800, -62167219201, 18446744073709, 2 ** 64, Number.NaN, Infinity]) expect(dateTimeText(sec)).toBeNull();
  });

  it('shows a time beyond the dates as seconds since 1970, with the capture\'s digits', () => {
    const record = { sec: 18446744073709, nsec: 551615000, tsDigits: 6 };
    expect(isoText(record)).toBe('18446744073709.551615 seconds since 1970');
    expect(epochText(record)).toBe('18446744073709.551615');
    expect(isoText({ sec: 1700000000, nsec: 1, tsDigits: 9 })).toBe('2023-11-14T22:13:20.000000001Z');
  });

  it('counts the fraction towards 1970 before it, so the text is the instant', () => {
    expect(secondsText(-1, 5, 9)).toBe('-0.999999995');
    expect(secondsText(-2, 500_000_000, 6)).toBe('-1.500000');
    expect(secondsText(-3, 0, 6)).toBe('-3.000000');
    expect(Number(secondsText(2 ** 64, 0, 6))).toBe(2 ** 64);
  });
});
