// Ipv4FlowTable keeps what most packets add to a flow in the flow's slot and
// adds it to the FlowEntry and MacEntry only when settled. Whatever happens in
// between (the table growing, timestamps out of order, the flow's MAC address
// changing and changing back) the entries must end as if every packet had
// been added to them directly.

import { describe, expect, it } from 'vitest';
import { FlowEntry, Ipv4FlowTable, MacEntry, TunnelEntry } from '../../src/analysis/entries.js';

const TCP = 6;

function tunnel(tableId: number): TunnelEntry {
  const entry = new TunnelEntry('vxlan', '192.0.2.1', '192.0.2.2', 42, tableId);
  entry.tableId = tableId;
  return entry;
}

function flowOf(entry: TunnelEntry, n: number): FlowEntry {
  const flow = new FlowEntry(entry, TCP, `10.0.${n >> 8}.${n & 255}`, '10.1.0.1', 40000 + (n % 1000), 443, n);
  flow.src4 = (0x0a000000 | n) >>> 0;
  flow.dst4 = 0x0a010001;
  return flow;
}

describe('Ipv4FlowTable', () => {
  it('finds each flow by its whole key, and only by it', () => {
    const table = new Ipv4FlowTable();
    const entry = tunnel(3);
    const flow = flowOf(entry, 7);
    const at = table.add(flow);
    expect(table.find(3, flow.src4, flow.dst4, TCP, flow.srcPort, 443)).toBe(at);
    expect(table.flowAt(at)).toBe(flow);
    expect(table.find(4, flow.src4, flow.dst4, TCP, flow.srcPort, 443)).toBe(-1);
    expect(table.find(3, flow.src4, flow.dst4, 17, flow.srcPort, 443)).toBe(-1);
    expect(table.find(3, flow.src4, flow.dst4, TCP, flow.srcPort, 444)).toBe(-1);
    // Ports of 32768 and up set the top bit of the ports word.
    const high = new FlowEntry(entry, TCP, '10.9.9.9', '10.1.0.1', 65535, 50000, 8);
    high.src4 = 0xc0a80101;
    high.dst4 = 0xfffffffe;
    const highAt = table.add(high);
    expect(table.find(3, 0xc0a80101, 0xfffffffe, TCP, 65535, 50000)).toBe(highAt);
  });

  it('keeps pending counts and timestamps through growth, and settles each once', () => {
    const table = new Ipv4FlowTable();
    const entry = tunnel(1);
    const flows: FlowEntry[] = [];
    // 5,000 flows make the table grow from 1,024 slots several times while counts are pending.
    for (let n = 0; n < 5000; n++) {
      const flow = flowOf(entry, n);
      flows.push(flow);
      const at = table.add(flow);
      table.count(at, 100 + n, 1000 + n, 500);
    }
    for (let n = 0; n < 5000; n++) {
      const f = flows[n];
      const at = table.find(1, f.src4, f.dst4, TCP, f.srcPort, 443);
      expect(table.flowAt(at)).toBe(f);
      // A later packet, then one from before the first.
      table.count(at, 60, 2000 + n, 7);
      table.count(at, 40, 1000 + n, 499);
    }
    table.settle();
    table.settle();
    for (let n = 0; n < 5000; n += 499) {
      const f = flows[n];
      expect([f.packets, f.bytes]).toEqual([3, 100 + n + 60 + 40]);
      expect([f.firstSec, f.firstNsec, f.lastSec, f.lastNsec]).toEqual([1000 + n, 499, 2000 + n, 7]);
    }
    // Packets after settling add to what the entry already holds.
    const f = flows[10];
    const at = table.find(1, f.src4, f.dst4, TCP, f.srcPort, 443);
    table.count(at, 1, 999, 0);
    table.settle();
    expect([f.packets, f.bytes, f.firstSec, f.firstNsec, f.lastSec]).toEqual([4, 100 + 10 + 101, 999, 0, 2010]);
  });

  it('keeps timestamps past 2106 exact in the FlowEntry', () => {
    const table = new Ipv4FlowTable();
    const flow = flowOf(tunnel(0), 1);
    const at = table.add(flow);
    table.count(at, 10, 2 ** 32 + 5, 1);
    table.count(at, 10, 100, 2);
    table.settle();
    expect([flow.packets, flow.bytes, flow.firstSec, flow.firstNsec, flow.lastSec, flow.lastNsec]).toEqual([2, 20, 100, 2, 2 ** 32 + 5, 1]);
  });

  it('counts a flow\'s packets for the MAC address each came from, across changes', () => {
    const table = new Ipv4FlowTable();
    const flow = flowOf(tunnel(0), 1);
    const at = table.add(flow);
    // The last four bytes as the aggregator reads them: a signed 32-bit word.
    const a = new MacEntry('02:00:80:00:00:01', '192.0.2.1', 0x0200, (0x80000001 | 0));
    const b = new MacEntry('02:00:00:00:00:02', '192.0.2.1', 0x0200, 2);
    expect(table.sameMac(at, a.high, a.low)).toBe(false);
    // The caller counts the packet that made it look the address up, then remembers it.
    a.packets++;
    table.rememberMac(at, flow.mac, a);
    flow.mac = a;
    for (let i = 0; i < 4; i++) expect(table.sameMac(at, a.high, a.low)).toBe(true);
    expect(table.sameMac(at, b.high, b.low)).toBe(false);
    b.packets++;
    table.rememberMac(at, flow.mac, b);
    flow.mac = b;
    expect(a.packets).toBe(5);
    expect(table.sameMac(at, b.high, b.low)).toBe(true);
    expect(table.sameMac(at, a.high, a.low)).toBe(false);
    a.packets++;
    table.rememberMac(at, flow.mac, a);
    flow.mac = a;
    expect(table.sameMac(at, a.high, a.low)).toBe(true);
    table.settle();
    expect([a.packets, b.packets]).toEqual([7, 2]);
    table.settle();
    expect([a.packets, b.packets]).toEqual([7, 2]);
  });
});
