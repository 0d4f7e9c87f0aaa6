// `tunscope interfaces` against what iproute2 (`ip -j addr show`) says about
// the same interfaces.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { liveCaptureAvailable, hasCommand, requireOrSkip } from '../helpers/tools.js';

interface IpLink {
  ifname: string;
  flags: string[];
  mtu: number;
  link_type: string;
  addr_info: { local: string; prefixlen: number }[];
}

interface Listed {
  name: string;
  flags: string[];
  mtu: number | null;
  type: string | null;
  addresses: { addr: string; prefixLength: number | null }[];
}

describe('tunscope interfaces', () => {
  it('lists every interface iproute2 knows, with its state, MTU, type and addresses', () => {
    if (!requireOrSkip(liveCaptureAvailable() && hasCommand('ip'), 'the libpcap binding and iproute2')) return;
    const result = runCli(['interfaces', '--json']);
    expect(result.status).toBe(0);
    const listed = new Map((JSON.parse(result.stdout) as Listed[]).map((i) => [i.name, i]));
    const links = JSON.parse(spawnSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' }).stdout) as IpLink[];
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      const ours = listed.get(link.ifname);
      expect(ours, link.ifname).toBeDefined();
      expect(ours!.mtu).toBe(link.mtu);
      expect(ours!.type).toBe(link.link_type);
      expect(ours!.flags.includes('up')).toBe(link.flags.includes('UP'));
      expect(ours!.flags.includes('running')).toBe(link.flags.includes('LOWER_UP'));
      expect(ours!.flags.includes('loopback')).toBe(link.flags.includes('LOOPBACK'));
      expect(ours!.addresses.map((a) => `${a.addr}/${a.prefixLength}`).sort())
        .toEqual(link.addr_info.map((a) => `${a.local}/${a.prefixlen}`).sort());
    }
    // libpcap's pseudo-device for all interfaces (Linux cooked capture): no
    // sysfs entry, so its flags are libpcap's, as `tcpdump -D` prints them.
    expect(listed.get('any')).toMatchObject({ flags: ['up', 'running'], addresses: [] });
  });

  it('gives the devices outside sysfs (any, nflog, ...) the flags libpcap gives them, as `tcpdump -D` prints them', () => {
    if (!requireOrSkip(liveCaptureAvailable() && hasCommand('tcpdump'), 'the libpcap binding and tcpdump')) return;
    const listed = new Map((JSON.parse(runCli(['interfaces', '--json']).stdout) as Listed[]).map((i) => [i.name, i]));
    // "2.any (Pseudo-device that captures on all interfaces) [Up, Running]"
    const lines = spawnSync('tcpdump', ['-D'], { encoding: 'utf8' }).stdout.trimEnd().split('\n');
    let compared = 0;
    for (const line of lines) {
      const m = /^\d+\.(\S+) .*\[([^\]]*)\]$/.exec(line);
      expect(m, line).not.toBeNull();
      const [, name, flags] = m!;
      if (fs.existsSync(`/sys/class/net/${name}`)) continue;
      const theirs = flags.split(', ').map((f) => f.toLowerCase()).filter((f) => f !== 'none');
      expect(listed.get(name)?.flags, name).toEqual(theirs);
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('prints one line per interface: name, flags, type, MTU, addresses', () => {
    if (!requireOrSkip(liveCaptureAvailable(), 'the libpcap binding')) return;
    const result = runCli(['interfaces']);
    expect(result.status).toBe(0);
    // A capture running at the same time (another test's, on lo) puts it in promiscuous mode.
    expect(result.stdout).toMatch(/^lo +up,running,loopback(,promisc)? {2}loopback {2}mtu \d+ {2}127\.0\.0\.1\/8(  ::1\/128)?$/m);
    expect(result.stdout).toMatch(/^any +up,running {2}\(Pseudo-device that captures on all interfaces\)$/m);
  });
});
