// Property tests: no byte pattern breaks a decoder or the engine. Each
// decoder is called directly with any bytes, bounds and context; dissect()
// runs on random bytes under every link type, on built header stacks whose
// lengths may lie, and on the fixture and peer-capture packets cut short,
// bit-flipped and overwritten. Every result must keep the invariants of
// invariants.ts, and --json must parse.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECODERS, Registry } from '../../decoders/registry.js';
import type { DecodeContext, IpContext, Issue, IssueKind, Layer, ProtoName } from '../../decoders/types.js';
import { ISSUE_KINDS, LINKTYPES, checkDissect } from './invariants.js';
import { loadCorpus } from './corpus.js';
import { packetStack } from './stacks.js';

const RUNS = { numRuns: 1500 };

interface DecoderInput {
  bytes: Uint8Array;
  offset: number;
  end: number;
  verify: boolean;
  quoted: boolean;
  tunnelled: boolean;
  wireLength: number;
  ip: IpContext | null;
  prev: Layer | null;
}

const ipContext: fc.Arbitrary<Omit<IpContext, 'srcOffset' | 'dstOffset'> & { at: number }> = fc.record({
  version: fc.constantFrom(4 as const, 6 as const),
  at: fc.nat(),
  src: fc.constant('192.0.2.1'),
  dst: fc.constant('192.0.2.2'),
  protocol: fc.nat(255),
  upperLength: fc.oneof(fc.nat(70_000), fc.constant(0)),
  fragment: fc.boolean(),
  laterFragment: fc.boolean(),
  superPacket: fc.boolean(),
});

/** What the engine could hand as the layer before: ERSPAN looks at a GRE layer's fields. */
const previousLayer: fc.Arbitrary<Layer | null> = fc.option(fc.record({
  proto: fc.constantFrom<ProtoName>('gre', 'udp', 'eth'),
  offset: fc.constant(0),
  length: fc.constant(4),
  protocolType: fc.constantFrom(0x88be, 0x22eb, 0x6558),
  sequencePresent: fc.boolean(),
}));

/** Any bytes, any [offset, end) inside them, any context whose IP addresses lie inside the bytes. */
const decoderInput: fc.Arbitrary<DecoderInput> = fc.record({
  bytes: fc.uint8Array({ maxLength: 160 }),
  a: fc.nat(),
  b: fc.nat(),
  verify: fc.boolean(),
  quoted: fc.boolean(),
  tunnelled: fc.boolean(),
  wireLength: fc.oneof(fc.constant(0), fc.nat(70_000), fc.constant(0xffffffff)),
  ip: fc.option(ipContext),
  prev: previousLayer,
}).map(({ bytes, a, b, ip, ...rest }) => {
  const x = bytes.length === 0 ? 0 : a % (bytes.length + 1);
  const y = bytes.length === 0 ? 0 : b % (bytes.length + 1);
  let context: IpContext | null = null;
  const addressLength = ip?.version === 6 ? 16 : 4;
  if (ip !== null && bytes.length >= 2 * addressLength) {
    const srcOffset = ip.at % (bytes.length - 2 * addressLength + 1);
    const { at: _at, ...fields } = ip;
    context = { ...fields, srcOffset, dstOffset: srcOffset + addressLength };
  }
  return { bytes, offset: Math.min(x, y), end: Math.max(x, y), ip: context, ...rest };
});

function contextOf(input: DecoderInput, issues: Issue[]): DecodeContext {
  return {
    verify: input.verify, ip: input.ip, prev: input.prev, tunnelled: input.tunnelled, quoted: input.quoted,
    wireLength: input.wireLength,
    issue(kind: IssueKind, message: string, needed?: number, available?: number) {
      const issue: Issue = { layer: 0, kind, message };
      if (needed !== undefined) issue.needed = needed;
      if (available !== undefined) issue.available = available;
      issues.push(issue);
    },
  };
}

/** The bytes a decoder may read besides [offset, end): the enclosing IP addresses of the pseudo-header. */
function readable(input: DecoderInput, i: number): boolean {
  if (i >= input.offset && i < input.end) return true;
  const ip = input.ip;
  if (ip === null) return false;
  const n = ip.version === 6 ? 16 : 4;
  return (i >= ip.srcOffset && i < ip.srcOffset + n) || (i >= ip.dstOffset && i < ip.dstOffset + n);
}

describe('every decoder, called directly', () => {
  for (const [name, decode] of Object.entries(DECODERS)) {
    it(`${name}: never throws, reads only [offset, end) and reports issues of known kinds with lengths`, () => {
      fc.assert(fc.property(decoderInput, fc.uint8Array({ minLength: 1, maxLength: 160 }), (input, noise) => {
        const issues: Issue[] = [];
        const result = decode(input.bytes, input.offset, input.end, contextOf(input, issues));
        expect(result.layer.proto).toBe(name);
        expect(result.layer.offset).toBe(input.offset);
        expect(Number.isInteger(result.layer.length) && result.layer.length >= 0).toBe(true);
        for (const issue of issues) {
          expect(ISSUE_KINDS.has(issue.kind)).toBe(true);
          if (issue.kind === 'truncated') {
            expect(issue.needed).toBeGreaterThan(issue.available as number);
            expect(issue.available).toBeGreaterThanOrEqual(0);
          }
        }
        if (result.next !== null) {
          // What comes next starts inside this layer's bounds, or the next decoder would be handed a negative length.
          const start = result.payloadOffset ?? result.layer.offset + result.layer.length;
          expect(start).toBeGreaterThanOrEqual(input.offset);
          expect(start).toBeLessThanOrEqual(input.end);
          if (result.payloadEnd !== undefined) {
            expect(result.payloadEnd).toBeGreaterThanOrEqual(start);
            expect(result.payloadEnd).toBeLessThanOrEqual(input.end);
          }
        }
        // Changing every byte it may not read changes nothing it returns.
        const changed = input.bytes.slice();
        for (let i = 0; i < changed.length; i++) if (!readable(input, i)) changed[i] ^= noise[i % noise.length] | 1;
        const again: Issue[] = [];
        expect(decode(changed, input.offset, input.end, contextOf(input, again))).toEqual(result);
        expect(again).toEqual(issues);
      }), RUNS);
    });
  }
});

describe('dissect', () => {
  it('decodes random bytes under every link type, with any wire length', () => {
    fc.assert(fc.property(
      fc.constantFrom(...LINKTYPES),
      fc.uint8Array({ maxLength: 200 }),
      fc.oneof(fc.constant(-1), fc.nat(70_000), fc.constant(0xffffffff)),
      (linktype, bytes, wire) => {
        checkDissect(bytes, linktype, wire < 0 ? bytes.length : wire);
      },
    ), { numRuns: 5000 });
  });

  it('decodes built header stacks at every depth, whatever their length fields say', () => {
    fc.assert(fc.property(packetStack(), (p) => {
      checkDissect(p.bytes, p.linktype, p.wireLength);
    }), { numRuns: 10_000 });
  });

  it('decodes with decode-as entries that send ports and types to any decoder', () => {
    const registry = new Registry([
      { table: 'udp', key: 53, proto: 'geneve' }, { table: 'ethertype', key: 0x1234, proto: 'erspan' },
      { table: 'ipproto', key: 200, proto: 'vxlan' }, { table: 'gre', key: 0x0806, proto: 'ppp' },
      { table: 'tcp', key: 80, proto: 'eth' },
    ]);
    fc.assert(fc.property(packetStack(), (p) => {
      checkDissect(p.bytes, p.linktype, p.wireLength, registry);
    }), { numRuns: 3000 });
  });

  describe('on the fixture and peer-capture packets', () => {
    const packets = loadCorpus().flatMap((f) => f.records);
    const packet = fc.nat(packets.length - 1).map((i) => packets[i]);

    it('cut short at any length', () => {
      fc.assert(fc.property(packet, fc.nat(), (p, cut) => {
        checkDissect(p.bytes.subarray(0, cut % (p.bytes.length + 1)), p.linktype, p.len);
      }), RUNS);
    });

    it('with bits flipped', () => {
      fc.assert(fc.property(packet, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (p, flips) => {
        const bytes = p.bytes.slice();
        for (const f of flips) if (bytes.length > 0) bytes[(f >> 3) % bytes.length] ^= 1 << (f & 7);
        checkDissect(bytes, p.linktype, p.len);
      }), RUNS);
    });

    it('with bytes overwritten by 0x00, 0xff or anything, then cut', () => {
      fc.assert(fc.property(
        packet,
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(0, 0xff, -1), fc.nat(255)), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (p, writes, cut) => {
          const bytes = p.bytes.slice();
          for (const [at, value, any] of writes) if (bytes.length > 0) bytes[at % bytes.length] = value < 0 ? any : value;
          checkDissect(bytes.subarray(0, bytes.length - (cut % 3 === 0 ? cut % (bytes.length + 1) : 0)), p.linktype, p.len);
        },
      ), RUNS);
    });
  });
});
