// `tunscope capture IFACE --tui` on real kernel traffic, in a real terminal:
// two network namespaces joined by a veth pair, Linux vxlan devices with VNI
// 42 and 43 over it and pings inside each; the UI runs under tmux in the first
// namespace. Needs root, network namespaces, the libpcap binding and tmux.

import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveCaptureAvailable, isRoot, netnsWorks, requireOrSkip } from '../helpers/tools.js';
import { startVxlanLab, stopVxlanLab } from '../helpers/vxlan-lab.js';
import { AFTERWARDS, TmuxServer, expectRestored, haveTmux, pause } from './terminal.js';

const canRun = haveTmux && isRoot && liveCaptureAvailable() && netnsWorks();
const nsA = `tstui${process.pid}a`;
const nsB = `tstui${process.pid}b`;
const traffic: ChildProcess[] = [];
let server: TmuxServer | null = null;

/** The lab of fixtures/make-vxlan-lab.sh, with pings inside each VNI. */
function startLab(): void {
  startVxlanLab(nsA, nsB);
  for (const peer of ['172.18.1.2', '172.18.2.2']) {
    traffic.push(spawn('ip', ['netns', 'exec', nsA, 'ping', '-q', '-n', '-i', '0.05', peer], { stdio: 'ignore' }));
  }
}

beforeAll(() => {
  if (!canRun) return;
  server = new TmuxServer('live');
  startLab();
});

afterAll(() => {
  for (const child of traffic) child.kill();
  server?.close();
  if (canRun) stopVxlanLab(nsA, nsB);
});

function packetsSeen(screen: string): number {
  const match = /· ([\d.]+)(k?) packets/.exec(screen);
  return match === null ? -1 : Number(match[1]) * (match[2] === 'k' ? 1000 : 1);
}

describe('tunscope capture --tui', () => {
  it('shows the live VXLAN tunnels, takes a new filter, drills down to a packet, and restores the terminal on q', async () => {
    if (!requireOrSkip(canRun, 'root, network namespaces, the libpcap binding and tmux')) return;
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
      const listed = [...screen.matchAll(/^ +(\d+) \d\d:\d\d:\d\d\.\d{9} /gm)].map((m) => Number(m[1]));
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

describe('tunscope capture --tui on several interfaces', () => {
  it('shows each interface\'s received packets and kernel drops under the view, growing as packets come', async () => {
    if (!requireOrSkip(canRun, 'root, network namespaces, the libpcap binding and tmux')) return;
    const term = (server as TmuxServer).terminal('interfaces', 100, 30);
    try {
      term.type(`ip netns exec ${nsA} node dist/src/cli.js capture va vx42 vx43 --tui${AFTERWARDS}`);
      term.keys('Enter');
      const received = (screen: string, name: string): number => Number(new RegExp(`^${name} +(\\d+) +(\\d+|\\?)$`, 'm').exec(screen)?.[1] ?? -1);
      let screen = await term.waitFor(/^vx43 +[1-9]\d* +\d+$/m);
      expect(screen).toMatch(/^interface +received +kernel drops$/m);
      expect(screen).toMatch(/^tunscope · va, vx42, vx43 · .* · drops 0 · live$/m);
      const before = ['va', 'vx42', 'vx43'].map((name) => received(screen, name));
      for (const n of before) expect(n).toBeGreaterThan(0);
      // Every ping inside a VNI crosses va encapsulated: the veth carries at least what the two VXLAN devices do.
      expect(before[0]).toBeGreaterThanOrEqual(Math.min(before[1], before[2]));
      await pause(1500);
      screen = term.screen();
      ['va', 'vx42', 'vx43'].forEach((name, i) => expect(received(screen, name)).toBeGreaterThan(before[i]));
      // The foot line stays the last line, under the panel.
      expect(screen.trimEnd().split('\n').at(-1)).toMatch(/q quit/);
      term.keys('q');
      await expectRestored(term, 'capture va vx42 vx43 --tui');
      expect(term.screen()).toContain('exit status 0');
    } finally {
      term.close();
    }
  });
});

describe('tunscope capture --stats on a terminal', () => {
  it('redraws the tables while capturing, and leaves the final ones and the summary after Ctrl-C', async () => {
    if (!requireOrSkip(canRun, 'root, network namespaces, the libpcap binding and tmux')) return;
    const term = (server as TmuxServer).terminal('stats', 160, 40);
    try {
      term.type(`ip netns exec ${nsA} node dist/src/cli.js capture va --filter vxlan --stats; echo "exit status $?"`);
      term.keys('Enter');
      const packets = (screen: string) => Number(/^va: ([\d,]+) packets/m.exec(screen)?.[1].replace(/,/g, '') ?? -1);
      let screen = await term.waitFor(/^\(capturing on va; Ctrl-C to stop\)$/m);
      expect(screen).toMatch(/│ vxlan 4[23] +│ 10\.0\.0\.[12] +│/);
      const first = packets(screen);
      expect(first).toBeGreaterThan(0);
      await pause(2200);
      screen = term.screen();
      expect(packets(screen)).toBeGreaterThan(first);
      term.keys('C-c');
      screen = await term.waitFor(/exit status \d+\n/);
      expect(screen).toContain('exit status 0');
      expect(screen).not.toContain('capturing on va');
      expect(screen).toMatch(/^\d+ packets matched the filter$/m);
      // The final tables count exactly what the summary says matched.
      expect(packets(screen)).toBe(Number(/^(\d+) packets matched the filter$/m.exec(screen)?.[1]));
    } finally {
      term.close();
    }
  });
});
