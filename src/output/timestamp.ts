import type { CaptureRecord } from '../sources/record.js';

/** Seconds since the epoch with the capture's precision, e.g. 1700000000.000123 (a JSON number). */
export function epochText(record: Pick<CaptureRecord, 'sec' | 'nsec' | 'tsDigits'>): string {
  return `${record.sec}.${fraction(record)}`;
}

/** Time of day in UTC, as tcpdump prints it: 22:13:20.000123. */
export function timeOfDayText(record: Pick<CaptureRecord, 'sec' | 'nsec' | 'tsDigits'>): string {
  const s = ((record.sec % 86400) + 86400) % 86400;
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${hh}:${mm}:${ss}.${fraction(record)}`;
}

/** ISO 8601 date and time in UTC with the capture's precision. */
export function isoText(record: Pick<CaptureRecord, 'sec' | 'nsec' | 'tsDigits'>): string {
  const date = new Date(record.sec * 1000).toISOString().slice(0, 19);
  return `${date}.${fraction(record)}Z`;
}

function fraction(record: Pick<CaptureRecord, 'nsec' | 'tsDigits'>): string {
  return String(record.nsec).padStart(9, '0').slice(0, record.tsDigits);
}
