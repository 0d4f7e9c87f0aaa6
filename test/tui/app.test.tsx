// The terminal UI's components, driven by key presses as a person would,
// read back as the text they draw.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';
import { KEYS, lineWith, pause, show } from './ink.js';

describe('the tunnels view', () => {
  it('shows each tunnel direction with its VNI and the counts tshark gives', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const { screen } = await show('vxlan-lab-2vni.pcap');
    const frames = tshark(path.join(FIXTURES, 'vxlan-lab-2vni.pcap'), ['-T', 'fields', '-e', 'vxlan.vni', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'frame.len', '-E', 'occurrence=f'])
      .trim().split('\n').map((line) => line.split('\t'));
    for (const vni of ['42', '43']) {
      for (const [src, dst] of [['10.0.0.1', '10.0.0.2'], ['10.0.0.2', '10.0.0.1']]) {
        const mine = frames.filter(([v, s, d]) => v === vni && s === src && d === dst);
        const bytes = mine.reduce((sum, fields) => sum + Number(fields[3]), 0);
        expect(bytes).toBeLessThan(1000);
        const line = lineWith(screen(), 'vxlan', ` ${vni} `, `${src} > ${dst}`);
        expect(line, `a row for VNI ${vni} ${src} > ${dst}`).toBeDefined();
        expect(line).toMatch(new RegExp(`\\s${mine.length}\\s+${bytes} B\\s`));
      }
    }
    expect(lineWith(screen(), 'none', '(not tunnelled)')).toMatch(/\s4\s+209 B\s/);
    expect(screen()).toContain('tunscope · ');
    expect(screen()).toContain('18 packets');
  });

  it('moves the selection with the keys and opens the selected tunnel\'s flows', async () => {
    const { press } = await show('vxlan-lab-2vni.pcap');
    // Rows are sorted by bytes: the first two are VNI 43 (504 B and 499 B).
    let screen = await press(KEYS.down, KEYS.enter);
    expect(screen).toContain('Tunnels › vxlan 43 10.0.0.1 → 10.0.0.2');
    expect(lineWith(screen, 'udp', '172.18.2.1:42713', '172.18.2.2:5000')).toBeDefined();
    screen = await press(KEYS.escape, 'k', KEYS.enter);
    expect(screen).toContain('Tunnels › vxlan 43 10.0.0.2 → 10.0.0.1');
    screen = await press(KEYS.escape, 'G', KEYS.enter);
    expect(screen).toContain('Tunnels › untunnelled traffic');
  });

  it('sorts by packets and by bad checksums with s', async () => {
    const { press } = await show('vxlan-bad-inner.pcap');
    let screen = await press('s');
    expect(screen).toContain('sort: packets');
    screen = await press('s');
    expect(screen).toContain('sort: bad');
    // fixtures/README.md: frames 2, 3 and 4 each carry one bad inner checksum.
    expect(lineWith(screen, 'vxlan', '192.0.2.1 > 192.0.2.2')).toMatch(/\s3\s+\d+\s*$/);
  });

  it('freezes the numbers on p and says so', async () => {
    const { press } = await show('vxlan-lab.pcap');
    expect(await press('p')).toContain('done, PAUSED');
    expect(await press('p')).not.toContain('PAUSED');
  });
});

describe('drilling down to a packet', () => {
  it('goes from a tunnel to its flows, a flow to its packets, and a packet to its layers and bytes', async () => {
    const { press } = await show('vxlan-lab-2vni.pcap');
    let screen = await press(KEYS.enter);
    // VNI 43 from 10.0.0.2: ICMP replies, the UDP echo, the ARP reply (fixtures/README.md).
    expect(lineWith(screen, 'icmp', '172.18.2.2', '172.18.2.1')).toMatch(/\s2\s+296 B\s/);
    screen = await press(KEYS.enter);
    expect(screen).toContain('› icmp 172.18.2.2 > 172.18.2.1');
    // Frames 12 and 14 are the replies (tshark); the summary starts inside the tunnel.
    expect(lineWith(screen, ' 12 ', 'IP 172.18.2.2 > 172.18.2.1: ICMP echo reply')).toBeDefined();
    expect(lineWith(screen, ' 14 ', 'ICMP echo reply')).toBeDefined();
    screen = await press(KEYS.down, KEYS.enter);
    expect(screen).toContain('Packet 14: 148 bytes on wire, 148 captured');
    expect(screen).toContain('── tunnel 1: vxlan vni 43, 10.0.0.2 > 10.0.0.1');
    expect(screen).toMatch(/▸ udp \d+ > 4789 \[cksum offload\]/);
    expect(screen).toContain('▸ icmp type 0 code 0');
    // The Ethernet header is selected first: its 14 bytes start the dump, and the status line names them.
    expect(screen).toContain('eth bytes 0-13');
    expect(screen).toMatch(/0000 {2}02 00 0a 00 00 01 02 00/);
  });

  it('expands and collapses a layer, and highlights the selected one\'s bytes', async () => {
    const { press } = await show('vxlan-lab-2vni.pcap');
    await press(KEYS.enter, KEYS.enter, KEYS.enter);
    let screen = await press('j', 'j', '\u001B[C');
    expect(screen).toMatch(/▾ udp \d+ > 4789/);
    expect(screen).toContain('dstPort: 4789');
    // RFC 768: UDP's 8 header bytes follow 14 of Ethernet and 20 of IPv4.
    expect(screen).toContain('udp bytes 34-41');
    screen = await press('j', '\u001B[D');
    expect(screen).not.toContain('dstPort: 4789');
    expect(screen).toMatch(/▸ udp \d+ > 4789/);
    screen = await press('e');
    expect(screen).toMatch(/▾ udp \d+ > 4789/);
    expect(screen).not.toContain('▸');
    screen = await press('G');
    expect(screen).toContain('▾ icmp type 0 code 0');
    // 14 + 20 + 8 + 8 bytes of outer Ethernet, IPv4, UDP and VXLAN, then 14 + 20 of inner Ethernet and IPv4; ICMP's header is 8.
    expect(screen).toContain('icmp bytes 84-91');
  });

  it('keeps the selected layer\'s bytes in view, and scrolls the dump itself after Tab', async () => {
    const { press } = await show('vxlan-lab-2vni.pcap', { width: 80, height: 12 });
    let screen = await press(KEYS.enter, KEYS.enter, KEYS.enter);
    expect(screen).toMatch(/│ 0000 {2}/);
    // The inner ICMP header starts at byte 84 (see above): in the dump's row at 0x50, 8 bytes a row.
    screen = await press('G');
    expect(screen).toContain('icmp bytes 84-91');
    expect(screen).toMatch(/│ 0050 {2}ac 12 02 01 00 00 ab ff/);
    expect(screen).not.toMatch(/│ 0000 {2}/);
    screen = await press('\t', 'g');
    expect(screen).toMatch(/│ 0000 {2}/);
  });

  it('goes back a view at a time with Esc and Backspace', async () => {
    const { press } = await show('vxlan-lab-2vni.pcap');
    await press(KEYS.enter, KEYS.enter, KEYS.enter);
    let screen = await press(KEYS.escape);
    expect(screen).toMatch(/› icmp 172\.18\.2\.2 > 172\.18\.2\.1\n/);
    screen = await press('\u007F', '\u007F');
    expect(screen.split('\n')[2]).toBe('Tunnels');
  });
});

describe('the filter box', () => {
  it('reports a syntax error with a caret under its column, and applies a good filter on Enter', async () => {
    const { press } = await show('vxlan-lab-2vni.pcap');
    let screen = await press('/', 'vxlan vni', KEYS.enter);
    const lines = screen.split('\n');
    const input = lines.findIndex((line) => line.startsWith('/ vxlan vni'));
    // The number is missing after "vni": the caret stands after it, column 10 counting from 1.
    expect(lines[input + 1].indexOf('^')).toBe('/ vxlan vni'.length);
    expect(lines[input + 2]).toMatch(/number.*\(column 10\)/);
    screen = await press(' 42', KEYS.enter);
    await pause(200);
    screen = await press('');
    expect(screen).toContain('filter: vxlan vni 42');
    expect(screen).toContain('18 packets, 6 match');
    expect(lineWith(screen, 'vxlan', ' 43 ')).toBeUndefined();
  });

  it('closes without applying on Esc', async () => {
    const { press } = await show('vxlan-lab-2vni.pcap');
    const screen = await press('/', 'tcp', KEYS.escape);
    expect(screen).toContain('filter: (none)');
    expect(screen).not.toContain('/ tcp');
  });
});

describe('help and size', () => {
  it('lists every key on ?', async () => {
    const { press } = await show('vxlan-lab.pcap');
    const screen = await press('?');
    for (const key of ['Enter', 'Esc', 'Tab', 'PgUp', 'Home', '/', ' s ', ' p ', 'q  Ctrl-C']) {
      expect(screen.includes(key) || screen.includes(key.trim()), key).toBe(true);
    }
    expect(await press('x')).not.toContain('this help');
  });

  it('fits 80 columns by 24 lines', async () => {
    const { screen, press } = await show('vxlan-lab.pcap', { width: 80, height: 24 });
    for (const frame of [screen(), await press(KEYS.enter), await press(KEYS.enter), await press(KEYS.enter)]) {
      const lines = frame.split('\n');
      expect(lines.length).toBeLessThanOrEqual(24);
      expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(80);
    }
  });
});
