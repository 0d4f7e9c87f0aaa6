import { describe, expect, it } from 'vitest';
import {
  checkPlain, checkTransport, complement, fold, internetSum, pseudoHeaderSum, verifyPlain, verifyTransport,
} from '../../decoders/checksum.js';
import { fromHex } from '../helpers/bytes.js';
import { decodeContext, ipv4Context, ipv6Context } from '../helpers/decode-context.js';

const A4 = '192.0.2.1';
const B4 = '198.51.100.2';
const A6 = '2001:db8::1';
const B6 = '2001:db8::2';

// scapy: IP(src=A4, dst=B4, id=1)/UDP(sport=40000, dport=53)/Raw(b'tunscope l4 test'); checksum 0x83ed
const UDP4 = fromHex(`4500002c0001000040118e89c0000201c63364029c400035001883ed74756e73
  636f7065206c342074657374`);
// scapy: IPv6(src=A6, dst=B6)/UDP(sport=40000, dport=53)/Raw(b'tunscope l4 test'); checksum 0x14b0
const UDP6 = fromHex(`600000000018114020010db800000000000000000000000120010db800000000
  00000000000000029c400035001814b074756e73636f7065206c342074657374`);
// scapy: IP(src=A4, dst=B4, id=4)/UDP(sport=40000, dport=9999)/Raw(b'tunscope l4 test' + b'\x5d\x0f'):
// the last word makes the computed checksum 0, which RFC 768 sends as 0xffff (scapy writes 0xffff).
// Here the field holds 0x1234 instead.
const UDP4_COMPUTES_ZERO_BAD = fromHex(`4500002e0004000040118e84c0000201c63364029c40270f001a123474756e73
  636f7065206c3420746573745d0f`);
// scapy: IP(src=A4, dst=B4, id=7)/ICMP(type=8, id=0x1234, seq=7)/Raw(b'tunscope l4 test'); checksum 0xf2a0
const ICMP_ECHO = fromHex(`4500002c0007000040018e93c0000201c63364020800f2a01234000774756e73
  636f7065206c342074657374`);

describe('internet checksum arithmetic (RFC 1071)', () => {
  // RFC 1071 section 3, numerical example: the sum of 00 01 f2 03 f4 f5 f6 f7
  // is 2ddf0 before and ddf2 after folding the carries.
  const example = fromHex('0001 f203 f4f5 f6f7');

  it('sums big-endian words and folds the carries end-around', () => {
    expect(internetSum(example, 0, 8)).toBe(0x2ddf0);
    expect(fold(0x2ddf0)).toBe(0xddf2);
    expect(complement(0x2ddf0)).toBe(0x220d);
  });

  it('pads an odd last byte on the right with zero', () => {
    expect(internetSum(example, 0, 7)).toBe(0x2ddf0 - 0xf7);
    expect(internetSum(fromHex('ab'), 0, 1)).toBe(0xab00);
  });

  it('verifies a message whose complement completes the sum to all ones', () => {
    const message = fromHex('0001 f203 f4f5 f6f7 220d');
    expect(verifyPlain(message, 0, 10, 8)).toEqual({ status: 'good', value: 0x220d });
    const wrong = fromHex('0001 f203 f4f5 f6f7 0000');
    expect(verifyPlain(wrong, 0, 10, 8)).toEqual({ status: 'bad', value: 0, expected: 0x220d });
  });

  // RFC 1624 section 4: the other octets sum to 0xCD7A; with m = 0x5555 the
  // checksum is 0xDD2F; after m' = 0x3285 it is 0x0000 (eqn 3), while the
  // older eqn 2 would write 0xFFFF. Both make the receiver's sum -0.
  it('follows the RFC 1624 example, accepting both +0 and -0', () => {
    expect(verifyPlain(fromHex('cd7a 5555 dd2f'), 0, 6, 4)).toEqual({ status: 'good', value: 0xdd2f });
    expect(verifyPlain(fromHex('cd7a 3285 0000'), 0, 6, 4)).toEqual({ status: 'good', value: 0x0000 });
    expect(verifyPlain(fromHex('cd7a 3285 ffff'), 0, 6, 4)).toEqual({ status: 'good', value: 0xffff });
    // The expected value is eqn 3's: 0x0000, never 0xffff.
    expect(verifyPlain(fromHex('cd7a 3285 1111'), 0, 6, 4)).toEqual({ status: 'bad', value: 0x1111, expected: 0x0000 });
  });

  it('sums the IPv4 and IPv6 pseudo-headers', () => {
    // c000 0201 c633 6402 + 17 + 24, by hand.
    expect(pseudoHeaderSum(UDP4, ipv4Context(A4, B4, 17, 24), 17, 24)).toBe(0xc000 + 0x0201 + 0xc633 + 0x6402 + 17 + 24);
    // 2001 0db8 ... 0001 and ... 0002, 32-bit length 24, next header 17.
    const v6 = pseudoHeaderSum(UDP6, ipv6Context(A6, B6, 17, 24), 17, 24);
    expect(v6).toBe(2 * (0x2001 + 0x0db8) + 1 + 2 + 24 + 17);
    // A length above 65535 (a jumbogram) contributes both of its 16-bit halves.
    expect(pseudoHeaderSum(UDP6, ipv6Context(A6, B6, 17, 24), 17, 0x12345) - v6).toBe(0x1 + 0x2345 - 24);
  });
});

describe('verifyTransport', () => {
  const ip = ipv4Context(A4, B4, 17, 24);

  it('is good for the checksum scapy computed', () => {
    expect(verifyTransport(UDP4, 20, 44, 26, ip, 17, 24)).toEqual({ status: 'good', value: 0x83ed });
    expect(verifyTransport(UDP6, 40, 64, 46, ipv6Context(A6, B6, 17, 24), 17, 24)).toEqual({ status: 'good', value: 0x14b0 });
  });

  it('recognises the folded pseudo-header sum as offload', () => {
    const offload = UDP4.slice();
    // fold(c000 + 0201 + c633 + 6402 + 0011 + 0018) = 0xec60
    offload[26] = 0xec;
    offload[27] = 0x60;
    expect(verifyTransport(offload, 20, 44, 26, ip, 17, 24)).toEqual({ status: 'offload', value: 0xec60, expected: 0x83ed });
  });

  it('leaves fragments, super-packets and cut segments unverified', () => {
    expect(verifyTransport(UDP4, 20, 44, 26, { ...ip, fragment: true }, 17, 24))
      .toEqual({ status: 'unverified', value: 0x83ed, reason: 'fragment' });
    expect(verifyTransport(UDP4, 20, 44, 26, { ...ip, superPacket: true }, 17, 24))
      .toEqual({ status: 'unverified', value: 0x83ed, reason: 'segmentation-offload' });
    expect(verifyTransport(UDP4, 20, 43, 26, ip, 17, 24))
      .toEqual({ status: 'unverified', value: 0x83ed, reason: 'snaplen' });
  });
});

describe('checkTransport', () => {
  it('adds a bad-checksum issue for a bad verdict', () => {
    const bad = UDP4.slice();
    bad[43] ^= 0x01; // scapy on the modified packet: 0x83ec
    const { ctx, issues } = decodeContext({ ip: ipv4Context(A4, B4, 17, 24) });
    expect(checkTransport(bad, 20, 44, 26, ctx, 'udp', 17, 24)).toEqual({ status: 'bad', value: 0x83ed, expected: 0x83ec });
    expect(issues).toEqual([{ layer: 0, kind: 'bad-checksum', message: 'udp checksum 0x83ed, expected 0x83ec' }]);
  });

  it('adds no issue for offload', () => {
    const offload = UDP4.slice();
    offload[26] = 0xec;
    offload[27] = 0x60;
    const { ctx, issues } = decodeContext({ ip: ipv4Context(A4, B4, 17, 24) });
    expect(checkTransport(offload, 20, 44, 26, ctx, 'udp', 17, 24).status).toBe('offload');
    expect(issues).toEqual([]);
  });

  it('expects 0xffff where a UDP checksum computes to zero (RFC 768)', () => {
    // tshark: "Bad checksum [should be 0xffff]"
    const { ctx, issues } = decodeContext({ ip: ipv4Context(A4, B4, 17, 26) });
    expect(checkTransport(UDP4_COMPUTES_ZERO_BAD, 20, 46, 26, ctx, 'udp', 17, 26))
      .toEqual({ status: 'bad', value: 0x1234, expected: 0xffff });
    expect(issues[0].message).toBe('udp checksum 0x1234, expected 0xffff');
    // Under protocol 6 the sum is 11 lower; raising the last word by 11 makes
    // it compute to zero again, and outside UDP the expected value stays 0x0000.
    const tcpLike = UDP4_COMPUTES_ZERO_BAD.slice();
    tcpLike[45] = 0x1a;
    const other = checkTransport(tcpLike, 20, 46, 26, decodeContext({ ip: ipv4Context(A4, B4, 6, 26) }).ctx, 'tcp', 6, 26);
    expect(other).toEqual({ status: 'bad', value: 0x1234, expected: 0x0000 });
  });

  it('names why it did not verify: disabled, quoted, no IP header, malformed lengths', () => {
    const ip = ipv4Context(A4, B4, 17, 24);
    expect(checkTransport(UDP4, 20, 44, 26, decodeContext({ ip, verify: false }).ctx, 'udp', 17, 24))
      .toEqual({ status: 'unverified', value: 0x83ed, reason: 'disabled' });
    // Quoted by an ICMP error: verified when whole, `quoted` when cut.
    expect(checkTransport(UDP4, 20, 44, 26, decodeContext({ ip, quoted: true }).ctx, 'udp', 17, 24))
      .toEqual(checkTransport(UDP4, 20, 44, 26, decodeContext({ ip }).ctx, 'udp', 17, 24));
    expect(checkTransport(UDP4, 20, 40, 26, decodeContext({ ip, quoted: true }).ctx, 'udp', 17, 24))
      .toEqual({ status: 'unverified', value: 0x83ed, reason: 'quoted' });
    expect(checkTransport(UDP4, 20, 40, 26, decodeContext({ ip }).ctx, 'udp', 17, 24).reason).toBe('snaplen');
    expect(checkTransport(UDP4, 20, 44, 26, decodeContext({ ip: null }).ctx, 'udp', 17, 24))
      .toEqual({ status: 'unverified', value: 0x83ed, reason: 'no-ip-header' });
    // More than the IP payload, or too short to hold the checksum field.
    expect(checkTransport(UDP4, 20, 44, 26, decodeContext({ ip }).ctx, 'udp', 17, 25).reason).toBe('malformed');
    expect(checkTransport(UDP4, 20, 44, 26, decodeContext({ ip }).ctx, 'udp', 17, 7).reason).toBe('malformed');
  });
});

describe('checkPlain', () => {
  it('verifies the whole message the IP header sizes', () => {
    const { ctx, issues } = decodeContext({ ip: ipv4Context(A4, B4, 1, 24) });
    expect(checkPlain(ICMP_ECHO, 20, 44, 22, ctx, 'icmp')).toEqual({ status: 'good', value: 0xf2a0 });
    expect(issues).toEqual([]);
  });

  it('reports a bad checksum with the expected value', () => {
    const bad = ICMP_ECHO.slice();
    bad[43] ^= 0x01; // scapy on the modified packet: 0xf29f
    const { ctx, issues } = decodeContext({ ip: ipv4Context(A4, B4, 1, 24) });
    expect(checkPlain(bad, 20, 44, 22, ctx, 'icmp')).toEqual({ status: 'bad', value: 0xf2a0, expected: 0xf29f });
    expect(issues).toEqual([{ layer: 0, kind: 'bad-checksum', message: 'icmp checksum 0xf2a0, expected 0xf29f' }]);
  });

  it('leaves a message cut by the snaplen unverified', () => {
    const { ctx, issues } = decodeContext({ ip: ipv4Context(A4, B4, 1, 24) });
    expect(checkPlain(ICMP_ECHO, 20, 40, 22, ctx, 'icmp')).toEqual({ status: 'unverified', value: 0xf2a0, reason: 'snaplen' });
    expect(issues).toEqual([]);
  });

  it('does not sum a message the IP header makes too short for the field', () => {
    expect(checkPlain(ICMP_ECHO, 20, 44, 22, decodeContext({ ip: ipv4Context(A4, B4, 1, 3) }).ctx, 'icmp').reason).toBe('malformed');
  });
});
