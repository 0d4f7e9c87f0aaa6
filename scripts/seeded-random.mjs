// mulberry32, a small deterministic generator: the same numbers for the same
// seed on every machine. scripts/fuzz.mjs draws its mutations from it and the
// fuzz tests (test/fuzz/corpus.ts) their sampled offsets; both depend on the
// sequence staying as it is.

/**
 * @param {number} seed taken as an unsigned 32-bit integer
 * @returns {() => number} the next number in [0, 1) at each call
 */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
