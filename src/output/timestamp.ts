// Timestamps as text. A capture's clock may say anything: a damaged or
// crafted pcapng (if_tsresol, if_tsoffset) puts packets thousands of years
// away, or before 1970. Seconds are always shown; a date only where ISO 8601
// writes it in four digits (years 0000 to 9999), else the time is given in
// seconds since 1970.

import type { CaptureRecord } from '../sources/record.js';

type Stamp = Pick<CaptureRecord, 'sec' | 'nsec' | 'tsDigits'>;

/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, in seconds since 1970. */
const FIRST_DATE_SEC = -62167219200;
const LAST_DATE_SEC = 253402300799;

/**
 * Seconds since the epoch with `digits` of the fraction, e.g. 1700000000.000123,
 * a JSON number at any size. Before 1970 the fraction counts towards 1970 as
 * the sign says: one nanosecond before 1970 is -0.000000001.
 */
export function secondsText(sec: number, nsec: number, digits: number): string {
  if (!Number.isFinite(sec)) return '0';
  if (sec < 0 && nsec > 0) return `-${-(sec + 1)}.${digitsOf(1_000_000_000 - nsec, digits)}`;
  return `${sec}.${digitsOf(nsec, digits)}`;
}

/** The date and time of whole seconds, as a report asks for them again and again (two per flow); emptied when full. */
const secondTexts = new Map<number, string | null>();
const SECOND_TEXTS_MAX = 65536;

/** 2023-11-14T22:13:20 for whole seconds since the epoch, UTC; null where a four-digit year cannot say it. */
export function dateTimeText(sec: number): string | null {
  if (!(sec >= FIRST_DATE_SEC && sec <= LAST_DATE_SEC)) return null;
  let date = secondTexts.get(sec);
  if (date === undefined) {
    if (secondTexts.size >= SECOND_TEXTS_MAX) secondTexts.clear();
    date = new Date(sec * 1000).toISOString().slice(0, 19);
    secondTexts.set(sec, date);
  }
  return date;
}

/**
 * The instant exactly, as ISO 8601 UTC text with `digits` of the fraction:
 * 2023-11-14T22:13:20.000000001Z; null beyond the years 0000-9999, which
 * ISO 8601 writes in four digits.
 */
export function isoTimestamp(sec: number, nsec: number, digits: number): string | null {
  const date = dateTimeText(sec);
  return date === null ? null : `${date}.${digitsOf(nsec, digits)}Z`;
}

/** Seconds since the epoch with the capture's precision, e.g. 1700000000.000123 (a JSON number). */
export function epochText(record: Stamp): string {
  return secondsText(record.sec, record.nsec, record.tsDigits);
}

/** Time of day in UTC, as tcpdump prints it: 22:13:20.000123. */
export function timeOfDayText(record: Stamp): string {
  const s = Number.isFinite(record.sec) ? ((record.sec % 86400) + 86400) % 86400 : 0;
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${hh}:${mm}:${ss}.${digitsOf(record.nsec, record.tsDigits)}`;
}

/** ISO 8601 date and time in UTC with the capture's precision, or seconds since 1970 beyond the years 0000-9999. */
export function isoText(record: Stamp): string {
  return isoTimestamp(record.sec, record.nsec, record.tsDigits) ?? `${epochText(record)} seconds since 1970`;
}

function digitsOf(nsec: number, digits: number): string {
  return String(nsec).padStart(9, '0').slice(0, digits);
}
