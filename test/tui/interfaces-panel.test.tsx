// The panel of a live capture's interfaces, under ink-testing-library: a live
// store fed the records of a fixture, with the counts of each interface as a
// capture hands them over; and its lines on their own.

import path from 'node:path';
import React from 'react';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareDecode } from '../../src/pipeline.js';
import { readCaptureFile } from '../../src/sources/file.js';
import type { CaptureRecord, ReadSummary, RecordSink } from '../../src/sources/record.js';
import { App } from '../../src/tui/app.js';
import { interfacePanelLines } from '../../src/tui/interface-lines.js';
import { PacketRing } from '../../src/tui/packet-ring.js';
import { TuiStore, type LiveInterfaceCounts, type StoreStatus } from '../../src/tui/store.js';
import { FIXTURES } from '../helpers/tools.js';
import { until } from './ink.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function status(interfaces: LiveInterfaceCounts[] | null): StoreStatus {
  return {
    source: 'a, b', kind: 'live', state: 'live', seen: 0, matched: 0, rate: 0, drops: 0, progress: null, filter: '', message: null, interfaces,
  };
}

describe('the interfaces panel', () => {
  it('has a row per interface with what it received and what the kernel dropped', () => {
    const lines = interfacePanelLines(status([
      { name: 'bk1/bkv1', received: 120, droppedByKernel: 0, gone: null },
      { name: 'bk1/vx42', received: 250_000, droppedByKernel: 7, gone: 'the interface went down' },
      { name: 'pid:1/eth0', received: 3, droppedByKernel: null, gone: null },
    ]), 80);
    expect(lines).toEqual([
      'interface           received  kernel drops',
      'bk1/bkv1                 120             0',
      'bk1/vx42 (stopped)    250.0k             7',
      'pid:1/eth0                 3             ?',
    ]);
  });

  it('is not there for one interface, or for a file', () => {
    expect(interfacePanelLines(status([{ name: 'lo', received: 1, droppedByKernel: 0, gone: null }]), 80)).toEqual([]);
    expect(interfacePanelLines(status(null), 80)).toEqual([]);
  });

  it('sums up the interfaces past the sixth in one line', () => {
    const each = Array.from({ length: 9 }, (_, i) => ({ name: `if${i}`, received: 10 * i, droppedByKernel: i, gone: null }));
    const lines = interfacePanelLines(status(each), 80);
    expect(lines).toHaveLength(7);
    expect(lines.at(-1)).toBe('and 4 more: 260 received, 26 kernel drops');
  });

  it('is drawn under the view of a live capture on two interfaces, and follows their counts', async () => {
    // Two interfaces in one pcapng: each record says which one it came from, as a live capture's do.
    const records: CaptureRecord[] = [];
    readCaptureFile(path.join(FIXTURES, 'two-interfaces.pcapng'), (record) => {
      records.push({ ...record, bytes: record.bytes.slice() });
    });
    const ids = [...new Set(records.map((r) => r.interfaceId))].sort();
    expect(ids).toEqual([0, 1]);
    const received = [0, 0];
    let sink: RecordSink | null = null;
    let finish: ((summary: ReadSummary) => void) | null = null;
    const store = TuiStore.forLive({
      name: 'left, right',
      source: (given) => new Promise((resolve) => {
        sink = given;
        finish = resolve;
      }),
      ring: new PacketRing(100),
      drops: () => 5,
      interfaces: () => [
        { name: 'left', received: received[0], droppedByKernel: 2, gone: null },
        { name: 'right', received: received[1], droppedByKernel: 3, gone: null },
      ],
    }, { prepared: prepareDecode({}), filterText: '' });
    const ui = render(<App store={store} width={80} height={20} />);
    cleanups.push(() => {
      finish?.({ format: 'live', records: records.length, warning: null, stopped: true });
      ui.unmount();
      store.close();
    });
    for (const record of records) {
      received[record.interfaceId]++;
      sink!(record);
    }
    const screen = (): string => ui.lastFrame() ?? '';
    await until(() => screen().includes(`${records.length} packets`) && /^left +\d/m.test(screen()));
    const lines = screen().split('\n');
    expect(lines).toHaveLength(20);
    const header = lines.findIndex((line) => /^interface +received +kernel drops *$/.test(line));
    // Three lines above the foot line, which stays last.
    expect(header).toBe(16);
    expect(lines[17]).toMatch(new RegExp(`^left +${received[0]} +2 *$`));
    expect(lines[18]).toMatch(new RegExp(`^right +${received[1]} +3 *$`));
    expect(lines[19]).toMatch(/q quit/);
    expect(received[0]).toBeGreaterThan(0);
    expect(received[1]).toBeGreaterThan(0);
  });
});
