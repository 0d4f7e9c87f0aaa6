// Matching sightings of one packet across capture points into journeys.
//
// Sightings arrive in timestamp order from every point at once. Each is looked
// up by its exact key, then by its NAT-proof loose key; a journey already seen at
// the same point is a different packet (a retransmission, a repeated ARP). A
// journey lives for the matching window after its first sighting and is then
// closed and handed on, so memory follows the window, not the captures; one
// seen at every point that nothing more can join is closed at once.
//
// Three things are not one sighting per packet:
// - fragments: a later fragment joins the journey of its datagram's first one;
// - GSO/GRO: a TCP super-packet at one point covers a run of segments at
//   another; a segment without a journey of its own joins the super-packet's,
//   and a segment journey finds, when it closes, the super-packet that carried it;
// - ICMP errors: besides being packets of their own, they are evidence on the
//   journey of the packet they quote.

import type { ErrorSeen, Fingerprint } from './fingerprint.js';

export interface Sight {
  time: number;
  fp: Fingerprint;
  /** Pieces seen here: fragments of the datagram, or segments of a super-packet. */
  pieces: number;
  /** Seen here only inside a GRO super-packet that another journey is. */
  merged: boolean;
}

export interface Evidence {
  error: ErrorSeen;
  points: Set<number>;
}

export class Journey {
  readonly sights: Array<Sight | undefined>;
  /** Points with a sighting. */
  seenAt = 0;
  closed = false;
  replied = false;
  evidence: Map<string, Evidence> | null = null;

  constructor(points: number, readonly first: number, readonly kind: Fingerprint['kind']) {
    this.sights = new Array(points);
  }

  addEvidence(error: ErrorSeen, point: number): void {
    this.evidence ??= new Map();
    let seen = this.evidence.get(error.text);
    if (seen === undefined) this.evidence.set(error.text, seen = { error, points: new Set() });
    seen.points.add(point);
  }
}

/** What a point saw in all, whatever matched. */
export interface PointTally {
  records: number;
  /** Packets with a fingerprint (an IP packet or ARP message inside). */
  packets: number;
  /** Of those, inside at least one tunnel. */
  encapsulated: number;
  first: number;
  last: number;
  /** Innermost addresses seen at the point. */
  addresses: Set<string>;
}

interface SuperRange {
  start: number;
  end: number;
  point: number;
  time: number;
  journey: Journey;
}

/** A TCP payload larger than any Ethernet segment carries: a GSO/TSO/GRO super-packet. */
const SUPER_PAYLOAD = 1500;

export class Matcher {
  readonly tallies: PointTally[];
  private readonly exact = new Map<number, Journey>();
  private readonly loose = new Map<number, Journey>();
  private readonly fragments = new Map<number, Journey>();
  private readonly awaiting = new Map<number, Journey>();
  private readonly supers = new Map<number, SuperRange[]>();
  private open: Journey[] = [];
  private head = 0;

  constructor(
    private readonly points: number,
    private readonly window: number,
    private readonly onClose: (journey: Journey) => void,
  ) {
    this.tallies = Array.from({ length: points }, () => ({
      records: 0, packets: 0, encapsulated: 0, first: Infinity, last: -Infinity, addresses: new Set<string>(),
    }));
  }

  /** A record at a point that carries nothing to match (no IP, no ARP): counted only. */
  count(point: number, time: number): void {
    const tally = this.tallies[point];
    tally.records++;
    if (time < tally.first) tally.first = time;
    if (time > tally.last) tally.last = time;
  }

  add(point: number, time: number, fp: Fingerprint): void {
    this.count(point, time);
    const tally = this.tallies[point];
    tally.packets++;
    if (fp.tunnels.length > 0) tally.encapsulated++;
    tally.addresses.add(fp.src);
    tally.addresses.add(fp.dst);
    this.closeBefore(time - this.window);

    if (fp.error !== null) {
      const quoted = this.exact.get(fp.error.key) ?? this.loose.get(fp.error.loose);
      quoted?.addEvidence(fp.error, point);
    }
    if (fp.answers !== null) {
      const request = this.awaiting.get(fp.answers);
      if (request !== undefined) request.replied = true;
    }
    if (fp.laterFragment && fp.fragment !== null) {
      const datagram = this.fragments.get(fp.fragment);
      if (datagram !== undefined) return this.addPiece(datagram, point, time, fp);
    }
    let journey = this.exact.get(fp.key);
    if (journey === undefined || journey.sights[point] !== undefined) {
      const other = this.loose.get(fp.loose);
      if (other !== undefined && other.kind === fp.kind && other.sights[point] === undefined) journey = other;
    }
    if (journey !== undefined && journey.sights[point] !== undefined) journey = undefined;
    if (journey === undefined && fp.tcpFlow !== null && fp.payloadLength > 0) {
      const carrier = this.superCovering(fp.tcpFlow, fp.seq, (p) => p !== point);
      if (carrier !== undefined) return this.addPiece(carrier.journey, point, time, fp);
    }
    if (journey === undefined) journey = this.start(time, fp);
    journey.sights[point] = { time, fp, pieces: 1, merged: false };
    if (++journey.seenAt === this.points && settled(journey)) {
      journey.closed = true;
      this.close(journey);
      // Its shell waits in the open list until its window passes: only the shell.
      journey.sights.fill(undefined);
      return;
    }
    if (fp.fragment !== null && !fp.laterFragment) this.fragments.set(fp.fragment, journey);
    if (fp.tcpFlow !== null && fp.payloadLength > SUPER_PAYLOAD) {
      let ranges = this.supers.get(fp.tcpFlow);
      if (ranges === undefined) this.supers.set(fp.tcpFlow, ranges = []);
      ranges.push({ start: fp.seq, end: (fp.seq + fp.payloadLength) >>> 0, point, time, journey });
    }
  }

  /** Closes every journey still open. */
  finish(): void {
    this.closeBefore(Infinity);
  }

  private start(time: number, fp: Fingerprint): Journey {
    const journey = new Journey(this.points, time, fp.kind);
    this.exact.set(fp.key, journey);
    this.loose.set(fp.loose, journey);
    if (fp.awaits !== null) this.awaiting.set(fp.awaits, journey);
    this.open.push(journey);
    return journey;
  }

  /** A later fragment, or one segment of a super-packet seen whole elsewhere, at a point. */
  private addPiece(journey: Journey, point: number, time: number, fp: Fingerprint): void {
    const sight = journey.sights[point];
    if (sight === undefined) journey.sights[point] = { time, fp, pieces: 1, merged: false };
    else sight.pieces++;
  }

  private superCovering(flow: number, seq: number, at: (point: number) => boolean): SuperRange | undefined {
    const ranges = this.supers.get(flow);
    if (ranges === undefined) return undefined;
    for (const range of ranges) {
      if (at(range.point) && inside(seq, range.start, range.end)) return range;
    }
    return undefined;
  }

  private closeBefore(limit: number): void {
    while (this.head < this.open.length && this.open[this.head].first < limit) {
      const journey = this.open[this.head];
      this.open[this.head++] = undefined as unknown as Journey;
      if (!journey.closed) this.close(journey);
    }
    if (this.head > 4096 && this.head * 2 > this.open.length) {
      this.open = this.open.slice(this.head);
      this.head = 0;
    }
  }

  private close(journey: Journey): void {
    let tcpFlow: number | null = null;
    let seq = 0;
    for (const sight of journey.sights) {
      if (sight === undefined) continue;
      const fp = sight.fp;
      if (this.exact.get(fp.key) === journey) this.exact.delete(fp.key);
      if (this.loose.get(fp.loose) === journey) this.loose.delete(fp.loose);
      if (fp.fragment !== null && this.fragments.get(fp.fragment) === journey) this.fragments.delete(fp.fragment);
      if (fp.awaits !== null && this.awaiting.get(fp.awaits) === journey) this.awaiting.delete(fp.awaits);
      if (fp.tcpFlow !== null && fp.payloadLength > 0) {
        tcpFlow = fp.tcpFlow;
        seq = fp.seq;
      }
    }
    // A segment not seen at a point where a GRO super-packet carried it was merged there, not lost.
    if (tcpFlow !== null) {
      for (let p = 0; p < this.points; p++) {
        if (journey.sights[p] !== undefined) continue;
        const carrier = this.superCovering(tcpFlow, seq, (point) => point === p);
        if (carrier !== undefined && carrier.journey !== journey) {
          journey.sights[p] = { time: carrier.time, fp: carrier.journey.sights[p]!.fp, pieces: 0, merged: true };
        }
      }
      this.pruneSupers(tcpFlow, journey.first - this.window);
    }
    this.onClose(journey);
  }

  private pruneSupers(flow: number, before: number): void {
    const ranges = this.supers.get(flow);
    if (ranges === undefined) return;
    const kept = ranges.filter((r) => r.time >= before);
    if (kept.length === 0) this.supers.delete(flow);
    else if (kept.length < ranges.length) this.supers.set(flow, kept);
  }
}

/**
 * A journey seen at every point that nothing more can join: no fragment (its
 * later fragments would), no request (its reply marks it), no super-packet (its
 * segments would). It is closed at once, so memory holds only the packets still
 * on their way or lost, not the whole window's traffic.
 */
function settled(journey: Journey): boolean {
  for (const sight of journey.sights) {
    const fp = sight!.fp;
    if (fp.fragment !== null || fp.awaits !== null || fp.payloadLength > SUPER_PAYLOAD) return false;
  }
  return true;
}

/** seq lies strictly after start and before end, in 32-bit sequence space. */
function inside(seq: number, start: number, end: number): boolean {
  const offset = (seq - start) >>> 0;
  return offset > 0 && offset < ((end - start) >>> 0);
}
