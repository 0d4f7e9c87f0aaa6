// The terminal UI in a real terminal: the built CLI runs under tmux at a
// fixed size, keys are sent as a person would type them, and the screen is
// read back with capture-pane. After quitting, the terminal must be as it
// was: the main screen back, the cursor shown, the line discipline cooked.

import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { PROJECT_ROOT, requireOrSkip } from '../helpers/tools.js';
import { AFTERWARDS, TmuxServer, expectRestored, haveTmux, linesOf, pause, type Terminal } from './terminal.js';

let server: TmuxServer | null = null;

beforeAll(() => {
  if (!haveTmux) return;
  server = new TmuxServer('e2e');
});

afterAll(() => server?.close());

function terminal(name: string, width: number, height: number): Terminal {
  return (server as TmuxServer).terminal(name, width, height);
}

/** Starts the UI from the shell, the way a person would, and waits until the file is read. */
async function startTui(term: Terminal, fixture: string): Promise<string> {
  term.type(`node dist/src/cli.js tui fixtures/${fixture}${AFTERWARDS}`);
  term.keys('Enter');
  await term.waitFor('TUNNEL');
  return term.waitFor(/ · done\n/);
}

describe.each([[100, 30], [80, 24]])('tunscope tui in a %ix%i terminal', (width, height) => {
  it('shows the VXLAN tunnels with their VNIs, drills down to a packet\'s layers, and restores the terminal on q', async () => {
    if (!requireOrSkip(haveTmux, 'tmux')) return;
    const term = terminal(`drill${width}`, width, height);
    try {
      let screen = await startTui(term, 'vxlan-lab-2vni.pcap');
      // fixtures/README.md: VNI 42 and VNI 43 between 10.0.0.1 and 10.0.0.2, both ways, and plain UDP.
      for (const vni of ['42', '43']) {
        for (const direction of ['10.0.0.1 > 10.0.0.2', '10.0.0.2 > 10.0.0.1']) {
          expect(screen).toMatch(new RegExp(`^vxlan +${vni} ${direction.replace(/\./g, '\\.')} `, 'm'));
        }
      }
      expect(screen).toMatch(/^none +- \(not tunnelled\)/m);
      expect(linesOf(screen).every((line) => line.length <= width)).toBe(true);
      expect(linesOf(screen)).toHaveLength(height);

      term.keys('Enter');
      screen = await term.waitFor('PROTO');
      expect(screen).toMatch(/› vxlan 43 10\.0\.0\.2 → 10\.0\.0\.1/);
      expect(screen).toMatch(/^icmp +172\.18\.2\.2 +172\.18\.2\.1 +2 /m);

      term.keys('Enter');
      screen = await term.waitFor('SUMMARY');
      expect(screen).toMatch(/^ +12 \d\d:\d\d:\d\d\.\d{6} +148 IP 172\.18\.2\.2 > 172\.18\.2\.1: ICMP echo reply/m);

      term.keys('Enter');
      screen = await term.waitFor('Packet 12:');
      // The marker is cut at the tree pane's width in 80 columns; the full text is on a wider screen.
      expect(screen).toContain(width >= 100 ? '── tunnel 1: vxlan vni 43, 10.0.0.2 > 10.0.0.1' : '── tunnel 1: vxlan vni 43,');
      for (const layer of ['▸ eth ', '▸ ipv4 10.0.0.2 > 10.0.0.1', '▸ udp ', '▸ vxlan vni 43', '▸ ipv4 172.18.2.2 > 172.18.2.1', '▸ icmp type 0 code 0']) {
        expect(screen).toContain(layer);
      }
      // The inner layers are indented under the tunnel marker.
      expect(screen).toMatch(/^ {2}▸ vxlan vni 43/m);

      // Select the UDP layer and open it: its fields show, its 8 bytes (34-41) are highlighted in the dump.
      term.keys('j');
      await pause(100);
      term.keys('j');
      await pause(100);
      term.keys('Space');
      // The fields and the status line may come in two redraws: wait for the later one.
      await term.waitFor('udp bytes 34-41');
      screen = await term.waitFor('dstPort: 4789');
      expect(screen).toContain('udp bytes 34-41');
      const dump = linesOf(term.screen(true));
      // Bytes 32-39 sit in the row at 0x20: the first two are IPv4's, the next six UDP's, in reverse video.
      const row = dump.find((line) => line.includes('0020')) ?? '';
      expect(row).toMatch(/0020 {2}(\u001B\[[0-9;]*m)*00 01 (\u001B\[[0-9;]*m)*\u001B\[[0-9;]*7[0-9;]*m/);

      term.keys('q');
      await expectRestored(term, 'tui fixtures/vxlan-lab-2vni.pcap');
      expect(term.screen()).toContain('exit status 0');
    } finally {
      term.close();
    }
  });
});

describe('tunscope tui and the terminal', () => {
  it('restores the terminal on Ctrl-C', async () => {
    if (!requireOrSkip(haveTmux, 'tmux')) return;
    const term = terminal('interrupt', 100, 30);
    try {
      await startTui(term, 'vxlan-lab.pcap');
      term.keys('C-c');
      await expectRestored(term, 'tui fixtures/vxlan-lab.pcap');
    } finally {
      term.close();
    }
  });

  it('asks for SGR mouse reports while it runs, selects the clicked row, and turns the mouse off on q', async () => {
    if (!requireOrSkip(haveTmux, 'tmux')) return;
    const term = terminal('mouse', 100, 30);
    try {
      await startTui(term, 'vxlan-lab-2vni.pcap');
      expect(term.flag('mouse_standard_flag')).toBe('1');
      expect(term.flag('mouse_sgr_flag')).toBe('1');
      term.keys('3');
      await term.waitFor('All packets');
      // A left press and release on screen line 9 (1-based), where packet 5 is (three header lines, the column titles, 1-4).
      const press = (final: string) => Buffer.from(`\u001B[<0;20;9${final}`).toString('hex').match(/../g) as string[];
      (server as TmuxServer).tmux('send-keys', '-t', 'mouse:0.0', '-H', ...press('M'), ...press('m'));
      await pause(200);
      term.keys('Enter');
      await term.waitFor('Packet 5: ');
      term.keys('q');
      await expectRestored(term, 'tui fixtures/vxlan-lab-2vni.pcap');
      expect(term.flag('mouse_standard_flag')).toBe('0');
      expect(term.flag('mouse_sgr_flag')).toBe('0');
    } finally {
      term.close();
    }
  });

  it('redraws to the new size when the terminal is resized', async () => {
    if (!requireOrSkip(haveTmux, 'tmux')) return;
    const term = terminal('resize', 120, 30);
    try {
      let screen = await startTui(term, 'vxlan-nested.pcap');
      expect(Math.max(...linesOf(screen).map((line) => line.length))).toBeGreaterThan(100);
      term.resize(80, 24);
      await pause(500);
      screen = await term.waitFor('OFFLOAD');
      expect(linesOf(screen)).toHaveLength(24);
      expect(linesOf(screen).every((line) => line.length <= 80)).toBe(true);
      // fixtures/README.md: VXLAN 100 carrying VXLAN 200, and VXLAN 400 inside GRE.
      expect(screen).toMatch(/^vxlan +100 192\.0\.2\.1 > 192\.0\.2\.2 /m);
      expect(screen).toMatch(/^vxlan +400 10\.1\.0\.1 > 10\.1\.0\.2 /m);
      term.keys('q');
      // Narrowing the window reflowed the main screen and pushed the command line out of sight.
      await expectRestored(term);
    } finally {
      term.close();
    }
  });

});

describe('tunscope tui on a command line that cannot work', () => {
  function tui(...args: string[]): { status: number | null; stderr: string } {
    const result = spawnSync(process.execPath, [CLI, 'tui', ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', input: '' });
    return { status: result.status, stderr: result.stderr };
  }

  it('refuses to start without a terminal, pointing at stats', () => {
    const result = tui('fixtures/vxlan-lab.pcap');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/needs a terminal.*tunscope stats/);
  });

  it('says what is wrong with the file or the filter before it needs a terminal', () => {
    expect(tui('fixtures/missing.pcap')).toEqual({ status: 1, stderr: 'tunscope: cannot read fixtures/missing.pcap: no such file\n' });
    const text = tui('fixtures/README.md');
    expect(text.status).toBe(1);
    expect(text.stderr).toMatch(/fixtures\/README\.md is not a pcap or pcapng capture file/);
    const filter = tui('fixtures/vxlan-lab.pcap', '--filter', 'vxlan vni');
    expect(filter.status).toBe(2);
    expect(filter.stderr).toMatch(/^tunscope: bad filter: .*\(column 10\)\n {2}vxlan vni\n {11}\^\n$/);
    expect(filter.stderr).not.toMatch(/\bat \S+:\d+/);
  });

  it('will not read standard input, which carries the keys', () => {
    const result = tui('-');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/reads a capture file, not standard input/);
  });
});
