/**
 * The preprocess step: a farm of normal operation split into training and held-out windows. Per turbine
 * the last `holdoutFraction` of windows is held out (after a gap of one window length, so no frame is
 * shared); windows touching a labelled fault (if training labels are given) are dropped. Also the
 * selection of training windows (every n-th plus every rotor transient).
 */
import { farmWindows, turbineSeries } from '../features/farm';
import { type PreprocessingParams, validatePreprocessingParams } from '../features/params';
import { type FeatureStatistics, fitFeatureStatistics } from '../features/statistics';
import { parseEventTime } from '../turbine/event-time';
import type { FaultLabel } from '../turbine/faults';
import type { FrameColumns } from '../turbine/schema';
import { RPS_CHANNEL } from './conditioning';
import { DEFAULT_EVALUATION } from './evaluation';
import { frameCoverage } from './report';
import { type WindowSet, WINDOW_SIZE } from './windows';

/** Held-out geometry defaults. */
export const DEFAULT_HOLDOUT_FRACTION = 0.2;
export const DEFAULT_TRAIN_STRIDE = 8;

/**
 * The training data set the defaults were chosen on (`npm run dataset -- --turbines 16 --minutes 60`): 16
 * turbine-hours hold enough stops (some braked from high speed), start-ups and strong gusts for the model
 * and the error scale to cover normal operation; trained on every 8th window (plus every transient) it
 * costs the same epoch time as 8 turbine-hours at every 4th. Smaller sets see too few rare states and give
 * false alarms (README).
 */
export const DEFAULT_TRAINING_DATA = Object.freeze({ turbines: 16, minutes: 60, seed: 42 });

/** Every n-th window of a set. */
export function everyNth(set: WindowSet, n: number): WindowSet {
  if (n === 1) return set;
  const count = Math.ceil(set.count / n);
  const out = new Float32Array(count * WINDOW_SIZE);
  for (let k = 0; k < count; k++) out.set(set.windows.subarray(k * n * WINDOW_SIZE, (k * n + 1) * WINDOW_SIZE), k * WINDOW_SIZE);
  return { windows: out, count };
}

/** A window whose normalised rps spans more than this (in training std) holds a stop, start-up or strong gust. */
export const TRANSIENT_RPS_RANGE = 2;


/**
 * Every n-th window plus every window holding a rotor transient (rps range > TRANSIENT_RPS_RANGE std):
 * stops, start-ups and strong gusts are rare normal operation, and thinning them with the rest leaves the
 * model too few of them to learn (they were the remaining false alarms).
 */
export function everyNthWithTransients(set: WindowSet, n: number, minRange = TRANSIENT_RPS_RANGE): WindowSet {
  const steps = WINDOW_SIZE / 6;
  const keep: number[] = [];
  for (let i = 0; i < set.count; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    const base = i * WINDOW_SIZE + RPS_CHANNEL * steps;
    for (let k = 0; k < steps; k++) {
      const v = set.windows[base + k];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (i % n === 0 || hi - lo > minRange) keep.push(i);
  }
  const out = new Float32Array(keep.length * WINDOW_SIZE);
  keep.forEach((i, k) => out.set(set.windows.subarray(i * WINDOW_SIZE, (i + 1) * WINDOW_SIZE), k * WINDOW_SIZE));
  return { windows: out, count: keep.length };
}

/** The preprocess step's output. */
export interface PreparedData {
  stats: FeatureStatistics;
  params: PreprocessingParams;
  train: WindowSet;
  holdout: WindowSet;
  /** turbineId of each training and held-out window (debouncing never spans two turbines). */
  trainTurbine: Int32Array;
  holdoutTurbine: Int32Array;
  rejectedFrames: number;
}

/**
 * Splits farm frames into training and held-out windows (see the module comment). Throws a clear error
 * when the data is too short for a window or for a held-out part.
 */
export function prepareTrainingData(frames: FrameColumns, labels: readonly FaultLabel[], params: PreprocessingParams, holdoutFraction = DEFAULT_HOLDOUT_FRACTION): PreparedData {
  validatePreprocessingParams(params);
  if (!(holdoutFraction > 0 && holdoutFraction < 1)) throw new Error(`holdoutFraction must be between 0 and 1, got ${holdoutFraction}`);
  if (frames.length < params.windowLength) throw new Error(`training data has ${frames.length} frames, fewer than one window of ${params.windowLength}`);
  const series = turbineSeries(frames);
  const stats = fitFeatureStatistics(
    series.map((s) => s.frames),
    params,
  );
  const fw = farmWindows(series, stats, params);
  const coverage = frameCoverage(frames);
  const bad = labels.map((l) => ({ t: l.turbineId, from: parseEventTime(l.start) - DEFAULT_EVALUATION.preS * 1000, to: parseEventTime(l.end) + DEFAULT_EVALUATION.graceS * 1000 }));
  if (labels.length) {
    for (const l of labels) if (!coverage.has(l.turbineId)) throw new Error(`training labels: turbine ${l.turbineId} is not in the training data`);
  }
  const gap = Math.ceil(params.windowLength / params.stride);
  const trainIdx: number[] = [];
  const holdIdx: number[] = [];
  for (const s of series) {
    const idx: number[] = [];
    for (let i = 0; i < fw.count; i++) {
      if (fw.turbineId[i] !== s.turbineId) continue;
      const start = parseEventTime(frames.eventTime[fw.startRow[i]]);
      const end = parseEventTime(frames.eventTime[fw.endRow[i]]);
      if (bad.some((b) => b.t === s.turbineId && end >= b.from && start <= b.to)) continue;
      idx.push(i);
    }
    const cut = Math.floor(idx.length * (1 - holdoutFraction));
    trainIdx.push(...idx.slice(0, Math.max(0, cut - gap)));
    holdIdx.push(...idx.slice(cut));
  }
  const minWindows = 2 * gap + 2;
  if (trainIdx.length === 0 || holdIdx.length < 2) {
    throw new Error(
      `training data too short: ${fw.count} windows over ${series.length} turbine(s) leave ${trainIdx.length} for training and ${holdIdx.length} held out; ` +
        `each turbine needs well over ${minWindows} windows (${(minWindows * params.stride + params.windowLength) / 20} s of frames)`,
    );
  }
  const pick = (idx: number[]): WindowSet => {
    const out = new Float32Array(idx.length * WINDOW_SIZE);
    idx.forEach((i, k) => out.set(fw.windows.subarray(i * WINDOW_SIZE, (i + 1) * WINDOW_SIZE), k * WINDOW_SIZE));
    return { windows: out, count: idx.length };
  };
  return { stats, params, train: pick(trainIdx), holdout: pick(holdIdx), trainTurbine: Int32Array.from(trainIdx, (i) => fw.turbineId[i]), holdoutTurbine: Int32Array.from(holdIdx, (i) => fw.turbineId[i]), rejectedFrames: fw.rejectedFrames };
}
