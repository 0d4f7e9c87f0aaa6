// FlowStore keeps every flow in typed columns, found by a hash of its key
// (tunnel, kind, ports, address ids). Whatever happens (the columns and the
// index growing, timestamps out of order, parts merged), each flow must end
// with exactly what was added to it, and be found by its whole key only.

import { describe, expect, it } from 'vitest';
import { AddressTable } from '../../src/analysis/addresses.js';
import { FlowRow, FlowStore } from '../../src/analysis/flow-store.js';
import { KIND_OVERFLOW, TunnelEntry } from '../../src/analysis/entries.js';

const TCP = 6;

describe('AddressTable', () => {
  it('gives each address one id, IPv4 and IPv6 by their bytes and text by its text, and names them as the decoders do', () => {
    const table = new AddressTable();
    const v4 = table.ipv4(0xc0000201, true);
    expect(table.ipv4(0xc0000201, false)).toBe(v4);
    expect(table.ipv4(0xc0000202, false)).toBe(-1);
    expect(table.textOf(v4)).toBe('192.0.2.1');
    const bytes = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const v6 = table.ipv6(bytes, 0, true);
    expect(table.ipv6(bytes, 0, false)).toBe(v6);
    expect(table.textOf(v6)).toBe('2001:db8::1');
    // The text of an IPv4 address is another key than its bytes, as a header cut short is another source than a whole one.
    const text = table.text('192.0.2.1', true);
    expect(text).not.toBe(v4);
    expect(table.text(undefined, true)).not.toBe(text);
    expect(table.textOf(table.text(undefined, false))).toBeUndefined();
    // Past many rehashes every address is still found under its id.
    const ids = Array.from({ length: 5000 }, (_, i) => table.ipv4(0x0a000000 + i, true));
    ids.forEach((id, i) => expect(table.ipv4(0x0a000000 + i, false)).toBe(id));
    expect(table.ipv6(bytes, 0, false)).toBe(v6);
  });
});

describe('FlowStore', () => {
  it('finds each flow by its whole key, and only by it', () => {
    const store = new FlowStore(100);
    const f = store.add(3, TCP, 1, 2, 40000, 443, 0);
    expect(store.find(3, TCP, 1, 2, 40000, 443)).toBe(f);
    expect(store.find(4, TCP, 1, 2, 40000, 443)).toBe(-1);
    expect(store.find(3, 17, 1, 2, 40000, 443)).toBe(-1);
    expect(store.find(3, TCP, 2, 1, 40000, 443)).toBe(-1);
    expect(store.find(3, TCP, 1, 2, 40000, 444)).toBe(-1);
    // Ports of 32768 and up set the top bit of the ports word.
    const high = store.add(3, TCP, 1, 2, 65535, 50000, 1);
    expect(store.find(3, TCP, 1, 2, 65535, 50000)).toBe(high);
    const row = new FlowRow(store, high, new TunnelEntry('vxlan', 'a', 'b', 1, 0));
    expect([row.srcPort, row.dstPort, row.kind, row.order]).toEqual([65535, 50000, TCP, 1]);
  });

  it('keeps every flow\'s counts and span exact as the columns and the index grow, timestamps out of order', () => {
    const n = 20_000;
    const store = new FlowStore(n);
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(store.add(i % 7, TCP, i, i + 1, i & 0xffff, 443, i));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < n; i++) store.count1(store.find(i % 7, TCP, i, i + 1, i & 0xffff, 443), 100 + round, 1000 - round * (i % 2 === 0 ? 1 : -1), round);
    }
    for (let i = 0; i < n; i += 997) {
      const f = ids[i];
      expect(store.c.packets[f]).toBe(3);
      expect(store.c.bytes[f]).toBe(303);
      const evenFirst = i % 2 === 0;
      expect([store.c.firstSec[f], store.c.firstNsec[f]]).toEqual(evenFirst ? [998, 2] : [1000, 0]);
      expect([store.c.lastSec[f], store.c.lastNsec[f]]).toEqual(evenFirst ? [1000, 0] : [1002, 2]);
    }
  });

  it('holds its limit of flows and overflow flows beside them, which no key finds', () => {
    const store = new FlowStore(3000);
    for (let i = 0; i < 3000; i++) store.add(0, TCP, i, 0, 0, 0, i);
    for (let t = 0; t < 2000; t++) {
      const overflow = store.addOverflow(t, KIND_OVERFLOW, 0, 3000 + t);
      expect(store.c.kind[overflow]).toBe(KIND_OVERFLOW);
    }
    expect(store.count).toBe(5000);
    expect(store.find(0, KIND_OVERFLOW, 0, 0, 0, 0)).toBe(-1);
    for (let i = 0; i < 3000; i += 111) expect(store.find(0, TCP, i, 0, 0, 0)).toBe(i);
  });

  it('keeps the smaller creation order and the larger MSS when a part\'s flow is absorbed; no SYN limit reads as Infinity', () => {
    const mine = new FlowStore(10);
    const theirs = new FlowStore(10);
    const f = mine.add(0, TCP, 0, 1, 1, 2, 5);
    const g = theirs.add(0, TCP, 0, 1, 1, 2, 3);
    mine.count1(f, 60, 10, 0);
    theirs.count1(g, 1500, 9, 5);
    theirs.syn(g, 1460, 1400);
    expect(mine.mssLimitOf(f)).toBe(Infinity);
    mine.absorb(f, theirs.exportState().columns, g, 0x100000000);
    expect(mine.c.order[f]).toBe(5);
    expect([mine.c.packets[f], mine.c.bytes[f], mine.c.syn[f], mine.c.mss[f], mine.mssLimitOf(f)]).toEqual([2, 1560, 1, 1460, 1400]);
    expect([mine.c.firstSec[f], mine.c.firstNsec[f], mine.c.lastSec[f], mine.c.lastNsec[f]]).toEqual([9, 5, 10, 0]);
    expect(mine.anyMssOverLimit()).toBe(true);
  });
});
