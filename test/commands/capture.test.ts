// `tunscope capture` on real kernel traffic: two network namespaces joined by
// a veth pair, Linux vxlan devices with VNI 42 and 43 over it, and plain UDP
// beside them. tshark reads what tunscope wrote.
//
// Needs root (network namespaces, packet sockets), the libpcap binding and
// tshark; skipped with a notice without them, failed under CI.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import {
  PROJECT_ROOT, liveCaptureAvailable, haveTshark, isRoot, netnsWorks, requireOrSkip, tshark,
} from '../helpers/tools.js';
import { startVxlanLab, stopVxlanLab } from '../helpers/vxlan-lab.js';

const haveLibpcap = liveCaptureAvailable();

/** The lab of fixtures/make-vxlan-lab.sh, with traffic that keeps flowing until teardown. */
class VxlanLab {
  readonly nsA = `tscap${process.pid}a`;
  readonly nsB = `tscap${process.pid}b`;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-capture-'));
  private readonly traffic: ChildProcess[] = [];

  start(): void {
    const { nsA, nsB } = this;
    startVxlanLab(nsA, nsB);
    // 50 pings a second inside each VNI, and plain UDP on the underlay (to a listener, so no ICMP comes back).
    this.run(nsB, [process.execPath, '-e', "require('dgram').createSocket('udp4').bind(9000, '10.0.0.2')"]);
    for (const peer of ['172.18.1.2', '172.18.2.2']) this.run(nsA, ['ping', '-q', '-n', '-i', '0.02', peer]);
    this.run(nsA, [process.execPath, '-e',
      "const s = require('dgram').createSocket('udp4'); setInterval(() => s.send('tunscope plain udp', 9000, '10.0.0.2'), 20)"]);
  }

  private run(ns: string, command: string[]): void {
    const child = spawn('ip', ['netns', 'exec', ns, ...command], { stdio: 'ignore' });
    this.traffic.push(child);
  }

  /** `tunscope capture ARGS` inside namespace A, stopped after 15 s at the latest. */
  capture(args: string[]): { status: number | null; stderr: string } {
    const result = spawnSync('ip', ['netns', 'exec', this.nsA, process.execPath, CLI, 'capture', ...args], {
      encoding: 'utf8', timeout: 15_000, cwd: this.dir,
    });
    return { status: result.status, stderr: result.stderr };
  }

  /**
   * A program started inside namespace A, with a promise that it is listening
   * (it said so on stderr, as tcpdump and tunscope capture do) and stop(), which
   * interrupts it as Ctrl-C would and resolves with its exit status.
   */
  background(command: string[]): {
    child: ChildProcess; listening: Promise<void>; stderr: () => string; exited: Promise<number | null>;
    stop: (signal?: NodeJS.Signals) => Promise<number | null>;
  } {
    const child = spawn('ip', ['netns', 'exec', this.nsA, ...command], { stdio: ['ignore', 'ignore', 'pipe'], cwd: this.dir });
    this.traffic.push(child);
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const listening = new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/listening on|PING/.test(stderr)) resolve();
      });
      void exited.then(() => reject(new Error(`${command[0]} ended before listening: ${stderr}`)));
    });
    listening.catch(() => undefined);
    return {
      child,
      listening,
      stderr: () => stderr,
      exited,
      stop: (signal: NodeJS.Signals = 'SIGINT') => {
        child.kill(signal);
        return exited;
      },
    };
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  teardown(): void {
    for (const child of this.traffic) child.kill();
    stopVxlanLab(this.nsA, this.nsB);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One line per frame: the VNIs tshark finds in it (comma-separated), "" when none. */
function vnisPerFrame(file: string): string[] {
  const out = tshark(file, ['-T', 'fields', '-e', 'vxlan.vni']);
  return out === '' ? [] : out.trimEnd().split('\n');
}

describe('tunscope capture in a kernel VXLAN lab (veth, VNI 42 and 43, plain UDP)', () => {
  let lab: VxlanLab | null = null;

  beforeAll(() => {
    if (!isRoot || !haveLibpcap || !haveTshark || !netnsWorks()) return;
    lab = new VxlanLab();
    try {
      lab.start();
    } catch (err) {
      lab.teardown();
      lab = null;
      throw err;
    }
  });

  afterAll(() => lab?.teardown());

  function ready(): VxlanLab | null {
    if (!requireOrSkip(isRoot, 'root (for network namespaces and packet sockets)')) return null;
    if (!requireOrSkip(haveLibpcap, 'the libpcap binding')) return null;
    if (!requireOrSkip(haveTshark, 'tshark')) return null;
    if (!requireOrSkip(lab !== null, 'network namespaces')) return null;
    return lab;
  }

  it('--filter "vxlan vni 42" -c 10 -w writes exactly 10 packets, all VXLAN VNI 42', () => {
    const l = ready();
    if (!l) return;
    const result = l.capture(['va', '--filter', 'vxlan vni 42', '-c', '10', '-w', 'vni42.pcap']);
    expect(result.stderr).toMatch(/10 packets matched the filter/);
    expect(result.status).toBe(0);
    expect(vnisPerFrame(l.file('vni42.pcap'))).toEqual(Array(10).fill('42'));
  });

  it('--filter vxlan keeps VNI 42 and 43 and leaves out the plain UDP beside them', () => {
    const l = ready();
    if (!l) return;
    const result = l.capture(['va', '--filter', 'vxlan', '--duration', '1', '-w', 'vxlan.pcap']);
    expect(result.status).toBe(0);
    const vnis = vnisPerFrame(l.file('vxlan.pcap'));
    expect(vnis.length).toBeGreaterThan(20);
    expect(new Set(vnis)).toEqual(new Set(['42', '43']));
    expect(tshark(l.file('vxlan.pcap'), ['-Y', 'udp.port == 9000'])).toBe('');
  });

  it('the plain UDP is there to be left out: --filter "udp port 9000" catches it', () => {
    const l = ready();
    if (!l) return;
    const result = l.capture(['va', '--filter', 'udp port 9000', '-c', '5', '-w', 'plain.pcap']);
    expect(result.status).toBe(0);
    const frames = tshark(l.file('plain.pcap'), ['-T', 'fields', '-e', 'udp.dstport', '-e', 'frame.protocols']);
    expect(frames.trimEnd().split('\n')).toEqual(Array(5).fill('9000\teth:ethertype:ip:udp:data'));
  });

  it('the kernel checks an outer VNI: "outer vxlan vni 42" hands over nothing else', () => {
    const l = ready();
    if (!l) return;
    const result = l.capture(['va', '--filter', 'outer vxlan vni 42', '-c', '10', '-w', 'outer42.pcap']);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/kernel filter: .*udp\[12:4\] >> 8 = 42/);
    // Every packet libpcap delivered matched: VNI 43 and the plain UDP never left the kernel.
    expect(result.stderr).toMatch(/^10 packets received/m);
    expect(vnisPerFrame(l.file('outer42.pcap'))).toEqual(Array(10).fill('42'));
  });

  it('--bpf hands libpcap a filter of its own, and --snaplen cuts what is kept', () => {
    const l = ready();
    if (!l) return;
    const result = l.capture(['va', '--bpf', 'udp dst port 9000', '--snaplen', '60', '-c', '3', '-w', 'cut.pcap']);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/kernel filter: udp dst port 9000\n/);
    // Ethernet 14 + IPv4 20 + UDP 8 + "tunscope plain udp" 18 = 60 on the wire; cut to 50.
    const lengths = tshark(l.file('cut.pcap'), ['-T', 'fields', '-e', 'frame.cap_len', '-e', 'frame.len', '-e', 'udp.dstport']);
    expect(lengths.trimEnd().split('\n')).toEqual(Array(3).fill('60\t60\t9000'));
    const cut = l.capture(['va', '--bpf', 'udp dst port 9000', '--snaplen', '50', '-c', '3', '-w', 'cut50.pcap']);
    expect(cut.status).toBe(0);
    const cutLengths = tshark(l.file('cut50.pcap'), ['-T', 'fields', '-e', 'frame.cap_len', '-e', 'frame.len']);
    expect(cutLengths.trimEnd().split('\n')).toEqual(Array(3).fill('50\t60'));
  });

  it('captures on "any" as Linux cooked capture and --pcapng writes pcapng', () => {
    const l = ready();
    if (!l) return;
    const result = l.capture(['any', '--filter', 'vxlan vni 43', '-c', '4', '-w', 'any.pcapng', '--pcapng']);
    expect(result.status).toBe(0);
    const file = l.file('any.pcapng');
    expect(fs.readFileSync(file).readUInt32LE(0)).toBe(0x0a0d0d0a);
    const frames = tshark(file, ['-T', 'fields', '-e', 'frame.protocols', '-e', 'vxlan.vni']).trimEnd().split('\n');
    expect(frames).toHaveLength(4);
    for (const frame of frames) expect(frame).toMatch(/^sll:ethertype:ip:udp:vxlan:\S*\t43$/);
  });

  it('--stats sums what was captured per tunnel, as `tunscope stats` does', () => {
    const l = ready();
    if (!l) return;
    const run = (json: boolean) => spawnSync('ip', ['netns', 'exec', l.nsA, process.execPath, CLI, 'capture', 'va',
      '--filter', 'vxlan', '--duration', '1', '--stats', ...(json ? ['--json'] : [])], { encoding: 'utf8', timeout: 15_000 });
    const text = run(false);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^va: [\d,]+ packets/);
    for (const row of ['vxlan 42 +│ 10\\.0\\.0\\.1 +│ 10\\.0\\.0\\.2', 'vxlan 43 +│ 10\\.0\\.0\\.2 +│ 10\\.0\\.0\\.1']) {
      expect(text.stdout).toMatch(new RegExp(row));
    }
    expect(text.stdout).not.toMatch(/untunnelled/);

    const json = run(true);
    expect(json.status).toBe(0);
    const report = JSON.parse(json.stdout) as { packets: number; tunnels: { type: string; id: number; src: string }[] };
    const matched = Number(/^(\d+) packets matched/m.exec(json.stderr)?.[1]);
    expect(report.packets).toBe(matched);
    expect(new Set(report.tunnels.map((t) => `${t.type} ${t.id} from ${t.src}`))).toEqual(new Set([
      'vxlan 42 from 10.0.0.1', 'vxlan 42 from 10.0.0.2', 'vxlan 43 from 10.0.0.1', 'vxlan 43 from 10.0.0.2',
    ]));
  });

  it('prints matching packets as `read` does, then the summary on stderr', () => {
    const l = ready();
    if (!l) return;
    const result = spawnSync('ip', ['netns', 'exec', l.nsA, process.execPath, CLI, 'capture', 'va',
      '--filter', 'vxlan vni 43 and inner icmp', '-c', '2'], { encoding: 'utf8', timeout: 15_000 });
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/VXLAN vni 43 10\.0\.0\.[12]\.\d+ > 10\.0\.0\.[12]\.4789( \[[^\]]*\])? \| IP 172\.18\.2\.[12] > 172\.18\.2\.[12]: ICMP echo (request|reply)/);
    expect(result.stderr).toMatch(/^tunscope: listening on va, link type EN10MB, kernel filter: /m);
    expect(result.stderr).toMatch(/2 packets matched the filter/);
  });

  it('as tcpdump: -i IFACE, with -nn, is capture IFACE', () => {
    const l = ready();
    if (!l) return;
    const result = spawnSync('ip', ['netns', 'exec', l.nsA, process.execPath, CLI, '-nni', 'va', '-c', '2',
      '-f', 'vxlan vni 43 and inner icmp'], { encoding: 'utf8', timeout: 15_000 });
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/VXLAN vni 43 10\.0\.0\.[12]\.\d+ > 10\.0\.0\.[12]\.4789( \[[^\]]*\])? \| IP 172\.18\.2\.[12] > 172\.18\.2\.[12]: ICMP echo (request|reply)/);
    expect(result.stderr).toMatch(/2 packets matched the filter/);
  });

  it('stamps packets in the kernel: tcpdump capturing beside it writes the same nanoseconds', async () => {
    const l = ready();
    if (!l) return;
    const filter = 'udp dst port 9000';
    const tcpdump = l.background(['tcpdump', '-i', 'va', '--immediate-mode', '--time-stamp-precision=nano',
      '-w', l.file('beside.pcap'), filter]);
    await tcpdump.listening;
    const result = l.capture(['va', '--bpf', filter, '-c', '10', '-w', 'stamped.pcap']);
    await tcpdump.stop();
    expect(result.status).toBe(0);
    // Each datagram has its own IPv4 id: the key to find it in both files.
    const stamps = (file: string) => new Map(tshark(file, ['-T', 'fields', '-e', 'ip.id', '-e', 'frame.time_epoch'])
      .trimEnd().split('\n').map((line) => line.split('\t') as [string, string]));
    const ours = stamps(l.file('stamped.pcap'));
    const theirs = stamps(l.file('beside.pcap'));
    expect(ours.size).toBe(10);
    for (const [id, time] of ours) {
      expect(time).toMatch(/\.\d{9}$/);
      expect(theirs.get(id), `ip.id ${id}`).toBe(time);
    }
  });

  it('loses nothing on Ctrl-C: packets still in the kernel\'s ring are written', async () => {
    const l = ready();
    if (!l) return;
    const capture = l.background([process.execPath, CLI, 'capture', 'va', '--bpf', 'udp dst port 9001', '-w', l.file('ctrl-c.pcap')]);
    await capture.listening;
    // 20 datagrams, then Ctrl-C at once: well within the ring's read timeout, so they are still in its open block.
    spawnSync('ip', ['netns', 'exec', l.nsA, process.execPath, '-e',
      "const s = require('dgram').createSocket('udp4'); let n = 0; const send = () => s.send(`last ${n}`, 9001, '10.0.0.2', " +
      '() => (++n < 20 ? send() : s.close())); send()']);
    expect(await capture.stop()).toBe(0);
    expect(capture.stderr()).toMatch(/^20 packets written to /m);
    const payloads = tshark(l.file('ctrl-c.pcap'), ['-T', 'fields', '-e', 'data.data']).trimEnd().split('\n');
    expect(payloads.map((hex) => Buffer.from(hex, 'hex').toString())).toEqual(Array.from({ length: 20 }, (_, i) => `last ${i}`));
  });

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`ends on ${signal} as on Ctrl-C: the summary, the file whole, exit 0`, async () => {
      const l = ready();
      if (!l) return;
      const file = l.file(`${signal}.pcap`);
      const capture = l.background([process.execPath, CLI, 'capture', 'va', '--filter', 'vxlan', '-w', file]);
      await capture.listening;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await capture.stop(signal)).toBe(0);
      const written = Number(/^(\d+) packets written to /m.exec(capture.stderr())?.[1]);
      expect(written).toBeGreaterThan(0);
      expect(capture.stderr()).toMatch(/^\d+ packets dropped by the kernel$/m);
      expect(vnisPerFrame(file)).toHaveLength(written);
    });
  }

  it('on a disk that fills: stops, prints the summary, exits 1 naming the file and its complete packets, cut to whole packets', async () => {
    const l = ready();
    if (!l) return;
    const disk = l.file('small-disk');
    fs.mkdirSync(disk);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', disk]).status).toBe(0);
    try {
      const file = path.join(disk, 'full.pcap');
      const flood = l.background(['ping', '-q', '-f', '-s', '1400', '10.0.0.2']);
      const capture = l.background([process.execPath, CLI, 'capture', 'va', '--bpf', 'icmp', '-w', file]);
      const status = await Promise.race([capture.exited, new Promise((resolve) => setTimeout(resolve, 12_000, 'still running'))]);
      await flood.stop();
      if (status === 'still running') await capture.stop();
      expect(status).toBe(1);
      expect(capture.stderr()).toMatch(/^\d+ packets received/m);
      const match = new RegExp(`^tunscope: cannot write ${file}: no space left on device; it holds (\\d+) complete packets$`, 'm')
        .exec(capture.stderr());
      expect(match, capture.stderr()).not.toBeNull();
      const complete = Number(match?.[1]);
      expect(complete).toBeGreaterThan(0);
      const check = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
      expect(check.stderr).not.toMatch(/cut short|appears to be damaged/);
      expect(check.stdout.trimEnd().split('\n')).toHaveLength(complete);
    } finally {
      spawnSync('umount', [disk]);
    }
  });

  it('a second Ctrl-C while the ring drains stops at once, and still closes the file whole', async () => {
    const l = ready();
    if (!l) return;
    const capture = l.background([process.execPath, CLI, 'capture', 'va', '--filter', 'vxlan', '-w', l.file('twice.pcap')]);
    await capture.listening;
    await new Promise((resolve) => setTimeout(resolve, 300));
    capture.child.kill('SIGINT');
    // Within the drain, but late enough to be a second signal rather than the same one pending twice.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await capture.stop()).toBe(0);
    const written = Number(/^(\d+) packets written to /m.exec(capture.stderr())?.[1]);
    expect(written).toBeGreaterThan(0);
    expect(vnisPerFrame(l.file('twice.pcap'))).toHaveLength(written);
  });

  it('puts the interface into promiscuous mode unless --no-promisc', async () => {
    const l = ready();
    if (!l) return;
    const promiscuity = () => (JSON.parse(spawnSync('ip', ['netns', 'exec', l.nsA, 'ip', '-d', '-j', 'link', 'show', 'va'],
      { encoding: 'utf8' }).stdout) as { promiscuity: number }[])[0].promiscuity;
    expect(promiscuity()).toBe(0);
    for (const [args, expected] of [[[], 1], [['--no-promisc'], 0]] as const) {
      const capture = l.background([process.execPath, CLI, 'capture', 'va', '-w', l.file('promisc.pcap'), ...args]);
      await capture.listening;
      expect(promiscuity(), args.join(' ') || 'default').toBe(expected);
      expect(await capture.stop()).toBe(0);
    }
    expect(promiscuity()).toBe(0);
  });

  it('reports the kernel\'s drops from pcap_stats when the ring overflows', async () => {
    const l = ready();
    if (!l) return;
    // A flood into a 1 MiB ring while tunscope is stopped: the kernel has to drop.
    const flood = l.background(['ping', '-q', '-f', '-s', '1400', '10.0.0.2']);
    const capture = l.background([process.execPath, CLI, 'capture', 'va', '--buffer', '1', '--bpf', 'icmp', '-w', l.file('flood.pcap')]);
    await capture.listening;
    capture.child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    capture.child.kill('SIGCONT');
    expect(await capture.stop()).toBe(0);
    await flood.stop();
    const received = Number(/^(\d+) packets received/m.exec(capture.stderr())?.[1]);
    const dropped = Number(/^(\d+) packets dropped by the kernel$/m.exec(capture.stderr())?.[1]);
    expect(dropped).toBeGreaterThan(0);
    // What was received is what was written, and tshark counts it.
    expect(tshark(l.file('flood.pcap'), ['-T', 'fields', '-e', 'frame.number']).trimEnd().split('\n')).toHaveLength(received);
  });
});

describe('tunscope capture: errors', () => {
  it('names the interfaces there are when asked for one that is not (exit 1)', () => {
    if (!requireOrSkip(haveLibpcap, 'the libpcap binding')) return;
    const result = runCli(['capture', 'no-such-if0']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/no interface named "no-such-if0"; libpcap can capture on: .*\blo\b/);
  });

  it('says how to get libpcap when the libpcap binding is not built (exit 1)', () => {
    // A copy of the built CLI and its dependencies, without src/native/build.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunscope-nopcap-'));
    try {
      fs.cpSync(path.join(PROJECT_ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
      fs.copyFileSync(path.join(PROJECT_ROOT, 'package.json'), path.join(dir, 'package.json'));
      fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
      for (const args of [['capture', 'lo'], ['interfaces']]) {
        const result = spawnSync(process.execPath, [path.join(dir, 'dist/src/cli.js'), ...args], { encoding: 'utf8' });
        expect(result.status).toBe(1);
        expect(result.stderr).toBe('tunscope: live capture needs libpcap: apt-get install libpcap-dev && npm run native\n');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows the column of a bad filter with a caret (exit 2), before opening anything', () => {
    const result = runCli(['capture', 'lo', '--filter', 'vxlan vni x']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('tunscope: bad filter: expected a number from 0 to 16777215 after "vni" (column 11)\n' +
      '  vxlan vni x\n            ^\n');
  });

  it('passes a bad --bpf on as a usage error with libpcap\'s words (exit 2)', () => {
    if (!requireOrSkip(isRoot && haveLibpcap, 'root and the libpcap binding')) return;
    const result = runCli(['capture', 'lo', '--bpf', 'udp port']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/bad --bpf filter: .*syntax error/);
  });

  it('says that capture needs root or CAP_NET_RAW when opening is not permitted (exit 1)', () => {
    if (!requireOrSkip(isRoot && haveLibpcap, 'root (to drop to an unprivileged user) and the libpcap binding')) return;
    const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all',
      process.execPath, CLI, 'capture', 'lo'], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/cannot capture on lo: permission denied/);
    expect(result.stderr).toMatch(/needs root or the CAP_NET_RAW capability/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
