/**
 * Batch feature pipeline (training): one turbine's frames to model windows of shape (count, 6, side, side),
 * using fitted statistics. Split a farm by turbineId first; windows never span two turbines.
 */
import type { FrameColumns } from '../turbine/schema';
import { blockAlignedLength, BlockDenoiser, denoiseWholeSeries, normaliseInPlace, normaliseToFloat32 } from './denoise';
import { FEATURE_COUNT } from './euler';
import { extractFeatureRows, extractFeatures, extractFeaturesInto, usableFrameIndexes } from './extract';
import { DEFAULT_PREPROCESSING, type PreprocessingParams, validatePreprocessingParams } from './params';
import { type FeatureStatistics, validateFeatureStatistics } from './statistics';

export interface BatchWindows {
  /** count * 6 * windowLength float32 values: (count, 6, side, side) row-major, feature-major per window. */
  windows: Float32Array;
  count: number;
  /** Input frame index of each window's first step. */
  startIndex: Int32Array;
  /** Input frame index of each window's last step (the device has the window once that frame's block completes). */
  endIndex: Int32Array;
  /** Frames skipped because a feature input was not finite (block scheme; the original scheme skips none). */
  rejectedFrames: number;
}

/** The series behind the windows: raw, denoised and normalised features per step, for plots and checks. */
export interface PreprocessedSeries {
  /** Raw features of every valid frame (block scheme: bad frames left out). */
  raw: Float64Array[];
  /** Denoised and normalised features of the first `length` steps. */
  denoised: Float64Array[];
  normalised: Float64Array[];
  /** Steps with denoised values (block scheme: whole blocks of valid frames only). */
  length: number;
  /** Input frame index of each valid frame (same length as raw). */
  frameIndex: Int32Array;
  rejectedFrames: number;
}

/** Raw, denoised and normalised feature series of one turbine's frames. */
export function preprocessSeries(frames: FrameColumns, stats: FeatureStatistics, params: PreprocessingParams = DEFAULT_PREPROCESSING): PreprocessedSeries {
  validatePreprocessingParams(params);
  validateFeatureStatistics(stats, params);
  const s = denoisedSeries(frames, stats, params);
  const denoised = s.denoised.map((x) => x.subarray(0, s.length));
  const normalised = denoised.map((x) => x.slice());
  normaliseInPlace(normalised, s.length, stats.mean, stats.std);
  return { ...s, denoised, normalised };
}

/** Model windows (100 steps every 10, reshaped to 6 x 10 x 10) of one turbine's frames. */
export function batchWindows(frames: FrameColumns, stats: FeatureStatistics, params: PreprocessingParams = DEFAULT_PREPROCESSING): BatchWindows {
  validatePreprocessingParams(params);
  validateFeatureStatistics(stats, params);
  return params.scheme === 'original' ? originalWindows(frames, stats, params) : blockWindows(frames, stats, params);
}

/** Steps per chunk of the block scheme's batch loop: small enough to stay in cache, whole blocks. */
const CHUNK_STEPS = 8192;

/**
 * Block scheme, in chunks of whole blocks through small reused buffers (the same per-block calls as the
 * stream), so only the output is large: this is what keeps batch throughput above 2 M rows/s.
 */
function blockWindows(frames: FrameColumns, stats: FeatureStatistics, params: PreprocessingParams): BatchWindows {
  const { windowLength: L, stride: S, blockLength: B } = params;
  const { rows, rejected } = usableFrameIndexes(frames);
  const rowIndex = rejected ? rows : null;
  const length = blockAlignedLength(rows.length, B);
  const count = windowCount(length, params);
  const windows = new Float32Array(count * FEATURE_COUNT * L);
  const startIndex = new Int32Array(count);
  const endIndex = new Int32Array(count);
  const chunk = B * Math.max(1, Math.floor(CHUNK_STEPS / B));
  const raw = Array.from({ length: FEATURE_COUNT }, () => new Float64Array(chunk));
  const denoised = new Float64Array(chunk);
  // model[f][k] is step base + k, normalised and rounded; it holds the steps not yet fully windowed.
  const model = Array.from({ length: FEATURE_COUNT }, () => new Float32Array(chunk + L));
  const denoiser = new BlockDenoiser(params, stats.noiseSigma as number[]);
  let base = 0;
  let w = 0;
  for (let from = 0; from < length; from += chunk) {
    const n = Math.min(chunk, length - from);
    extractFeaturesInto(frames, rowIndex, from, n, raw);
    for (let f = 0; f < FEATURE_COUNT; f++) {
      for (let b = 0; b < n; b += B) denoiser.denoiseBlock(f, raw[f], b, denoised, b);
      normaliseToFloat32(denoised, n, stats.mean[f], stats.std[f], model[f].subarray(from - base));
    }
    const produced = from + n;
    for (; w < count && w * S + L <= produced; w++) {
      const start = w * S;
      for (let f = 0; f < FEATURE_COUNT; f++) copyRange(model[f], start - base, windows, (w * FEATURE_COUNT + f) * L, L);
      startIndex[w] = rowIndex ? rowIndex[start] : start;
      endIndex[w] = rowIndex ? rowIndex[start + L - 1] : start + L - 1;
    }
    // Keep only the steps a later window still needs (fewer than L).
    const keepFrom = Math.min(w * S, produced);
    for (let f = 0; f < FEATURE_COUNT; f++) model[f].copyWithin(0, keepFrom - base, produced - base);
    base = keepFrom;
  }
  return { windows, count, startIndex, endIndex, rejectedFrames: rejected };
}

/** out[to .. to+n) = from[at .. at+n): a plain loop, as a subarray per copy would churn the garbage collector. */
export function copyRange(from: Float32Array, at: number, out: Float32Array, to: number, n: number): void {
  for (let i = 0; i < n; i++) out[to + i] = from[at + i];
}

/** Original scheme: the whole series denoised at once, windows at range(0, N - L, stride). */
function originalWindows(frames: FrameColumns, stats: FeatureStatistics, params: PreprocessingParams): BatchWindows {
  const s = denoisedSeries(frames, stats, params);
  const L = params.windowLength;
  const count = windowCount(s.length, params);
  const model = s.denoised.map((x, f) => {
    const out = new Float32Array(s.length);
    normaliseToFloat32(x, s.length, stats.mean[f], stats.std[f], out);
    return out;
  });
  const windows = new Float32Array(count * FEATURE_COUNT * L);
  const startIndex = new Int32Array(count);
  const endIndex = new Int32Array(count);
  for (let w = 0; w < count; w++) {
    const start = w * params.stride;
    for (let f = 0; f < FEATURE_COUNT; f++) copyRange(model[f], start, windows, (w * FEATURE_COUNT + f) * L, L);
    startIndex[w] = start;
    endIndex[w] = start + L - 1;
  }
  return { windows, count, startIndex, endIndex, rejectedFrames: 0 };
}

/**
 * Windows taken from a series of n denoised steps. The original took range(0, n - L, stride), so its last
 * window never ends on the last step; the block scheme takes every complete window, as the stream does.
 */
export function windowCount(n: number, params: PreprocessingParams): number {
  const L = params.windowLength;
  if (params.scheme === 'original') return Math.max(0, Math.ceil((n - L) / params.stride));
  return n >= L ? Math.floor((n - L) / params.stride) + 1 : 0;
}

/** Raw and denoised series (separate arrays) with the frame index of each step. */
function denoisedSeries(frames: FrameColumns, stats: FeatureStatistics, params: PreprocessingParams) {
  if (params.scheme === 'original') {
    const raw = extractFeatures(frames);
    const n = frames.length;
    const denoised = n > 0 ? denoiseWholeSeries(raw, stats.rawStd, params) : raw.map(() => new Float64Array(0));
    return { raw, denoised, length: n, frameIndex: identityIndex(n), rejectedFrames: 0 };
  }
  const { rows, rejected } = usableFrameIndexes(frames);
  const raw = extractFeatureRows(frames, rejected ? rows : null);
  const length = blockAlignedLength(rows.length, params.blockLength);
  const denoised = raw.map((x) => new Float64Array(x.length));
  new BlockDenoiser(params, stats.noiseSigma as number[]).denoiseSeries(raw, length, denoised);
  return { raw, denoised, length, frameIndex: rows, rejectedFrames: rejected };
}

function identityIndex(n: number): Int32Array {
  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) index[i] = i;
  return index;
}
