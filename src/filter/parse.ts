// The filter language (README, "Filters"):
//
//   expr      := term { "or" term }
//   term      := factor { "and" factor }
//   factor    := "not" factor | "(" expr ")" | scope? primitive
//   scope     := "outer" | "inner"
//   primitive := tunnel-type [ ("vni" | "key" | "id") NUMBER ]
//              | ["src" | "dst"] "host" ADDRESS | ["src" | "dst"] "net" CIDR
//              | ["src" | "dst"] "port" NUMBER | ["src" | "dst"] "portrange" NUMBER-NUMBER
//              | "ether" ["src" | "dst"] "host" MAC | "ether" ("src" | "dst") MAC
//              | "tcp" | "udp" | "icmp" | "icmp6" | "arp" | "rarp" | "ip" | "ip6" | "vlan" [NUMBER]
//              | ["ip" | "ip6"] "proto" (NUMBER | NAME)
//              | "len" ("<" | ">" | "<=" | ">=" | "=" | "==" | "!=") NUMBER | "greater" NUMBER | "less" NUMBER
//              | "bad-cksum" | "offload-cksum" | "frag" | "malformed"
//
// `&&`, `||` and `!` are accepted for and, or and not, as in tcpdump; a lone
// `&` or `|` is an error that says so. `len` is the length of the frame on
// the wire, as tcpdump's: `greater N` is `len >= N`, `less N` is `len <= N`.

import { formatIPv6, parseIPv4, parseIPv6, parseMac } from '../../decoders/address.js';
import type { TunnelType } from '../../decoders/types.js';

export type Scope = 'any' | 'outer' | 'inner';
export type Direction = 'either' | 'src' | 'dst';
export type LengthOp = '<' | '>' | '<=' | '>=' | '==' | '!=';

export type Primitive =
  | { kind: 'tunnel'; tunnel: TunnelType | 'tunnel'; id: number | null }
  | { kind: 'host'; dir: Direction; version: 4 | 6; address: string }
  | { kind: 'net'; dir: Direction; version: 4 | 6; prefix: Uint8Array; bits: number }
  | { kind: 'port'; dir: Direction; port: number }
  | { kind: 'portrange'; dir: Direction; low: number; high: number }
  | { kind: 'ether'; dir: Direction; mac: Uint8Array }
  | { kind: 'ipproto'; version: 4 | 6 | null; protocol: number }
  | { kind: 'len'; op: LengthOp; length: number }
  | { kind: 'proto'; proto: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'arp' | 'rarp' | 'ipv4' | 'ipv6' }
  | { kind: 'vlan'; vid: number | null }
  | { kind: 'bad-cksum' } | { kind: 'offload-cksum' } | { kind: 'frag' } | { kind: 'malformed' };

export type FilterNode =
  | { op: 'or' | 'and'; args: FilterNode[] }
  | { op: 'not'; arg: FilterNode }
  | { op: 'prim'; scope: Scope; prim: Primitive };

export const TUNNEL_WORDS: readonly (TunnelType | 'tunnel')[] = [
  'vxlan', 'vxlan-gpe', 'geneve', 'gre', 'gretap', 'erspan', 'ipip', 'sit', 'ip4in6', 'ip6in6', 'tunnel',
];

const PROTO_WORDS: Record<string, Extract<Primitive, { kind: 'proto' }>['proto']> = {
  tcp: 'tcp', udp: 'udp', icmp: 'icmp', icmp6: 'icmpv6', arp: 'arp', rarp: 'rarp', ip: 'ipv4', ip6: 'ipv6',
};

const QUALIFIED_WORDS = new Set(['src', 'dst', 'host', 'net', 'port', 'portrange']);

/**
 * IP protocol names `ip proto` takes: the names of /etc/protocols (IANA's
 * keywords) that tcpdump reads there, and tunscope's own icmp6. Not "ipip",
 * which /etc/protocols gives to protocol 94 while the ipip tunnel is 4.
 */
export const IP_PROTOCOL_NAMES: Readonly<Record<string, number>> = {
  icmp: 1, igmp: 2, ipencap: 4, tcp: 6, egp: 8, udp: 17, dccp: 33, ipv6: 41, 'ipv6-route': 43, 'ipv6-frag': 44,
  rsvp: 46, gre: 47, esp: 50, ah: 51, 'ipv6-icmp': 58, icmp6: 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, eigrp: 88,
  ospf: 89, etherip: 97, pim: 103, vrrp: 112, l2tp: 115, sctp: 132, udplite: 136, 'mpls-in-ip': 137,
};

const LENGTH_OPS: Record<string, LengthOp> = { '<': '<', '>': '>', '<=': '<=', '>=': '>=', '=': '==', '==': '==', '!=': '!=' };

/** The largest wire length a capture record can state (a 32-bit field). */
const MAX_LENGTH = 0xffffffff;

/** A filter that does not parse: the message, and the column (0-based) it points at. */
export class FilterError extends Error {
  constructor(message: string, readonly source: string, readonly column: number) {
    super(message);
  }

  /** The message, the filter, and a caret under the column. */
  describe(): string {
    return `${this.message} (column ${this.column + 1})\n  ${this.source}\n  ${' '.repeat(this.column)}^`;
  }
}

interface Token { text: string; column: number }

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(\(|\)|&&|\|\||<=|>=|==|!=|<|>|=|!|[^\s()!&|<>=]+)/y;
  let at = 0;
  for (;;) {
    re.lastIndex = at;
    const m = re.exec(source);
    if (m === null) break;
    tokens.push({ text: m[1], column: m.index + m[0].length - m[1].length });
    at = re.lastIndex;
  }
  const rest = source.slice(at);
  if (rest.trim() !== '') {
    const column = at + rest.length - rest.trimStart().length;
    const c = source[column];
    // tcpdump joins with `and`/`&&` and `or`/`||`; a single & or | is a bitwise operator there, not a join.
    const hint = c === '&' || c === '|' ? ': use and/or (&& and || are accepted too)' : '';
    throw new FilterError(`unexpected "${c}"${hint}`, source, column);
  }
  return tokens;
}

function parseNumber(text: string, max: number): number | null {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

class Parser {
  private pos = 0;
  constructor(private readonly source: string, private readonly tokens: Token[]) {}

  parse(): FilterNode {
    const node = this.expr();
    const extra = this.peek();
    if (extra) {
      throw this.error(extra.text === ')' ? 'unbalanced ")"' : `expected "and" or "or" before "${extra.text}"`, extra);
    }
    return node;
  }

  private peek(): Token | undefined { return this.tokens[this.pos]; }
  private word(): string | undefined { return this.peek()?.text.toLowerCase(); }

  private error(message: string, at?: Token): FilterError {
    const column = at ? at.column : this.source.trimEnd().length;
    return new FilterError(message, this.source, column);
  }

  private expr(): FilterNode {
    const args = [this.term()];
    while (this.word() === 'or' || this.word() === '||') {
      this.pos++;
      args.push(this.term());
    }
    return args.length === 1 ? args[0] : { op: 'or', args };
  }

  private term(): FilterNode {
    const args: FilterNode[] = [];
    const add = (node: FilterNode) => {
      if (node.op === 'and') args.push(...node.args);
      else args.push(node);
    };
    add(this.factor());
    while (this.word() === 'and' || this.word() === '&&') {
      this.pos++;
      add(this.factor());
    }
    return args.length === 1 ? args[0] : { op: 'and', args };
  }

  private factor(): FilterNode {
    const tok = this.peek();
    if (!tok) throw this.error('the filter ends where a primitive was expected');
    const w = tok.text.toLowerCase();
    if (w === 'not' || w === '!') {
      this.pos++;
      return { op: 'not', arg: this.factor() };
    }
    if (w === '(') {
      this.pos++;
      const inner = this.expr();
      if (this.peek()?.text !== ')') throw this.error('expected ")"', this.peek());
      this.pos++;
      return inner;
    }
    let scope: Scope = 'any';
    const scopeTok = tok;
    if (w === 'outer' || w === 'inner') {
      scope = w;
      this.pos++;
      const next = this.word();
      if (next === '(' || next === 'not' || next === '!') {
        throw this.error(`"${w}" applies to one primitive: write "${w} tcp or ${w} udp", not "${w} (tcp or udp)"`, this.peek());
      }
    }
    const prim = this.primitive();
    if (prim.kind === 'len' && scope !== 'any') {
      throw this.error(`the length is the whole frame's: "${scope}" does not apply to it`, scopeTok);
    }
    // tcpdump's protocol qualifier: `tcp port 443` is `tcp and port 443`, in the same scope.
    if (prim.kind === 'proto' && QUALIFIED_WORDS.has(this.word() ?? '')) {
      return { op: 'and', args: [{ op: 'prim', scope, prim }, { op: 'prim', scope, prim: this.primitive() }] };
    }
    return { op: 'prim', scope, prim };
  }

  private expectNumber(after: string, max: number): number {
    const tok = this.peek();
    const n = tok ? parseNumber(tok.text, max) : null;
    if (n === null) throw this.error(`expected a number from 0 to ${max} after "${after}"`, tok);
    this.pos++;
    return n;
  }

  private primitive(): Primitive {
    const tok = this.peek();
    if (!tok) throw this.error('the filter ends where a primitive was expected');
    const w = tok.text.toLowerCase();
    this.pos++;
    if ((TUNNEL_WORDS as readonly string[]).includes(w)) {
      const idWord = this.word();
      let id: number | null = null;
      if (idWord === 'vni' || idWord === 'key' || idWord === 'id') {
        this.pos++;
        // A VNI is 24 bits (RFC 7348 section 5, RFC 8926 section 3.4); a GRE key 32 (RFC 2890).
        id = this.expectNumber(idWord, idWord === 'vni' ? 0xffffff : 0xffffffff);
      }
      return { kind: 'tunnel', tunnel: w as TunnelType | 'tunnel', id };
    }
    if ((w === 'ip' || w === 'ip6') && this.word() === 'proto') {
      this.pos++;
      return { kind: 'ipproto', version: w === 'ip' ? 4 : 6, protocol: this.expectProtocol() };
    }
    if (w in PROTO_WORDS) return { kind: 'proto', proto: PROTO_WORDS[w] };
    switch (w) {
      case 'proto':
        return { kind: 'ipproto', version: null, protocol: this.expectProtocol() };
      case 'ether':
        return this.etherPrimitive(tok);
      case 'len': {
        const opTok = this.peek();
        const op = opTok && Object.hasOwn(LENGTH_OPS, opTok.text) ? LENGTH_OPS[opTok.text] : undefined;
        if (op === undefined) throw this.error('expected <, >, <=, >=, == or != after "len"', opTok);
        this.pos++;
        return { kind: 'len', op, length: this.expectNumber(opTok!.text, MAX_LENGTH) };
      }
      case 'greater':
        return { kind: 'len', op: '>=', length: this.expectNumber(w, MAX_LENGTH) };
      case 'less':
        return { kind: 'len', op: '<=', length: this.expectNumber(w, MAX_LENGTH) };
      case 'vlan': {
        const n = this.peek() ? parseNumber(this.peek()!.text, 4095) : null;
        if (n !== null) this.pos++;
        return { kind: 'vlan', vid: n };
      }
      case 'bad-cksum': case 'offload-cksum': case 'frag': case 'malformed':
        return { kind: w };
      case 'src': case 'dst': case 'host': case 'net': case 'port': case 'portrange':
        return this.addressPrimitive(w, tok);
      default:
        throw this.error(`unknown word "${tok.text}"`, tok);
    }
  }

  /** A protocol number or name after "proto"; tcpdump wants its keywords escaped (\tcp), tunscope takes both. */
  private expectProtocol(): number {
    const tok = this.peek();
    if (!tok) throw this.error('expected a protocol number from 0 to 255 or a name such as tcp after "proto"');
    const name = tok.text.toLowerCase().replace(/^\\/, '');
    const n = parseNumber(name, 255) ?? (Object.hasOwn(IP_PROTOCOL_NAMES, name) ? IP_PROTOCOL_NAMES[name] : null);
    if (n === null) {
      throw this.error(/^\d/.test(name) ? 'expected a protocol number from 0 to 255 after "proto"'
        : `unknown IP protocol "${tok.text}": give its number from 0 to 255`, tok);
    }
    this.pos++;
    return n;
  }

  /** portrange A-B; tcpdump takes B-A as the same range. */
  private portRange(dir: Direction): Primitive {
    const tok = this.peek();
    const m = tok ? /^([^-]+)-([^-]+)$/.exec(tok.text) : null;
    const a = m ? parseNumber(m[1], 65535) : null;
    const b = m ? parseNumber(m[2], 65535) : null;
    if (a === null || b === null) throw this.error('expected a port range such as 5000-5010 after "portrange"', tok);
    this.pos++;
    return { kind: 'portrange', dir, low: Math.min(a, b), high: Math.max(a, b) };
  }

  private etherPrimitive(etherTok: Token): Primitive {
    let dir: Direction = 'either';
    let w = this.word();
    if (w === 'src' || w === 'dst') {
      dir = w;
      this.pos++;
      w = this.word();
    }
    if (w === 'host') {
      this.pos++;
    } else if (dir === 'either') {
      throw this.error(`expected "host", "src" or "dst" after "${etherTok.text}"`, this.peek());
    }
    const tok = this.peek();
    if (!tok) throw this.error('expected a MAC address such as 02:00:00:00:00:01');
    const mac = parseMac(tok.text);
    if (!mac) throw this.error(`"${tok.text}" is not a MAC address such as 02:00:00:00:00:01`, tok);
    this.pos++;
    return { kind: 'ether', dir, mac };
  }

  private addressPrimitive(first: string, firstTok: Token): Primitive {
    let dir: Direction = 'either';
    let what = first;
    let whatTok = firstTok;
    if (first === 'src' || first === 'dst') {
      dir = first;
      const next = this.peek();
      const w = next?.text.toLowerCase();
      if (w !== 'host' && w !== 'net' && w !== 'port' && w !== 'portrange') {
        throw this.error(`expected "host", "net", "port" or "portrange" after "${first}"`, next);
      }
      what = w;
      whatTok = next!;
      this.pos++;
    }
    if (what === 'port') return { kind: 'port', dir, port: this.expectNumber('port', 65535) };
    if (what === 'portrange') return this.portRange(dir);
    const tok = this.peek();
    if (!tok) throw this.error(`expected an address after "${whatTok.text}"`);
    this.pos++;
    if (what === 'host') {
      const v4 = parseIPv4(tok.text);
      if (v4) return { kind: 'host', dir, version: 4, address: tok.text };
      const v6 = parseIPv6(tok.text);
      // Compared as text: the decoders' canonical form of the address.
      if (v6) return { kind: 'host', dir, version: 6, address: formatIPv6(v6, 0) };
      throw this.error(`"${tok.text}" is not an IPv4 or IPv6 address`, tok);
    }
    const [addr, bitsText] = tok.text.split('/');
    const prefix = parseIPv4(addr) ?? parseIPv6(addr);
    const maxBits = prefix?.length === 4 ? 32 : 128;
    const bits = bitsText === undefined ? maxBits : parseNumber(bitsText, maxBits);
    if (!prefix || bits === null) throw this.error(`"${tok.text}" is not a network such as 10.0.0.0/8`, tok);
    return { kind: 'net', dir, version: prefix.length === 4 ? 4 : 6, prefix, bits };
  }
}

export function parseFilter(source: string): FilterNode {
  const tokens = tokenize(source);
  if (tokens.length === 0) throw new FilterError('the filter is empty', source, 0);
  return new Parser(source, tokens).parse();
}
