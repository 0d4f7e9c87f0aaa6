// How tunnels are named in tables and findings: "vxlan 42", "gre key 7",
// "erspan session 100", "ipip".

import type { TunnelStats } from './report.js';

const ID_WORDS: Partial<Record<TunnelStats['type'], string>> = {
  gre: 'key', gretap: 'key', erspan: 'session',
};

export function tunnelName(type: TunnelStats['type'], id: number | null): string {
  if (type === 'none') return 'untunnelled';
  if (type === 'overflow') return 'other tunnels';
  if (id === null) return type;
  const word = ID_WORDS[type];
  return word === undefined ? `${type} ${id}` : `${type} ${word} ${id}`;
}

/** A tunnel direction as findings name it: "vxlan 42 10.0.0.1 → 10.0.0.2". */
export function tunnelTitle(tunnel: Pick<TunnelStats, 'type' | 'id' | 'src' | 'dst'>): string {
  if (tunnel.type === 'none') return 'untunnelled traffic';
  if (tunnel.type === 'overflow') return 'other tunnels (beyond the table cap)';
  return `${tunnelName(tunnel.type, tunnel.id)} ${tunnel.src} → ${tunnel.dst}`;
}

/** "VXLAN over IPv4", for the overhead a finding subtracts. */
export function encapsulationName(type: TunnelStats['type'], outerIpVersion: number): string {
  const name = type === 'none' || type === 'overflow' ? 'tunnel' : type.toUpperCase();
  return outerIpVersion === 0 ? name : `${name} over IPv${outerIpVersion}`;
}
