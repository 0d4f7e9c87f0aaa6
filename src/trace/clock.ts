// Clocks of hosts that are not one machine: the offset of each host's clock
// from the first host's, from the fastest packets that crossed each way between
// two hosts (as NTP does). A packet from a to b takes d + (b - a) by the two
// clocks, one from b to a takes d' - (b - a); with the fastest of each taken as
// equally fast, b - a = (min a>b - min b>a) / 2, known to within half their sum.

export interface ClockEstimate {
  /** Seconds host's clock is ahead of the first host's (0 for the first host, or when unknown). */
  offset: number;
  /** Half the fastest round trip it rests on; null when nothing crossed both ways. */
  uncertainty: number | null;
  source: 'reference' | 'estimated' | 'given' | 'unknown';
  /** Packets crossing each way that the estimate rests on. */
  crossings: [number, number] | null;
}

/** By `a * hosts + b`: the fastest crossing from host a to host b, and how many there were. */
type Crossings = Map<number, { min: number; count: number }>;

export function estimateClocks(hosts: number, crossings: Crossings, given: boolean[]): ClockEstimate[] {
  const clocks: Array<ClockEstimate | null> = new Array(hosts).fill(null);
  clocks[0] = { offset: 0, uncertainty: 0, source: given[0] ? 'given' : 'reference', crossings: null };
  for (let h = 1; h < hosts; h++) {
    if (given[h]) clocks[h] = { offset: 0, uncertainty: null, source: 'given', crossings: null };
  }
  // Reach out from the hosts already placed, one pair of hosts at a time.
  for (let changed = true; changed;) {
    changed = false;
    for (let a = 0; a < hosts; a++) {
      const from = clocks[a];
      if (from === null) continue;
      for (let b = 0; b < hosts; b++) {
        if (clocks[b] !== null) continue;
        const there = crossings.get(a * hosts + b);
        const back = crossings.get(b * hosts + a);
        if (there === undefined || back === undefined) continue;
        clocks[b] = {
          offset: from.offset + (there.min - back.min) / 2,
          uncertainty: (from.uncertainty ?? 0) + (there.min + back.min) / 2,
          source: 'estimated',
          crossings: [there.count, back.count],
        };
        changed = true;
      }
    }
  }
  return clocks.map((c) => c ?? { offset: 0, uncertainty: null, source: 'unknown', crossings: null });
}
