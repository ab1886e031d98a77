/**
 * Drift of live model inputs against the training statistics. Inputs are normalised with those statistics,
 * so a feature whose live mean is 0 and std is 1 looks like training data.
 */
import { WINDOW_STEPS } from '../detector/window-score';
import { CHANNELS } from '../detector/windows';

/** Per-feature drift over a period. */
export interface FeatureDrift {
  feature: string;
  /** Live mean and std of the normalised feature: 0 and 1 when live data looks like training data. */
  mean: number;
  std: number;
  /** Steps the figures cover. */
  steps: number;
  /** |mean| + |std - 1|: one number to rank features by. */
  drift: number;
}

/** Running sums of each feature's normalised inputs since the last take(). */
export class DriftMeter {
  private sums = new Float64Array(CHANNELS * 3);

  /**
   * Adds the newest `stride` steps of the window at `offset` of `windows` (so each step counts once when
   * windows come every stride steps).
   */
  add(windows: ArrayLike<number>, offset: number, stride: number): void {
    for (let f = 0; f < CHANNELS; f++) {
      const base = offset + f * WINDOW_STEPS;
      for (let t = Math.max(0, WINDOW_STEPS - stride); t < WINDOW_STEPS; t++) {
        const x = windows[base + t];
        this.sums[f * 3] += 1;
        this.sums[f * 3 + 1] += x;
        this.sums[f * 3 + 2] += x * x;
      }
    }
  }

  /** Drift per named feature since the last reset; reset (default) starts a new period. */
  take(featureNames: readonly string[], reset = true): FeatureDrift[] {
    const s = this.sums;
    if (reset) this.sums = new Float64Array(CHANNELS * 3);
    return featureNames.map((feature, f) => {
      const n = s[f * 3];
      const mean = n > 0 ? s[f * 3 + 1] / n : 0;
      const std = n > 1 ? Math.sqrt(Math.max(0, (s[f * 3 + 2] - n * mean * mean) / (n - 1))) : 0;
      const r = (x: number): number => Number(x.toFixed(4));
      return { feature, mean: r(mean), std: r(std), steps: n, drift: n > 1 ? r(Math.abs(mean) + Math.abs(std - 1)) : 0 };
    });
  }
}
