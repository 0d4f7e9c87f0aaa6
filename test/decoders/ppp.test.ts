import { describe, expect, it } from 'vitest';
import { decodePpp } from '../../decoders/ppp.js';
import { dissect } from '../../decoders/dissect.js';
import { Registry } from '../../decoders/registry.js';
import { fromHex } from '../helpers/bytes.js';
import { decodeContext } from '../helpers/decode-context.js';
import { readCaptureRecords } from '../helpers/pcap-files.js';
import { havePeerCaptures, peerCapture, requireOrSkip } from '../helpers/tools.js';

describe('decodePpp', () => {
  it('reads address, control and a two-byte protocol', () => {
    // The PPP header of pptp.pcap frame 16; tshark: Address 0xff, Control 0x03, Protocol 0xc021 (LCP).
    const { ctx, issues } = decodeContext();
    const { layer, next } = decodePpp(fromHex('ff03c02101000002'), 0, 8, ctx);
    expect(layer).toEqual({ proto: 'ppp', offset: 0, length: 4, address: 0xff, control: 0x03, protocol: 0xc021 });
    expect(next).toEqual({ table: 'ppp', key: 0xc021 });
    expect(issues).toEqual([]);
  });

  it('reads a compressed address and control and a compressed protocol', () => {
    // scapy PPP(proto=0x21)/IP() inside GRE_PPTP writes the protocol as the single byte 0x21.
    const { layer, next } = decodePpp(fromHex('2145000014'), 0, 5, decodeContext().ctx);
    expect(layer).toEqual({ proto: 'ppp', offset: 0, length: 1, protocol: 0x21 });
    expect(next).toEqual({ table: 'ppp', key: 0x21 });
  });

  it('reads a two-byte protocol without address and control', () => {
    const { layer } = decodePpp(fromHex('00576000'), 0, 4, decodeContext().ctx);
    expect(layer).toEqual({ proto: 'ppp', offset: 0, length: 2, protocol: 0x0057 });
  });

  it('reads a compressed protocol after address and control', () => {
    const { layer } = decodePpp(fromHex('ff032145'), 0, 4, decodeContext().ctx);
    expect(layer).toEqual({ proto: 'ppp', offset: 0, length: 3, address: 0xff, control: 0x03, protocol: 0x21 });
  });

  it('takes 0xff not followed by 0x03 as a compressed protocol', () => {
    const { layer } = decodePpp(fromHex('ff21'), 0, 2, decodeContext().ctx);
    expect(layer).toEqual({ proto: 'ppp', offset: 0, length: 1, protocol: 0xff });
  });

  it('calls an even protocol number malformed', () => {
    const { ctx, issues } = decodeContext();
    const { layer } = decodePpp(fromHex('0020'), 0, 2, ctx);
    expect(layer.protocol).toBe(0x0020);
    expect(issues.map((i) => i.kind)).toEqual(['malformed']);
  });

  it('reports short headers as truncated', () => {
    const cases: [string, number, number][] = [['', 0, 1], ['00', 1, 2], ['ff03', 2, 3], ['ff0300', 3, 4]];
    for (const [text, available, needed] of cases) {
      const { ctx, issues } = decodeContext();
      const bytes = fromHex(text);
      const { layer, next } = decodePpp(bytes, 0, bytes.length, ctx);
      expect(next).toBeNull();
      expect(layer.length).toBe(available);
      expect(issues).toEqual([
        { layer: 0, kind: 'truncated', message: `PPP header needs ${needed} bytes, ${available} captured`, needed, available },
      ]);
    }
  });
});

describe('PPP in tcpdump\'s test captures, read through the engine', () => {

  it('pptp.pcap: enhanced GRE carrying an LCP Configure-Request', ({ skip }) => {
    if (!requireOrSkip(havePeerCaptures, 'the peer captures')) skip();
    const records = readCaptureRecords(peerCapture('pptp.pcap'));
    const record = records[15];
    const packet = dissect(record.data, record.linktype, record.wireLength, { registry: new Registry() });
    const protos = packet.layers.map((l) => l.proto);
    expect(protos.slice(0, 4)).toEqual(['eth', 'ipv4', 'gre', 'ppp']);
    // tshark frame 16: flags 0x3001, Payload Length 48, Call ID 0, Sequence Number 0; PPP ff 03 c021.
    expect(packet.layers[2]).toMatchObject({
      offset: 34, length: 12, version: 1, checksumPresent: false, routingPresent: false, keyPresent: true,
      sequencePresent: true, ackPresent: false, reserved0: 0, protocolType: 0x880b, payloadLength: 48, callId: 0,
      sequence: 0,
    });
    expect(packet.layers[3]).toEqual({ proto: 'ppp', offset: 46, length: 4, address: 0xff, control: 0x03, protocol: 0xc021 });
    // LCP has no decoder: the rest is payload of PPP protocol 0xc021, up to the 48 bytes the key says.
    expect(packet.layers[4]).toMatchObject({ proto: 'payload', offset: 50, length: 44 });
    expect(packet.tunnels).toEqual([expect.objectContaining({ type: 'gre', src: '10.1.1.11', dst: '10.1.1.10' })]);
  });
});
