/** A batch of model windows as the feature pipeline produces them: count x (6, 10, 10) float32, row-major. */

export interface WindowSet {
  /** count * channels * side * side values. */
  windows: Float32Array;
  count: number;
}

/** Values per window (6 x 10 x 10 = 600 by default). */
export const WINDOW_SIZE = 600;
export const CHANNELS = 6;
export const SIDE = 10;

/** Checks that a window set is consistent and finite; throws naming what is wrong and where. */
export function validateWindowSet(set: WindowSet, what = 'windows'): void {
  if (!(set.windows instanceof Float32Array)) throw new Error(`${what}: expected a Float32Array of windows`);
  if (!Number.isInteger(set.count) || set.count < 0) throw new Error(`${what}: count must be a non-negative integer, got ${set.count}`);
  if (set.windows.length !== set.count * WINDOW_SIZE) {
    throw new Error(`${what}: ${set.windows.length} values do not make ${set.count} windows of shape (${CHANNELS}, ${SIDE}, ${SIDE})`);
  }
  for (let i = 0; i < set.windows.length; i++) {
    if (!Number.isFinite(set.windows[i])) {
      const w = Math.floor(i / WINDOW_SIZE);
      throw new Error(`${what}: window ${w}, feature ${Math.floor((i % WINDOW_SIZE) / (SIDE * SIDE))} holds ${set.windows[i]} (windows must be finite)`);
    }
  }
}

/** The windows at the given indexes, copied into a new set. */
export function selectWindows(set: WindowSet, indexes: ArrayLike<number>): WindowSet {
  const out = new Float32Array(indexes.length * WINDOW_SIZE);
  for (let k = 0; k < indexes.length; k++) out.set(set.windows.subarray(indexes[k] * WINDOW_SIZE, (indexes[k] + 1) * WINDOW_SIZE), k * WINDOW_SIZE);
  return { windows: out, count: indexes.length };
}
