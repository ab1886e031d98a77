/**
 * A farm file holds several turbines' frames interleaved. Features are per turbine (a window never spans
 * two turbines); these helpers split, fit on all turbines, and concatenate windows in ascending turbineId.
 */
import { selectRows } from '../turbine/frames';
import type { FrameColumns } from '../turbine/schema';
import { batchWindows } from './batch';
import { FEATURE_COUNT } from './euler';
import { DEFAULT_PREPROCESSING, type PreprocessingParams } from './params';
import { type FeatureStatistics, fitFeatureStatistics } from './statistics';

/** One turbine's frames and where they were in the farm's rows. */
export interface TurbineSeries {
  turbineId: number;
  /** Row (0-based) in the farm frames of each of this turbine's frames. */
  rows: Int32Array;
  frames: FrameColumns;
}

/** Splits farm frames by turbineId: turbines in ascending id, each turbine's rows in file order. */
export function turbineSeries(frames: FrameColumns): TurbineSeries[] {
  const byId = new Map<number, number[]>();
  const ids = frames.columns.turbineId;
  for (let i = 0; i < frames.length; i++) {
    let rows = byId.get(ids[i]);
    if (!rows) byId.set(ids[i], (rows = []));
    rows.push(i);
  }
  return [...byId.keys()]
    .sort((a, b) => a - b)
    .map((turbineId) => {
      const rows = Int32Array.from(byId.get(turbineId)!);
      return { turbineId, rows, frames: selectRows(frames, rows) };
    });
}

/** Windows of every turbine, concatenated in ascending turbineId, with where each came from. */
export interface FarmWindows {
  /** count * 6 * 100 float32: (count, 6, 10, 10). */
  windows: Float32Array;
  count: number;
  /** turbineId of each window. */
  turbineId: Int32Array;
  /** Farm row (0-based) of each window's first and last frame. */
  startRow: Int32Array;
  endRow: Int32Array;
  /** Frames skipped as bad, all turbines. */
  rejectedFrames: number;
}

/** Fits statistics on all turbines of a farm (each turbine denoised in its own blocks). */
export function fitFarmStatistics(frames: FrameColumns | TurbineSeries[], params: PreprocessingParams = DEFAULT_PREPROCESSING): FeatureStatistics {
  const series = Array.isArray(frames) ? frames : turbineSeries(frames);
  return fitFeatureStatistics(
    series.map((s) => s.frames),
    params,
  );
}

/** batchWindows for each turbine of a farm, concatenated in ascending turbineId. */
export function farmWindows(frames: FrameColumns | TurbineSeries[], stats: FeatureStatistics, params: PreprocessingParams = DEFAULT_PREPROCESSING): FarmWindows {
  const series = Array.isArray(frames) ? frames : turbineSeries(frames);
  const parts = series.map((s) => ({ s, w: batchWindows(s.frames, stats, params) }));
  const count = parts.reduce((sum, p) => sum + p.w.count, 0);
  const size = FEATURE_COUNT * params.windowLength;
  const out: FarmWindows = {
    windows: new Float32Array(count * size),
    count,
    turbineId: new Int32Array(count),
    startRow: new Int32Array(count),
    endRow: new Int32Array(count),
    rejectedFrames: 0,
  };
  let at = 0;
  for (const { s, w } of parts) {
    out.windows.set(w.windows, at * size);
    for (let k = 0; k < w.count; k++) {
      out.turbineId[at + k] = s.turbineId;
      out.startRow[at + k] = s.rows[w.startIndex[k]];
      out.endRow[at + k] = s.rows[w.endIndex[k]];
    }
    out.rejectedFrames += w.rejectedFrames;
    at += w.count;
  }
  return out;
}
