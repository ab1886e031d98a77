/**
 * Preprocessing parameters: which scheme, the wavelet, window geometry and the block denoiser's settings.
 * They travel with a model (manifest) so the device preprocesses exactly as training did.
 */

/**
 * 'block': the default, used by training AND the device. The stream of valid frames is cut into consecutive
 *   non-overlapping blocks of `blockLength` frames aligned to its first frame; each block is denoised on its
 *   own with a threshold fitted on training data (thresholdMultiplier x noise sigma, details only), then
 *   normalised with fitted mean/std. Batch and streaming therefore compute the same numbers.
 * 'original': the workshop's exact steps: the whole series denoised at once, level min(5, floor(log2 N)),
 *   threshold raw_std * sqrt(2 log2 N) applied to every coefficient array including the approximation.
 */
export type PreprocessingScheme = 'block' | 'original';
export const PREPROCESSING_SCHEMES: readonly PreprocessingScheme[] = ['block', 'original'];

export interface PreprocessingParams {
  scheme: PreprocessingScheme;
  /** Wavelet for denoising; only 'db6' (as the original). */
  wavelet: 'db6';
  /** Steps per window; must be a square (100 -> each feature reshaped to 10 x 10). */
  windowLength: number;
  /** Steps between window starts. */
  stride: number;
  /** Block scheme: frames per denoising block (a window is ready at most blockLength - 1 frames late). */
  blockLength: number;
  /** Block scheme: wavelet decomposition level inside a block. */
  level: number;
  /** Block scheme: soft threshold = thresholdMultiplier x fitted noise sigma, on detail coefficients. */
  thresholdMultiplier: number;
}

/**
 * Default: blocks of 32 frames (1.6 s; a window is ready at most 31 frames = 1.55 s after its last frame),
 * level 1 (PyWavelets' dwt_max_level for 32 samples of db6), soft threshold 1 x fitted noise sigma on the
 * details: removes about a quarter of white noise while a doubled noise level comes out more than doubled
 * (see shared/features/README.md and `npm run bench`).
 */
export const DEFAULT_PREPROCESSING: Readonly<PreprocessingParams> = Object.freeze({
  scheme: 'block',
  wavelet: 'db6',
  windowLength: 100,
  stride: 10,
  blockLength: 32,
  level: 1,
  thresholdMultiplier: 1,
});

/** The original workshop's preprocessing (block settings are unused). */
export const ORIGINAL_PREPROCESSING: Readonly<PreprocessingParams> = Object.freeze({
  ...DEFAULT_PREPROCESSING,
  scheme: 'original',
});

/** Default parameters for a scheme, with overrides, validated. */
export function preprocessingParams(overrides: Partial<PreprocessingParams> = {}): PreprocessingParams {
  const base = overrides.scheme === 'original' ? ORIGINAL_PREPROCESSING : DEFAULT_PREPROCESSING;
  const params = { ...base, ...overrides };
  validatePreprocessingParams(params);
  return params;
}

/** Throws a clear error naming the first invalid parameter. */
export function validatePreprocessingParams(p: PreprocessingParams): void {
  if (!PREPROCESSING_SCHEMES.includes(p.scheme)) {
    throw new Error(`preprocessing scheme must be one of ${PREPROCESSING_SCHEMES.join(', ')}, got "${p.scheme}"`);
  }
  if (p.wavelet !== 'db6') throw new Error(`preprocessing wavelet must be "db6", got "${p.wavelet}"`);
  const side = Math.round(Math.sqrt(p.windowLength));
  if (!Number.isInteger(p.windowLength) || p.windowLength < 1 || side * side !== p.windowLength) {
    throw new Error(`preprocessing windowLength must be a square number of steps (e.g. 100), got ${p.windowLength}`);
  }
  if (!Number.isInteger(p.stride) || p.stride < 1) throw new Error(`preprocessing stride must be a positive integer, got ${p.stride}`);
  if (!Number.isInteger(p.blockLength) || p.blockLength < 12) {
    throw new Error(`preprocessing blockLength must be an integer >= 12 (the db6 filter length), got ${p.blockLength}`);
  }
  if (!Number.isInteger(p.level) || p.level < 0 || p.level > 8) throw new Error(`preprocessing level must be an integer 0..8, got ${p.level}`);
  if (!Number.isFinite(p.thresholdMultiplier) || p.thresholdMultiplier < 0) {
    throw new Error(`preprocessing thresholdMultiplier must be a finite number >= 0, got ${p.thresholdMultiplier}`);
  }
}

/** Side of the square each feature's window is reshaped to (10 for windows of 100). */
export function windowSide(p: PreprocessingParams): number {
  return Math.round(Math.sqrt(p.windowLength));
}
