/** mulberry32 (seeded-random.mjs): the numbers in [0, 1) that the seed, taken as an unsigned 32-bit integer, gives. */
export declare function seededRandom(seed: number): () => number;
