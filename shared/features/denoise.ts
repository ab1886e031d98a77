/**
 * The denoising and normalisation steps both schemes share, written once so training (batch) and the
 * device (streaming) run literally the same arithmetic.
 */
import { FEATURE_COUNT } from './euler';
import type { PreprocessingParams } from './params';
import { WaveletDenoiser } from './wavelet';

/** Donoho's constant: median(|d1|) / 0.6745 estimates the standard deviation of white noise. */
const MAD_TO_SIGMA = 0.6745;

/**
 * Block scheme: denoises one block of `blockLength` samples at a time with a fixed (fitted) soft threshold
 * per feature on the detail coefficients; the approximation is kept as is.
 */
export class BlockDenoiser {
  private readonly wavelet: WaveletDenoiser;
  readonly thresholds: Float64Array;

  constructor(readonly params: PreprocessingParams, noiseSigma: readonly number[]) {
    this.wavelet = new WaveletDenoiser(params.blockLength, params.level, params.wavelet);
    this.thresholds = Float64Array.from(noiseSigma, (s) => s * params.thresholdMultiplier);
  }

  /** Denoises input[inOffset .. +blockLength) of feature f into output[outOffset ..]. */
  denoiseBlock(feature: number, input: Float64Array, inOffset: number, output: Float64Array, outOffset: number): void {
    // Level 1 (the default) takes the half-cost path; both pipelines go through here, so they stay equal.
    if (this.params.level === 1) this.wavelet.denoiseLevelOneDetails(input, inOffset, output, outOffset, this.thresholds[feature]);
    else this.wavelet.denoise(input, inOffset, output, outOffset, this.thresholds[feature], 0);
  }

  /** Denoises the first `length` samples (a multiple of blockLength) of every feature series. */
  denoiseSeries(raw: Float64Array[], length: number, output: Float64Array[]): void {
    const b = this.params.blockLength;
    for (let f = 0; f < FEATURE_COUNT; f++) {
      for (let start = 0; start + b <= length; start += b) this.denoiseBlock(f, raw[f], start, output[f], start);
    }
  }
}

/** Number of samples the block scheme denoises from n valid frames: whole blocks only. */
export function blockAlignedLength(n: number, blockLength: number): number {
  return n - (n % blockLength);
}

/**
 * Fits each feature's white-noise level from the finest detail coefficients of every block
 * (median absolute value / 0.6745), pooled over all series given.
 */
export function fitNoiseSigma(series: { raw: Float64Array[]; length: number }[], params: PreprocessingParams): number[] {
  const b = params.blockLength;
  const probe = new WaveletDenoiser(b, 1, params.wavelet);
  const perBlock = probe.approxLengths[1];
  const blocks = series.reduce((sum, s) => sum + Math.floor(s.length / b), 0);
  const sigma: number[] = [];
  for (let f = 0; f < FEATURE_COUNT; f++) {
    const magnitudes = new Float64Array(blocks * perBlock);
    let k = 0;
    for (const s of series) {
      for (let start = 0; start + b <= s.length; start += b) {
        probe.decompose(s.raw[f], start);
        const d = probe.details[0];
        for (let i = 0; i < perBlock; i++) magnitudes[k++] = Math.abs(d[i]);
      }
    }
    sigma.push(median(magnitudes) / MAD_TO_SIGMA);
  }
  return sigma;
}

/** Original scheme: the decomposition level the workshop used for a series of n samples. */
export function originalLevel(n: number): number {
  return Math.min(5, Math.floor(Math.log2(n)));
}

/** Original scheme: the workshop's threshold for a series of n samples with noise level rawStd. */
export function originalThreshold(rawStd: number, n: number): number {
  return rawStd * Math.sqrt(2 * Math.log2(n));
}

/** Original scheme: each whole feature series denoised at once, as pywt.waverec(threshold(wavedec(x))). */
export function denoiseWholeSeries(raw: Float64Array[], rawStd: readonly number[], params: PreprocessingParams): Float64Array[] {
  const n = raw[0].length;
  const wavelet = new WaveletDenoiser(n, originalLevel(n), params.wavelet);
  return raw.map((x, f) => {
    const out = new Float64Array(n);
    const t = originalThreshold(rawStd[f], n);
    wavelet.denoise(x, 0, out, 0, t, t);
    return out;
  });
}

/** z-score in place over the first `length` samples: (x - mean) / std, the one formula both paths use. */
export function normaliseInPlace(series: Float64Array[], length: number, mean: readonly number[], std: readonly number[]): void {
  for (let f = 0; f < series.length; f++) {
    const x = series[f];
    const m = mean[f];
    const s = std[f];
    for (let i = 0; i < length; i++) x[i] = (x[i] - m) / s;
  }
}

/**
 * z-score x[0..length) with the same formula and round to float32, NaN -> 0 (the original's nan_to_num):
 * the values the model sees. Both pipelines call this, so their windows are bit-identical.
 */
export function normaliseToFloat32(x: Float64Array, length: number, mean: number, std: number, out: Float32Array): void {
  for (let i = 0; i < length; i++) {
    const v = (x[i] - mean) / std;
    out[i] = v === v ? v : 0;
  }
}

/** Mean and sample standard deviation (ddof = 1) of the non-NaN values, as pandas' mean()/std(). */
export function meanAndStd(x: Float64Array, length = x.length): { mean: number; std: number; count: number } {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < length; i++) {
    const v = x[i];
    if (v === v) {
      sum += v;
      count++;
    }
  }
  const mean = sum / count;
  let squares = 0;
  for (let i = 0; i < length; i++) {
    const v = x[i];
    if (v === v) squares += (v - mean) * (v - mean);
  }
  return { mean, std: Math.sqrt(squares / (count - 1)), count };
}

/** Median as numpy computes it (mean of the two middle values for an even count); NaN for no values. */
export function median(values: Float64Array): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
