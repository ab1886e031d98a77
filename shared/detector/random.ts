/** Seeded shuffling for training batches (mulberry32: tiny, fast, and the same on every platform). */

import { mulberry32 } from '../turbine/random';

/** A seeded uniform [0, 1) generator (mulberry32). */
export const seededUniform = mulberry32;

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
