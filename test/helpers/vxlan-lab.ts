// The lab of fixtures/make-vxlan-lab.sh, for tests of live capture: two
// network namespaces joined by a veth pair (va 10.0.0.1/24, vb 10.0.0.2/24),
// and over it a Linux vxlan device on each side for VNI 42 (172.18.1.0/24)
// and VNI 43 (172.18.2.0/24), the first namespace's address ending in .1.
// Needs root; see netnsWorks in tools.ts.

import { spawnSync } from 'node:child_process';
import { run } from './tools.js';

export function startVxlanLab(nsA: string, nsB: string): void {
  const ip = (...args: string[]) => run('ip', args);
  ip('netns', 'add', nsA);
  ip('netns', 'add', nsB);
  for (const ns of [nsA, nsB]) {
    // No IPv6: router solicitations would be traffic nobody asked for.
    ip('netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  ip('link', 'add', 'va', 'netns', nsA, 'type', 'veth', 'peer', 'name', 'vb', 'netns', nsB);
  ip('-n', nsA, 'addr', 'add', '10.0.0.1/24', 'dev', 'va');
  ip('-n', nsB, 'addr', 'add', '10.0.0.2/24', 'dev', 'vb');
  ip('-n', nsA, 'link', 'set', 'va', 'up');
  ip('-n', nsB, 'link', 'set', 'vb', 'up');
  for (const vni of [42, 43]) {
    const net = vni - 41;
    for (const [ns, dev, local, remote, host] of [[nsA, 'va', '10.0.0.1', '10.0.0.2', 1], [nsB, 'vb', '10.0.0.2', '10.0.0.1', 2]] as const) {
      ip('-n', ns, 'link', 'add', `vx${vni}`, 'type', 'vxlan', 'id', String(vni), 'dstport', '4789', 'local', local, 'remote', remote, 'dev', dev);
      ip('-n', ns, 'addr', 'add', `172.18.${net}.${host}/24`, 'dev', `vx${vni}`);
      ip('-n', ns, 'link', 'set', `vx${vni}`, 'up');
    }
  }
}

/** Removes both namespaces, with the devices in them; quietly, as it also cleans up after a lab that failed to start. */
export function stopVxlanLab(nsA: string, nsB: string): void {
  spawnSync('ip', ['netns', 'del', nsA], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'del', nsB], { stdio: 'ignore' });
}
