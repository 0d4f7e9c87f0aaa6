// Two hosts as network namespaces, for live capture across namespaces: host 1
// and host 2 joined by a veth pair (underlay 192.168.77.2/24 and .3/24), and on
// each a Linux vxlan device vx42 (VNI 42, dstport 4789, over the veth) with
// 172.18.42.1/24 and .2/24. Host 1 also has a spare veth pair (`spare`,
// 10.9.9.1/24) for tests that take an interface away during a capture.
// Names carry a prefix unique to the test run. Needs root.

import { spawnSync } from 'node:child_process';
import { run } from './tools.js';

export interface TwoHostLab {
  ns1: string;
  ns2: string;
  /** The underlay veth of host 1 and of host 2 (each in its own namespace). */
  veth1: string;
  veth2: string;
  /** Host 1's spare veth, and its peer (both in host 1). */
  spare: string;
  sparePeer: string;
}

export function twoHostLab(prefix: string): TwoHostLab {
  return {
    ns1: `${prefix}h1`, ns2: `${prefix}h2`, veth1: `${prefix}v1`, veth2: `${prefix}v2`, spare: `${prefix}s1`, sparePeer: `${prefix}s2`,
  };
}

/** Builds the lab; if a step fails, what was built is removed before the error goes on. */
export function startTwoHostLab(lab: TwoHostLab): void {
  try {
    buildTwoHostLab(lab);
  } catch (err) {
    stopTwoHostLab(lab);
    throw err;
  }
}

function buildTwoHostLab(lab: TwoHostLab): void {
  const ip = (...args: string[]) => run('ip', args);
  const { ns1, ns2, veth1, veth2 } = lab;
  ip('netns', 'add', ns1);
  ip('netns', 'add', ns2);
  for (const ns of [ns1, ns2]) {
    // No IPv6: router solicitations would be traffic nobody asked for.
    ip('netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  ip('link', 'add', veth1, 'netns', ns1, 'type', 'veth', 'peer', 'name', veth2, 'netns', ns2);
  for (const [ns, dev, local, remote, overlay] of [
    [ns1, veth1, '192.168.77.2', '192.168.77.3', '172.18.42.1'], [ns2, veth2, '192.168.77.3', '192.168.77.2', '172.18.42.2'],
  ] as const) {
    ip('-n', ns, 'addr', 'add', `${local}/24`, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', ns, 'link', 'add', 'vx42', 'type', 'vxlan', 'id', '42', 'remote', remote, 'local', local, 'dstport', '4789', 'dev', dev);
    ip('-n', ns, 'addr', 'add', `${overlay}/24`, 'dev', 'vx42');
    ip('-n', ns, 'link', 'set', 'vx42', 'up');
  }
  ip('-n', ns1, 'link', 'add', lab.spare, 'type', 'veth', 'peer', 'name', lab.sparePeer);
  ip('-n', ns1, 'addr', 'add', '10.9.9.1/24', 'dev', lab.spare);
  ip('-n', ns1, 'link', 'set', lab.spare, 'up');
  ip('-n', ns1, 'link', 'set', lab.sparePeer, 'up');
}

/** Removes both namespaces, with their devices; quietly, as it also cleans up after a lab that failed to start. */
export function stopTwoHostLab(lab: TwoHostLab): void {
  spawnSync('ip', ['netns', 'del', lab.ns1], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'del', lab.ns2], { stdio: 'ignore' });
}
