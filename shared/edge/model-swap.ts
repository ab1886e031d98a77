/**
 * What a model swap needs besides the queue: how many frames of history make a canary, and the health
 * verdict on the canary windows.
 *
 * The rule (see README, "Cold start and health checks"): a model is never judged on invented data. At
 * once, it must load and give a finite output of the right shape for one window (smokeCheck); its health
 * verdict (canaryVerdict) waits until real frames make `canaryWindows` windows through its own pipeline.
 */
import type { PreprocessingParams } from '../features/params';
import { type LoadedModel, windowShape } from './model-manager';
import { type PendingWindow, scoreBatch } from './window-scoring';

/** Canary health check settings. */
export interface HealthOptions {
  /** Windows of real frames a new model is judged on (default 3: what the first four blocks yield). */
  canaryWindows: number;
  /** Largest median error / threshold ratio a healthy model may show on them (default 10). */
  maxMedianScore: number;
  /** Longest a model waits for enough valid frames for its canary before it is refused (default 120 s). */
  waitSeconds: number;
}

/** Defaults of HealthOptions. */
export const DEFAULT_HEALTH: Readonly<HealthOptions> = Object.freeze({ canaryWindows: 3, maxMedianScore: 10, waitSeconds: 120 });

/** What the canary found. */
export interface HealthReport {
  ok: boolean;
  canaryWindows: number;
  medianScore: number;
  reason?: string;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Frames after which blocks and window strides line up again: history is cut in whole periods of this. */
export function alignmentPeriod(p: PreprocessingParams): number {
  return (p.blockLength * p.stride) / gcd(p.blockLength, p.stride);
}

/** Frames of history a swap replays at most: enough for canaryWindows windows from any block alignment. */
export function canaryFrames(p: PreprocessingParams, canaryWindows: number): number {
  return p.windowLength + (canaryWindows - 1) * p.stride + p.blockLength;
}

/** Windows a fresh block pipeline yields from `frames` valid frames (a window waits for its block to finish). */
export function windowsFrom(frames: number, p: PreprocessingParams): number {
  const ready = Math.floor(frames / p.blockLength) * p.blockLength;
  return ready < p.windowLength ? 0 : Math.floor((ready - p.windowLength) / p.stride) + 1;
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The check a model passes at once, before any frame: one window of training means (all zeros once
 * normalised) must give a finite output of the input's shape. Says why not, or null.
 */
export async function smokeCheck(model: LoadedModel): Promise<string | null> {
  const size = windowShape(model.description).reduce((a, b) => a * b, 1);
  try {
    await scoreBatch(model, [{ data: new Float32Array(size), endLocal: -1, endEventTime: '' }]);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The health verdict on canary windows of real frames: inference works, output finite, median score bounded. */
export async function canaryVerdict(model: LoadedModel, windows: readonly PendingWindow[], maxMedianScore: number): Promise<HealthReport> {
  const count = windows.length;
  let scores: number[];
  try {
    scores = (await scoreBatch(model, windows)).windows.map((w) => w.score);
  } catch (err) {
    return { ok: false, canaryWindows: count, medianScore: Number.NaN, reason: (err as Error).message };
  }
  const medianScore = median(scores);
  if (!Number.isFinite(medianScore)) return { ok: false, canaryWindows: count, medianScore, reason: 'non-finite errors on the canary windows' };
  if (medianScore > maxMedianScore) {
    return { ok: false, canaryWindows: count, medianScore, reason: `median error/threshold ratio ${medianScore.toFixed(3)} on ${count} canary windows exceeds ${maxMedianScore}` };
  }
  return { ok: true, canaryWindows: count, medianScore };
}
