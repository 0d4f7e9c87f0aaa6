// The capture points of a trace, from the command line: `NAME=FILE` or `FILE`
// (named after the file), a pcapng with several interfaces giving one point per
// interface (`NAME:IFNAME`); which points share a host (and so a clock); and
// the clock offsets a user gives.

import path from 'node:path';
import { UsageError } from '../errors.js';
import { RecordCursor } from '../sources/cursor.js';
import { CaptureError } from '../sources/record.js';
import type { TracePoint } from './report.js';

export interface PointSpec {
  name: string;
  file: string;
}

/** `NAME=FILE` or `FILE`; a malformed one is a usage error. */
export function parsePointSpec(spec: string): PointSpec {
  const eq = spec.indexOf('=');
  if (eq < 0) {
    const name = path.basename(spec).replace(/\.(pcapng|pcap|cap)$/i, '');
    if (spec === '' || name === '') throw new UsageError(`point "${spec}" names no file: write NAME=FILE or FILE`);
    return { name, file: spec };
  }
  const name = spec.slice(0, eq);
  const file = spec.slice(eq + 1);
  if (name === '' || file === '') throw new UsageError(`point "${spec}" is malformed: write NAME=FILE (both parts non-empty)`);
  if (/[\s,=]/.test(name)) throw new UsageError(`point name "${name}" may not contain spaces, commas or "="`);
  return { name, file };
}

export interface OpenPoints {
  points: TracePoint[];
  hostNames: string[];
  cursors: RecordCursor[];
  /** Point index of each cursor's interface id. */
  pointOf: Array<Map<number, number>>;
}

/** The host a point belongs to when none is given: its name up to the first '-' or ':'. */
function hostPrefix(name: string): string {
  const cut = name.search(/[-:]/);
  return cut > 0 ? name.slice(0, cut) : name;
}

/** `NAME=POINT,POINT`, as --host gives it. */
function parseHosts(specs: string[]): Map<string, string> {
  const hostOfPoint = new Map<string, string>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const host = spec.slice(0, eq);
    const members = spec.slice(eq + 1).split(',').filter((m) => m !== '');
    if (eq <= 0 || members.length === 0) throw new UsageError(`--host "${spec}" is malformed: write NAME=POINT,POINT`);
    for (const member of members) hostOfPoint.set(member, host);
  }
  return hostOfPoint;
}

/** Opens every point's file and names its points; an unreadable file names its point. */
export function openPoints(specs: PointSpec[], hostSpecs: string[]): OpenPoints {
  const points: TracePoint[] = [];
  const cursors: RecordCursor[] = [];
  const pointOf: Array<Map<number, number>> = [];
  try {
    for (const spec of specs) {
      let cursor: RecordCursor;
      try {
        cursor = new RecordCursor(spec.file);
        cursor.peek();
      } catch (err) {
        if (err instanceof CaptureError) throw new CaptureError(`point ${spec.name}: ${err.message}`);
        throw err;
      }
      cursors.push(cursor);
      // The interfaces a pcapng describes before its first packet (writers put them first).
      const names: string[] = [];
      for (let id = 0; cursor.interfaceName(id) !== undefined; id++) names.push(cursor.interfaceName(id) as string);
      const map = new Map<number, number>();
      // A spec named '' (a live capture's file) names each point by its interface alone.
      if (names.length <= 1 && spec.name !== '') {
        map.set(0, points.length);
        points.push({ name: spec.name, file: spec.file, interface: names[0] || null, host: -1 });
      } else {
        names.forEach((ifname, id) => {
          map.set(id, points.length);
          const name = spec.name === '' ? ifname || `if${id}` : `${spec.name}:${ifname || `if${id}`}`;
          points.push({ name, file: spec.file, interface: ifname || null, host: -1 });
        });
      }
      pointOf.push(map);
    }
  } catch (err) {
    for (const cursor of cursors) cursor.close();
    throw err;
  }
  const seen = new Set<string>();
  for (const point of points) {
    if (seen.has(point.name)) {
      for (const cursor of cursors) cursor.close();
      throw new UsageError(`two points are named ${point.name}: name them apart with NAME=FILE`);
    }
    seen.add(point.name);
  }
  const given = parseHosts(hostSpecs);
  for (const member of given.keys()) {
    if (!seen.has(member)) {
      for (const cursor of cursors) cursor.close();
      throw new UsageError(`--host names ${member}, which is no point (points: ${[...seen].join(', ')})`);
    }
  }
  const hostNames: string[] = [];
  for (const point of points) {
    const host = given.get(point.name) ?? hostPrefix(point.name);
    let index = hostNames.indexOf(host);
    if (index < 0) index = hostNames.push(host) - 1;
    point.host = index;
  }
  return { points, hostNames, cursors, pointOf };
}

/**
 * `--offset NAME=SECONDS`: seconds added to the timestamps of a point, or of
 * every point of a host. Returns the offset of each host and whether it was given.
 */
export function parseOffsets(specs: string[], points: TracePoint[], hostNames: string[]): { offsets: number[]; given: boolean[] } {
  const offsets = new Array(hostNames.length).fill(0);
  const given = new Array(hostNames.length).fill(false);
  for (const spec of specs) {
    const eq = spec.lastIndexOf('=');
    const name = spec.slice(0, eq);
    const value = Number(spec.slice(eq + 1));
    if (eq <= 0 || spec.slice(eq + 1).trim() === '' || !Number.isFinite(value)) {
      throw new UsageError(`--offset "${spec}" is malformed: write NAME=SECONDS, e.g. h2=-0.0125`);
    }
    const point = points.find((p) => p.name === name);
    const host = point !== undefined ? point.host : hostNames.indexOf(name);
    if (host < 0) {
      throw new UsageError(`--offset names ${name}, which is no point or host (points: ${points.map((p) => p.name).join(', ')})`);
    }
    offsets[host] = value;
    given[host] = true;
  }
  return { offsets, given };
}
