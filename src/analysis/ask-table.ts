// The requests CauseObserver counts (ARP, echo, SYN), each kind between two
// addresses once, in the order first seen. A SYN flood or a scan asks
// something new in nearly every packet: an echo or SYN is found by its IP
// header's address words, so a packet whose request is known, or that finds
// the table full, makes no text; the text of its addresses is made once, for
// a new entry. ARP requests (their addresses are text already), and requests
// whose header lacks an address, are found by their text.

import { parseIPv6 } from '../../decoders/address.js';
import type { IpLayer } from '../../decoders/layers.js';
import type { TunnelType } from '../../decoders/types.js';
import { ipv4Word } from './entries.js';
import { wordAt, writeAddressWords } from './packet-layers.js';
import { WordIndex } from './word-index.js';

/** Requests of one kind between two addresses and how many were answered. */
export interface AskEntry {
  kind: 'arp' | 'echo' | 'syn';
  src: string;
  dst: string;
  /** The innermost tunnel the requests travel in (type, id, outer ends), or null outside tunnels. */
  tunnelType: TunnelType | null;
  tunnelId: number | null;
  outerSrc: string;
  outerDst: string;
  /** The TCP destination port of a SYN, else -1. */
  port: number;
  asked: number;
  answered: number;
}

const KIND_CODES = { arp: 0, echo: 1, syn: 2 } as const;
/** Key words: kind, IP version, the asking end's four address words, the asked end's four, port. */
const KEY_WORDS = 11;

export function askKey(kind: string, src: string, dst: string, port: number, type: TunnelType | null, id: number | null): string {
  return `${kind}|${src}|${dst}|${port}|${type}|${id}`;
}

/**
 * The address words of text an IP header's address was written as, into
 * `key` at `at`: returns the IP version, or 0 for other text.
 */
function writeTextWords(key: Uint32Array, at: number, text: unknown): number {
  if (typeof text !== 'string') return 0;
  const word = ipv4Word(text);
  if (word >= 0) {
    key[at] = word;
    key[at + 1] = key[at + 2] = key[at + 3] = 0;
    return 4;
  }
  const bytes = text.includes(':') ? parseIPv6(text) : null;
  if (bytes === null) return 0;
  for (let k = 0; k < 4; k++) key[at + k] = wordAt(bytes, 4 * k);
  return 6;
}

export class AskTable {
  /** Every entry, in the order first seen. */
  readonly entries: AskEntry[] = [];
  private readonly byWords = new WordIndex(KEY_WORDS);
  /** The entry of each number in `byWords`. */
  private readonly wordEntries: AskEntry[] = [];
  private readonly byText = new Map<string, AskEntry>();

  /**
   * Writes the key of a request (`asking`) or answer of kind `kind` carried
   * by `ip`, whose addresses are whole in `bytes`: the asking end is the
   * source of a request and the destination of an answer.
   */
  writeIpKey(kind: 'echo' | 'syn', asking: boolean, bytes: Uint8Array, ip: IpLayer, port: number): void {
    const key = this.byWords.key;
    key[0] = KIND_CODES[kind];
    key[1] = ip.proto === 'ipv4' ? 4 : 6;
    writeAddressWords(key, 2, bytes, ip, asking ? 'src' : 'dst');
    writeAddressWords(key, 6, bytes, ip, asking ? 'dst' : 'src');
    key[10] = port >>> 0;
  }

  /** The entry of the key writeIpKey() wrote, or null. */
  findIp(): AskEntry | null {
    const n = this.byWords.find();
    return n < 0 ? null : this.wordEntries[n];
  }

  /** A new entry under the key writeIpKey() wrote, which findIp() did not find. */
  addIp(entry: AskEntry): AskEntry {
    this.wordEntries[this.byWords.findOrAdd()] = entry;
    this.entries.push(entry);
    return entry;
  }

  /** The entry of a key given as text (askKey()), or null. */
  findText(key: string): AskEntry | null {
    return this.byText.get(key) ?? null;
  }

  addText(key: string, entry: AskEntry): AskEntry {
    this.byText.set(key, entry);
    this.entries.push(entry);
    return entry;
  }

  /**
   * The entry a part's entry adds to, or null: found by the words its
   * addresses' text stands for when it is an echo or SYN between IP
   * addresses, as the packets that made it were.
   */
  findLike(e: AskEntry): AskEntry | null {
    if (this.writeEntryKey(e)) return this.findIp();
    return this.findText(this.textKeyOf(e));
  }

  /** A new entry like a part's, which findLike() did not find. */
  addLike(e: AskEntry, entry: AskEntry): AskEntry {
    if (this.writeEntryKey(e)) return this.addIp(entry);
    return this.addText(this.textKeyOf(e), entry);
  }

  private textKeyOf(e: AskEntry): string {
    const arp = e.kind === 'arp';
    return askKey(e.kind, e.src, e.dst, e.port, arp ? e.tunnelType : null, arp ? e.tunnelId : null);
  }

  private writeEntryKey(e: AskEntry): boolean {
    if (e.kind === 'arp') return false;
    const key = this.byWords.key;
    const version = writeTextWords(key, 2, e.src);
    if (version === 0 || writeTextWords(key, 6, e.dst) !== version) return false;
    key[0] = KIND_CODES[e.kind];
    key[1] = version;
    key[10] = e.port >>> 0;
    return true;
  }
}
