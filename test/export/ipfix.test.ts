// The IPFIX encoder (RFC 7011) read back by hand, field by field, and the
// flow cache over a kernel-made VXLAN capture, its flows against tshark's.

import dgram from 'node:dgram';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCapture, prepareDecode } from '../../src/pipeline.js';
import { FlowCache } from '../../src/export/flow-cache.js';
import { parseHostPort } from '../../src/export/host-port.js';
import { IpfixExporter, TEMPLATE_INTERVAL_MS } from '../../src/export/ipfix-exporter.js';
import {
  END_ACTIVE, END_IDLE, IpfixEncoder, MAX_MESSAGE, OVS_TUNNEL_VXLAN, TEMPLATES, VMWARE_PEN, layer2SegmentId, type FlowRecord,
} from '../../src/export/ipfix.js';
import { FIXTURES, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';

const VXLAN_FLOW: FlowRecord = {
  src: Uint8Array.of(172, 18, 42, 1), dst: Uint8Array.of(172, 18, 42, 2), protocol: 17, srcPort: 40000, dstPort: 5555,
  tcpFlags: 0, octets: 1234, packets: 7, startMs: 1_700_000_000_123, endMs: 1_700_000_001_456, endReason: END_IDLE,
  tunnel: {
    type: OVS_TUNNEL_VXLAN, key: 42, layer2SegmentId: layer2SegmentId(0x01, 42), src: Uint8Array.of(192, 168, 77, 2),
    dst: Uint8Array.of(192, 168, 77, 3), protocol: 17, srcPort: 33333, dstPort: 4789,
  },
};

interface Set {
  id: number;
  body: DataView;
}

/** The header and sets of one message, as a collector splits them. */
function sets(message: Uint8Array): { header: DataView; sets: Set[] } {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const out: Set[] = [];
  for (let at = 16; at < message.length;) {
    const length = view.getUint16(at + 2);
    out.push({ id: view.getUint16(at), body: new DataView(message.buffer, message.byteOffset + at + 4, length - 4) });
    at += length;
  }
  return { header: view, sets: out };
}

describe('IPFIX encoder', () => {
  it('writes a message header of version 10 with its length, export time and observation domain', () => {
    const message = new IpfixEncoder(7).templates(1_700_000_000.9);
    const { header } = sets(message);
    expect(header.getUint16(0)).toBe(10);
    expect(header.getUint16(2)).toBe(message.length);
    expect(header.getUint32(4)).toBe(1_700_000_000);
    expect(header.getUint32(12)).toBe(7);
  });

  it('declares six templates; the tunnel ones end with layer2SegmentId and the VMware elements 891-897 (PEN 6876)', () => {
    const { sets: [set] } = sets(new IpfixEncoder().templates(0));
    expect(set.id).toBe(2);
    const templates = new Map<number, string[]>();
    for (let at = 0; at < set.body.byteLength;) {
      const id = set.body.getUint16(at);
      const count = set.body.getUint16(at + 2);
      at += 4;
      const fields: string[] = [];
      for (let i = 0; i < count; i++) {
        const element = set.body.getUint16(at);
        const length = set.body.getUint16(at + 2);
        at += 4;
        if (element & 0x8000) {
          fields.push(`${element & 0x7fff}/${length}@${set.body.getUint32(at)}`);
          at += 4;
        } else fields.push(`${element}/${length}`);
      }
      templates.set(id, fields);
    }
    expect([...templates.keys()]).toEqual([256, 257, 258, 259, 260, 261]);
    // The 5-tuple, tcpControlBits, octet and packet delta counts, flow start and end milliseconds, flowEndReason.
    const flow4 = ['8/4', '12/4', '4/1', '7/2', '11/2', '6/2', '1/8', '2/8', '152/8', '153/8', '136/1'];
    expect(templates.get(256)).toEqual(flow4);
    expect(templates.get(257)!.slice(0, 2)).toEqual(['27/16', '28/16']);
    const pen = `@${VMWARE_PEN}`;
    expect(templates.get(258)).toEqual([...flow4, '351/8', `891/1${pen}`, `892/4${pen}`, `893/4${pen}`, `894/4${pen}`,
      `895/1${pen}`, `896/2${pen}`, `897/2${pen}`]);
    // An IPv6 underlay: Open vSwitch defines outer addresses for IPv4 only.
    expect(templates.get(260)).toEqual([...flow4, '351/8', `891/1${pen}`, `892/4${pen}`, `895/1${pen}`, `896/2${pen}`, `897/2${pen}`]);
  });

  it('writes a VXLAN flow with layer2SegmentId 0x01 and the VNI in the low three bytes, as Open vSwitch does', () => {
    const [message] = new IpfixEncoder().data([VXLAN_FLOW], 1_700_000_002);
    const { sets: [set] } = sets(message);
    expect(set.id).toBe(258);
    const b = set.body;
    expect([b.getUint8(0), b.getUint8(1), b.getUint8(2), b.getUint8(3)]).toEqual([172, 18, 42, 1]);
    expect([b.getUint8(4), b.getUint8(5), b.getUint8(6), b.getUint8(7)]).toEqual([172, 18, 42, 2]);
    expect(b.getUint8(8)).toBe(17);
    expect(b.getUint16(9)).toBe(40000);
    expect(b.getUint16(11)).toBe(5555);
    expect(b.getBigUint64(15)).toBe(1234n);
    expect(b.getBigUint64(23)).toBe(7n);
    expect(b.getBigUint64(31)).toBe(1_700_000_000_123n);
    expect(b.getBigUint64(39)).toBe(1_700_000_001_456n);
    expect(b.getUint8(47)).toBe(END_IDLE);
    expect(b.getBigUint64(48)).toBe(0x010000000000002an);
    expect(b.getUint8(56)).toBe(1);
    expect(b.getUint32(57)).toBe(42);
    expect([b.getUint8(61), b.getUint8(62), b.getUint8(63), b.getUint8(64)]).toEqual([192, 168, 77, 2]);
    expect(b.getUint8(69)).toBe(17);
    expect(b.getUint16(70)).toBe(33333);
    expect(b.getUint16(72)).toBe(4789);
    expect(b.byteLength).toBe(TEMPLATES[2].recordLength);
  });

  it('keeps messages within MAX_MESSAGE bytes and numbers them by the data records sent before', () => {
    const encoder = new IpfixEncoder();
    const flows = Array.from({ length: 100 }, () => VXLAN_FLOW);
    const messages = encoder.data(flows, 0);
    expect(messages.length).toBeGreaterThan(1);
    let records = 0;
    for (const message of messages) {
      expect(message.length).toBeLessThanOrEqual(MAX_MESSAGE);
      const { header, sets: list } = sets(message);
      expect(header.getUint32(8)).toBe(records);
      for (const set of list) records += set.body.byteLength / TEMPLATES[2].recordLength;
    }
    expect(records).toBe(100);
    expect(encoder.sequence).toBe(100);
    // A flow outside every tunnel uses the template without tunnel elements.
    const [plain] = encoder.data([{ ...VXLAN_FLOW, tunnel: null }], 0);
    expect(sets(plain).sets[0].id).toBe(256);
    expect(sets(plain).header.getUint32(8)).toBe(100);
  });
});

describe('HOST:PORT', () => {
  it('takes IPv4, host names and bracketed IPv6; anything else is a usage error', () => {
    expect(parseHostPort('--ipfix', '127.0.0.1:4739')).toMatchObject({ host: '127.0.0.1', port: 4739 });
    expect(parseHostPort('--ipfix', '[::1]:4739')).toMatchObject({ host: '::1', port: 4739 });
    expect(parseHostPort('--ipfix', 'collector.example:4739')).toMatchObject({ host: 'collector.example', port: 4739 });
    for (const bad of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', ':9100', '300.1.1.1:9100', '::1:9100', '[nope]:1', 'a b:1']) {
      expect(() => parseHostPort('--ipfix', bad), bad).toThrow(/expected HOST:PORT/);
    }
  });
});

describe('the IPFIX flow cache over a kernel VXLAN capture', () => {
  const file = path.join(FIXTURES, 'vxlan-lab-2vni.pcap');

  async function cached(options = {}) {
    const flows: FlowRecord[] = [];
    const cache = new FlowCache((flow) => flows.push(flow), options);
    await decodeCapture(file, prepareDecode({ detail: false }), (_n, record, packet) => cache.add(record, packet));
    return { cache, flows };
  }

  it('has one flow per inner 5-tuple and VNI, with the packets tshark counts', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const { cache, flows } = await cached({ activeMs: Infinity, idleMs: Infinity });
    cache.flush();
    const expected = new Map<string, number>();
    const lines = tshark(file, ['-Y', 'vxlan && !arp', '-T', 'fields', '-E', 'occurrence=l', '-e', 'vxlan.vni', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ip.proto']);
    for (const line of lines.trim().split('\n')) expected.set(line, (expected.get(line) ?? 0) + 1);
    const got = new Map<string, number>();
    for (const f of flows.filter((flow) => flow.tunnel !== null)) {
      const key = [f.tunnel!.key, f.src.join('.'), f.dst.join('.'), f.protocol].join('\t');
      got.set(key, (got.get(key) ?? 0) + f.packets);
      expect(f.tunnel!.layer2SegmentId).toBe((1n << 56n) | BigInt(f.tunnel!.key));
    }
    expect(got).toEqual(expected);
  });

  it('ends flows idle for the idle timeout, and only those', async () => {
    const { cache, flows } = await cached({ activeMs: Infinity, idleMs: 15_000 });
    const open = cache.size;
    expect(open).toBeGreaterThan(0);
    // 14 s after the capture's last packet nothing is idle long enough; 15 s after every flow is.
    const lastPacketMs = await lastMs();
    cache.expire(lastPacketMs + 14_000);
    expect(flows.length).toBeLessThan(open);
    cache.expire(lastPacketMs + 15_000);
    expect(flows.length).toBe(open);
    expect(flows.every((f) => f.endReason === END_IDLE)).toBe(true);
  });

  it('ends flows open for the active timeout, the long ones first; a later packet starts the flow again', async () => {
    const { cache, flows } = await cached({ activeMs: 100, idleMs: Infinity });
    // The fixture's exchanges last about 0.2 s each: with a 100 ms active timeout some flows were cut as packets came.
    expect(flows.length).toBeGreaterThan(0);
    expect(flows.every((f) => f.endReason === END_ACTIVE && f.endMs - f.startMs < 100)).toBe(true);
    const open = cache.size;
    const before = flows.length;
    cache.expire((await lastMs()) + 100_000);
    expect(flows.length).toBe(before + open);
    expect(flows.slice(-open).every((f) => f.endReason === END_ACTIVE)).toBe(true);
  });

  async function lastMs(): Promise<number> {
    let ms = 0;
    await decodeCapture(file, prepareDecode({ detail: false }), (_n, record) => {
      ms = Math.max(ms, record.sec * 1000 + Math.floor(record.nsec / 1e6));
    });
    return ms;
  }
});

describe('IPFIX exporter', () => {
  it('sends the templates first and again once 10 minutes have passed, not before', async () => {
    const collector = dgram.createSocket('udp4');
    const received: Buffer[] = [];
    collector.on('message', (message) => received.push(message));
    await new Promise<void>((resolve) => collector.bind(0, '127.0.0.1', resolve));
    const target = parseHostPort('--ipfix', `127.0.0.1:${collector.address().port}`);
    const exporter = await IpfixExporter.open(target, () => undefined);
    const t0 = 1_700_000_000_000;
    exporter.export([VXLAN_FLOW], t0);
    exporter.export([VXLAN_FLOW], t0 + TEMPLATE_INTERVAL_MS - 1);
    exporter.export([VXLAN_FLOW], t0 + TEMPLATE_INTERVAL_MS);
    await exporter.close();
    await new Promise<void>((resolve) => {
      const wait = setInterval(() => {
        if (received.length >= 5) {
          clearInterval(wait);
          resolve();
        }
      }, 10);
    });
    collector.close();
    // Set ids: 2 is a template set, 258 the data of the VXLAN flow.
    expect(received.map((m) => m.readUInt16BE(16))).toEqual([2, 258, 258, 2, 258]);
    expect(exporter.datagramsSent).toBe(5);
    expect(exporter.records).toBe(3);
  });
});
