// `tunscope capture IFACE --tui` on real kernel traffic, in a real terminal:
// two network namespaces joined by a veth pair, Linux vxlan devices with VNI
// 42 and 43 over it and pings inside each; the UI runs under tmux in the first
// namespace. Needs root, network namespaces, the cap binding and tmux.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireOrSkip } from '../helpers/tools.js';
import { AFTERWARDS, TmuxServer, buildIfStale, expectRestored, haveTmux, pause } from './terminal.js';

const isRoot = process.getuid?.() === 0;

function capLoads(): boolean {
  try {
    createRequire(import.meta.url)('cap');
    return true;
  } catch {
    return false;
  }
}

function sh(...args: string[]): void {
  const result = spawnSync(args[0], args.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
}

function netnsWorks(): boolean {
  if (!isRoot) return false;
  const probe = `tstuiprobe${process.pid}`;
  const added = spawnSync('ip', ['netns', 'add', probe], { stdio: 'ignore' }).status === 0;
  if (added) spawnSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
  return added;
}

const canRun = haveTmux && isRoot && capLoads() && netnsWorks();
const nsA = `tstui${process.pid}a`;
const nsB = `tstui${process.pid}b`;
const traffic: ChildProcess[] = [];
let server: TmuxServer | null = null;

/** As fixtures/make-vxlan-lab.sh: 10.0.0.1 and .2 on the veth, VNI 42 over 172.18.1.0/24, VNI 43 over 172.18.2.0/24. */
function startLab(): void {
  sh('ip', 'netns', 'add', nsA);
  sh('ip', 'netns', 'add', nsB);
  for (const ns of [nsA, nsB]) {
    sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  }
  sh('ip', 'link', 'add', 'va', 'netns', nsA, 'type', 'veth', 'peer', 'name', 'vb', 'netns', nsB);
  sh('ip', '-n', nsA, 'addr', 'add', '10.0.0.1/24', 'dev', 'va');
  sh('ip', '-n', nsB, 'addr', 'add', '10.0.0.2/24', 'dev', 'vb');
  sh('ip', '-n', nsA, 'link', 'set', 'va', 'up');
  sh('ip', '-n', nsB, 'link', 'set', 'vb', 'up');
  for (const vni of [42, 43]) {
    const net = vni - 41;
    for (const [ns, dev, local, remote, host] of [[nsA, 'va', '10.0.0.1', '10.0.0.2', 1], [nsB, 'vb', '10.0.0.2', '10.0.0.1', 2]] as const) {
      sh('ip', '-n', ns, 'link', 'add', `vx${vni}`, 'type', 'vxlan', 'id', String(vni), 'dstport', '4789', 'local', local, 'remote', remote, 'dev', dev);
      sh('ip', '-n', ns, 'addr', 'add', `172.18.${net}.${host}/24`, 'dev', `vx${vni}`);
      sh('ip', '-n', ns, 'link', 'set', `vx${vni}`, 'up');
    }
  }
  for (const peer of ['172.18.1.2', '172.18.2.2']) {
    traffic.push(spawn('ip', ['netns', 'exec', nsA, 'ping', '-q', '-n', '-i', '0.05', peer], { stdio: 'ignore' }));
  }
}

beforeAll(() => {
  if (!canRun) return;
  buildIfStale();
  server = new TmuxServer('live');
  startLab();
});

afterAll(() => {
  for (const child of traffic) child.kill();
  server?.close();
  if (canRun) {
    spawnSync('ip', ['netns', 'del', nsA], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'del', nsB], { stdio: 'ignore' });
  }
});

function packetsSeen(screen: string): number {
  const match = /· ([\d.]+)(k?) packets/.exec(screen);
  return match === null ? -1 : Number(match[1]) * (match[2] === 'k' ? 1000 : 1);
}

describe('tunscope capture --tui', () => {
  it('shows the live VXLAN tunnels, takes a new filter, drills down to a packet, and restores the terminal on q', async () => {
    if (!requireOrSkip(canRun, 'root, network namespaces, the cap binding and tmux')) return;
    const term = (server as TmuxServer).terminal('live', 100, 30);
    try {
      const command = `ip netns exec ${nsA} node dist/src/cli.js capture va --tui --tui-buffer 1000`;
      term.type(`${command}${AFTERWARDS}`);
      term.keys('Enter');
      let screen = await term.waitFor(/^vxlan +43 10\.0\.0\.1 > 10\.0\.0\.2 /m);
      await term.waitFor(/^vxlan +42 10\.0\.0\.2 > 10\.0\.0\.1 /m);
      expect(screen).toMatch(/^tunscope · va · .* · live$/m);
      const before = packetsSeen(screen);
      await pause(1000);
      screen = term.screen();
      expect(packetsSeen(screen)).toBeGreaterThan(before);

      term.keys('/');
      await pause(200);
      term.type('vxlan vni 43');
      await term.waitFor(/^\/ vxlan vni 43/m);
      term.keys('Enter');
      screen = await term.waitFor('filter: vxlan vni 43 ·');
      await pause(700);
      screen = term.screen();
      expect(screen).toMatch(/^vxlan +43 10\.0\.0\.1 > 10\.0\.0\.2 /m);
      expect(screen).not.toMatch(/^vxlan +42 /m);

      // The rows sort by bytes; go to the request direction, wherever it is.
      const rows = screen.split('\n').filter((line) => /^vxlan +43 /.test(line));
      const down = rows.findIndex((line) => line.includes('10.0.0.1 > 10.0.0.2'));
      for (let i = 0; i < down; i++) term.keys('j');
      term.keys('p');
      await term.waitFor('PAUSED');
      term.keys('Enter');
      screen = await term.waitFor('PROTO');
      expect(screen).toMatch(/^icmp +172\.18\.2\.1 +172\.18\.2\.2 /m);
      term.keys('Enter');
      screen = await term.waitFor('SUMMARY');
      expect(screen).toMatch(/IP 172\.18\.2\.1 > 172\.18\.2\.2: ICMP echo request/);
      // A live list starts on its newest packet: the last line drawn is the one selected.
      const listed = [...screen.matchAll(/^ +(\d+) \d\d:\d\d:\d\d\.\d{6} /gm)].map((m) => Number(m[1]));
      term.keys('Enter');
      screen = await term.waitFor(`Packet ${listed[listed.length - 1]}:`);
      screen = await term.waitFor('── tunnel 1: vxlan vni 43, 10.0.0.1 > 10.0.0.2');
      expect(screen).toContain('▸ icmp type 8 code 0');

      term.keys('q');
      await expectRestored(term, 'capture va --tui');
      expect(term.screen()).toContain('exit status 0');
    } finally {
      term.close();
    }
  });
});
