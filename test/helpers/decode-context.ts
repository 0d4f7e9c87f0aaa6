// What a test needs to call one decoder directly, as the engine would: a
// DecodeContext that keeps the issues the decoder raises, and the IP context
// an IPv4 or IPv6 decoder hands on to the layer above it.

import type { DecodeContext, IpContext, Issue, IssueKind } from '../../decoders/types.js';

export interface RecordingContext {
  ctx: DecodeContext;
  /** Issues the decoder raised, in order; layer is always 0, the decoder's own. */
  issues: Issue[];
}

/**
 * A DecodeContext that records issues as the engine does. Unless `options`
 * says otherwise: checksums verified, no IP header or layer before, not in a
 * tunnel or a quoted packet, every detail built, and wireLength 0, which means "as captured" (the
 * decoders take the larger of it and the captured bytes).
 */
export function decodeContext(options: Partial<Omit<DecodeContext, 'issue'>> = {}): RecordingContext {
  const issues: Issue[] = [];
  const ctx: DecodeContext = {
    verify: true,
    detail: true,
    ip: null,
    prev: null,
    tunnelled: false,
    quoted: false,
    wireLength: 0,
    ...options,
    issue(kind: IssueKind, message: string, needed?: number, available?: number) {
      const issue: Issue = { layer: 0, kind, message };
      if (needed !== undefined) issue.needed = needed;
      if (available !== undefined) issue.available = available;
      issues.push(issue);
    },
  };
  return { ctx, issues };
}

/**
 * An IpContext for a packet that starts with a 20-byte IPv4 header (no
 * options): the addresses sit at bytes 12 and 16.
 */
export function ipv4Context(src: string, dst: string, protocol: number, upperLength: number, extra: Partial<IpContext> = {}): IpContext {
  return {
    version: 4, srcOffset: 12, dstOffset: 16, src, dst, protocol, upperLength,
    fragment: false, laterFragment: false, superPacket: false, ...extra,
  };
}

/** An IpContext for a packet that starts with a 40-byte IPv6 header: addresses at bytes 8 and 24. */
export function ipv6Context(src: string, dst: string, protocol: number, upperLength: number, extra: Partial<IpContext> = {}): IpContext {
  return {
    version: 6, srcOffset: 8, dstOffset: 24, src, dst, protocol, upperLength,
    fragment: false, laterFragment: false, superPacket: false, ...extra,
  };
}
