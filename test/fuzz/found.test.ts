// What the fuzz tests found, each shrunk to a packet built by hand and kept
// as an example: an empty or versionless raw-IP record that said nothing,
// printed lines that showed "undefined" and "NaN" for headers cut short.

import { describe, expect, it } from 'vitest';
import { dissect } from '../../decoders/dissect.js';
import { packetLine } from '../../src/output/line.js';
import { fromHex } from '../helpers/bytes.js';
import { checkDissect, recordOf } from './invariants.js';

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_IPV4 = 228;

/** The line after its timestamp, as `tunscope read` prints it. */
function lineOf(bytes: Uint8Array, linktype: number): string {
  const line = packetLine(recordOf(bytes, linktype), dissect(bytes, linktype, bytes.length));
  return line.slice(line.indexOf(' ') + 1);
}

// IPv4 10.0.0.1 > 10.0.0.2 with a zero header checksum, protocol and total length as each test needs.
const IPV4_ICMP_28 = '4500001c 00010000 40010000 0a000001 0a000002';
const IPV4_TCP_44 = '4500002c 00010000 40060000 0a000001 0a000002';

describe('found by fuzzing', () => {
  it('an empty raw-IP record is a truncated IP header, not a packet with nothing in it', () => {
    const packet = checkDissect(new Uint8Array(0), LINKTYPE_RAW);
    expect(packet.issues).toEqual([
      { layer: 0, kind: 'truncated', message: 'ip header needs 20 bytes, 0 captured', needed: 20, available: 0 },
    ]);
  });

  it('a raw-IP record whose version nibble is neither 4 nor 6 is malformed', () => {
    const packet = checkDissect(fromHex('50 00 00 14'), LINKTYPE_RAW);
    expect(packet.layers).toEqual([{ proto: 'payload', offset: 0, length: 4, linktype: LINKTYPE_RAW }]);
    expect(packet.issues).toEqual([{ layer: 0, kind: 'malformed', message: 'raw IP packet of version 5, neither 4 nor 6' }]);
  });

  it('an IPv6 Jumbo Payload length of 0 is malformed, not a packet that ends inside its extension headers', () => {
    // BSD loopback, AF_INET6 (10, host order); IPv6 with payload length 24: a Hop-by-Hop header holding a
    // Jumbo Payload option (0xc2, 4 bytes) of length 0, then Routing and Destination Options headers, then UDP.
    const bytes = fromHex(`0a000000 60000000 00180040 20010db8000000000000000000000001 20010db8000000000000000000000002
      2b00c20400000000 3c00000000000000 1100000000000000 0000000000000000`);
    const packet = checkDissect(bytes, 0);
    expect(packet.layers.map((l) => l.proto)).toEqual(['null', 'ipv6']);
    // RFC 2675 section 2: the Jumbo Payload Length must be greater than 65,535.
    expect(packet.issues).toEqual([{ layer: 1, kind: 'malformed', message: 'ipv6 jumbo payload length 0 is not greater than 65535' }]);
  });

  it('an IPv6 packet an ICMPv6 error quotes, with payload length 0 and an extension header, leaves no negative payload', () => {
    // Raw IPv6, destination unreachable (ICMPv6 type 1) quoting IPv6 with payload length 0, next header 43: a
    // Routing header of 8 bytes (next header 17), then UDP to port 4790 with length 16, and 8 bytes after it.
    const bytes = fromHex(`60000000 00483a40 20010db8000000000000000000000001 20010db8000000000000000000000002
      01000000 00000000
      60000000 00002b40 20010db8000000000000000000000001 20010db8000000000000000000000002
      11000000 00000000 000012b6 00100000 c0000001 00000000`);
    const packet = checkDissect(bytes, LINKTYPE_RAW);
    expect(packet.layers.map((l) => l.proto).slice(0, 4)).toEqual(['ipv6', 'icmpv6', 'ipv6', 'udp']);
    // The quoted header holds no length for what follows its extension headers: 0 bytes, not 0 - 8.
    const udp = packet.issues.find((issue) => issue.layer === 3 && issue.kind === 'malformed');
    expect(udp).toMatchObject({ needed: 16, available: 0 });
  });

  it('prints no fragment id for an IPv6 fragment header that runs past the payload length', () => {
    // Payload length 4, next header 44: the 8-byte fragment header does not fit in it.
    const bytes = fromHex(`60000000 00042c40 20010db8000000000000000000000001 20010db8000000000000000000000002
      11000001 00c0ffee`);
    const line = lineOf(bytes, 229);
    expect(line).toMatch(/^IP6 2001:db8::1 > 2001:db8::2: ip-proto-44, /);
    expect(line).not.toMatch(/\(frag|undefined/);
    expect(line).toMatch(/ \[malformed: ipv6 fragment header runs past the payload length 4\]$/);
  });

  it('prints an IPv4 header cut before its destination as [|ip], as tcpdump does', () => {
    expect(lineOf(fromHex(IPV4_ICMP_28).subarray(0, 15), LINKTYPE_IPV4))
      .toBe('IP [|ip] [truncated: ipv4 header needs 20 bytes, 15 captured]');
  });

  it('prints an ICMP header cut after 2 bytes as [|icmp]', () => {
    expect(lineOf(fromHex(`${IPV4_ICMP_28} 0800`), LINKTYPE_IPV4)).toBe('IP 10.0.0.1 > 10.0.0.2: [|icmp] ' +
      '[bad ipv4 cksum 0x0000 -> 0x66de] [truncated: ipv4 total length 28 exceeds the 22 bytes the frame holds] ' +
      '[truncated: icmp header needs 8 bytes, 2 captured]');
  });

  it('prints a TCP header cut after its ports as [|tcp], with the ports', () => {
    expect(lineOf(fromHex(`${IPV4_TCP_44} 3039 0050`), LINKTYPE_IPV4)).toBe('IP 10.0.0.1.12345 > 10.0.0.2.80: [|tcp] ' +
      '[bad ipv4 cksum 0x0000 -> 0x66c9] [truncated: ipv4 total length 44 exceeds the 24 bytes the frame holds] ' +
      '[truncated: tcp header needs 20 bytes, 4 captured]');
  });

  it('prints an MSS option of the wrong length as [bad opt], not undefined', () => {
    // Data offset 6: one option word, kind 2 (MSS) with length 3 where RFC 9293 says 4, then a NOP.
    const line = lineOf(fromHex(`4500002c 00010000 40060000 0a000001 0a000002
      30390050 00000001 00000000 6002ffff 00000000 020305 01`), LINKTYPE_IPV4);
    expect(line).toContain('Flags [S], seq 1, win 65535, options [mss [bad opt],nop], length 0');
  });

  it('prints a VLAN tag cut after 1 byte as [|vlan] and an ARP header cut after 2 bytes as [|arp]', () => {
    expect(lineOf(fromHex('020000000001 020000000002 8100 00'), LINKTYPE_ETHERNET))
      .toBe('[|vlan], 02:00:00:00:00:02 > 02:00:00:00:00:01, vlan, length 1 [truncated: vlan header needs 4 bytes, 1 captured]');
    expect(lineOf(fromHex('020000000001 020000000002 0806 0001'), LINKTYPE_ETHERNET))
      .toBe('ARP, [|arp] [truncated: arp header needs 8 bytes, 2 captured]');
  });
});
