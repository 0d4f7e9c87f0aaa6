// What the kernel says of a link, in words: its kind and tunnel parameters
// (`vxlan id 42 remote 192.168.77.3 local 192.168.77.2 dstport 4789 dev
// bkv1`), its master, and for a veth the namespace of its peer. Read from
// `ip -details -json` (netns.ts), written with iproute2's own words, for
// `interfaces --netns` and for the if_description of a live capture's pcapng.

import { namespaceLinks, peerNamespaceNames, resolveNetns, type IpLink, type Netns } from './netns.js';

type InfoData = Record<string, unknown>;

function text(value: unknown): string | null {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

/** `word value` for each of the fields the link has, in the order given. */
function fields(data: InfoData, words: [string, string][]): string[] {
  const out: string[] = [];
  for (const [key, word] of words) {
    const value = text(data[key]);
    if (value !== null && value !== '' && value !== '0.0.0.0' && value !== '::') out.push(`${word} ${value}`);
  }
  return out;
}

/** A tunnel's parameters, as `ip -details link show` words them. */
function tunnelWords(kind: string, data: InfoData): string[] {
  switch (kind) {
    case 'vxlan':
      return fields(data, [['id', 'id'], ['group', 'group'], ['remote', 'remote'], ['local', 'local'], ['port', 'dstport'], ['link', 'dev']]);
    case 'geneve':
      return fields(data, [['id', 'id'], ['remote', 'remote'], ['port', 'dstport']]);
    case 'gre': case 'gretap': case 'ip6gre': case 'ip6gretap': case 'erspan': case 'ip6erspan':
      return fields(data, [['remote', 'remote'], ['local', 'local'], ['ikey', 'ikey'], ['okey', 'okey'], ['erspan_index', 'erspan'], ['link', 'dev']]);
    case 'ipip': case 'sit': case 'ip6tnl':
      return fields(data, [['proto', 'proto'], ['remote', 'remote'], ['local', 'local'], ['link', 'dev']]);
    case 'vlan':
      return fields(data, [['protocol', 'protocol'], ['id', 'id']]);
    case 'vrf':
      return fields(data, [['table', 'table']]);
    default:
      return [];
  }
}

export interface LinkDetails {
  /** The link's kind (vxlan, veth, bridge, ...), or null for a plain device. */
  kind: string | null;
  /** The kind and its parameters in words, e.g. "vxlan id 42 remote ... dev bkv1"; "" for none. */
  text: string;
  mtu: number;
  master: string | null;
  /** A veth's peer: NETNS/NAME where the namespace has a name, else the peer's name or ifindex. */
  peer: string | null;
}

/**
 * The details of one link. `peerNames` maps the namespace ids this namespace
 * gives its neighbours to their names; `peerLink` finds a link by namespace
 * name and ifindex (for a veth's peer's name).
 */
export function linkDetails(link: IpLink, peerNames: Map<number, string>, peerLink: (netns: string | null, ifindex: number) => string | null): LinkDetails {
  const kind = link.linkinfo?.info_kind ?? null;
  const words = kind === null ? [] : [kind, ...tunnelWords(kind, link.linkinfo?.info_data ?? {})];
  let peer: string | null = null;
  if (kind === 'veth' && link.link_index !== undefined) {
    const netns = link.link_netnsid === undefined ? null : peerNames.get(link.link_netnsid) ?? null;
    const name = link.link ?? peerLink(netns, link.link_index);
    if (link.link_netnsid !== undefined && netns === null) peer = `${name ?? `ifindex ${link.link_index}`} in namespace id ${link.link_netnsid}`;
    else peer = `${netns === null ? '' : `${netns}/`}${name ?? `ifindex ${link.link_index}`}`;
    words.push(`peer ${peer}`);
  }
  return { kind, text: words.join(' '), mtu: link.mtu, master: link.master ?? null, peer };
}

/** Links of namespaces, each namespace read once. */
export class LinkBook {
  private readonly links = new Map<string, IpLink[] | null>();
  private readonly ids = new Map<string, Map<number, string>>();

  private key(netns: Netns | null): string {
    return netns === null ? '' : netns.name;
  }

  linksOf(netns: Netns | null): IpLink[] | null {
    const key = this.key(netns);
    if (!this.links.has(key)) this.links.set(key, namespaceLinks(netns));
    return this.links.get(key) ?? null;
  }

  private peerNames(netns: Netns | null): Map<number, string> {
    const key = this.key(netns);
    let ids = this.ids.get(key);
    if (ids === undefined) this.ids.set(key, ids = peerNamespaceNames(netns));
    return ids;
  }

  /** The details of the link named `device` in the namespace, or null when the kernel has none by that name. */
  details(netns: Netns | null, device: string): LinkDetails | null {
    const link = this.linksOf(netns)?.find((l) => l.ifname === device);
    return link === undefined ? null : this.detailsOf(netns, link);
  }

  detailsOf(netns: Netns | null, link: IpLink): LinkDetails {
    return linkDetails(link, this.peerNames(netns), (name, ifindex) => {
      let other: Netns | null = null;
      if (name !== null) {
        try {
          other = resolveNetns(name);
        } catch {
          return null;
        }
      }
      return this.linksOf(other)?.find((l) => l.ifindex === ifindex)?.ifname ?? null;
    });
  }
}

/** An if_description for a live capture's interface: its namespace, kind and parameters, MTU and master. */
export function interfaceDescription(book: LinkBook, netns: Netns | null, device: string): string {
  const parts = [netns === null ? 'network namespace of the capture' : `network namespace ${netns.name}`];
  const details = book.details(netns, device);
  if (details !== null) {
    if (details.text !== '') parts.push(details.text);
    parts.push(`mtu ${details.mtu}`);
    if (details.master !== null) parts.push(`master ${details.master}`);
  }
  return parts.join('; ');
}
