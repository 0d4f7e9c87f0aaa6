// The next-protocol keys most layers name, made once instead of once per
// layer of every packet. The engine only reads a NextProtocol, so one object
// serves every packet; nothing may change it.

import type { NextProtocol } from './types.js';

const IPPROTO: readonly NextProtocol[] = Array.from({ length: 256 }, (_, key) => ({ table: 'ipproto', key }));

/** IPv4 protocol or IPv6 next header `protocol` (0-255) in the ipproto table. */
export function ipprotoNext(protocol: number): NextProtocol {
  return IPPROTO[protocol];
}

const IPV4_TYPE: NextProtocol = { table: 'ethertype', key: 0x0800 };
const IPV6_TYPE: NextProtocol = { table: 'ethertype', key: 0x86dd };

/** An ethertype in the ethertype table: IPv4 and IPv6, nearly every frame's, are shared. */
export function ethertypeNext(type: number): NextProtocol {
  if (type === 0x0800) return IPV4_TYPE;
  if (type === 0x86dd) return IPV6_TYPE;
  return { table: 'ethertype', key: type };
}

/** Ethernet, what VXLAN and ERSPAN always carry. */
export const ETHERNET_NEXT: NextProtocol = { proto: 'eth' };
