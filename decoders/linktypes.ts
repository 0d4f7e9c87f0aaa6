// Link-layer header types (https://www.tcpdump.org/linktypes.html) and their
// names: apart from the decoders, so that what only names a link type (the
// `listening on` line of a capture) does not load them.

export const LINKTYPE_NAMES: Record<number, string> = {
  0: 'NULL', 1: 'EN10MB', 12: 'RAW', 14: 'RAW', 101: 'RAW', 108: 'LOOP',
  113: 'LINUX_SLL', 228: 'IPV4', 229: 'IPV6', 276: 'LINUX_SLL2',
};

export function linktypeName(linktype: number): string {
  return LINKTYPE_NAMES[linktype] ?? `LINKTYPE_${linktype}`;
}

/** Link types whose frames begin with an IP header of either version. */
export const RAW_IP_LINKTYPES = new Set([12, 14, 101]);
