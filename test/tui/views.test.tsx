// The views beyond the tunnels: the whole capture's packet list,
// conversations (both directions on one row), the text search, following a
// stream, writing the packets in view, and the mouse. Expected values come
// from tshark, run on the same fixture, or from how the fixture was made.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mouseSequence } from '../../src/tui/mouse.js';
import { BODY_LINE } from '../../src/tui/state.js';
import { FIXTURES, haveTshark, requireOrSkip, tshark } from '../helpers/tools.js';
import { KEYS, lineWith, screenWith, show, until, type Shown } from './ink.js';

const LAB = path.join(FIXTURES, 'vxlan-lab.pcap');
const LAB_2VNI = path.join(FIXTURES, 'vxlan-lab-2vni.pcap');

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-tui-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** tshark's fields for every frame a display filter keeps, one array per frame. */
function frames(file: string, filter: string, ...fields: string[]): string[][] {
  const out = tshark(file, ['-Y', filter, '-T', 'fields', ...fields.flatMap((field) => ['-e', field]), '-E', 'occurrence=l']);
  return out.trim() === '' ? [] : out.trim().split('\n').map((line) => line.split('\t'));
}

/** The packet the view has selected, as Enter opens it. */
async function selectedPacket(shown: Shown): Promise<number> {
  await shown.press(KEYS.enter);
  const match = /Packet (\d+): /.exec(await screenWith(shown, /Packet \d+: /)) as RegExpExecArray;
  await shown.press(KEYS.escape);
  await screenWith(shown, /NO\. +TIME/);
  return Number(match[1]);
}

describe('the whole capture\'s packet list', () => {
  it('lists every packet, tunnelled or not, and opens the selected one', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const all = frames(LAB, 'frame', 'frame.number', 'frame.len');
    const { press } = await show('vxlan-lab.pcap', { width: 100, height: 40 });
    let screen = await press('3');
    expect(screen.split('\n')[2]).toBe('All packets');
    // fixtures/README.md: 28 frames; the first two are the underlay ARP, shown whole.
    expect(all).toHaveLength(28);
    expect(lineWith(screen, '      1 ', 'ARP, Request who-has 10.0.0.2 tell 10.0.0.1')).toBeDefined();
    // A tunnelled packet is named by its tunnel's type and VNI, then the inner packet.
    expect(lineWith(screen, '      5 ', 'vxlan 42 | IP 172.18.1.1 > 172.18.1.2: ICMP echo request')).toBeDefined();
    screen = await press('G', KEYS.enter);
    const [last, len] = all[all.length - 1];
    expect(screen).toContain(`Packet ${last}: ${len} bytes on wire`);
  });
});

describe('conversations', () => {
  it('joins both directions of each tunnel, with packets and bytes each way as tshark counts them', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const { press } = await show('vxlan-lab-2vni.pcap');
    const screen = await press('2');
    expect(screen.split('\n')[2]).toBe('Conversations');
    for (const vni of ['42', '43']) {
      const ways = ['10.0.0.1', '10.0.0.2'].map((src) => frames(LAB_2VNI, `vxlan.vni == ${vni} && ip.src == ${src}`, 'frame.len'));
      const [ab, ba] = ways.map((list) => [list.length, list.reduce((sum, [len]) => sum + Number(len), 0)]);
      // Side A sent first: the lab's pings start at 10.0.0.1.
      const line = lineWith(screen, 'vxlan', ` ${vni} `, '10.0.0.1', '10.0.0.2');
      expect(line, `one row for VNI ${vni}`).toMatch(new RegExp(`${vni} 10\\.0\\.0\\.1 +10\\.0\\.0\\.2 +${ab[0]} +${ab[1]} B +${ba[0]} +${ba[1]} B `));
      expect(screen.split('\n').filter((row) => row.startsWith('vxlan') && row.includes(` ${vni} `))).toHaveLength(1);
    }
  });

  it('joins both directions of each inner flow, as tshark -z conv,udp counts them, and lists their packets together', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    // tshark's row for the inner UDP exchange of VNI 43: "A <-> B  frames bytes (B to A)  frames bytes (A to B)".
    const conv = tshark(LAB_2VNI, ['-q', '-z', 'conv,udp']).split('\n').find((row) => row.startsWith('172.18.2.'));
    const fields = /^(\S+) +<-> (\S+) +(\d+) (\d+) bytes +(\d+) (\d+) bytes/.exec(conv ?? '');
    expect(fields, conv).not.toBeNull();
    const [, a, b, framesBA, bytesBA, framesAB, bytesAB] = fields as RegExpExecArray;
    const { press } = await show('vxlan-lab-2vni.pcap');
    await press('2', 'f', '43', KEYS.enter);
    let screen = await press(KEYS.enter);
    expect(screen).toContain('Conversations › vxlan 43 10.0.0.1 ↔ 10.0.0.2');
    const row = lineWith(screen, 'udp', a, b);
    expect(row).toMatch(new RegExp(` ${framesAB} +${bytesAB} B +${framesBA} +${bytesBA} B$`));
    screen = await press('f', 'udp', KEYS.enter, KEYS.enter);
    expect(screen).toContain(`udp ${a} ↔ ${b}`);
    const numbers = frames(LAB_2VNI, `udp.port == ${a.split(':')[1]} && vxlan`, 'frame.number').map(([n]) => n);
    expect(numbers).toHaveLength(Number(framesAB) + Number(framesBA));
    for (const n of numbers) expect(lineWith(screen, ` ${n} `, 'UDP, length')).toBeDefined();
  });
});

describe('find', () => {
  it('selects the next row holding the text, and n and N go on to the next and the previous', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const replies = frames(LAB, 'icmp.type == 0', 'frame.number').map(([n]) => Number(n));
    expect(replies.length).toBeGreaterThan(2);
    const ui = await show('vxlan-lab.pcap');
    const { press } = ui;
    const screen = await press('3', 'f', 'ECHO REPLY', KEYS.enter);
    expect(screen).toContain(`"ECHO REPLY": row ${replies[0]} of 28`);
    expect(await selectedPacket(ui)).toBe(replies[0]);
    await press('n');
    expect(await selectedPacket(ui)).toBe(replies[1]);
    await press('n', 'N');
    expect(await selectedPacket(ui)).toBe(replies[1]);
    // Past the last match, the search wraps to the first.
    await press(...replies.slice(1).map(() => 'n'));
    expect(await selectedPacket(ui)).toBe(replies[0]);
    // An empty find looks for the same text again.
    await press('f', KEYS.enter);
    expect(await selectedPacket(ui)).toBe(replies[1]);
    // The text and its Enter in one read, as a terminal may deliver them.
    expect(await press('f', 'no such text\r')).toContain('"no such text": no match in this view');
  });
});

describe('following a stream', () => {
  it('shows a TCP connection\'s payload, both directions in order, as text and as hex, as tshark follows it', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const follow = tshark(LAB, ['-q', '-z', 'follow,tcp,ascii,0']);
    const segments = frames(LAB, 'tcp.len > 0', 'ip.src', 'tcp.payload');
    const { press } = await show('vxlan-lab.pcap', { width: 100, height: 30 });
    let screen = await press('3', 'f', '8080', KEYS.enter, 'F');
    expect(screen).toContain('› tcp stream 172.18.1.1:58330 ↔ 172.18.1.2:8080');
    // tshark: node 0 sent 29 bytes, node 1 54.
    expect(follow).toMatch(/Node 0: 172\.18\.1\.1:58330\nNode 1: 172\.18\.1\.2:8080\n29\n[^]*\n\t54\n/);
    expect(screen).toContain('A 172.18.1.1:58330: 29 B · B 172.18.1.2:8080: 54 B');
    const lines = screen.split('\n');
    const textLines = follow.replace(/\r/g, '').split('\n').filter((line) => /^[A-Za-z]/.test(line) && !/^(Follow|Filter|Node)/.test(line));
    expect(textLines).toContain('GET / HTTP/1.0');
    let at = 0;
    for (const text of textLines) {
      const found = lines.indexOf(text, at);
      expect(found, `"${text}" in order`).toBeGreaterThan(at - 1);
      at = found + 1;
    }
    screen = await press('x');
    for (const [src, payload] of segments) {
      const first = payload.slice(0, 32).match(/../g)?.join(' ');
      expect(lineWith(screen, `${src === '172.18.1.1' ? '' : '    '}00000000  ${first}`), `${src}'s first bytes`).toBeDefined();
    }
  });

  it('follows a UDP exchange inside its tunnel from a flow conversation', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const datagrams = frames(LAB_2VNI, 'vxlan && udp.port == 5000', 'udp.payload');
    expect(datagrams).toHaveLength(2);
    const { press } = await show('vxlan-lab-2vni.pcap');
    const screen = await press('2', 'f', '43', KEYS.enter, KEYS.enter, 'f', 'udp', KEYS.enter, 'F');
    expect(screen).toMatch(/udp stream 172\.18\.2\.1:\d+ ↔ 172\.18\.2\.2:5000/);
    for (const [payload] of datagrams) {
      const text = Buffer.from(payload, 'hex').toString('latin1').replace(/[^\x20-\x7e\n]/g, '.').split('\n').filter((line) => line !== '');
      for (const line of text) expect(screen).toContain(line);
    }
  });

  it('says so when the selection has no TCP or UDP', async () => {
    const { press } = await show('vxlan-lab.pcap');
    expect(await press('3', 'F')).toContain('no TCP or UDP stream here to follow');
  });
});

describe('writing the packets in view', () => {
  it('writes a flow conversation\'s packets to a pcap file that tshark reads back as the same frames', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const out = path.join(scratch, 'tcp.pcap');
    const { press } = await show('vxlan-lab.pcap');
    const screen = await press('2', KEYS.enter, 'f', 'tcp', KEYS.enter, KEYS.enter, 'w', out, KEYS.enter);
    const original = frames(LAB, 'tcp.port == 8080', 'frame.time_epoch', 'frame.len', 'frame.cap_len');
    expect(original).toHaveLength(10);
    expect(screen).toContain(`wrote 10 packets to ${out} (pcap)`);
    expect(frames(out, 'frame', 'frame.time_epoch', 'frame.len', 'frame.cap_len')).toEqual(original);
    expect(frames(out, 'tcp.port == 8080', 'frame.number')).toHaveLength(10);
  });

  it('writes pcapng for a .pcapng name, and one packet from the packet view', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const out = path.join(scratch, 'one.pcapng');
    const { press } = await show('vxlan-lab.pcap');
    const screen = await press('3', 'G', KEYS.enter, 'w', out, KEYS.enter);
    expect(screen).toContain(`wrote 1 packet to ${out} (pcapng)`);
    // The pcapng section header block type (pcapng spec, 4.1).
    expect(fs.readFileSync(out).readUInt32LE(0)).toBe(0x0a0d0d0a);
    expect(frames(out, 'frame', 'frame.len', 'icmp.type')).toEqual(frames(LAB, 'frame.number == 28', 'frame.len', 'icmp.type'));
  });

  it('writes packets of two link types to pcapng, and refuses pcap for them leaving no file', async () => {
    if (!requireOrSkip(haveTshark, 'tshark')) return;
    const file = path.join(FIXTURES, 'two-interfaces.pcapng');
    const [pcap, pcapng] = [path.join(scratch, 'mixed.pcap'), path.join(scratch, 'mixed.pcapng')];
    const { press } = await show('two-interfaces.pcapng');
    // fixtures/README.md: interface 0 is Ethernet (link type 1), interface 1 raw IP (101).
    expect(await press('3', 'w', pcap, KEYS.enter)).toContain('cannot write link type 101 into a pcap file of link type 1; use pcapng');
    expect(fs.existsSync(pcap)).toBe(false);
    expect(await press('w', pcapng, KEYS.enter)).toContain(`wrote 4 packets to ${pcapng} (pcapng)`);
    const fields = ['frame.time_epoch', 'frame.len', 'frame.protocols'];
    expect(frames(pcapng, 'frame', ...fields)).toEqual(frames(file, 'frame', ...fields));
  });

  it('says why on a line of its own when the file cannot be written', async () => {
    const out = path.join(scratch, 'no-such-dir', 'x.pcap');
    const ui = await show('vxlan-lab.pcap');
    const { press } = ui;
    const screen = await press('w', out, KEYS.enter);
    expect(lineWith(screen, `cannot write ${out}: no such directory`)).toBeDefined();
    expect(fs.existsSync(out)).toBe(false);
    await press('w');
    await screenWith(ui, 'write to:');
    await press(KEYS.escape);
    await until(() => !ui.screen().includes('write to:'));
  });
});

describe('the mouse', () => {
  it('selects the clicked row, opens it on a second click, and scrolls with the wheel', async () => {
    const ui = await show('vxlan-lab-2vni.pcap');
    const { press } = ui;
    let screen = await press('3');
    // The table's title is on the body's first line; packet 1 on the next.
    const click = (row: number): string => mouseSequence({ kind: 'press', button: 0, x: 10, y: BODY_LINE + 1 + row });
    const release = mouseSequence({ kind: 'release', button: 0, x: 10, y: BODY_LINE + 1 });
    expect(screen.split('\n')[BODY_LINE + 1 + 4]).toMatch(/^ +5 /);
    await press(click(4), release);
    expect(await selectedPacket(ui)).toBe(5);
    await press(click(6), release, click(6));
    await screenWith(ui, 'Packet 7: ');
    await press(KEYS.escape, mouseSequence({ kind: 'wheel-down', button: 1, x: 10, y: 8 }));
    expect(await selectedPacket(ui)).toBe(10);
    // A click below the last row selects nothing.
    await press('2', click(10), KEYS.enter);
    expect((await screenWith(ui, 'PROTO')).split('\n')[2]).toMatch(/^Conversations › vxlan 43/);
  });
});

describe('help', () => {
  it('lists every key, the new ones too', async () => {
    const { press } = await show('vxlan-lab.pcap', { width: 100, height: 40 });
    const screen = await press('?');
    for (const key of ['1 ', '2 ', '3 ', 'F ', 'x ', 'f ', 'n  N', 'w ', 'mouse', '/ ', 's ', 'p ', 'Tab', 'Enter', 'Esc', 'q  Ctrl-C']) {
      expect(screen.split('\n').some((line) => line.startsWith(key)), key).toBe(true);
    }
  });

  it('fits every new view in 80 columns by 24 lines, the hints too', async () => {
    const ui = await show('vxlan-lab.pcap', { width: 80, height: 24 });
    const views = [
      ['2', 'Conversations'], [KEYS.enter, 'PKTS A>B'], ['3', 'All packets'], ['f', 'write to:'],
    ] as const;
    for (const [key, text] of views) {
      let screen: string;
      if (key === 'f') {
        await ui.press(key, '8080', KEYS.enter, 'F');
        screen = await screenWith(ui, 'tcp stream');
      } else {
        await ui.press(key);
        screen = await screenWith(ui, text);
      }
      const lines = screen.split('\n');
      expect(lines.length).toBeLessThanOrEqual(24);
      expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(80);
      // The hints end in "q quit": none is cut.
      expect(lines[lines.length - 1]).toMatch(/q quit$/);
    }
  });
});
