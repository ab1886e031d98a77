/**
 * Discrete wavelet decomposition, soft thresholding and reconstruction with PyWavelets' semantics
 * (wavedec / threshold(mode='soft') / waverec, extension mode 'symmetric'), so results match the original
 * Python preprocessing to rounding. Only db6 is needed; the filter bank is built from PyWavelets' own
 * double-precision db6 coefficients the same way PyWavelets builds it.
 */

/** An orthogonal wavelet's four filters, each `length` taps, as PyWavelets' Wavelet.filter_bank. */
export interface WaveletFilters {
  name: string;
  length: number;
  decLo: Float64Array;
  decHi: Float64Array;
  recLo: Float64Array;
  recHi: Float64Array;
}

// PyWavelets pywt/_extensions/c/wavelets_coeffs.template.h, db6 (these are rec_lo).
const DB6_SCALING = [
  1.115407433501094636213239172409234390425395919844216759082360e-1,
  4.946238903984530856772041768778555886377863828962743623531834e-1,
  7.511339080210953506789344984397316855802547833382612009730420e-1,
  3.152503517091976290859896548109263966495199235172945244404163e-1,
  -2.262646939654398200763145006609034656705401539728969940143487e-1,
  -1.297668675672619355622896058765854608452337492235814701599310e-1,
  9.750160558732304910234355253812534233983074749525514279893193e-2,
  2.752286553030572862554083950419321365738758783043454321494202e-2,
  -3.158203931748602956507908069984866905747953237314842337511464e-2,
  5.538422011614961392519183980465012206110262773864964295476524e-4,
  4.777257510945510639635975246820707050230501216581434297593254e-3,
  -1.077301085308479564852621609587200035235233609334419689818580e-3,
];

/** Builds a Daubechies filter bank from its scaling coefficients, as PyWavelets' discrete_wavelet(DB, n). */
function daubechiesFilters(name: string, scaling: readonly number[]): WaveletFilters {
  const n = scaling.length;
  const decLo = new Float64Array(n);
  const decHi = new Float64Array(n);
  const recLo = new Float64Array(n);
  const recHi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    recLo[i] = scaling[i];
    decLo[i] = scaling[n - 1 - i];
    recHi[i] = (i % 2 ? -1 : 1) * scaling[n - 1 - i];
    decHi[i] = ((n - 1 - i) % 2 ? -1 : 1) * scaling[i];
  }
  return { name, length: n, decLo, decHi, recLo, recHi };
}

/** PyWavelets' db6 filter bank (12 taps). */
export const DB6: WaveletFilters = daubechiesFilters('db6', DB6_SCALING);

/** Returns the filter bank for a wavelet name; only 'db6' is supported. */
export function waveletFilters(name: string): WaveletFilters {
  if (name === 'db6') return DB6;
  throw new Error(`unsupported wavelet "${name}": only "db6" is implemented`);
}

/** Length of one level's coefficients for an input of length n (pywt.dwt_coeff_len, non-periodization). */
export function dwtCoefficientLength(n: number, filterLength: number): number {
  return Math.floor((n + filterLength - 1) / 2);
}

/** PyWavelets' dwt_max_level: the deepest level without boundary effects on every coefficient. */
export function dwtMaxLevel(n: number, filterLength: number): number {
  if (filterLength <= 1 || n < filterLength - 1) return 0;
  return Math.floor(Math.log2(Math.floor(n / (filterLength - 1))));
}

/** Index into a half-sample symmetric extension of a length-n signal (PyWavelets mode 'symmetric'). */
function symmetricIndex(k: number, n: number): number {
  const period = 2 * n;
  let m = k % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/**
 * Multilevel decomposition, thresholding and reconstruction of signals of one fixed length, with all
 * buffers allocated once, so denoising many blocks allocates nothing (the streaming pipeline's hot path).
 */
export class WaveletDenoiser {
  readonly filters: WaveletFilters;
  /** approxLengths[k]: length of the level-k approximation (approxLengths[0] = signal length). */
  readonly approxLengths: number[];
  /** details[k-1]: level-k detail coefficients after decompose() (details[0] is the finest). */
  readonly details: Float64Array[];
  /** approx[k]: level-k approximation; approx[level] holds the coarsest after decompose(). */
  private readonly approx: Float64Array[];
  private readonly extension: Float64Array;
  private readonly reconstruction: Float64Array[];

  constructor(readonly signalLength: number, readonly level: number, wavelet: string | WaveletFilters = 'db6') {
    this.filters = typeof wavelet === 'string' ? waveletFilters(wavelet) : wavelet;
    const F = this.filters.length;
    if (F !== 12) throw new Error(`WaveletDenoiser is specialised for 12-tap filters (db6); ${this.filters.name} has ${F}`);
    if (!Number.isInteger(signalLength) || signalLength < 1) {
      throw new Error(`wavelet signal length must be a positive integer, got ${signalLength}`);
    }
    if (!Number.isInteger(level) || level < 0) throw new Error(`wavelet level must be an integer >= 0, got ${level}`);
    this.approxLengths = [signalLength];
    for (let k = 1; k <= level; k++) this.approxLengths.push(dwtCoefficientLength(this.approxLengths[k - 1], F));
    // PyWavelets' idwt refuses coefficient arrays shorter than half the filter.
    if (level > 0 && this.approxLengths[level] < F / 2) {
      throw new Error(`signal of ${signalLength} samples is too short for a level-${level} ${this.filters.name} transform`);
    }
    this.approx = this.approxLengths.map((n) => new Float64Array(n));
    this.details = this.approxLengths.slice(1).map((n) => new Float64Array(n));
    this.extension = new Float64Array(signalLength + 2 * (F - 1));
    // reconstruction[k-1]: output of the inverse step that turns level k into level k-1 (length 2m - F + 2).
    this.reconstruction = this.approxLengths.slice(1).map((m) => new Float64Array(2 * m - F + 2));
  }

  /** Decomposes input[offset .. offset+signalLength) into `level` detail arrays and one approximation. */
  decompose(input: Float64Array, offset = 0): void {
    if (this.level === 0) {
      this.approx[0].set(input.subarray(offset, offset + this.signalLength));
      return;
    }
    // Level 1 reads the input in place; deeper levels read the previous approximation.
    this.dwtStep(input, offset, this.signalLength, this.approx[1], this.details[0]);
    for (let k = 2; k <= this.level; k++) {
      this.dwtStep(this.approx[k - 1], 0, this.approxLengths[k - 1], this.approx[k], this.details[k - 1]);
    }
  }

  /** The coarsest approximation coefficients after decompose(). */
  get approximation(): Float64Array {
    return this.approx[this.level];
  }

  /** Soft-thresholds the details (and the approximation when approxThreshold > 0) in place, as pywt.threshold. */
  threshold(detailThreshold: number, approxThreshold: number): void {
    if (detailThreshold > 0) for (const d of this.details) softThreshold(d, detailThreshold);
    if (approxThreshold > 0) softThreshold(this.approx[this.level], approxThreshold);
  }

  /** Reconstructs (pywt.waverec) and writes the first signalLength samples to output[offset..]. */
  reconstruct(output: Float64Array, offset = 0): void {
    if (this.level === 0) {
      output.set(this.approx[0], offset);
      return;
    }
    let a = this.approx[this.level];
    let aLength = this.approxLengths[this.level];
    for (let k = this.level; k >= 1; k--) {
      const m = this.approxLengths[k];
      // waverec drops the last approximation sample when it is one longer than the details.
      if (aLength === m + 1) aLength = m;
      else if (aLength !== m) throw new Error(`internal: coefficient length mismatch at level ${k}`);
      aLength = 2 * m - this.filters.length + 2;
      if (k === 1 && aLength === this.signalLength) {
        this.idwtStep(a, this.details[0], m, output, offset); // the last step writes straight to the output
        return;
      }
      this.idwtStep(a, this.details[k - 1], m, this.reconstruction[k - 1], 0);
      a = this.reconstruction[k - 1];
    }
    // For odd signal lengths waverec returns one extra sample; keep the first signalLength.
    for (let i = 0; i < this.signalLength; i++) output[offset + i] = a[i];
  }

  /** decompose + threshold + reconstruct: one denoised copy of input[inOffset..] written to output[outOffset..]. */
  denoise(input: Float64Array, inOffset: number, output: Float64Array, outOffset: number, detailThreshold: number, approxThreshold: number): void {
    this.decompose(input, inOffset);
    this.threshold(detailThreshold, approxThreshold);
    this.reconstruct(output, outOffset);
  }

  /**
   * Level-1 denoising of the details only, computed as x - R_hi(clip(d, -t, t)): algebraically the same as
   * waverec([a, soft(d, t)]) because the unthresholded transform reconstructs x exactly, and half the work
   * (no low-pass analysis or synthesis). Agrees with denoise(..., t, 0) to rounding (about 1e-16 relative),
   * not bit for bit; the block scheme uses it in batch and streaming alike.
   */
  denoiseLevelOneDetails(input: Float64Array, inOffset: number, output: Float64Array, outOffset: number, threshold: number): void {
    if (this.level !== 1) throw new Error(`denoiseLevelOneDetails needs a level-1 denoiser, this one is level ${this.level}`);
    const n = this.signalLength;
    if (!(threshold > 0)) {
      if (output !== input || outOffset !== inOffset) for (let i = 0; i < n; i++) output[outOffset + i] = input[inOffset + i];
      return;
    }
    const ext = this.extension;
    const pad = 11;
    this.fillExtension(input, inOffset, n);
    const h = this.filters.decHi;
    const h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5];
    const h6 = h[6], h7 = h[7], h8 = h[8], h9 = h[9], h10 = h[10], h11 = h[11];
    const m = this.approxLengths[1];
    const clipped = this.details[0];
    const t = threshold;
    for (let o = 0; o < m; o++) {
      const b = 2 * o + 1 + pad;
      const d =
        h0 * ext[b] + h1 * ext[b - 1] + h2 * ext[b - 2] + h3 * ext[b - 3] + h4 * ext[b - 4] + h5 * ext[b - 5] +
        h6 * ext[b - 6] + h7 * ext[b - 7] + h8 * ext[b - 8] + h9 * ext[b - 9] + h10 * ext[b - 10] + h11 * ext[b - 11];
      // d - soft(d, t): what thresholding removes.
      clipped[o] = d > t ? t : d < -t ? -t : d;
    }
    const r = this.filters.recHi;
    const r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3], r4 = r[4], r5 = r[5];
    const r6 = r[6], r7 = r[7], r8 = r[8], r9 = r[9], r10 = r[10], r11 = r[11];
    for (let i = 5, o = 0; i < m && o < n; i++, o += 2) {
      const c0 = clipped[i], c1 = clipped[i - 1], c2 = clipped[i - 2], c3 = clipped[i - 3], c4 = clipped[i - 4], c5 = clipped[i - 5];
      output[outOffset + o] = ext[pad + o] - (r0 * c0 + r2 * c1 + r4 * c2 + r6 * c3 + r8 * c4 + r10 * c5);
      // For odd n waverec's extra last sample is dropped.
      if (o + 1 < n) output[outOffset + o + 1] = ext[pad + o + 1] - (r1 * c0 + r3 * c1 + r5 * c2 + r7 * c3 + r9 * c4 + r11 * c5);
    }
  }

  /** Copies x[offset .. offset+n) into the extension buffer with 11 samples of symmetric padding each side. */
  private fillExtension(x: Float64Array, offset: number, n: number): void {
    const ext = this.extension;
    const pad = 11;
    if (n >= pad) {
      for (let m = 0; m < pad; m++) {
        ext[pad - 1 - m] = x[offset + m];
        ext[pad + n + m] = x[offset + n - 1 - m];
      }
    } else {
      for (let k = -pad; k < 0; k++) ext[k + pad] = x[offset + symmetricIndex(k, n)];
      for (let k = n; k < n + pad; k++) ext[k + pad] = x[offset + symmetricIndex(k, n)];
    }
    for (let k = 0; k < n; k++) ext[k + pad] = x[offset + k];
  }

  /**
   * One analysis step: out[o] = sum_j filter[j] * ext(x)[2o + 1 - j] (pywt downsampling_convolution),
   * unrolled for 12 taps: this loop is most of the feature pipeline's time.
   */
  private dwtStep(x: Float64Array, offset: number, n: number, lo: Float64Array, hi: Float64Array): void {
    const { decLo: l, decHi: h } = this.filters;
    const ext = this.extension;
    const pad = 11;
    this.fillExtension(x, offset, n);
    const l0 = l[0], l1 = l[1], l2 = l[2], l3 = l[3], l4 = l[4], l5 = l[5];
    const l6 = l[6], l7 = l[7], l8 = l[8], l9 = l[9], l10 = l[10], l11 = l[11];
    const h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5];
    const h6 = h[6], h7 = h[7], h8 = h[8], h9 = h[9], h10 = h[10], h11 = h[11];
    const outLength = dwtCoefficientLength(n, 12);
    for (let o = 0; o < outLength; o++) {
      const b = 2 * o + 1 + pad;
      const e0 = ext[b], e1 = ext[b - 1], e2 = ext[b - 2], e3 = ext[b - 3], e4 = ext[b - 4], e5 = ext[b - 5];
      const e6 = ext[b - 6], e7 = ext[b - 7], e8 = ext[b - 8], e9 = ext[b - 9], e10 = ext[b - 10], e11 = ext[b - 11];
      lo[o] = l0 * e0 + l1 * e1 + l2 * e2 + l3 * e3 + l4 * e4 + l5 * e5 + l6 * e6 + l7 * e7 + l8 * e8 + l9 * e9 + l10 * e10 + l11 * e11;
      hi[o] = h0 * e0 + h1 * e1 + h2 * e2 + h3 * e3 + h4 * e4 + h5 * e5 + h6 * e6 + h7 * e7 + h8 * e8 + h9 * e9 + h10 * e10 + h11 * e11;
    }
  }

  /** One synthesis step on m coefficients, 'valid' part only (pywt upsampling_convolution_valid_sf), 12 taps. */
  private idwtStep(a: Float64Array, d: Float64Array, m: number, out: Float64Array, offset: number): void {
    const { recLo: l, recHi: h } = this.filters;
    const l0 = l[0], l1 = l[1], l2 = l[2], l3 = l[3], l4 = l[4], l5 = l[5];
    const l6 = l[6], l7 = l[7], l8 = l[8], l9 = l[9], l10 = l[10], l11 = l[11];
    const h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5];
    const h6 = h[6], h7 = h[7], h8 = h[8], h9 = h[9], h10 = h[10], h11 = h[11];
    for (let i = 5, o = offset; i < m; i++, o += 2) {
      const a0 = a[i], a1 = a[i - 1], a2 = a[i - 2], a3 = a[i - 3], a4 = a[i - 4], a5 = a[i - 5];
      const d0 = d[i], d1 = d[i - 1], d2 = d[i - 2], d3 = d[i - 3], d4 = d[i - 4], d5 = d[i - 5];
      // Same association as PyWavelets: the approximation pass fills the zeroed buffer, the detail pass adds.
      out[o] = l0 * a0 + l2 * a1 + l4 * a2 + l6 * a3 + l8 * a4 + l10 * a5 + (h0 * d0 + h2 * d1 + h4 * d2 + h6 * d3 + h8 * d4 + h10 * d5);
      out[o + 1] = l1 * a0 + l3 * a1 + l5 * a2 + l7 * a3 + l9 * a4 + l11 * a5 + (h1 * d0 + h3 * d1 + h5 * d2 + h7 * d3 + h9 * d4 + h11 * d5);
    }
  }
}

/** pywt.threshold(x, t, mode='soft') in place: x * max(0, 1 - t/|x|). */
export function softThreshold(x: Float64Array, t: number): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const magnitude = v < 0 ? -v : v;
    // Written so a NaN coefficient stays NaN, as in PyWavelets.
    x[i] = magnitude <= t ? 0 : v * (1 - t / magnitude);
  }
}
