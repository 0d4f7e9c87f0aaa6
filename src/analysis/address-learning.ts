// The inner MAC addresses learned in each VNI, as a VTEP learns them: which
// VTEP an address sits behind, whether it moved, the IP addresses it sent
// from. A flow remembers the address its last packet came from (by its
// number in `macs`), so that most packets only add to that address's count.

import { ipLayerAddress } from '../../decoders/address.js';
import type { ArpLayer, EthLayer, IpLayer } from '../../decoders/layers.js';
import { MacEntry, ipv4Word, type TunnelEntry, type VniEntry } from './entries.js';
import type { FlowStore } from './flow-store.js';
import { MAC_TEXT_END, macText, wordAt } from './packet-layers.js';
import { WordIndex } from './word-index.js';

const IPS_PER_MAC = 16;

/**
 * The address a frame's ARP or IP layer sent from, as MacEntry.ips holds it:
 * an IPv4 address as its word, any other as its text; null when cut off.
 */
function sourceIp(bytes: Uint8Array, from: ArpLayer | IpLayer): number | string | null {
  if (from.proto === 'arp') {
    if (from.senderIp === undefined) return null;
    const word = ipv4Word(from.senderIp);
    return word < 0 ? from.senderIp : word;
  }
  // A whole IPv4 header holds its address text, or '' when decoded without detail.
  if (from.proto === 'ipv4' && from.src !== undefined) return wordAt(bytes, from.offset + 12);
  return ipLayerAddress(bytes, from, 'src') ?? null;
}

export class AddressLearning {
  macCount = 0;
  /** Packets whose source MAC found the address table full. */
  overflowMacPackets = 0;
  /** Every learned address, by the number flows remember it by. */
  private readonly macs: MacEntry[] = [];
  /** The same numbers by VNI (its learningId) and address (first two bytes, last four as a word). */
  private readonly index = new WordIndex(3);
  private vniCount = 0;

  constructor(readonly maxAddresses: number) {}

  /**
   * Counts the source MAC address of an Ethernet layer (and the IP address it
   * sent from, read from `from`, the frame's ARP or IP layer) in the tunnel's
   * VNI, for flow `f` of `store` (-1: the tunnel's flows are full).
   */
  learn(entry: TunnelEntry, store: FlowStore, f: number, bytes: Uint8Array, eth: EthLayer, from: ArpLayer | IpLayer | null): void {
    if (eth.length < MAC_TEXT_END) return;
    const s = eth.offset + 6;
    const high = (bytes[s] << 8) | bytes[s + 1];
    const low = (bytes[s + 2] << 24) | (bytes[s + 3] << 16) | (bytes[s + 4] << 8) | bytes[s + 5];
    // A flow's packets nearly always come from one address: the one its last
    // packet came from. The flow's source IP address is the same every time,
    // and the address's VTEP was compared with this tunnel's the first time:
    // nothing but the count can change.
    const known = store.c.mac[f];
    let learned = known < 0 ? null : this.macs[known];
    if (learned !== null && learned.low === low && learned.high === high) {
      learned.packets++;
      return;
    }
    const vni = entry.vni as VniEntry;
    this.writeKey(vni, high, low);
    const id = this.index.find();
    if (id >= 0) {
      learned = this.macs[id];
    } else {
      if (this.macCount >= this.maxAddresses) {
        this.overflowMacPackets++;
        return;
      }
      learned = this.add(vni, macText(bytes, eth, 6), entry.src, high, low);
    }
    store.c.mac[f] = learned.id;
    if (learned.movedTo === null && learned.vtep !== entry.src) learned.movedTo = entry.src;
    learned.packets++;
    // Once an address has its fill of IP addresses, no more are read (a scan sends from a new one each packet).
    if (from === null || learned.ips.length >= IPS_PER_MAC) return;
    const ip = sourceIp(bytes, from);
    if (ip !== null && ip !== learned.lastIp) {
      if (!learned.ips.includes(ip)) learned.ips.push(ip);
      learned.lastIp = ip;
    }
  }

  /** A part's learned MAC address into this aggregator's VNI; false when the address table is full. */
  absorb(vni: VniEntry, theirs: MacEntry): boolean {
    this.writeKey(vni, theirs.high, theirs.low);
    const id = this.index.find();
    let mine = id >= 0 ? this.macs[id] : null;
    if (mine === null) {
      if (this.macCount >= this.maxAddresses) return false;
      mine = this.add(vni, theirs.mac, theirs.vtep, theirs.high, theirs.low);
      mine.movedTo = theirs.movedTo;
    } else if (mine.movedTo === null) {
      // The first VTEP other than the first one: the part's first, else the first after it.
      mine.movedTo = theirs.vtep !== mine.vtep ? theirs.vtep : theirs.movedTo;
    }
    mine.packets += theirs.packets;
    for (const ip of theirs.ips) {
      if (mine.ips.length >= IPS_PER_MAC) break;
      if (!mine.ips.includes(ip)) mine.ips.push(ip);
    }
    return true;
  }

  /** The index's key of an address in a VNI. */
  private writeKey(vni: VniEntry, high: number, low: number): void {
    if (vni.learningId < 0) vni.learningId = this.vniCount++;
    const key = this.index.key;
    key[0] = vni.learningId;
    key[1] = high;
    key[2] = low;
  }

  /** A new address, whose key writeKey() wrote and the index does not have. */
  private add(vni: VniEntry, mac: string, vtep: string, high: number, low: number): MacEntry {
    const learned = new MacEntry(mac, vtep, high, low);
    learned.id = this.index.findOrAdd();
    this.macs.push(learned);
    vni.macs.push(learned);
    this.macCount++;
    return learned;
  }
}
