// `tunscope interfaces` against what iproute2 (`ip -j addr show`) says about
// the same interfaces.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { capBindingLoads, hasCommand, requireOrSkip } from '../helpers/tools.js';

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
    if (!requireOrSkip(capBindingLoads() && hasCommand('ip'), 'the cap binding (libpcap) and iproute2')) return;
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
    // libpcap's pseudo-device for all interfaces (Linux cooked capture).
    expect(listed.get('any')).toMatchObject({ flags: [], addresses: [] });
  });

  it('prints one line per interface: name, flags, type, MTU, addresses', () => {
    if (!requireOrSkip(capBindingLoads(), 'the cap binding (libpcap)')) return;
    const result = runCli(['interfaces']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^lo +up,running,loopback {2}loopback {2}mtu \d+ {2}127\.0\.0\.1\/8(  ::1\/128)?$/m);
    expect(result.stdout).toMatch(/^any +\(Pseudo-device that captures on all interfaces\)$/m);
  });
});
