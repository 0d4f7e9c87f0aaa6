// `tunscope capture` on several interfaces at once, in two network namespaces
// (two hosts joined by a veth, a Linux vxlan device on each), run from
// tunscope's own namespace. tshark reads the pcapng it writes: interface names,
// descriptions, direction flags; iproute2 says what the devices are.
//
// Needs root, network namespaces, the libpcap binding and tshark; skipped with
// a notice without them, failed under CI.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { haveTshark, isRoot, liveCaptureAvailable, netnsWorks, requireOrSkip, tshark } from '../helpers/tools.js';
import { startTwoHostLab, stopTwoHostLab, twoHostLab, type TwoHostLab } from '../helpers/two-host-lab.js';
import { LiveCapture } from '../../src/sources/live-capture.js';
import { parseInterfaceSpec } from '../../src/sources/netns.js';

const haveLibpcap = liveCaptureAvailable();
const lab = twoHostLab(`cp${process.pid % 100000}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-capture-netns-'));
let labUp = false;

interface Background {
  child: ChildProcess;
  /** Settles when it said `listening on`; fails when it ended before. */
  listening: Promise<void>;
  stdout: () => string;
  stderr: () => string;
  /** Its exit code, once it ended. */
  exited: Promise<number | null>;
  /** Ctrl-C, and its exit code. */
  stop: () => Promise<number | null>;
}

/** `tunscope COMMAND ARGS` (capture unless told) in the background, its output gathered. */
function background(args: string[], command = 'capture'): Background {
  const child = spawn(process.execPath, [CLI, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/listening on/.test(stderr)) resolve();
    });
    void exited.then(() => reject(new Error(`${command} ended before listening: ${stderr}`)));
  });
  listening.catch(() => undefined);
  return { child, listening, stdout: () => stdout, stderr: () => stderr, exited, stop: () => (child.kill('SIGINT'), exited) };
}

function inNetns(ns: string, command: string[]) {
  return spawnSync('ip', ['netns', 'exec', ns, ...command], { encoding: 'utf8', timeout: 20_000 });
}

function ready(): TwoHostLab | null {
  if (!requireOrSkip(isRoot, 'root (for network namespaces and packet sockets)')) return null;
  if (!requireOrSkip(haveLibpcap, 'the libpcap binding')) return null;
  if (!requireOrSkip(haveTshark, 'tshark')) return null;
  if (!requireOrSkip(labUp, 'network namespaces')) return null;
  return lab;
}

interface Frame {
  iface: string;
  direction: string;
  type: string;
  seq: string;
  vni: string;
}

function frames(file: string): Frame[] {
  const out = tshark(file, ['-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.packet_flags_direction',
    '-e', 'icmp.type', '-e', 'icmp.seq', '-e', 'vxlan.vni', '-Y', 'icmp']);
  return out.trimEnd().split('\n').filter((l) => l !== '').map((line) => {
    const [iface, direction, type, seq, vni] = line.split('\t');
    return { iface, direction: direction === '0x00000001' ? 'in' : direction === '0x00000002' ? 'out' : direction, type, seq, vni };
  });
}

beforeAll(() => {
  if (!isRoot || !haveLibpcap || !haveTshark || !netnsWorks()) return;
  startTwoHostLab(lab);
  labUp = true;
});

afterAll(() => {
  stopTwoHostLab(lab);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('tunscope capture on four interfaces in two namespaces', () => {
  let written: Frame[] = [];
  let file = '';
  let stderr = '';
  const points = () => [`${lab.ns1}/${lab.veth1}`, `${lab.ns1}/vx42`, `${lab.ns2}/${lab.veth2}`, `${lab.ns2}/vx42`];

  beforeAll(async () => {
    if (!labUp || !haveTshark || !haveLibpcap) return;
    file = path.join(dir, 'all.pcapng');
    const capture = background([...points(), '-w', file]);
    await capture.listening;
    // At once after `listening on`: the first echo request must be in the file.
    const ping = inNetns(lab.ns1, ['ping', '-c', '5', '-i', '0.2', '172.18.42.2']);
    expect(ping.status).toBe(0);
    expect(await capture.stop()).toBe(0);
    stderr = capture.stderr();
    written = frames(file);
  }, 60_000);

  it('names the four interfaces in the pcapng as they were given', () => {
    if (!ready()) return;
    const names = tshark(file, ['-T', 'fields', '-e', 'frame.interface_name']).trimEnd().split('\n');
    expect(new Set(names)).toEqual(new Set(points()));
    const info = spawnSync('capinfos', [file], { encoding: 'utf8' }).stdout;
    expect(info).toMatch(/Number of interfaces in file: 4/);
    for (const name of points()) expect(info).toContain(`Name = ${name}`);
    expect(info).toMatch(/Time precision = nanoseconds \(9\)/);
  });

  it('every echo request, the first one too, is on all four: encapsulated on the veths, plain on the vxlan devices', () => {
    if (!ready()) return;
    const requests = written.filter((f) => f.type === '8');
    for (let seq = 1; seq <= 5; seq++) {
      const seen = requests.filter((f) => f.seq === String(seq));
      expect(seen.map((f) => f.iface).sort(), `echo request ${seq}`).toEqual([...points()].sort());
      for (const f of seen) expect(f.vni, `${f.iface} seq ${seq}`).toBe(f.iface.endsWith('vx42') ? '' : '42');
    }
  });

  it('says which way each packet went: out on the sender, in on the receiver', () => {
    if (!ready()) return;
    const expected: Record<string, string> = {
      [`${lab.ns1}/${lab.veth1}`]: 'out', [`${lab.ns1}/vx42`]: 'out', [`${lab.ns2}/${lab.veth2}`]: 'in', [`${lab.ns2}/vx42`]: 'in',
    };
    const requests = written.filter((f) => f.type === '8');
    expect(requests.length).toBe(20);
    for (const f of requests) expect(f.direction, `${f.iface} seq ${f.seq}`).toBe(expected[f.iface]);
    // The replies go the other way.
    for (const f of written.filter((r) => r.type === '0')) expect(f.direction, `reply on ${f.iface}`).toBe(expected[f.iface] === 'in' ? 'out' : 'in');
  });

  it('counts each interface in the summary as the file has it', () => {
    if (!ready()) return;
    const perInterface = tshark(file, ['-T', 'fields', '-e', 'frame.interface_name']).trimEnd().split('\n');
    for (const name of points()) {
      const count = perInterface.filter((n) => n === name).length;
      expect(stderr).toMatch(new RegExp(`^  ${name}: ${count} received, ${count} matched, 0 dropped by the kernel, \\? by the interface$`, 'm'));
    }
  });

  it('describes each interface with its namespace and what iproute2 says of it', () => {
    if (!ready()) return;
    const link = JSON.parse(inNetns(lab.ns1, ['ip', '-d', '-j', 'link', 'show', 'vx42']).stdout)[0] as {
      mtu: number; linkinfo: { info_data: { id: number; remote: string; local: string; port: number; link: string } };
    };
    const d = link.linkinfo.info_data;
    const descriptions = tshark(file, ['-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.interface_description'])
      .trimEnd().split('\n');
    expect(descriptions).toContain(`${lab.ns1}/vx42\tnetwork namespace ${lab.ns1}; ` +
      `vxlan id ${d.id} remote ${d.remote} local ${d.local} dstport ${d.port} dev ${d.link}; mtu ${link.mtu}`);
    expect(descriptions).toContain(`${lab.ns1}/${lab.veth1}\tnetwork namespace ${lab.ns1}; veth peer ${lab.ns2}/${lab.veth2}; mtu 1500`);
  });

  it('prints each packet with its interface and direction, as tcpdump -i any does', async () => {
    if (!ready()) return;
    const capture = background([`${lab.ns1}/vx42`, '-i', `${lab.ns2}/vx42`, '--filter', 'icmp', '-c', '4']);
    await capture.listening;
    inNetns(lab.ns1, ['ping', '-c', '1', '172.18.42.2']);
    expect(await capture.exited).toBe(0);
    const stdout = capture.stdout();
    expect(stdout.trimEnd().split('\n').map((l) => l.replace(/^\S+ /, '').replace(/, id \d+/, ''))).toEqual([
      `${lab.ns1}/vx42 Out IP 172.18.42.1 > 172.18.42.2: ICMP echo request, seq 1, length 64`,
      `${lab.ns2}/vx42 In IP 172.18.42.1 > 172.18.42.2: ICMP echo request, seq 1, length 64`,
      `${lab.ns2}/vx42 Out IP 172.18.42.2 > 172.18.42.1: ICMP echo reply, seq 1, length 64`,
      `${lab.ns1}/vx42 In IP 172.18.42.2 > 172.18.42.1: ICMP echo reply, seq 1, length 64`,
    ]);
  });
});

describe('tunscope capture: per interface in --stats and --json', () => {
  async function captureDuringPing(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const capture = background(args);
    await capture.listening;
    inNetns(lab.ns1, ['ping', '-c', '3', '-i', '0.2', '172.18.42.2']);
    expect(await capture.stop()).toBe(0);
    return { stdout: capture.stdout(), stderr: capture.stderr() };
  }

  it('--stats --json has an interfaces array with each interface\'s counts', async () => {
    if (!ready()) return;
    const names = [`${lab.ns1}/${lab.veth1}`, `${lab.ns2}/${lab.veth2}`];
    const { stdout } = await captureDuringPing([...names, '--filter', 'vxlan vni 42 and inner icmp', '--stats', '--json']);
    const report = JSON.parse(stdout) as { packets: number; interfaces: { name: string; received: number; matched: number; droppedByKernel: number }[] };
    expect(report.interfaces.map((i) => i.name)).toEqual(names);
    // Three echo requests and three replies cross each veth.
    for (const i of report.interfaces) expect(i, i.name).toMatchObject({ matched: 6, droppedByKernel: 0 });
    expect(report.packets).toBe(12);
  });

  it('--json gives each packet its interface and direction', async () => {
    if (!ready()) return;
    const { stdout } = await captureDuringPing([`${lab.ns1}/vx42`, '--filter', 'icmp', '--json']);
    const packets = stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { n: number; interface: string; direction: string; layers: { proto: string; type?: number }[] });
    expect(packets.map((p) => `${p.interface} ${p.direction} ${p.layers.find((l) => l.proto === 'icmp')?.type}`)).toEqual(
      Array(3).fill([`${lab.ns1}/vx42 out 8`, `${lab.ns1}/vx42 in 0`]).flat());
    expect(packets.map((p) => p.n)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('tunscope capture: Ctrl-C at once after `listening on`', () => {
  it('still ends as Ctrl-C should: exit 0, the summary, a whole pcapng with every interface', async () => {
    if (!ready()) return;
    const file = path.join(dir, 'at-once.pcapng');
    const capture = background([`${lab.ns1}/vx42`, `${lab.ns2}/vx42`, '-w', file]);
    await capture.listening;
    expect(await capture.stop()).toBe(0);
    expect(capture.stderr()).toMatch(/^\d+ packets? written to /m);
    expect(spawnSync('capinfos', [file], { encoding: 'utf8' }).stdout).toMatch(/Number of interfaces in file: 2/);
  });
});

describe('tunscope capture: an interface that disappears', () => {
  it('warns naming it, goes on with the others, and leaves a whole file', async () => {
    if (!ready()) return;
    const file = path.join(dir, 'gone.pcapng');
    const spare = `${lab.ns1}/${lab.spare}`;
    const capture = background([`${lab.ns1}/vx42`, spare, '--filter', 'icmp or arp', '-w', file]);
    await capture.listening;
    // ARP for an address nobody has, on the spare veth; pings across the vxlan devices.
    inNetns(lab.ns1, ['ping', '-c', '2', '-i', '0.2', '-W', '1', '10.9.9.2']);
    inNetns(lab.ns1, ['ip', 'link', 'del', lab.spare]);
    const after = Date.now() / 1000;
    inNetns(lab.ns1, ['ping', '-c', '3', '-i', '0.2', '172.18.42.2']);
    expect(await capture.stop()).toBe(0);
    expect(capture.stderr()).toMatch(new RegExp(`^tunscope: warning: ${spare} stopped: .*; the capture goes on on 1 other interface$`, 'm'));
    const rows = tshark(file, ['-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.time_epoch']).trimEnd().split('\n')
      .map((l) => l.split('\t'));
    expect(rows.filter(([name]) => name === spare).length).toBeGreaterThan(0);
    expect(rows.filter(([name, time]) => name === `${lab.ns1}/vx42` && Number(time) > after).length).toBeGreaterThanOrEqual(6);
  });
});

describe('tunscope capture: bad interfaces and namespaces', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, 'capture', ...args], { encoding: 'utf8', timeout: 20_000 });

  it('an unknown namespace: one line listing those that exist (exit 1)', () => {
    if (!ready()) return;
    const result = cli([`${lab.ns1}x/eth0`]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^tunscope: no network namespace named "${lab.ns1}x"; ip netns knows: .*\\b${lab.ns1}\\b.*\n$`));
  });

  it('an interface missing in its namespace: one line listing those there (exit 1)', () => {
    if (!ready()) return;
    const result = cli([`${lab.ns2}/nosuch0`]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`tunscope: no interface named "nosuch0" in network namespace ${lab.ns2}; it has: lo, ${lab.veth2}, vx42\n`);
  });

  it('a process that is not there (pid:PID): one line (exit 1)', () => {
    if (!ready()) return;
    const result = cli(['pid:999999999/eth0']);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('tunscope: no process 999999999, so no network namespace pid:999999999\n');
  });

  it('no permission to enter a namespace: one line naming CAP_SYS_ADMIN (exit 1)', () => {
    if (!ready()) return;
    const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all',
      process.execPath, CLI, 'capture', `${lab.ns1}/vx42`], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^tunscope: cannot enter network namespace \S+ to capture on \S+: permission denied \(.*CAP_SYS_ADMIN.*\)\n$/);
  });

  it('leaves no handle open when a later interface fails', () => {
    if (!ready()) return;
    const sockets = () => inNetns(lab.ns1, ['cat', '/proc/net/packet']).stdout.trimEnd().split('\n').length;
    const promiscuity = () => (JSON.parse(inNetns(lab.ns1, ['ip', '-d', '-j', 'link', 'show', 'vx42']).stdout) as { promiscuity: number }[])[0].promiscuity;
    const before = sockets();
    expect(() => LiveCapture.open({
      interfaces: [parseInterfaceSpec(`${lab.ns1}/vx42`), parseInterfaceSpec(`${lab.ns1}/nosuch0`)],
      kernelFilter: '', snaplen: 262144, promisc: true, bufferBytes: 1 << 20,
    })).toThrow(/no interface named "nosuch0"/);
    expect(sockets()).toBe(before);
    expect(promiscuity()).toBe(0);
  });

  it('refuses classic pcap for interfaces of different link types, with a hint (exit 2)', () => {
    if (!ready()) return;
    const result = cli([`${lab.ns1}/vx42`, `${lab.ns1}/any`, '-w', path.join(dir, 'mixed.pcap')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`tunscope: a pcap file has one link type, and these interfaces have 2 (${lab.ns1}/vx42 EN10MB, ` +
      `${lab.ns1}/any LINUX_SLL): write pcapng (--pcapng, or -w FILE.pcapng)\n`);
    expect(fs.existsSync(path.join(dir, 'mixed.pcap'))).toBe(false);
  });

  it('an interface given twice, and none at all, are usage errors (exit 2)', () => {
    const twice = cli(['lo', '-i', 'lo']);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toBe('tunscope: interface lo is given twice\n');
    const none = cli([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^tunscope: capture needs an interface/);
  });
});

describe('tunscope interfaces --netns', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, 'interfaces', ...args], { encoding: 'utf8', timeout: 20_000 });

  it('shows the VXLAN id, remote, local, dstport and device that `ip -d link` shows, the MTU, and the veth peer\'s namespace', () => {
    if (!ready()) return;
    const link = JSON.parse(inNetns(lab.ns1, ['ip', '-d', '-j', 'link', 'show', 'vx42']).stdout)[0] as {
      mtu: number; linkinfo: { info_data: { id: number; remote: string; local: string; port: number; link: string } };
    };
    const d = link.linkinfo.info_data;
    const result = cli(['--netns', lab.ns1]);
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`network namespace ${lab.ns1}:`);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^  vx42 +up,running,broadcast,multicast  ether  ` +
      `vxlan id ${d.id} remote ${d.remote} local ${d.local} dstport ${d.port} dev ${d.link}  mtu ${link.mtu}  172\\.18\\.42\\.1/24$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^  ${lab.veth1} +up,running.*  veth peer ${lab.ns2}/${lab.veth2}  mtu 1500  192\\.168\\.77\\.2/24$`)));

    const json = JSON.parse(cli(['--netns', lab.ns2, '--json']).stdout) as { netns: string; interfaces: { name: string; kind: string | null; peer: string | null; mtu: number }[] }[];
    expect(json.map((l) => l.netns)).toEqual([lab.ns2]);
    const byName = new Map(json[0].interfaces.map((i) => [i.name, i]));
    expect(byName.get('vx42')).toMatchObject({ kind: 'vxlan', mtu: link.mtu });
    expect(byName.get(lab.veth2)).toMatchObject({ kind: 'veth', peer: `${lab.ns1}/${lab.veth1}` });
    expect(byName.get('lo')).toMatchObject({ kind: null, peer: null });
  });

  it('all: this namespace and every namespace ip netns knows', () => {
    if (!ready()) return;
    const result = cli(['--netns', 'all']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^this network namespace:\n  lo /);
    for (const ns of [lab.ns1, lab.ns2]) expect(result.stdout).toContain(`\nnetwork namespace ${ns}:\n`);
  });

  it('an unknown namespace: one line listing those that exist (exit 1)', () => {
    if (!ready()) return;
    const result = cli(['--netns', `${lab.ns2}x`]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^tunscope: no network namespace named "${lab.ns2}x"; ip netns knows: .*\\b${lab.ns2}\\b.*\n$`));
  });
});

describe('tunscope trace on live points', () => {
  interface Loss { kind: string; after: string | null; before: string | null; stage: string; packets: number }
  const lossesOf = (report: { groups: { kind: string; losses: Omit<Loss, 'kind'>[] }[] }): Loss[] =>
    report.groups.flatMap((g) => g.losses.map((l) => ({ ...l, kind: g.kind })));

  it('captures the four points during a VNI mismatch, names the decapsulation loss, and keeps the capture with -w', async () => {
    if (!ready()) return;
    // Host 2's vxlan device now has VNI 43; host 1 knows host 2's overlay address, so the echo requests themselves leave.
    for (const args of [['link', 'del', 'vx42'],
      ['link', 'add', 'vx42', 'type', 'vxlan', 'id', '43', 'remote', '192.168.77.2', 'local', '192.168.77.3', 'dstport', '4789', 'dev', lab.veth2],
      ['addr', 'add', '172.18.42.2/24', 'dev', 'vx42'], ['link', 'set', 'vx42', 'up']]) {
      expect(inNetns(lab.ns2, ['ip', ...args]).status).toBe(0);
    }
    expect(inNetns(lab.ns1, ['ip', 'neigh', 'replace', '172.18.42.2', 'lladdr', '02:00:ac:12:2a:02', 'dev', 'vx42', 'nud', 'permanent']).status).toBe(0);
    const points = [`${lab.ns1}/vx42`, `${lab.ns1}/${lab.veth1}`, `${lab.ns2}/${lab.veth2}`, `${lab.ns2}/vx42`];
    const file = path.join(dir, 'trace.pcapng');
    const trace = background([...points, '--duration', '3', '-w', file, '--json'], 'trace');
    await trace.listening;
    inNetns(lab.ns1, ['ping', '-c', '3', '-i', '0.2', '-W', '1', '172.18.42.2']);
    expect(await trace.exited).toBe(0);
    const stdout = trace.stdout();
    const report = JSON.parse(stdout) as Parameters<typeof lossesOf>[0] & { points: { name: string; packets: number }[] };
    expect(report.points.map((p) => p.name)).toEqual(points);
    expect(lossesOf(report).filter((l) => l.kind === 'icmp-echo-request')).toEqual([
      expect.objectContaining({ after: `${lab.ns2}/${lab.veth2}`, before: `${lab.ns2}/vx42`, stage: 'decapsulation', packets: 3 }),
    ]);

    // The kept capture traces again offline, to the same loss.
    const offline = spawnSync(process.execPath, [CLI, 'trace', `live=${file}`, '--json'], { encoding: 'utf8' });
    expect(offline.status).toBe(0);
    expect(lossesOf(JSON.parse(offline.stdout)).filter((l) => l.kind === 'icmp-echo-request')).toEqual([
      expect.objectContaining({ after: `live:${lab.ns2}/${lab.veth2}`, before: `live:${lab.ns2}/vx42`, stage: 'decapsulation', packets: 3 }),
    ]);
  });

  it('-w without --duration or -c is a usage error (exit 2)', () => {
    const result = spawnSync(process.execPath, [CLI, 'trace', 'a.pcap', '-w', 'x.pcapng'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('tunscope: -w keeps a live capture: give --duration or -c with live points\n');
  });
});
