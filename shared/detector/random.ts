/** Seeded shuffling for training batches (mulberry32: tiny, fast, and the same on every platform). */

/** A seeded uniform [0, 1) generator. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of `indexes` in place with the given generator; returns the array. */
export function shuffleInPlace(indexes: Int32Array, uniform: () => number): Int32Array {
  for (let i = indexes.length - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    const t = indexes[i];
    indexes[i] = indexes[j];
    indexes[j] = t;
  }
  return indexes;
}
