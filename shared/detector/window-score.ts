/**
 * The detector's per-window kernel, the one place its error maths and rules live. Training and batch
 * evaluation (scoring.ts, thresholds.ts, report.ts) and the device (shared/edge) both call it, so a window
 * gets the same numbers wherever it is scored:
 *
 * - evidence of one window from its model input and reconstruction: per-feature mean absolute error over
 *   the newest `errorSteps` steps (the whole window at 100), the same over the onset rule's newest steps,
 *   the variation of the newest steps (stuck-sensor rule) and the operating state (conditioning);
 * - from evidence and thresholds: per-feature anomaly ratios, the window score, the fast rule's score.
 *
 * Errors and variations are summed in double precision and stored as float32, the precision the batch
 * arrays keep, so a device that keeps them per window holds the very same values.
 */
import { expectedError, type OperatingState, operatingState } from './conditioning';
import type { Thresholds } from './thresholds';
import { CHANNELS, WINDOW_SIZE } from './windows';

/** Steps per feature in a window (100). */
export const WINDOW_STEPS = WINDOW_SIZE / CHANNELS;

/** What the detector's rules look at in one window. */
export interface WindowEvidence {
  /** Per-feature mean absolute reconstruction error over the thresholds' span (Thresholds.errorSteps). */
  errors: ArrayLike<number>;
  /** The same over the onset rule's newest steps (Thresholds.recent.errorSteps), or null: rule not applied. */
  recent: ArrayLike<number> | null;
  /** Per-feature variation of the newest steps (stuck-sensor rule), or null: rule not applied. */
  variation: ArrayLike<number> | null;
  /** The window's operating state, needed when the thresholds are conditioned on it (Thresholds.scale). */
  state: OperatingState | null;
}

function checkSpan(lastSteps: number, min: number, what: string): void {
  if (!Number.isInteger(lastSteps) || lastSteps < min || lastSteps > WINDOW_STEPS) throw new Error(`${what} must be an integer from ${min} to ${WINDOW_STEPS}, got ${lastSteps}`);
}

/**
 * Per-feature mean |input - output| over the newest `lastSteps` steps of the window at `offset` (6 x 100
 * values, feature-major), written to out[outOffset ..]. A null output stands for all zeros (the z-score
 * baseline: the error of predicting the training mean).
 */
export function windowErrors(input: ArrayLike<number>, output: ArrayLike<number> | null, offset: number, lastSteps: number, out: Float32Array, outOffset = 0): void {
  checkSpan(lastSteps, 1, 'error lastSteps');
  for (let f = 0; f < CHANNELS; f++) {
    const base = offset + f * WINDOW_STEPS;
    let sum = 0;
    for (let t = WINDOW_STEPS - lastSteps; t < WINDOW_STEPS; t++) sum += Math.abs(input[base + t] - (output ? output[base + t] : 0));
    out[outOffset + f] = sum / lastSteps;
  }
}

/**
 * Per-feature variation of the newest `lastSteps` steps of the window at `offset`: mean |x[t] - x[t-1]|. A
 * stuck sensor repeats its reading, so its features become exactly flat; the autoencoder reconstructs a flat
 * line well (its error goes down), so the detector checks this separately (Thresholds.flatline).
 */
export function windowVariationAt(input: ArrayLike<number>, offset: number, lastSteps: number, out: Float32Array, outOffset = 0): void {
  checkSpan(lastSteps, 2, 'variation lastSteps');
  for (let f = 0; f < CHANNELS; f++) {
    const base = offset + f * WINDOW_STEPS;
    let sum = 0;
    for (let t = WINDOW_STEPS - lastSteps + 1; t < WINDOW_STEPS; t++) sum += Math.abs(input[base + t] - input[base + t - 1]);
    out[outOffset + f] = sum / (lastSteps - 1);
  }
}

/** Default newest steps of the stuck-sensor rule's variation (Thresholds.variationSteps). */
export const VARIATION_STEPS = 20;

/** Everything `thresholds` need of the window at `offset` of input and its reconstruction `output`. */
export function windowEvidence(input: ArrayLike<number>, output: ArrayLike<number>, offset: number, thresholds: Thresholds): WindowEvidence {
  const errors = new Float32Array(CHANNELS);
  windowErrors(input, output, offset, Math.min(WINDOW_STEPS, thresholds.errorSteps || WINDOW_STEPS), errors);
  let recent: Float32Array | null = null;
  if (thresholds.recent) {
    recent = new Float32Array(CHANNELS);
    windowErrors(input, output, offset, Math.min(WINDOW_STEPS, thresholds.recent.errorSteps), recent);
  }
  let variation: Float32Array | null = null;
  if (thresholds.flatline) {
    variation = new Float32Array(CHANNELS);
    windowVariationAt(input, offset, thresholds.variationSteps ?? VARIATION_STEPS, variation);
  }
  const state = thresholds.scale ? operatingState(input, offset, thresholds.scale.recentSteps) : null;
  return { errors, recent, variation, state };
}

/** Stuck-sensor ratio of feature f (floor / variation; 0 where the rule is off for the feature). */
/** The stuck-sensor rule's ratio of feature f: flatline / variation (0 without the rule), variation read at offset + f. */
export function flatRatio(thresholds: Thresholds, variation: ArrayLike<number>, f: number, offset = 0): number {
  const floor = thresholds.flatline?.[f] ?? 0;
  return floor > 0 ? floor / Math.max(variation[offset + f], 1e-12) : 0;
}

/**
 * Error over threshold of feature f for the whole-window ('full') or onset ('recent') rule, the threshold
 * scaled by the error expected in the window's operating state when the thresholds are conditioned.
 */
export function errorRatio(thresholds: Thresholds, span: 'full' | 'recent', f: number, error: number, state: OperatingState | null): number {
  const values = span === 'full' ? thresholds.values : thresholds.recent!.values;
  return error / (values[f] * (thresholds.scale ? expectedError(thresholds.scale, span, f, state!) : 1));
}

/**
 * Per-feature anomaly ratio of one window (> 1: anomalous): error / threshold, with the onset rule
 * recent error / recent threshold, with the stuck-sensor rule flatline / variation (rules whose evidence is
 * null are not applied). Thresholds with a scale need the window's operating state.
 */
export function featureRatios(evidence: WindowEvidence, thresholds: Thresholds): number[] {
  const { errors, recent, variation, state } = evidence;
  if (thresholds.scale && !state) throw new Error("featureRatios: these thresholds are conditioned on the operating state; pass the window's state");
  const out: number[] = [];
  for (let f = 0; f < CHANNELS; f++) {
    let r = errorRatio(thresholds, 'full', f, errors[f], state);
    if (thresholds.recent && recent) r = Math.max(r, errorRatio(thresholds, 'recent', f, recent[f], state));
    if (variation) r = Math.max(r, flatRatio(thresholds, variation, f));
    out.push(r);
  }
  return out;
}

/** The window score: the largest feature ratio (featureRatios; > 1 means over threshold on some feature). */
export function windowScore(evidence: WindowEvidence, thresholds: Thresholds): number {
  return featureRatios(evidence, thresholds).reduce((a, b) => Math.max(a, b), 0);
}

/**
 * The fast rule's score of one window: the largest error ratio, or the second-largest stuck-sensor ratio.
 * A frozen IMU or board flattens several features at once; one flat feature alone (a quantised voltage
 * reading at standstill) is left to the debounce.
 */
export function fastScore(evidence: WindowEvidence, thresholds: Thresholds): number {
  const errorScore = windowScore({ ...evidence, variation: null }, thresholds);
  const variation = evidence.variation;
  if (!variation || !thresholds.flatline) return errorScore;
  const flat = thresholds.flatline.map((_, f) => flatRatio(thresholds, variation, f)).sort((a, b) => b - a);
  return Math.max(errorScore, flat[1] ?? 0);
}

/** Ratios, score and fast score of one window; without a fast rule (Thresholds.fast) the fast score is the score. */
export function scoreWindow(evidence: WindowEvidence, thresholds: Thresholds): { ratios: number[]; score: number; fast: number } {
  const ratios = featureRatios(evidence, thresholds);
  const score = ratios.reduce((a, b) => Math.max(a, b), 0);
  return { ratios, score, fast: thresholds.fast ? fastScore(evidence, thresholds) : score };
}
