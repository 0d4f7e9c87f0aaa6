// `stats FILE --ipfix HOST:PORT` into a real nfcapd on 127.0.0.1: every flow
// of a kernel-made VXLAN capture once, with the capture's own timestamps, the
// packet counts and times tshark reads in the file.

import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, hasCommand, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';
import { nfdumpJson } from '../helpers/nfdump.js';

const FILE = path.join(FIXTURES, 'vxlan-lab-2vni.pcap');

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

/** tshark's flows of the file: inner (second) IP header in a tunnel, the only one outside; ICMP by type. */
function tsharkFlows(): Map<string, { packets: number; first: number; last: number }> {
  const out = tshark(FILE, ['-Y', 'ip && !arp', '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'vxlan.vni',
    '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ip.proto', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'icmp.type']);
  const flows = new Map<string, { packets: number; first: number; last: number }>();
  for (const line of out.trim().split('\n')) {
    const [time, vni, ...rest] = line.split('\t');
    const [src, dst, proto, sport, dport, icmpType] = rest.map((field) => field.split(','));
    const i = vni === '' ? 0 : 1;
    const key = proto[i] === '17' ? `${src[i]} ${dst[i]} udp ${sport[i]} ${dport[i]}` : `${src[i]} ${dst[i]} ${proto[i]} type ${icmpType[0]}`;
    // Milliseconds, as IPFIX carries them.
    const ms = Math.floor(Number(time) * 1000);
    const flow = flows.get(key) ?? { packets: 0, first: ms, last: ms };
    flow.packets++;
    flow.first = Math.min(flow.first, ms);
    flow.last = Math.max(flow.last, ms);
    flows.set(key, flow);
  }
  return flows;
}

describe('stats --ipfix, received by nfcapd', () => {
  it('exports each flow of the file once, with the packets and capture times tshark finds', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    if (!requireOrSkip(hasCommand('nfcapd') && hasCommand('nfdump'), 'nfcapd and nfdump')) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-ipfix-stats-'));
    const port = await freeUdpPort();
    const nfcapd = spawn('nfcapd', ['-b', '127.0.0.1', '-p', String(port), '-w', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    nfcapd.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    nfcapd.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const exited = new Promise((resolve) => nfcapd.once('exit', resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (!/Startup/.test(log) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const result = runCli(['stats', FILE, '--ipfix', `127.0.0.1:${port}`]);
      expect(result.status, result.stderr).toBe(0);
      const expected = tsharkFlows();
      expect(result.stderr).toBe(`${expected.size} IPFIX flow records exported to 127.0.0.1:${port} in 2 datagrams\n`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      nfcapd.kill('SIGTERM');
      await exited;
    }
    const records = fs.readdirSync(dir).filter((f) => f.startsWith('nfcapd.'))
      // nfdump writes local times: in UTC here.
      .flatMap((f) => nfdumpJson(spawnSync('nfdump', ['-r', path.join(dir, f), '-o', 'json'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } }).stdout));
    fs.rmSync(dir, { recursive: true, force: true });
    const got = new Map<string, { packets: number; first: number; last: number }>();
    for (const r of records) {
      const key = r.proto === 17 ? `${r.src4_addr} ${r.dst4_addr} udp ${r.src_port} ${r.dst_port}` : `${r.src4_addr} ${r.dst4_addr} ${r.proto} type ${r.icmp_type}`;
      expect(got.has(key), `${key} once`).toBe(false);
      got.set(key, { packets: Number(r.in_packets), first: Date.parse(`${String(r.first)}Z`), last: Date.parse(`${String(r.last)}Z`) });
    }
    expect(got).toEqual(tsharkFlows());
  });
});
