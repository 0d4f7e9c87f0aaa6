// Which tunnel the first fragment of an outer packet belonged to, for its
// later fragments, which carry no tunnel header. Fragments are matched on
// source, destination and identification (RFC 791 section 3.2, RFC 8200
// section 4.5). The number key holds the identification and part of the
// source; the addresses are compared in full.

import { ipLayerAddress } from '../../decoders/address.js';
import type { IpLayer } from '../../decoders/layers.js';
import type { TunnelEntry } from './entries.js';
import { ipv6FragmentHeader, wordAt } from './packet-layers.js';

/** Fragment owners remembered at once; the table is emptied when it fills. */
const MAX_FRAGMENT_OWNERS = 1 << 16;

export interface FragmentOwner {
  tunnel: TunnelEntry;
  src: string;
  dst: string;
}

function fragmentKey(bytes: Uint8Array, ip: IpLayer): number {
  // Only fragments come here: their Identification was decoded.
  if (ip.proto === 'ipv4') return wordAt(bytes, ip.offset + 12) * 0x10000 + (ip.id ?? 0);
  const id = ipv6FragmentHeader(ip)?.id ?? 0;
  const s = ip.offset + 22;
  return id * 0x10000 + ((bytes[s] << 8) | bytes[s + 1]);
}

export class FragmentOwners {
  readonly owners4 = new Map<number, FragmentOwner>();
  readonly owners6 = new Map<number, FragmentOwner>();
  /** How often a table was emptied for being full. */
  resets = 0;

  remember(bytes: Uint8Array, ip: IpLayer, tunnel: TunnelEntry): void {
    const owners = ip.proto === 'ipv4' ? this.owners4 : this.owners6;
    if (owners.size >= MAX_FRAGMENT_OWNERS) {
      owners.clear();
      this.resets++;
    }
    owners.set(fragmentKey(bytes, ip), {
      tunnel, src: ipLayerAddress(bytes, ip, 'src') as string, dst: ipLayerAddress(bytes, ip, 'dst') as string,
    });
  }

  /** Whether a first fragment left an owner under this fragment's key, whatever its addresses. */
  keyed(bytes: Uint8Array, ip: IpLayer): boolean {
    return (ip.proto === 'ipv4' ? this.owners4 : this.owners6).has(fragmentKey(bytes, ip));
  }

  ownerOf(bytes: Uint8Array, ip: IpLayer): TunnelEntry | null {
    const owners = ip.proto === 'ipv4' ? this.owners4 : this.owners6;
    if (owners.size === 0) return null;
    const owner = owners.get(fragmentKey(bytes, ip));
    if (owner === undefined) return null;
    if (owner.src !== ipLayerAddress(bytes, ip, 'src') || owner.dst !== ipLayerAddress(bytes, ip, 'dst')) return null;
    return owner.tunnel;
  }

  /**
   * A part's owners after this table's, as one reading would have left them,
   * their tunnels mapped to this aggregator's rows; false when the table would
   * have been emptied.
   */
  absorb(owners4: Map<number, FragmentOwner>, owners6: Map<number, FragmentOwner>, rows: Map<TunnelEntry, TunnelEntry>): boolean {
    for (const [owners, theirs] of [[this.owners4, owners4], [this.owners6, owners6]]) {
      for (const [key, owner] of theirs) {
        if (!owners.has(key) && owners.size >= MAX_FRAGMENT_OWNERS) return false;
        owners.set(key, { tunnel: rows.get(owner.tunnel) as TunnelEntry, src: owner.src, dst: owner.dst });
      }
    }
    return true;
  }
}
