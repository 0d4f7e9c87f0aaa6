// The tunnel rows of an aggregator: found by the carrier's address words
// when IPv4 carries the tunnel, else (and the first time) by address text;
// each tunnel with an id also in its VNI. Rows past the cap share one
// overflow row.

import { ipLayerAddress } from '../../decoders/address.js';
import type { IpLayer } from '../../decoders/layers.js';
import type { Tunnel, TunnelType } from '../../decoders/types.js';
import { TunnelEntry, VniEntry, ipv4TunnelBucket } from './entries.js';
import { wordAt } from './packet-layers.js';

const TUNNEL_TYPE_CODES: Record<TunnelType, number> = {
  vxlan: 0, 'vxlan-gpe': 1, geneve: 2, gre: 3, gretap: 4, erspan: 5, ipip: 6, sit: 7, ip4in6: 8, ip6in6: 9,
};
/** Above every 32-bit id: the key part for tunnels without one. */
const NO_ID = 0x100000000;

function tunnelKey(type: TunnelType, id: number | null): number {
  return TUNNEL_TYPE_CODES[type] * 2 * NO_ID + (id === null ? NO_ID : id);
}

/** Creation orders, shared by an aggregator's tunnel and flow rows. */
export class Orders {
  value = 0;
  next(): number {
    return this.value++;
  }
}

export class TunnelTable {
  readonly tunnels: TunnelEntry[] = [];
  none: TunnelEntry | null = null;
  overflowTunnel: TunnelEntry | null = null;
  readonly vnis = new Map<number, VniEntry>();
  /** Every row by its tableId. */
  readonly byTableId: TunnelEntry[] = [];
  private readonly index = new Map<string, Map<string, Map<number, TunnelEntry>>>();
  /** Tunnels carried by IPv4, by ipv4TunnelBucket(): each also in index. */
  private readonly tunnels4 = new Map<number, TunnelEntry>();

  constructor(readonly maxTunnels: number, private readonly orders: Orders) {}

  /** The untunnelled row, made the first time. */
  noneRow(): TunnelEntry {
    return this.none ?? (this.none = this.newTunnel('none', '', '', null));
  }

  /**
   * The row of a tunnel; `carrier` is the IP layer that carries it, the header
   * whose addresses the engine gave the tunnel (as '' without detail).
   */
  entry(tunnel: Tunnel, bytes: Uint8Array, carrier: IpLayer | null): TunnelEntry {
    let src4 = -1;
    let dst4 = -1;
    let bucket = 0;
    if (carrier !== null && carrier.proto === 'ipv4') {
      src4 = wordAt(bytes, carrier.offset + 12);
      dst4 = wordAt(bytes, carrier.offset + 16);
      bucket = ipv4TunnelBucket(src4, dst4, tunnel.id);
      let entry = this.tunnels4.get(bucket) ?? null;
      while (entry !== null) {
        if (entry.src4 === src4 && entry.dst4 === dst4 && entry.id === tunnel.id && entry.type === tunnel.type) return entry;
        entry = entry.nextInBucket;
      }
    }
    const src = carrier === null ? tunnel.src : ipLayerAddress(bytes, carrier, 'src') as string;
    const dst = carrier === null ? tunnel.dst : ipLayerAddress(bytes, carrier, 'dst') as string;
    const found = this.index.get(src)?.get(dst)?.get(tunnelKey(tunnel.type, tunnel.id));
    if (found !== undefined) {
      // A row first found through a header that did not name it, now through one that does.
      if (src4 >= 0 && found.src4 < 0) this.addIpv4(found, src4, dst4, bucket);
      return found;
    }
    if (this.tunnels.length >= this.maxTunnels) {
      return this.overflowTunnel ?? (this.overflowTunnel = this.newTunnel('overflow', '', '', null));
    }
    const entry = this.add(tunnel.type, src, dst, tunnel.id);
    if (src4 >= 0) this.addIpv4(entry, src4, dst4, bucket);
    return entry;
  }

  /** The tunnel row with exactly this type, direction and id, if one was seen. */
  find(type: TunnelType, src: string, dst: string, id: number | null): TunnelEntry | null {
    return this.index.get(src)?.get(dst)?.get(tunnelKey(type, id)) ?? null;
  }

  /** A part's row (copied from a worker) as a row of this table, made when new; null when the table is full. */
  adopt(theirs: TunnelEntry): TunnelEntry | null {
    const type = theirs.type as TunnelType;
    const found = this.find(type, theirs.src, theirs.dst, theirs.id);
    if (found === null && this.tunnels.length >= this.maxTunnels) return null;
    const mine = found ?? this.add(type, theirs.src, theirs.dst, theirs.id);
    if (theirs.src4 >= 0 && mine.src4 < 0) {
      this.addIpv4(mine, theirs.src4, theirs.dst4, ipv4TunnelBucket(theirs.src4, theirs.dst4, theirs.id));
    }
    return mine;
  }

  /**
   * True when a tunnel of the same type runs the other way between the same
   * endpoints: with the same VNI for VXLAN and Geneve, with any key for GRE,
   * whose two directions often use different keys (ikey and okey).
   */
  hasReverse(entry: TunnelEntry): boolean {
    const back = this.index.get(entry.dst)?.get(entry.src);
    if (back === undefined) return false;
    const sameId = entry.type === 'vxlan' || entry.type === 'vxlan-gpe' || entry.type === 'geneve';
    for (const other of back.values()) {
      if (other.type === entry.type && (!sameId || other.id === entry.id)) return true;
    }
    return false;
  }

  private newTunnel(type: TunnelEntry['type'], src: string, dst: string, id: number | null): TunnelEntry {
    const entry = new TunnelEntry(type, src, dst, id, this.orders.next());
    entry.tableId = this.byTableId.length;
    this.byTableId.push(entry);
    return entry;
  }

  /** A new tunnel row, in the index by addresses and in its VNI. */
  private add(type: TunnelType, src: string, dst: string, id: number | null): TunnelEntry {
    const entry = this.newTunnel(type, src, dst, id);
    this.tunnels.push(entry);
    let srcMap = this.index.get(src);
    if (srcMap === undefined) {
      srcMap = new Map();
      this.index.set(src, srcMap);
    }
    let dstMap = srcMap.get(dst);
    if (dstMap === undefined) {
      dstMap = new Map();
      srcMap.set(dst, dstMap);
    }
    dstMap.set(tunnelKey(type, id), entry);
    if (id !== null) {
      const vniKey = TUNNEL_TYPE_CODES[type] * NO_ID + id;
      let vni = this.vnis.get(vniKey);
      if (vni === undefined) {
        vni = new VniEntry(type, id);
        this.vnis.set(vniKey, vni);
      }
      vni.tunnels.push(entry);
      entry.vni = vni;
    }
    return entry;
  }

  private addIpv4(entry: TunnelEntry, src4: number, dst4: number, bucket: number): void {
    entry.src4 = src4;
    entry.dst4 = dst4;
    entry.nextInBucket = this.tunnels4.get(bucket) ?? null;
    this.tunnels4.set(bucket, entry);
  }
}
