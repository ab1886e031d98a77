/**
 * Feature statistics fitted on training data and shipped with the model: raw standard deviation (the
 * original's noise level), the block scheme's noise sigma, and the normalisation mean/std of the denoised
 * features. The device never re-estimates them, so a noise fault cannot raise its own threshold.
 */
import type { FrameColumns } from '../turbine/schema';
import { blockAlignedLength, BlockDenoiser, denoiseWholeSeries, fitNoiseSigma, meanAndStd } from './denoise';
import { FEATURE_COUNT, FEATURE_NAMES } from './euler';
import { extractFeatureRows, extractFeatures, usableFrameIndexes } from './extract';
import { DEFAULT_PREPROCESSING, type PreprocessingParams, PREPROCESSING_SCHEMES, validatePreprocessingParams } from './params';

export interface FeatureStatistics {
  /** FEATURE_NAMES, in order; every array below is indexed the same way. */
  featureNames: string[];
  /** Sample standard deviation (ddof = 1) of each raw feature (the original's denoising noise level). */
  rawStd: number[];
  /** Mean of each denoised feature, subtracted before the model. */
  mean: number[];
  /** Sample standard deviation (ddof = 1) of each denoised feature, divided by before the model. */
  std: number[];
  /** Block scheme: fitted white-noise sigma of each feature; the denoising threshold is multiplier x sigma. */
  noiseSigma?: number[];
  /** Usable frames the statistics were fitted on. */
  frameCount: number;
}

/**
 * Fits the statistics for a scheme on training frames: one series, or several (one per turbine; the block
 * scheme denoises each separately and pools, the original scheme concatenates them as pandas.concat did).
 */
export function fitFeatureStatistics(frames: FrameColumns | FrameColumns[], params: PreprocessingParams = DEFAULT_PREPROCESSING): FeatureStatistics {
  validatePreprocessingParams(params);
  const list = Array.isArray(frames) ? frames : [frames];
  if (list.length === 0) throw new Error('no frames given to fit feature statistics on');
  return params.scheme === 'original' ? fitOriginal(list, params) : fitBlock(list, params);
}

function fitBlock(list: FrameColumns[], params: PreprocessingParams): FeatureStatistics {
  const series = list.map((frames) => {
    const { rows, rejected } = usableFrameIndexes(frames);
    const raw = extractFeatureRows(frames, rejected ? rows : null);
    return { raw, valid: rows.length, length: blockAlignedLength(rows.length, params.blockLength) };
  });
  const usable = series.reduce((sum, s) => sum + s.length, 0);
  const given = list.reduce((sum, f) => sum + f.length, 0);
  if (usable < params.windowLength) {
    throw new Error(
      `too few frames to fit feature statistics: ${usable} usable frames in whole ${params.blockLength}-frame blocks ` +
        `(of ${given} given), need at least one window of ${params.windowLength}`,
    );
  }
  const rawStd = FEATURE_NAMES.map((_, f) => pooledMeanAndStd(series.map((s) => ({ x: s.raw[f], length: s.valid }))).std);
  const noiseSigma = fitNoiseSigma(series, params);
  const denoiser = new BlockDenoiser(params, noiseSigma);
  const denoised = series.map((s) => {
    const out = s.raw.map((x) => new Float64Array(x.length));
    denoiser.denoiseSeries(s.raw, s.length, out);
    return { out, length: s.length };
  });
  const mean: number[] = [];
  const std: number[] = [];
  for (let f = 0; f < FEATURE_COUNT; f++) {
    const m = pooledMeanAndStd(denoised.map((d) => ({ x: d.out[f], length: d.length })));
    mean.push(m.mean);
    std.push(m.std);
  }
  const stats = { featureNames: [...FEATURE_NAMES], rawStd, mean, std, noiseSigma, frameCount: usable };
  checkStatisticsUsable(stats, usable);
  return stats;
}

function fitOriginal(list: FrameColumns[], params: PreprocessingParams): FeatureStatistics {
  const raw = concatSeries(list.map((frames) => extractFeatures(frames)));
  const n = raw[0].length;
  if (n <= params.windowLength) {
    throw new Error(`too few frames to fit feature statistics: ${n} given, the original scheme needs more than ${params.windowLength}`);
  }
  const rawStd = raw.map((x) => meanAndStd(x).std);
  const denoised = denoiseWholeSeries(raw, rawStd, params);
  const moments = denoised.map((x) => meanAndStd(x));
  const stats = {
    featureNames: [...FEATURE_NAMES],
    rawStd,
    mean: moments.map((m) => m.mean),
    std: moments.map((m) => m.std),
    frameCount: n,
  };
  checkStatisticsUsable(stats, n);
  return stats;
}

/** A constant feature cannot be normalised: say which one instead of producing NaN or huge windows. */
function checkStatisticsUsable(stats: FeatureStatistics, frames: number): void {
  FEATURE_NAMES.forEach((name, f) => {
    const constant = stats.rawStd[f] === 0 || stats.std[f] === 0;
    if (constant || !(stats.std[f] > 0) || !Number.isFinite(stats.mean[f])) {
      throw new Error(
        `feature "${name}" has ${constant ? 'zero' : 'no finite'} standard deviation over ${frames} frames ` +
          `(raw std ${stats.rawStd[f]}, denoised std ${stats.std[f]}): it cannot be normalised; check the input data`,
      );
    }
  });
}

/** Mean and sample std over several series' first `length` values, as if they were concatenated. */
function pooledMeanAndStd(parts: { x: Float64Array; length: number }[]): { mean: number; std: number } {
  if (parts.length === 1) return meanAndStd(parts[0].x, parts[0].length);
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const joined = new Float64Array(total);
  let k = 0;
  for (const p of parts) {
    joined.set(p.x.subarray(0, p.length), k);
    k += p.length;
  }
  return meanAndStd(joined);
}

function concatSeries(parts: Float64Array[][]): Float64Array[] {
  if (parts.length === 1) return parts[0];
  return FEATURE_NAMES.map((_, f) => {
    const joined = new Float64Array(parts.reduce((sum, p) => sum + p[f].length, 0));
    let k = 0;
    for (const p of parts) {
      joined.set(p[f], k);
      k += p[f].length;
    }
    return joined;
  });
}

/** Throws unless stats fit the feature order and the scheme (noise sigma is required by the block scheme). */
export function validateFeatureStatistics(stats: FeatureStatistics, params: PreprocessingParams): void {
  const names = stats.featureNames ?? [];
  if (names.length !== FEATURE_COUNT || names.some((n, i) => n !== FEATURE_NAMES[i])) {
    throw new Error(`feature statistics are for features [${names.join(', ')}], expected [${FEATURE_NAMES.join(', ')}]`);
  }
  const arrays: [string, number[] | undefined][] = [
    ['rawStd', stats.rawStd],
    ['mean', stats.mean],
    ['std', stats.std],
  ];
  if (params.scheme === 'block') arrays.push(['noiseSigma', stats.noiseSigma]);
  for (const [key, values] of arrays) {
    if (!Array.isArray(values) || values.length !== FEATURE_COUNT || values.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
      throw new Error(`feature statistics "${key}" must be ${FEATURE_COUNT} finite numbers${params.scheme === 'block' && key === 'noiseSigma' ? ' (the block scheme needs a fitted noise sigma)' : ''}`);
    }
  }
  stats.std.forEach((s, f) => {
    if (!(s > 0)) throw new Error(`feature statistics "std" for ${FEATURE_NAMES[f]} is ${s}; it must be > 0`);
  });
}

/** The on-disk statistics.json: the original's keys (raw_std, mean, std, features) plus the block scheme's. */
export interface StatisticsJson {
  features: string[];
  raw_std: number[];
  mean: number[];
  std: number[];
  noise_sigma?: number[];
  frame_count: number;
  preprocessing: PreprocessingParams;
}

/** Statistics and the parameters they were fitted with, as written to statistics.json. */
export function statisticsToJson(stats: FeatureStatistics, params: PreprocessingParams): StatisticsJson {
  return {
    features: stats.featureNames,
    raw_std: stats.rawStd,
    mean: stats.mean,
    std: stats.std,
    ...(stats.noiseSigma ? { noise_sigma: stats.noiseSigma } : {}),
    frame_count: stats.frameCount,
    preprocessing: { ...params },
  };
}

/** Reads statistics.json content back, validating it; throws naming the missing or bad key. */
export function statisticsFromJson(json: unknown): { stats: FeatureStatistics; params: PreprocessingParams } {
  if (typeof json !== 'object' || json === null) throw new Error('statistics JSON must be an object');
  const j = json as Partial<StatisticsJson>;
  const p = j.preprocessing;
  if (typeof p !== 'object' || p === null || !PREPROCESSING_SCHEMES.includes(p.scheme)) {
    throw new Error('statistics JSON lacks "preprocessing" parameters with a known scheme');
  }
  const params: PreprocessingParams = { ...DEFAULT_PREPROCESSING, ...p };
  validatePreprocessingParams(params);
  const stats: FeatureStatistics = {
    featureNames: j.features as string[],
    rawStd: j.raw_std as number[],
    mean: j.mean as number[],
    std: j.std as number[],
    ...(j.noise_sigma ? { noiseSigma: j.noise_sigma } : {}),
    frameCount: typeof j.frame_count === 'number' ? j.frame_count : 0,
  };
  validateFeatureStatistics(stats, params);
  return { stats, params };
}
