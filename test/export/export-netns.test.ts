// `tunscope capture --metrics --ipfix --interval` in a two-host VXLAN lab
// (network namespaces, VNI 42), against real servers: Prometheus scrapes the
// metrics every second and its HTTP API is asked for the VNI 42 packets;
// nfcapd receives the IPFIX records and nfdump lists them; tshark decodes the
// datagrams on the loopback. tshark's reading of the capture's own -w file is
// the oracle. Everything listens on 127.0.0.1 only.
//
// Needs root, network namespaces, the libpcap binding, tshark, prometheus,
// nfcapd and nfdump; skipped with a notice without them, failed under CI.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { hasCommand, haveTshark, isRoot, liveCaptureAvailable, netnsWorks, requireOrSkip, run, tshark } from '../helpers/tools.js';
import { nfdumpJson } from '../helpers/nfdump.js';
import { startTwoHostLab, stopTwoHostLab, twoHostLab } from '../helpers/two-host-lab.js';

const SERVERS = ['prometheus', 'nfcapd', 'nfdump'];
const haveServers = SERVERS.every(hasCommand);
const haveLibpcap = liveCaptureAvailable();
const lab = twoHostLab(`ex${process.pid % 100000}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-export-'));
const started: ChildProcess[] = [];
let labUp = false;

/** A port nobody listens on now, TCP or UDP. */
async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'tcp') {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

interface Started {
  child: ChildProcess;
  output: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
}

/** A server or a capture in the background, stopped in afterAll if a test has not. */
function start(command: string, args: string[]): Started {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  started.push(child);
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, stdout: () => stdout, exited };
}

async function stop(p: Started, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, seconds = 60): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

async function httpText(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url);
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

/** Prometheus's answer to an instant query: the value of its one series, or undefined. */
async function promQuery(port: number, query: string): Promise<number | undefined> {
  const text = await httpText(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`);
  if (text === undefined) return undefined;
  const body = JSON.parse(text) as { data: { result: { value: [number, string] }[] } };
  return body.data.result.length === 1 ? Number(body.data.result[0].value[1]) : undefined;
}

function inNetns(ns: string, command: string[]) {
  return spawnSync('ip', ['netns', 'exec', ns, ...command], { encoding: 'utf8', timeout: 30_000 });
}

function ready(): boolean {
  if (!requireOrSkip(isRoot, 'root (for network namespaces and packet sockets)')) return false;
  if (!requireOrSkip(haveLibpcap, 'the libpcap binding')) return false;
  if (!requireOrSkip(haveTshark, 'tshark')) return false;
  if (!requireOrSkip(haveServers, SERVERS.join(', '))) return false;
  return requireOrSkip(labUp, 'network namespaces');
}

const UDP_DATAGRAMS = 7;

/** The MAC address of an interface in a namespace. */
function macOf(ns: string, dev: string): string {
  const shown = spawnSync('ip', ['-n', ns, '-j', 'link', 'show', 'dev', dev], { encoding: 'utf8' });
  return (JSON.parse(shown.stdout) as { address: string }[])[0].address;
}

/**
 * Traffic on VNI 42: five pings and seven UDP datagrams from host 1 to host 2.
 * Each host knows the other's overlay address for good first: a neighbour
 * entry that goes stale sends ARP probes seconds later, while Prometheus is
 * being read, and the count would move under the test.
 */
function traffic(): void {
  const mac1 = macOf(lab.ns1, 'vx42');
  const mac2 = macOf(lab.ns2, 'vx42');
  for (const [ns, address, mac] of [[lab.ns1, '172.18.42.2', mac2], [lab.ns2, '172.18.42.1', mac1]]) {
    const neigh = spawnSync('ip', ['-n', ns, 'neigh', 'replace', address, 'lladdr', mac, 'dev', 'vx42', 'nud', 'permanent'], { encoding: 'utf8' });
    expect(neigh.status, neigh.stderr).toBe(0);
  }
  const ping = inNetns(lab.ns1, ['ping', '-c', '5', '-i', '0.2', '172.18.42.2']);
  expect(ping.status, ping.stderr).toBe(0);
  const send = inNetns(lab.ns1, ['python3', '-c',
    'import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(("172.18.42.1",40123))\n'
    + `for i in range(${UDP_DATAGRAMS}):\n  s.sendto(b"tunscope"*20,("172.18.42.2",5555))\n  time.sleep(0.05)\n`]);
  expect(send.status, send.stderr).toBe(0);
}

const results = {
  capturePcap: '',
  prometheusVni42: NaN,
  captureStatus: null as number | null,
  captureStdout: '',
  captureStderr: '',
  nfdump: [] as Record<string, unknown>[],
  ipfixPcap: '',
  ipfixPort: 0,
};

beforeAll(async () => {
  if (!isRoot || !haveLibpcap || !haveTshark || !haveServers || !netnsWorks()) return;
  startTwoHostLab(lab);
  labUp = true;
  const metricsPort = await freePort('tcp');
  const promPort = await freePort('tcp');
  const ipfixPort = await freePort('udp');
  results.ipfixPort = ipfixPort;
  const flowDir = path.join(dir, 'flows');
  fs.mkdirSync(flowDir);
  const nfcapd = start('nfcapd', ['-b', '127.0.0.1', '-p', String(ipfixPort), '-w', flowDir]);
  results.ipfixPcap = path.join(dir, 'ipfix.pcap');
  const sniffer = start('tshark', ['-i', 'lo', '-f', `udp port ${ipfixPort}`, '-w', results.ipfixPcap]);
  await until('tshark on lo', () => (/Capturing on/.test(sniffer.output()) ? true : undefined));

  results.capturePcap = path.join(dir, 'capture.pcapng');
  const capture = start(process.execPath, [CLI, 'capture', `${lab.ns1}/${lab.veth1}`, '-w', results.capturePcap,
    '--metrics', `127.0.0.1:${metricsPort}`, '--ipfix', `127.0.0.1:${ipfixPort}`, '--interval', '1', '--json']);
  await until('capture listening', () => (/listening on/.test(capture.output()) ? true : undefined));

  fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
    'global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', '  evaluation_interval: 1s',
    'scrape_configs:', '  - job_name: tunscope', '    static_configs:', `      - targets: ['127.0.0.1:${metricsPort}']`, '',
  ].join('\n'));
  const prometheus = start('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`]);
  await until('prometheus ready', () => httpText(`http://127.0.0.1:${promPort}/-/ready`), 90);

  traffic();
  // The capture's own count settles; Prometheus then scrapes it.
  const query = 'sum(tunscope_tunnel_packets_total{type="vxlan",id="42"})';
  let last = -1;
  const settled = await until('the metrics to settle', async () => {
    const text = await httpText(`http://127.0.0.1:${metricsPort}/metrics`);
    const now = [...(text ?? '').matchAll(/^tunscope_tunnel_packets_total\{type="vxlan",id="42",[^}]*\} (\d+)$/gm)]
      .reduce((sum, m) => sum + Number(m[1]), 0);
    const same = now > 0 && now === last;
    last = now;
    await sleep(1500);
    return same ? now : undefined;
  });
  results.prometheusVni42 = await until('prometheus to scrape the settled count', async () => {
    const value = await promQuery(promPort, query);
    return value === settled ? value : undefined;
  }, 60);
  await stop(prometheus);

  results.captureStatus = await stop(capture, 'SIGINT');
  results.captureStdout = capture.stdout();
  results.captureStderr = capture.output();
  // The last records are on their way: nfcapd writes its file when it ends.
  await sleep(1000);
  await stop(sniffer);
  await stop(nfcapd);
  const files = fs.readdirSync(flowDir).filter((f) => f.startsWith('nfcapd.'));
  results.nfdump = files.flatMap((f) => nfdumpJson(run('nfdump', ['-r', path.join(flowDir, f), '-o', 'json'])));
}, 300_000);

afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  stopTwoHostLab(lab);
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * tshark's inner flows of VNI 42 in the capture file: src, dst, proto, ports
 * (UDP) or ICMP type → packets. Of each field, tshark lists every occurrence:
 * the outer IP and UDP headers come first, then the inner ones, then those an
 * ICMP error quotes.
 */
function tsharkFlows(): Map<string, number> {
  const out = tshark(results.capturePcap, ['-Y', 'vxlan.vni == 42 && !arp', '-T', 'fields',
    '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ip.proto', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'icmp.type']);
  const flows = new Map<string, number>();
  for (const line of out.trim().split('\n')) {
    const [src, dst, proto, sport, dport, icmpType] = line.split('\t').map((field) => field.split(','));
    const key = proto[1] === '17' ? `${src[1]} ${dst[1]} udp ${sport[1]} ${dport[1]}` : `${src[1]} ${dst[1]} ${proto[1]} type ${icmpType[0]}`;
    flows.set(key, (flows.get(key) ?? 0) + 1);
  }
  return flows;
}

describe('capture --metrics, scraped by Prometheus', () => {
  it('sum(tunscope_tunnel_packets_total{type="vxlan",id="42"}) is the count of VNI 42 packets tshark finds in the -w file', () => {
    if (!ready()) return;
    expect(results.captureStatus, results.captureStderr).toBe(0);
    const expected = tshark(results.capturePcap, ['-Y', 'vxlan.vni == 42']).trim().split('\n').length;
    expect(expected).toBeGreaterThanOrEqual(10 + UDP_DATAGRAMS);
    expect(results.prometheusVni42).toBe(expected);
  });
});

describe('capture --interval 1 --json', () => {
  it('prints one stats object per line, the last with every packet tshark finds in the -w file', () => {
    if (!ready()) return;
    const lines = results.captureStdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const objects = lines.map((line) => JSON.parse(line) as { time: string; packets: number; interfaces: { name: string }[] });
    for (let i = 1; i < objects.length; i++) expect(objects[i].packets).toBeGreaterThanOrEqual(objects[i - 1].packets);
    expect(objects.at(-1)!.packets).toBe(tshark(results.capturePcap, []).trim().split('\n').length);
    expect(objects[0].interfaces[0].name).toBe(`${lab.ns1}/${lab.veth1}`);
  });
});

describe('capture --ipfix, received by nfcapd', () => {
  it('nfdump lists the inner flows of VNI 42 with the packet counts tshark finds', () => {
    if (!ready()) return;
    const got = new Map<string, number>();
    for (const r of results.nfdump) {
      const key = r.proto === 17 ? `${r.src4_addr} ${r.dst4_addr} udp ${r.src_port} ${r.dst_port}` : `${r.src4_addr} ${r.dst4_addr} ${r.proto} type ${r.icmp_type}`;
      got.set(key, (got.get(key) ?? 0) + Number(r.in_packets));
    }
    const expected = tsharkFlows();
    expect(expected.get(`172.18.42.1 172.18.42.2 udp 40123 5555`)).toBe(UDP_DATAGRAMS);
    // Only the flows inside VNI 42 travel in a tunnel here; the underlay's own (none in this lab) would be extra.
    expect(got).toEqual(expected);
    expect(results.captureStderr).toMatch(/IPFIX flow records? exported to 127\.0\.0\.1:\d+ in \d+ datagrams?\n/);
  });

  it('tshark decodes the datagrams: the template fields, and layer2SegmentId 0x010000000000002a for VNI 42', () => {
    if (!ready()) return;
    const decodeAs = ['-d', `udp.port==${results.ipfixPort},cflow`];
    const segments = run('tshark', ['-r', results.ipfixPcap, ...decodeAs, '-T', 'fields', '-e', 'cflow.layer2_segment_id'])
      .split(/[\s,]+/).filter((v) => v !== '');
    expect(segments.length).toBeGreaterThan(0);
    for (const value of segments) expect(BigInt(value)).toBe(0x010000000000002an);
    const verbose = run('tshark', ['-r', results.ipfixPcap, ...decodeAs, '-V']);
    const template = /Template Id: 258\n\s*Field Count: (\d+)\n((?:\s+.*\n)*?)\s+Template \(Id = 259/.exec(verbose);
    expect(template).not.toBeNull();
    expect(template![1]).toBe('19');
    const types = [...template![2].matchAll(/= Type: (.*)\n/g)].map((m) => m[1]);
    expect(types).toEqual([
      'IP_SRC_ADDR (8)', 'IP_DST_ADDR (12)', 'PROTOCOL (4)', 'L4_SRC_PORT (7)', 'L4_DST_PORT (11)', 'TCP_FLAGS (6)',
      'BYTES (1)', 'PKTS (2)', 'flowStartMilliseconds (152)', 'flowEndMilliseconds (153)', 'flowEndReason (136)',
      'layer2SegmentId (351)', ...[891, 892, 893, 894, 895, 896, 897].map((id) => `${id} [pen: VMware Inc.]`),
    ]);
    expect(template![2].match(/PEN: VMware Inc\. \(6876\)/g)).toHaveLength(7);
  });
});
