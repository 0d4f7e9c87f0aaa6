// Bad --metrics and --ipfix values, a port in use, and a collector that is
// down: one line on stderr and a documented exit code, or a capture that goes
// on with one warning and its dropped datagrams counted.

import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { FIXTURES, isRoot, liveCaptureAvailable, requireOrSkip } from '../helpers/tools.js';

const FILE = path.join(FIXTURES, 'vxlan-lab.pcap');

/** A UDP port with nobody on it: bound, then closed. */
async function deadUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

describe('bad HOST:PORT', () => {
  for (const [args, pattern] of [
    [['capture', 'lo', '--metrics', 'localhost'], /^tunscope: --metrics "localhost": not HOST:PORT; expected HOST:PORT/],
    [['capture', 'lo', '--metrics', '127.0.0.1:70000'], /^tunscope: --metrics "127.0.0.1:70000": the port is not from 1 to 65535/],
    [['capture', 'lo', '--ipfix', '999.1.1.1:4739'], /^tunscope: --ipfix "999.1.1.1:4739": not an IPv4 address/],
    [['stats', FILE, '--ipfix', 'nowhere'], /^tunscope: --ipfix "nowhere": not HOST:PORT/],
    [['capture', 'lo', '--interval', '1'], /^tunscope: --interval prints stats objects: give --json too/],
  ] as const) {
    it(`${args.join(' ')}: one line, exit 2`, () => {
      const result = runCli([...args]);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(pattern);
      expect(result.stderr.split('\n')).toHaveLength(2);
    });
  }
});

describe('a port in use', () => {
  it('capture --metrics on it: one line, exit 1, before any capture starts', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      // Run without blocking this process: the server here must stay able to hold its port.
      const child = spawn(process.execPath, [CLI, 'capture', 'lo', '--metrics', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(stderr).toBe(`tunscope: --metrics 127.0.0.1:${port}: the address is in use\n`);
    } finally {
      server.close();
    }
  });
});

describe('a collector that is down', () => {
  it('stats --ipfix: the report still printed, one warning, the dropped datagrams counted', async () => {
    const port = await deadUdpPort();
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'stats', FILE, '--ipfix', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/vxlan/);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.filter((l) => /warning: IPFIX collector/.test(l))).toEqual([
      `tunscope: warning: IPFIX collector 127.0.0.1:${port}: ECONNREFUSED; capture goes on, datagrams are dropped and counted`,
    ]);
    const summary = /^(\d+) IPFIX flow records? exported to \S+ in (\d+) datagrams?, (\d+) dropped/.exec(lines.at(-1)!);
    expect(summary, result.stderr).not.toBeNull();
    // Templates and data: two datagrams at least; the kernel reports the refusals it has had by the end.
    expect(Number(summary![1])).toBeGreaterThan(0);
    expect(Number(summary![2]) + Number(summary![3])).toBeGreaterThanOrEqual(2);
    expect(Number(summary![3])).toBeGreaterThanOrEqual(1);
  });

  it('capture --ipfix on lo: goes on to its end (exit 0), one warning, dropped datagrams counted', async () => {
    if (!requireOrSkip(isRoot, 'root (for packet sockets)')) return;
    if (!requireOrSkip(liveCaptureAvailable(), 'the libpcap binding')) return;
    const port = await deadUdpPort();
    const target = await deadUdpPort();
    const child = spawn(process.execPath, [CLI, 'capture', 'lo', '-f', `udp port ${target}`, '--duration', '4', '--ipfix', `127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const wait = setInterval(() => {
        if (/listening on/.test(stderr)) resolve();
        if (child.exitCode !== null) reject(new Error(stderr));
      }, 50);
      void exited.then(() => clearInterval(wait));
      setTimeout(() => clearInterval(wait), 20_000);
    });
    const socket = dgram.createSocket('udp4');
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => socket.send('flow', target, '127.0.0.1', () => resolve()));
    socket.close();
    expect(await exited).toBe(0);
    expect(stderr.match(/warning: IPFIX collector/g)).toHaveLength(1);
    expect(stderr).toMatch(/5 packets matched the filter/);
    expect(stderr).toMatch(/IPFIX flow records? exported to \S+ in \d+ datagrams?, [1-9]\d* dropped/);
  }, 60_000);
});
