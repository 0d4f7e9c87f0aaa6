// The kernel prefilter of live capture: a libpcap filter (pcap-filter(7))
// derived from a tunscope filter, so the kernel drops what cannot match
// before it is copied to user space.
//
// libpcap sees only the outermost headers, so a prefilter never decides: it
// lets through every packet the filter could match (a superset), and the whole
// filter is evaluated on each decoded packet. A packet either carries no
// tunnel, and then only its outer headers count, or it does, and then its
// outermost tunnel shows in the outer headers. The prefilter is the union of
// what the filter can match in either case:
//
//   without a tunnel   outer and unscoped terms are their outer headers
//                      (`host 10.0.0.1`, `tcp`, `port 443`); tunnel and
//                      inner terms match nothing
//   with a tunnel      outer terms are their outer headers, `outer vxlan`
//                      is UDP 4789 or 8472 (plus decode-as ports) and
//                      `outer vxlan vni 42` checks the VNI too; an unscoped
//                      or inner term may be inside, so only "some tunnel" is
//                      known: UDP to a VXLAN, VXLAN-GPE or Geneve port, or
//                      IPv4/IPv6 protocol 47 (GRE, gretap, ERSPAN), 4 or 41
//   either way         `not X` lets everything through (the complement of a
//                      superset is not one), as do vlan, bad-cksum,
//                      offload-cksum and malformed: only the decoder can tell
//   always             the frame's length (`len`, `greater`, `less`) is the
//                      kernel's `len`, whatever the frame carries
//
// So `vxlan` is "any tunnel": the VXLAN a filter asks for may travel inside
// GRE or Geneve. libpcap does not follow IPv6 extension headers to a tunnel
// header, and checks an outer VNI over IPv4 only (it has no `udp[]` over IPv6).

import { formatIPv4, formatIPv6, formatMac } from '../../decoders/address.js';
import { Registry, type DecodeAs } from '../../decoders/registry.js';
import type { ProtoName, TunnelType } from '../../decoders/types.js';
import type { FilterNode, Primitive } from './parse.js';

type Bpf = { op: 'atom'; text: string } | { op: 'and' | 'or'; args: Bpf[] };

/** A prefilter; null for "every packet" (no prefilter), NEVER for "no packet". */
type Prefilter = Bpf | null | typeof NEVER;

const EVERY = null;
const NEVER = 'never';

export interface PrefilterOptions {
  /** The --decode-as entries in force: their UDP ports are tunnel ports too. */
  decodeAs?: DecodeAs[];
  /**
   * In-packet VLAN tags to look through (Ethernet only). Linux moves the
   * outermost tag of a received frame into metadata, where `udp port 4789`
   * already sees through it; each further tag needs a libpcap `vlan`.
   */
  vlanTags?: number;
  /** The link is Ethernet: libpcap refuses `ether host` on any other link (Linux cooked, raw IP). */
  ethernet?: boolean;
}

const UDP_TUNNELS: Partial<Record<TunnelType, ProtoName>> = {
  vxlan: 'vxlan', 'vxlan-gpe': 'vxlan-gpe', geneve: 'geneve',
};

const PCAP_PROTO: Record<Extract<Primitive, { kind: 'proto' }>['proto'], string> = {
  tcp: 'tcp', udp: 'udp', icmp: 'icmp', icmpv6: 'icmp6', arp: 'arp', rarp: 'rarp', ipv4: 'ip', ipv6: 'ip6',
};

/** Decode-as entries whose effect on the outer headers the prefilter can follow: new UDP/TCP tunnel ports. */
function followsDecodeAs(entry: DecodeAs): boolean {
  return (entry.table === 'udp' || entry.table === 'tcp') && Object.values(UDP_TUNNELS).includes(entry.proto);
}

function atom(text: string): Bpf {
  return { op: 'atom', text };
}

/**
 * IPv6 packets whose first next header is an extension header (RFC 8200
 * section 4: hop-by-hop 0, routing 43, fragment 44, destination options 60).
 * libpcap reads ports only right after the fixed header, and `ip6 proto`
 * there or after a fragment header; the evaluator follows the whole chain.
 */
const IPV6_EXTENSION_FIRST: Bpf = {
  op: 'or', args: [0, 43, 44, 60].map((n) => atom(`ip6[6] = ${n}`)),
};

function render(b: Bpf): string {
  if (b.op === 'atom') return b.text;
  const other = b.op === 'and' ? 'or' : 'and';
  return b.args.map((a) => (a.op === other ? `(${render(a)})` : render(a))).join(` ${b.op} `);
}

function disjuncts(b: Bpf): Bpf[] {
  return b.op === 'or' ? b.args : [b];
}

/** a ⇒ b, recognised from the form of both (sound, not complete: enough to drop repeated terms). */
function implies(a: Bpf, b: Bpf): boolean {
  if (b.op === 'and') return b.args.every((c) => implies(a, c));
  if (a.op === 'or') return a.args.every((d) => implies(d, b));
  if (b.op === 'or' && b.args.some((d) => implies(a, d))) return true;
  if (a.op === 'and') return a.args.some((c) => implies(c, b));
  return a.op === 'atom' && b.op === 'atom' && a.text === b.text;
}

function allOf(parts: Prefilter[]): Prefilter {
  let kept: Bpf[] = [];
  for (const part of parts) {
    if (part === NEVER) return NEVER;
    if (part === EVERY) continue;
    for (const p of part.op === 'and' ? part.args : [part]) {
      if (kept.length > 0 && implies({ op: 'and', args: kept }, p)) continue;
      kept = kept.filter((k) => !implies(p, k));
      kept.push(p);
    }
  }
  if (kept.length === 0) return EVERY;
  return kept.length === 1 ? kept[0] : { op: 'and', args: kept };
}

function anyOf(parts: Prefilter[]): Prefilter {
  let kept: Bpf[] = [];
  for (const part of parts) {
    if (part === EVERY) return EVERY;
    if (part === NEVER) continue;
    for (const p of disjuncts(part)) {
      if (kept.length > 0 && implies(p, { op: 'or', args: kept })) continue;
      kept = kept.filter((k) => !implies(k, p));
      kept.push(p);
    }
  }
  if (kept.length === 0) return NEVER;
  return kept.length === 1 ? kept[0] : { op: 'or', args: kept };
}

class PrefilterBuilder {
  private readonly registry: Registry;
  private readonly anyTunnelSignature: Prefilter;

  constructor(decodeAs: DecodeAs[], private readonly ethernet: boolean) {
    this.registry = new Registry(decodeAs);
    const types = [...Object.keys(UDP_TUNNELS), 'gre', 'ipip', 'sit', 'ip4in6', 'ip6in6'] as TunnelType[];
    this.anyTunnelSignature = anyOf(types.map((type) => this.tunnelSignature(type, null)));
  }

  /** The outer headers of a tunnel of this type as the outermost one. */
  private tunnelSignature(type: TunnelType | 'tunnel', id: number | null): Prefilter {
    if (type === 'tunnel') return this.anyTunnelSignature;
    const headerProto = UDP_TUNNELS[type];
    if (headerProto !== undefined) {
      const udpPorts = this.registry.keysOf('udp', headerProto);
      const tcpPorts = this.registry.keysOf('tcp', headerProto);
      const ports = anyOf([
        ...udpPorts.map((port) => atom(`udp port ${port}`)),
        ...tcpPorts.map((port) => atom(`tcp port ${port}`)),
      ]);
      if (ports === NEVER || id === null || tcpPorts.length > 0) return ports;
      // VXLAN, VXLAN-GPE and Geneve all carry the VNI in bytes 4-6 of their
      // 8-byte header (RFC 7348 section 5, RFC 8926 section 3.4), after 8 bytes of UDP.
      return allOf([ports, anyOf([atom('ip6'), atom(`udp[12:4] >> 8 = ${id}`)])]);
    }
    if (type === 'gre' || type === 'gretap' || type === 'erspan') {
      return anyOf(this.registry.keysOf('ipproto', 'gre').flatMap((p) => [atom(`ip proto ${p}`), atom(`ip6 proto ${p}`)]));
    }
    const carrier = type === 'ipip' || type === 'sit' ? 'ip' : 'ip6';
    const carried: ProtoName = type === 'ipip' || type === 'ip4in6' ? 'ipv4' : 'ipv6';
    return anyOf(this.registry.keysOf('ipproto', carried).map((p) => atom(`${carrier} proto ${p}`)));
  }

  private outerSignature(prim: Primitive): Prefilter {
    const dir = 'dir' in prim && prim.dir !== 'either' ? `${prim.dir} ` : '';
    switch (prim.kind) {
      case 'tunnel':
        return this.tunnelSignature(prim.tunnel, prim.id);
      case 'proto':
        // libpcap's tcp, udp and icmp6 look at the next header right after the fixed IPv6 header.
        if (prim.proto === 'tcp' || prim.proto === 'udp' || prim.proto === 'icmpv6') {
          return anyOf([atom(PCAP_PROTO[prim.proto]), IPV6_EXTENSION_FIRST]);
        }
        return atom(PCAP_PROTO[prim.proto]);
      case 'host':
        return atom(`${dir}host ${prim.address}`);
      case 'net': {
        // libpcap refuses a network with host bits set; the evaluator ignores them.
        const masked = new Uint8Array(prim.prefix.length);
        for (let bit = 0; bit < prim.bits; bit++) masked[bit >> 3] |= prim.prefix[bit >> 3] & (0x80 >> (bit & 7));
        const text = prim.version === 4 ? formatIPv4(masked, 0) : formatIPv6(masked, 0);
        return atom(`${dir}net ${text}/${prim.bits}`);
      }
      case 'port':
        return anyOf([atom(`${dir}port ${prim.port}`), IPV6_EXTENSION_FIRST]);
      case 'portrange':
        return anyOf([atom(`${dir}portrange ${prim.low}-${prim.high}`), IPV6_EXTENSION_FIRST]);
      case 'ether':
        if (!this.ethernet) return EVERY;
        return atom(`ether ${dir}host ${formatMac(prim.mac, 0)}`);
      case 'ipproto': {
        const v6 = anyOf([atom(`ip6 proto ${prim.protocol}`), IPV6_EXTENSION_FIRST]);
        if (prim.version === 4) return atom(`ip proto ${prim.protocol}`);
        return prim.version === 6 ? v6 : anyOf([atom(`ip proto ${prim.protocol}`), v6]);
      }
      case 'len':
        return atom(`len ${prim.op === '==' ? '=' : prim.op} ${prim.length}`);
      case 'frag':
        // IPv4: MF set or a fragment offset. IPv6: the fragment header may follow other extension headers.
        return anyOf([atom('(ip[6:2] & 0x3fff != 0)'), atom('ip6')]);
      default:
        return EVERY;
    }
  }

  /** What the filter can match among packets without a tunnel, or with one (and then, in its outer headers). */
  private deriveFor(node: FilterNode, tunnelled: boolean): Prefilter {
    switch (node.op) {
      case 'and':
        return allOf(node.args.map((arg) => this.deriveFor(arg, tunnelled)));
      case 'or':
        return anyOf(node.args.map((arg) => this.deriveFor(arg, tunnelled)));
      case 'not':
        return EVERY;
      case 'prim': {
        const { scope, prim } = node;
        // The frame's length is the same whatever it carries.
        if (prim.kind === 'len') return this.outerSignature(prim);
        if (!tunnelled) return prim.kind === 'tunnel' || scope === 'inner' ? NEVER : this.outerSignature(prim);
        return scope === 'outer' ? this.outerSignature(prim) : EVERY;
      }
    }
  }

  derive(filter: FilterNode): Prefilter {
    const tunnelled = this.deriveFor(filter, true);
    // (a or b) and tunnel, as (a and tunnel) or (b and tunnel): lets `outer tcp or outer vxlan` come out as just that.
    const alternatives = tunnelled !== EVERY && tunnelled !== NEVER && tunnelled.op === 'or' ? tunnelled.args : [tunnelled];
    return anyOf([
      this.deriveFor(filter, false),
      ...alternatives.map((alternative) => allOf([alternative, this.anyTunnelSignature])),
    ]);
  }
}

/** Repeat the prefilter behind each in-packet VLAN tag: libpcap's `vlan` moves every later offset by 4. */
function throughVlanTags(text: string, compound: boolean, tags: number): string {
  if (tags === 0) return text;
  const behindTag = throughVlanTags(text, compound, tags - 1);
  const wrapped = compound || tags > 1 ? `(${behindTag})` : behindTag;
  return `${compound ? `(${text})` : text} or (vlan and ${wrapped})`;
}

/**
 * The libpcap filter that lets through every packet `filter` could match, or
 * "" when the kernel cannot narrow it down (no prefilter).
 */
export function derivePrefilter(filter: FilterNode | null, options: PrefilterOptions = {}): string {
  if (filter === null) return '';
  const decodeAs = options.decodeAs ?? [];
  // An override that moves what the outer headers mean (an ethertype, an IP
  // protocol, UDP carrying Ethernet) leaves the outer signatures unreliable.
  if (!decodeAs.every(followsDecodeAs)) return '';
  const prefilter = new PrefilterBuilder(decodeAs, options.ethernet ?? false).derive(filter);
  // A filter nothing can match is left to the evaluator, which says so by matching nothing.
  if (prefilter === EVERY || prefilter === NEVER) return '';
  return throughVlanTags(render(prefilter), prefilter.op !== 'atom', options.vlanTags ?? 0);
}
