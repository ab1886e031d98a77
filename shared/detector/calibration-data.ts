/**
 * The normal data thresholds are calibrated on (calibration.ts), and its scoring: the same functions run on
 * the calibration worker (calibration-worker.ts) and on the pipeline's own thread, so both give the same
 * bytes. The default data is several simulated farms (CALIBRATION_FARMS), prepared and scored one farm at
 * a time: only each window's errors, variation and operating state are kept, so memory stays that of one
 * farm's windows however many farms the calibration uses.
 */
import type * as tf from '@tensorflow/tfjs';
import { type FarmWindows, farmWindows, turbineSeries } from '../features/farm';
import type { PreprocessingParams } from '../features/params';
import type { FeatureStatistics } from '../features/statistics';
import { readFramesCsv } from '../turbine/csv';
import { type FarmSet, simulateFarm } from '../turbine/farm';
import type { FrameColumns } from '../turbine/schema';
import type { ScoredNormalWindows } from './alarm-levels';
import { operatingStates } from './conditioning';
import { reconstructionErrorsOver, windowVariation } from './scoring';
import type { Thresholds } from './thresholds';
import { VARIATION_STEPS } from './window-score';

/** Where the calibration turbines come from: simulated farms, or a farm CSV of normal operation. */
export type CalibrationSource = { farms: FarmSet } | { path: string };

/** Turbine ids of chunk k are offset by k times this, so that series of different farms never merge. */
const CHUNK_ID_STRIDE = 10_000;

/** Number of chunks (farms) the source is prepared in. */
export function calibrationChunkCount(source: CalibrationSource): number {
  return 'path' in source ? 1 : source.farms.count;
}

/** The frames of chunk k: farm k of the set, or the whole CSV. */
export function calibrationFrames(source: CalibrationSource, k: number): FrameColumns {
  if ('path' in source) return readFramesCsv(source.path);
  const f = source.farms;
  return simulateFarm({ turbines: f.turbines, minutes: f.minutes, seed: f.firstSeed + k }).frames;
}

/** What scoring needs besides the model: the error spans, and the steps of variation and operating state (null: unused). */
export interface CalibrationScoring {
  spans: number[];
  variationSteps: number | null;
  stateSteps: number | null;
}

/** The scoring thresholds `t` need: whole-window and onset error spans, variation if the stuck-sensor rule is on, states if conditioned. */
export function calibrationScoring(t: Thresholds): CalibrationScoring {
  return {
    spans: [t.errorSteps, t.recent?.errorSteps ?? t.errorSteps],
    variationSteps: t.flatline ? (t.variationSteps ?? VARIATION_STEPS) : null,
    stateSteps: t.scale ? t.scale.recentSteps : null,
  };
}

/** Scored calibration windows, packed for transfer between threads. */
export interface ScoredCalibration {
  count: number;
  /** Series (chunk and turbine) of each window. */
  groups: Int32Array;
  /** count x 6 errors for each span of CalibrationScoring.spans. */
  errors: Float32Array[];
  variation: Float32Array | null;
  /** level, recentLevel, change of each window (count x 3), or null. */
  states: Float64Array | null;
}

/** Windows of chunk k's frames, cut with the training statistics. */
export function calibrationChunkWindows(frames: FrameColumns, stats: FeatureStatistics, params: PreprocessingParams): FarmWindows {
  const fw = farmWindows(turbineSeries(frames), stats, params);
  if (fw.count === 0) throw new Error(`calibration data: no complete window (${params.windowLength} frames) in ${frames.length} frames`);
  return fw;
}

/** The model's errors, and the variation and states, of chunk k's windows. */
export function scoreCalibrationChunk(model: tf.LayersModel, fw: FarmWindows, k: number, s: CalibrationScoring): ScoredCalibration {
  const set = { windows: fw.windows, count: fw.count };
  let states: Float64Array | null = null;
  if (s.stateSteps !== null) {
    states = new Float64Array(fw.count * 3);
    operatingStates(set, s.stateSteps).forEach((st, i) => states!.set([st.level, st.recentLevel, st.change], i * 3));
  }
  return {
    count: fw.count,
    groups: Int32Array.from(fw.turbineId, (id) => id + k * CHUNK_ID_STRIDE),
    errors: reconstructionErrorsOver(model, set, s.spans),
    variation: s.variationSteps !== null ? windowVariation(set, s.variationSteps) : null,
    states,
  };
}

/** Chunks scored apart, as one. */
export function concatScored(parts: readonly ScoredCalibration[]): ScoredCalibration {
  if (parts.length === 1) return parts[0];
  const cat = <T extends Float32Array | Float64Array | Int32Array>(arrays: T[]): T => {
    const out = new (arrays[0].constructor as new (n: number) => T)(arrays.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of arrays) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  };
  return {
    count: parts.reduce((n, p) => n + p.count, 0),
    groups: cat(parts.map((p) => p.groups)),
    errors: parts[0].errors.map((_, k) => cat(parts.map((p) => p.errors[k]))),
    variation: parts[0].variation ? cat(parts.map((p) => p.variation!)) : null,
    states: parts[0].states ? cat(parts.map((p) => p.states!)) : null,
  };
}

/** Prepares and scores the chunks of `source` from `first` (default all) on this thread. */
export function scoreCalibrationSource(model: tf.LayersModel, source: CalibrationSource, stats: FeatureStatistics, params: PreprocessingParams, s: CalibrationScoring, first = 0): ScoredCalibration {
  const parts: ScoredCalibration[] = [];
  for (let k = first; k < calibrationChunkCount(source); k++) parts.push(scoreCalibrationChunk(model, calibrationChunkWindows(calibrationFrames(source, k), stats, params), k, s));
  return concatScored(parts);
}

/** The windows calibrateOnWindows takes, from scored calibration data (scored for calibrationScoring(t)). */
export function scoredNormalWindows(scored: ScoredCalibration, t: Thresholds): ScoredNormalWindows {
  const st = scored.states;
  return {
    errors: scored.errors[0],
    recentErrors: t.recent ? scored.errors[1] : null,
    variation: t.flatline ? scored.variation : null,
    states: t.scale && st ? Array.from({ length: scored.count }, (_, i) => ({ level: st[3 * i], recentLevel: st[3 * i + 1], change: st[3 * i + 2] })) : null,
    groups: scored.groups,
  };
}
