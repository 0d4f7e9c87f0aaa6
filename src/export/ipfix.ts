// IPFIX messages (RFC 7011) for inner flows: the templates and the data
// records, with the tunnel a flow travelled in as Open vSwitch exports it —
// layer2SegmentId (IE 351: the tunnel type in the top byte, 0x01 VXLAN, 0x02
// GRE, and the 24-bit segment id in the low three) and the VMware enterprise
// elements 891-897 (PEN 6876). A flow outside every tunnel uses a template
// without any tunnel element.
//
// A message (RFC 7011 section 3.1), then its sets (3.3.2), each a template
// set (id 2) or a data set (the id of its template):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |       Version Number (10)     |            Length             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                           Export Time                         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                       Sequence Number                         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Observation Domain ID                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Set ID               |          Length               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A template record is its id and field count, then per field its element id
// (the top bit set for an enterprise element, followed by the 4-byte PEN) and
// length (3.4.1, 3.2).

export const IPFIX_VERSION = 10;
export const IPFIX_DEFAULT_PORT = 4739;
const SET_TEMPLATE = 2;
const MESSAGE_HEADER = 16;
const SET_HEADER = 4;
/** What one UDP datagram carries at most: it fits a 1500-byte Ethernet path with its IP and UDP headers. */
export const MAX_MESSAGE = 1400;
export const VMWARE_PEN = 6876;

/** Open vSwitch's tunnelType values (dpif_ipfix_tunnel_type). */
export const OVS_TUNNEL_UNKNOWN = 0;
export const OVS_TUNNEL_VXLAN = 1;
export const OVS_TUNNEL_GRE = 2;
export const OVS_TUNNEL_GENEVE = 7;

/** flowEndReason (IE 136), RFC 5102 section 5.11.3. */
export const END_IDLE = 1;
export const END_ACTIVE = 2;
export const END_FORCED = 4;
export const END_RESOURCES = 5;

export interface FieldSpec {
  /** Information element id. */
  id: number;
  /** Length in the record, in bytes. */
  length: number;
  /** Private enterprise number, for enterprise-specific elements. */
  pen?: number;
  name: string;
}

export interface FlowTunnel {
  /** Open vSwitch tunnelType (OVS_TUNNEL_*). */
  type: number;
  /** VNI, GRE key, ERSPAN session id (0 when the tunnel has none). */
  key: number;
  /** IE 351, as Open vSwitch writes it; 0n for a tunnel without a layer 2 segment id. */
  layer2SegmentId: bigint;
  /** 4 or 16 bytes each. */
  src: Uint8Array;
  dst: Uint8Array;
  /** The protocol that carries the tunnel: 17 UDP, 47 GRE, 4 or 41 IP in IP. */
  protocol: number;
  srcPort: number;
  dstPort: number;
}

export interface FlowRecord {
  /** 4 or 16 bytes each. */
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  octets: number;
  packets: number;
  startMs: number;
  endMs: number;
  endReason: number;
  tunnel: FlowTunnel | null;
}

const FLOW_FIELDS = (v6: boolean): FieldSpec[] => [
  v6 ? { id: 27, length: 16, name: 'sourceIPv6Address' } : { id: 8, length: 4, name: 'sourceIPv4Address' },
  v6 ? { id: 28, length: 16, name: 'destinationIPv6Address' } : { id: 12, length: 4, name: 'destinationIPv4Address' },
  { id: 4, length: 1, name: 'protocolIdentifier' },
  { id: 7, length: 2, name: 'sourceTransportPort' },
  { id: 11, length: 2, name: 'destinationTransportPort' },
  { id: 6, length: 2, name: 'tcpControlBits' },
  { id: 1, length: 8, name: 'octetDeltaCount' },
  { id: 2, length: 8, name: 'packetDeltaCount' },
  { id: 152, length: 8, name: 'flowStartMilliseconds' },
  { id: 153, length: 8, name: 'flowEndMilliseconds' },
  { id: 136, length: 1, name: 'flowEndReason' },
];

/** The tunnel elements; Open vSwitch defines outer addresses for IPv4 only, so an IPv6 underlay has none. */
const TUNNEL_FIELDS = (outerV4: boolean): FieldSpec[] => [
  { id: 351, length: 8, name: 'layer2SegmentId' },
  { id: 891, length: 1, pen: VMWARE_PEN, name: 'tunnelType' },
  { id: 892, length: 4, pen: VMWARE_PEN, name: 'tunnelKey' },
  ...(outerV4 ? [
    { id: 893, length: 4, pen: VMWARE_PEN, name: 'tunnelSourceIPv4Address' },
    { id: 894, length: 4, pen: VMWARE_PEN, name: 'tunnelDestinationIPv4Address' },
  ] : []),
  { id: 895, length: 1, pen: VMWARE_PEN, name: 'tunnelProtocolIdentifier' },
  { id: 896, length: 2, pen: VMWARE_PEN, name: 'tunnelSourceTransportPort' },
  { id: 897, length: 2, pen: VMWARE_PEN, name: 'tunnelDestinationTransportPort' },
];

export interface Template {
  id: number;
  fields: FieldSpec[];
  /** Bytes of one data record. */
  recordLength: number;
}

/**
 * The six templates: inner IPv4 or IPv6, outside a tunnel (256, 257), in a
 * tunnel over IPv4 (258, 259) or over IPv6 (260, 261).
 */
export const TEMPLATES: Template[] = [0, 1, 2].flatMap((tunnel) => [false, true].map((v6) => {
  const fields = [...FLOW_FIELDS(v6), ...(tunnel === 0 ? [] : TUNNEL_FIELDS(tunnel === 1))];
  return { id: 256 + tunnel * 2 + (v6 ? 1 : 0), fields, recordLength: fields.reduce((sum, f) => sum + f.length, 0) };
}));

export function templateOf(flow: FlowRecord): Template {
  const tunnel = flow.tunnel === null ? 0 : flow.tunnel.src.length === 4 ? 1 : 2;
  return TEMPLATES[tunnel * 2 + (flow.src.length === 16 ? 1 : 0)];
}

/** Writes a number of up to 8 bytes, big-endian. */
function putUnsigned(view: DataView, at: number, length: number, value: number | bigint): void {
  if (length === 8) view.setBigUint64(at, typeof value === 'bigint' ? value : BigInt(Math.max(0, Math.floor(value))));
  else if (length === 4) view.setUint32(at, Number(value) >>> 0);
  else if (length === 2) view.setUint16(at, Number(value) & 0xffff);
  else view.setUint8(at, Number(value) & 0xff);
}

function valueOf(flow: FlowRecord, name: string): number | bigint | Uint8Array {
  const t = flow.tunnel;
  switch (name) {
    case 'sourceIPv4Address': case 'sourceIPv6Address': return flow.src;
    case 'destinationIPv4Address': case 'destinationIPv6Address': return flow.dst;
    case 'protocolIdentifier': return flow.protocol;
    case 'sourceTransportPort': return flow.srcPort;
    case 'destinationTransportPort': return flow.dstPort;
    case 'tcpControlBits': return flow.tcpFlags;
    case 'octetDeltaCount': return flow.octets;
    case 'packetDeltaCount': return flow.packets;
    case 'flowStartMilliseconds': return flow.startMs;
    case 'flowEndMilliseconds': return flow.endMs;
    case 'flowEndReason': return flow.endReason;
    case 'layer2SegmentId': return t!.layer2SegmentId;
    case 'tunnelType': return t!.type;
    case 'tunnelKey': return t!.key;
    case 'tunnelSourceIPv4Address': return t!.src;
    case 'tunnelDestinationIPv4Address': return t!.dst;
    case 'tunnelProtocolIdentifier': return t!.protocol;
    case 'tunnelSourceTransportPort': return t!.srcPort;
    case 'tunnelDestinationTransportPort': return t!.dstPort;
    default: throw new Error(`no value for ${name}`);
  }
}

/** One data record of `flow` at `at`, in `template`'s field order. */
function writeRecord(view: DataView, bytes: Uint8Array, at: number, template: Template, flow: FlowRecord): number {
  for (const field of template.fields) {
    const value = valueOf(flow, field.name);
    if (value instanceof Uint8Array) bytes.set(value.subarray(0, field.length), at);
    else putUnsigned(view, at, field.length, value);
    at += field.length;
  }
  return at;
}

/** The layer2SegmentId Open vSwitch writes: the type byte, then the 24-bit segment id in the low three bytes. */
export function layer2SegmentId(typeByte: number, segment: number): bigint {
  return (BigInt(typeByte & 0xff) << 56n) | BigInt(segment & 0xffffff);
}

/**
 * Makes the messages of one exporting process and observation domain, and
 * keeps its sequence number: the count of data records sent before each message.
 */
export class IpfixEncoder {
  sequence = 0;

  constructor(readonly observationDomain = 1) {}

  private message(sets: Uint8Array[], exportSeconds: number): Uint8Array {
    const length = MESSAGE_HEADER + sets.reduce((sum, s) => sum + s.length, 0);
    const out = new Uint8Array(length);
    const view = new DataView(out.buffer);
    view.setUint16(0, IPFIX_VERSION);
    view.setUint16(2, length);
    view.setUint32(4, Math.floor(exportSeconds) >>> 0);
    view.setUint32(8, this.sequence >>> 0);
    view.setUint32(12, this.observationDomain >>> 0);
    let at = MESSAGE_HEADER;
    for (const set of sets) {
      out.set(set, at);
      at += set.length;
    }
    return out;
  }

  /** One message with the template set of every template. */
  templates(exportSeconds: number): Uint8Array {
    let length = SET_HEADER;
    for (const t of TEMPLATES) length += 4 + t.fields.reduce((sum, f) => sum + (f.pen === undefined ? 4 : 8), 0);
    const set = new Uint8Array(length);
    const view = new DataView(set.buffer);
    view.setUint16(0, SET_TEMPLATE);
    view.setUint16(2, length);
    let at = SET_HEADER;
    for (const t of TEMPLATES) {
      view.setUint16(at, t.id);
      view.setUint16(at + 2, t.fields.length);
      at += 4;
      for (const f of t.fields) {
        view.setUint16(at, f.pen === undefined ? f.id : f.id | 0x8000);
        view.setUint16(at + 2, f.length);
        at += 4;
        if (f.pen !== undefined) {
          view.setUint32(at, f.pen);
          at += 4;
        }
      }
    }
    return this.message([set], exportSeconds);
  }

  /** The flows as data messages of at most MAX_MESSAGE bytes, one data set per template in each. */
  data(flows: FlowRecord[], exportSeconds: number): Uint8Array[] {
    const messages: Uint8Array[] = [];
    let sets: Uint8Array[] = [];
    let size = MESSAGE_HEADER;
    let records = 0;
    const byTemplate = new Map<Template, FlowRecord[]>();
    for (const flow of flows) {
      const t = templateOf(flow);
      let list = byTemplate.get(t);
      if (list === undefined) byTemplate.set(t, list = []);
      list.push(flow);
    }
    const finish = (): void => {
      if (sets.length === 0) return;
      messages.push(this.message(sets, exportSeconds));
      this.sequence = (this.sequence + records) % 0x100000000;
      sets = [];
      size = MESSAGE_HEADER;
      records = 0;
    };
    for (const [template, list] of byTemplate) {
      let i = 0;
      while (i < list.length) {
        let room = Math.floor((MAX_MESSAGE - size - SET_HEADER) / template.recordLength);
        if (room < 1) {
          finish();
          room = Math.floor((MAX_MESSAGE - size - SET_HEADER) / template.recordLength);
        }
        const take = list.slice(i, i + room);
        const set = new Uint8Array(SET_HEADER + take.length * template.recordLength);
        const view = new DataView(set.buffer);
        view.setUint16(0, template.id);
        view.setUint16(2, set.length);
        let at = SET_HEADER;
        for (const flow of take) at = writeRecord(view, set, at, template, flow);
        sets.push(set);
        size += set.length;
        records += take.length;
        i += take.length;
      }
    }
    finish();
    return messages;
  }
}
