// The terminal UI's store: the statistics of a capture, and behind each
// tunnel and flow row the numbers of its packets. The packet numbers expected
// here come from tshark, which decodes the fixtures on its own.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareDecode } from '../../src/pipeline.js';
import { readCaptureFile } from '../../src/sources/file.js';
import type { CaptureRecord, ReadSummary, RecordSink } from '../../src/sources/record.js';
import { IndexedCaptureFile } from '../../src/tui/capture-index.js';
import { PacketRing } from '../../src/tui/packet-ring.js';
import { TuiStore, tunnelKey, type TunnelIdentity } from '../../src/tui/store.js';
import { pcapFile, tempDir, writeTemp, type PcapRecordSpec } from '../helpers/capture-files.js';
import { FIXTURES, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';

const stores: TuiStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function openStore(fixture: string, filter?: string): Promise<TuiStore> {
  const store = TuiStore.forFile(new IndexedCaptureFile(path.join(FIXTURES, fixture)), {
    prepared: prepareDecode({ filter }), filterText: filter ?? '',
  });
  stores.push(store);
  await until(() => !store.reading);
  return store;
}

const IP_PROTOCOLS: Record<string, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };
/** The report's row of untunnelled traffic. */
const UNTUNNELLED: TunnelIdentity = { type: 'none', id: null, src: '', dst: '' };

interface Expected {
  tunnels: Map<string, number[]>;
  flows: Map<string, number[]>;
}

function flowName(tunnel: string, proto: string, src: string, srcPort: string | undefined, dst: string, dstPort: string | undefined): string {
  return `${tunnel} | ${proto} ${src}${srcPort === undefined ? '' : `:${srcPort}`} > ${dst}${dstPort === undefined ? '' : `:${dstPort}`}`;
}

/** Frame numbers of each VXLAN tunnel direction and each inner flow, as tshark decodes them. */
function vxlanByTshark(fixture: string): Expected {
  const fields = ['frame.number', 'vxlan.vni', 'ip.src', 'ip.dst', 'ip.proto', 'tcp.srcport', 'tcp.dstport',
    'udp.srcport', 'udp.dstport', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4'];
  const text = tshark(path.join(FIXTURES, fixture), ['-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])]);
  const expected: Expected = { tunnels: new Map(), flows: new Map() };
  const add = (map: Map<string, number[]>, key: string, n: number): void => {
    map.set(key, [...(map.get(key) ?? []), n]);
  };
  for (const line of text.trim().split('\n')) {
    const [frame, vni, src, dst, proto, tcpSrc, tcpDst, udpSrc, udpDst, arpSrc, arpDst] = line.split('\t').map((f) => f.split(','));
    const n = Number(frame[0]);
    const level = vni[0] === '' ? 0 : 1;
    const tunnel = tunnelKey(level === 0 ? UNTUNNELLED : { type: 'vxlan', id: Number(vni[0]), src: src[0], dst: dst[0] });
    add(expected.tunnels, tunnel, n);
    if (src[level] === undefined || src[level] === '') {
      add(expected.flows, flowName(tunnel, 'arp', arpSrc[0], undefined, arpDst[0], undefined), n);
      continue;
    }
    const name = IP_PROTOCOLS[proto[level]];
    const ports = name === 'tcp' ? [tcpSrc[0], tcpDst[0]] : name === 'udp' ? [udpSrc[level], udpDst[level]] : [undefined, undefined];
    add(expected.flows, flowName(tunnel, name, src[level], ports[0], dst[level], ports[1]), n);
  }
  return expected;
}

describe('packets behind the rows, against tshark', () => {
  for (const fixture of ['vxlan-lab.pcap', 'vxlan-lab-2vni.pcap', 'vxlan-lab-8472.pcap']) {
    it(`lists the packets of every tunnel direction and inner flow of ${fixture}`, async () => {
      if (!requireOrSkip(haveTshark, 'tshark')) return;
      const expected = vxlanByTshark(fixture);
      const store = await openStore(fixture);
      const { report } = store.snapshot();
      const tunnels = new Map<string, number[]>();
      const flows = new Map<string, number[]>();
      for (const row of store.tunnelRows(report, 'bytes')) {
        tunnels.set(row.key, Array.from(store.packetNumbers({ tunnel: row })));
        for (const flow of store.flowRows(report, row, 'bytes')) {
          const name = flowName(row.key, flow.proto, flow.src, flow.srcPort?.toString(), flow.dst, flow.dstPort?.toString());
          flows.set(name, Array.from(store.packetNumbers({ tunnel: row, flow })));
        }
      }
      expect(tunnels).toEqual(expected.tunnels);
      expect(flows).toEqual(expected.flows);
    });
  }

  it('lists a packet inside two tunnels under both', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    // fixtures/README.md: VXLAN VNI 100 carrying VXLAN VNI 200; tshark shows both VNIs in frame 1.
    const frame1 = tshark(path.join(FIXTURES, 'vxlan-nested.pcap'), ['-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,',
      '-e', 'vxlan.vni', '-e', 'ip.src', '-e', 'ip.dst', '-c', '1']).trim().split('\t').map((f) => f.split(','));
    const [vnis, srcs, dsts] = frame1;
    expect(vnis).toEqual(['100', '200']);
    const store = await openStore('vxlan-nested.pcap');
    for (let level = 0; level < 2; level++) {
      const tunnel: TunnelIdentity = { type: 'vxlan', id: Number(vnis[level]), src: srcs[level], dst: dsts[level] };
      expect(Array.from(store.packetNumbers({ tunnel }))).toContain(1);
    }
  });

  it('counts the later fragment of a fragmented VXLAN packet in its tunnel, as the aggregator does', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const lines = tshark(path.join(FIXTURES, 'fragments.pcap'), ['-T', 'fields', '-E', 'occurrence=f',
      '-e', 'frame.number', '-e', 'ip.id', '-e', 'vxlan.vni', '-e', 'ip.src', '-e', 'ip.dst']).trim().split('\n').map((l) => l.split('\t'));
    const first = lines.find((fields) => fields[2] !== '') as string[];
    const expected = lines.filter((fields) => fields[1] === first[1]).map((fields) => Number(fields[0]));
    expect(expected).toHaveLength(2);
    const store = await openStore('fragments.pcap');
    const tunnel: TunnelIdentity = { type: 'vxlan', id: Number(first[2]), src: first[3], dst: first[4] };
    expect(Array.from(store.packetNumbers({ tunnel }))).toEqual(expected);
    const row = store.snapshot().report.tunnels.find((t) => tunnelKey(t) === tunnelKey(tunnel));
    expect(row?.packets).toBe(2);
  });
});

describe('TuiStore over a file', () => {
  it('keeps the capture\'s packet numbers under a filter, and starts over with a new one', async () => {
    const store = await openStore('vxlan-lab-2vni.pcap', 'vxlan vni 43');
    // fixtures/README.md and tshark: VNI 43 is frames 9 to 16 of this capture.
    let { status, report } = store.snapshot();
    expect(status).toMatchObject({ seen: 18, matched: 8, filter: 'vxlan vni 43', state: 'done' });
    expect(report.tunnels.map((t) => t.id)).toEqual([43, 43]);
    const numbers = report.tunnels.flatMap((tunnel) => Array.from(store.packetNumbers({ tunnel }))).sort((a, b) => a - b);
    expect(numbers).toEqual([9, 10, 11, 12, 13, 14, 15, 16]);

    expect(store.applyFilter('udp port 9000')).toBeNull();
    await until(() => !store.reading);
    ({ status, report } = store.snapshot());
    expect(status).toMatchObject({ matched: 2, filter: 'udp port 9000' });
    expect(report.tunnels.map((t) => t.type)).toEqual(['none']);
    expect(Array.from(store.packetNumbers({ tunnel: report.tunnels[0] }))).toEqual([17, 18]);
  });

  it('starts over cleanly when a new filter comes while a large file is still being read', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const fixture = path.join(FIXTURES, 'vxlan-lab-2vni.pcap');
    const vni43 = tshark(fixture, ['-Y', 'vxlan.vni == 43', '-T', 'fields', '-e', 'frame.number']).trim().split('\n').map(Number);
    // The fixture 1,500 times over: about 3.5 MB, several of the reader's chunks.
    const copies = 1500;
    const records: PcapRecordSpec[] = [];
    readCaptureFile(fixture, (record) => {
      records.push({ sec: record.sec, frac: record.nsec / 1000, data: record.bytes.slice(), len: record.len });
    });
    const dir = tempDir();
    try {
      const big = writeTemp(dir, 'repeated.pcap', pcapFile({}, Array.from({ length: copies }, () => records).flat()));
      const store = TuiStore.forFile(new IndexedCaptureFile(big), { prepared: prepareDecode({}), filterText: '' });
      stores.push(store);
      await until(() => (store.snapshot().status.progress ?? 0) > 0.2);
      expect(store.reading).toBe(true);
      expect(store.applyFilter('vxlan vni 43')).toBeNull();
      await until(() => !store.reading);
      const { status, report } = store.snapshot();
      expect(status).toMatchObject({ seen: copies * records.length, matched: copies * vni43.length, state: 'done' });
      const numbers = report.tunnels.flatMap((tunnel) => Array.from(store.packetNumbers({ tunnel }))).sort((a, b) => a - b);
      expect(numbers).toHaveLength(copies * vni43.length);
      expect(numbers.slice(0, vni43.length)).toEqual(vni43);
      expect(numbers[numbers.length - 1]).toBe((copies - 1) * records.length + vni43[vni43.length - 1]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a filter that does not parse, naming the column, and keeps the one it had', async () => {
    const store = await openStore('vxlan-lab-2vni.pcap');
    const error = store.applyFilter('vxlan vni');
    expect(error?.message).toMatch(/number/);
    // The number is missing at the end of the text: column 9, counted from 0.
    expect(error?.column).toBe(9);
    expect(store.snapshot().status.filter).toBe('');
  });

  it('describes a packet of a tunnel from inside it, the tunnel being the list\'s title', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const store = await openStore('vxlan-lab.pcap');
    const epoch = tshark(path.join(FIXTURES, 'vxlan-lab.pcap'), ['-T', 'fields', '-e', 'frame.time_epoch', '-Y', 'frame.number == 5']).trim();
    const [sec, fraction] = epoch.split('.');
    const time = new Date(Number(sec) * 1000).toISOString().slice(11, 19) + '.' + fraction.slice(0, 6);
    const tunnel: TunnelIdentity = { type: 'vxlan', id: 42, src: '10.0.0.1', dst: '10.0.0.2' };
    const line = store.packetLine(5, tunnel);
    expect(line).toMatchObject({ n: 5, len: 148, time });
    expect(line?.summary).toMatch(/^IP 172\.18\.1\.1 > 172\.18\.1\.2: ICMP echo request/);
    // Untunnelled lists show the whole line.
    expect(store.packetLine(5, UNTUNNELLED)?.summary).toMatch(/^VXLAN vni 42 10\.0\.0\.1\.\d+ > 10\.0\.0\.2\.4789/);
  });

  it('opens a packet: its bytes read again and decoded', async () => {
    const store = await openStore('vxlan-lab.pcap');
    const opened = store.openPacket(5);
    expect(opened?.record.caplen).toBe(148);
    expect(opened?.packet.tunnels).toEqual([{ type: 'vxlan', id: 42, src: '10.0.0.1', dst: '10.0.0.2', layer: 3 }]);
    expect(store.openPacket(29)).toBeNull();
  });
});

describe('TuiStore over a live capture', () => {
  /** A live source that hands over the records of a fixture when told to, then ends when told to. */
  function fakeLive(fixture: string): { source: (sink: RecordSink) => Promise<ReadSummary>; deliver: (count: number) => void; end: () => void } {
    const records: CaptureRecord[] = [];
    readCaptureFile(path.join(FIXTURES, fixture), (record) => {
      records.push({ ...record, bytes: record.bytes.slice() });
    });
    let sink: RecordSink | null = null;
    let finish: ((summary: ReadSummary) => void) | null = null;
    let next = 0;
    return {
      source: (given) => new Promise((resolve) => {
        sink = given;
        finish = resolve;
      }),
      deliver: (count) => {
        for (let i = 0; i < count && next < records.length; i++) sink?.(records[next++]);
      },
      end: () => finish?.({ format: 'live', records: next, warning: null, stopped: true }),
    };
  }

  it('counts every packet, holds the last few for the views, and replays them under a new filter', async () => {
    const live = fakeLive('vxlan-lab-2vni.pcap');
    const store = TuiStore.forLive(
      { name: 'veth0', source: live.source, ring: new PacketRing(4), drops: () => 3 },
      { prepared: prepareDecode({}), filterText: '' },
    );
    stores.push(store);
    live.deliver(16);
    let { status, report } = store.snapshot();
    expect(status).toMatchObject({ kind: 'live', state: 'live', seen: 16, matched: 16, drops: 3, source: 'veth0' });
    expect(report.packets).toBe(16);
    // Frames 13 to 16 are VNI 43 (tshark); only they are still in the ring.
    const vni43 = report.tunnels.filter((t) => t.id === 43).flatMap((tunnel) => Array.from(store.packetNumbers({ tunnel })));
    expect(vni43.sort((a, b) => a - b)).toEqual([13, 14, 15, 16]);
    expect(store.openPacket(12)).toBeNull();
    expect(store.openPacket(13)?.packet.tunnels[0].id).toBe(43);

    expect(store.applyFilter('udp port 5000')).toBeNull();
    ({ status, report } = store.snapshot());
    // Of the four held packets, frames 15 and 16 carry UDP port 5000 inside VNI 43.
    expect(status).toMatchObject({ matched: 2, filter: 'udp port 5000' });
    live.deliver(2);
    ({ status } = store.snapshot());
    expect(status).toMatchObject({ seen: 18, matched: 2 });
    live.end();
    await until(() => store.snapshot().status.state === 'ended');
  });
});
