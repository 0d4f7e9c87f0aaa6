// The traffic model of the mixed benchmark capture: kinds of flow and the
// tunnels that carry them, tunnels, and flows with their addresses and ports.

// ---------------------------------------------------------------------------
// The traffic model.

/** Kinds of flow, with the share of flows each gets and the tunnel that carries them. */
export const KINDS = [
  // name, share of the flows, tunnel type (null: none)
  { name: 'vxlan-4789', share: 0.30, tunnel: 'vxlan' },
  { name: 'vxlan-8472', share: 0.14, tunnel: 'vxlan' },
  { name: 'geneve', share: 0.12, tunnel: 'geneve' },
  { name: 'gre-key', share: 0.09, tunnel: 'gre' },
  { name: 'gretap-key', share: 0.05, tunnel: 'gretap' },
  { name: 'ipip', share: 0.10, tunnel: 'ipip' },
  { name: 'tcp4', share: 0.11, tunnel: null },
  { name: 'tcp6', share: 0.03, tunnel: null },
  { name: 'udp4', share: 0.06, tunnel: null },
];

export const KIND_NAMES = KINDS.map((k) => k.name);

export function ipText(a) {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/**
 * Tunnels are endpoint pairs with an id; a tunnel carries traffic both ways, and
 * each direction is a tunnel entry of its own in the ground truth (the design's
 * "a tunnel entry is one direction").
 */
export function makeTunnels(count, kinds, random) {
  const tunnelKinds = kinds.filter((k) => k.tunnel !== null);
  const shareSum = tunnelKinds.reduce((s, k) => s + k.share, 0);
  const byKind = new Map();
  const all = [];
  for (const kind of tunnelKinds) {
    const n = Math.max(1, Math.round((count * kind.share) / shareSum));
    const list = [];
    for (let i = 0; i < n; i++) {
      const index = all.length;
      // Underlay VTEPs 10.<rack>.<host>.1 .. : distinct per tunnel so each direction is one tunnel entry.
      const a = ((10 << 24) | ((1 + (index % 200)) << 16) | ((1 + random.int(250)) << 8) | (1 + (index >> 8))) >>> 0;
      const b = ((10 << 24) | ((1 + random.int(200)) << 16) | ((1 + random.int(250)) << 8) | (101 + (index % 100))) >>> 0;
      const tunnel = {
        index,
        kind: kind.name,
        type: kind.tunnel,
        a,
        b,
        macA: 0x0a000000 + index * 2,
        macB: 0x0a000001 + index * 2,
        // VNI, GRE key, or none.
        id: kind.tunnel === 'ipip' ? null : kind.tunnel === 'gre' || kind.tunnel === 'gretap' ? 1000 + index : 5000 + index,
        // VXLAN and Geneve: does the sender fill in the outer UDP checksum (Linux `udpcsum`)?
        udpChecksum: (kind.tunnel === 'vxlan' || kind.tunnel === 'geneve') && random.float() < 0.25,
        // GRE and gretap: is the checksum bit set (Linux `csum`)?
        greChecksum: (kind.tunnel === 'gre' || kind.tunnel === 'gretap') && random.float() < 0.2,
        // Geneve: does every packet carry one 8-byte option?
        geneveOption: kind.tunnel === 'geneve' && random.float() < 0.5,
        // VXLAN over an underlay with a 1500-byte MTU: full-size inner frames are fragmented.
        fragments: kind.tunnel === 'vxlan' && random.float() < 0.05,
        ipId: random.int(65536),
        ipIdBack: random.int(65536),
      };
      tunnel.udpChecksum &&= !tunnel.fragments;
      list.push(tunnel);
      all.push(tunnel);
    }
    byKind.set(kind.name, list);
  }
  return { all, byKind };
}

function pickKind(kinds, shareSum, random) {
  let u = random.float() * shareSum;
  for (const kind of kinds) {
    if (u < kind.share) return kind;
    u -= kind.share;
  }
  return kinds[kinds.length - 1];
}

export function makeFlows(count, kinds, tunnels, random) {
  const flows = [];
  const shareSum = kinds.reduce((sum, k) => sum + k.share, 0);
  for (let i = 0; i < count; i++) {
    const kind = pickKind(kinds, shareSum, random);
    const list = kind.tunnel === null ? null : tunnels.byKind.get(kind.name);
    const tunnel = list === null ? null : list[random.int(list.length)];
    const udp = kind.name === 'udp4' || (tunnel !== null && tunnel.type !== 'ipip' && random.float() < 0.1);
    const site = random.int(250);
    const flow = {
      index: i,
      kind: kind.name,
      tunnel,
      udp,
      v6: kind.name === 'tcp6',
      // Inner (or plain) addresses: 172.16-31.x.y, or 2001:db8:site::host.
      client: ((172 << 24) | ((16 + random.int(16)) << 16) | (site << 8) | (1 + random.int(254))) >>> 0,
      server: ((172 << 24) | ((16 + random.int(16)) << 16) | (random.int(250) << 8) | (1 + random.int(254))) >>> 0,
      client6: [0x20010db8, (site << 16) >>> 0, 0, 1 + random.int(0xfffe)],
      server6: [0x20010db8, ((site + 1) << 16) >>> 0, 0, 1 + random.int(0xfffe)],
      clientPort: 32768 + random.int(28232),
      serverPort: [443, 80, 8080, 5201, 22, 9092, 6379, 53][random.int(8)],
      // Outer UDP source port: Linux hashes the inner flow into 49152-65535 (or the kernel's range).
      outerPort: 49152 + random.int(16384),
      outerPortBack: 49152 + random.int(16384),
      // Captured on the sending host: data segments carry CHECKSUM_PARTIAL.
      partial: random.float() < 0.08 && !(tunnel !== null && tunnel.fragments),
      seq: random.u32(),
      ack: random.u32(),
      tsval: random.u32(),
      tsecr: random.u32(),
      macClient: 0x0c000000 + i * 2,
      macServer: 0x0c000001 + i * 2,
    };
    if (flow.udp && flow.serverPort !== 53) flow.serverPort = [4433, 5201, 1194, 3478][random.int(4)];
    flows.push(flow);
  }
  return flows;
}

