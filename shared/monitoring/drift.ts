/**
 * Input drift against the statistics shipped in the model's manifest. The model's input is normalised with
 * the training mean and std, so on data like the training data each feature has mean 0 and std 1; the
 * manifest holds nothing more than those two moments. The test therefore compares two Gaussians: the one
 * the manifest implies, N(0, 1), and the one fitted to the live normalised inputs, N(m, s), by their
 * symmetric Kullback-Leibler (Jeffreys) divergence
 *
 *   J = (s^2 + 1/s^2) / 2 - 1 + m^2 (1 + 1/s^2) / 2,
 *
 * which is what the population stability index estimates with bins (PSI is a binned Jeffreys divergence),
 * so the industry's PSI thresholds carry over: below 0.1 stable, 0.1 to 0.25 watch, 0.25 and above drift.
 * A pure mean shift of m training standard deviations gives J = m^2, so "drift" means a shift of half a
 * training std, or a std off by a factor of about 1.4 (sqrt 2). A significance test (z or KS) was rejected: with
 * thousands of strongly autocorrelated steps any difference is "significant", while J measures how large
 * the shift is, which is what decides whether the model still fits.
 */

/** Thresholds of the drift verdict. */
export interface DriftThresholds {
  /** J at or above which a feature is "watch" (default 0.1, PSI's usual "some shift"). */
  watch: number;
  /** J at or above which a feature has drifted (default 0.25, PSI's usual "significant shift"). */
  drift: number;
  /** Fewest captured steps per feature before any verdict (default 2000: 20 windows of 100 steps). */
  minSteps: number;
}

export const DEFAULT_DRIFT_THRESHOLDS: DriftThresholds = { watch: 0.1, drift: 0.25, minSteps: 2000 };

/** Running count, sum and sum of squares of one feature's normalised values. */
export interface Moments {
  n: number;
  sum: number;
  sumSq: number;
}

/** Per-feature finding. */
export interface FeatureDriftEvidence {
  feature: string;
  steps: number;
  /** Live mean and std of the normalised feature (0 and 1 on training-like data). */
  mean: number;
  std: number;
  /** Jeffreys divergence of N(mean, std) from N(0, 1) (PSI-equivalent). */
  divergence: number;
  level: 'stable' | 'watch' | 'drift';
}

/** The verdict with the evidence behind it. */
export interface DriftVerdict {
  verdict: 'stable' | 'watch' | 'drift' | 'insufficient-data';
  /** One sentence saying why. */
  reason: string;
  features: FeatureDriftEvidence[];
  thresholds: DriftThresholds;
}

/** Empty moments for count features. */
export function emptyMoments(count: number): Moments[] {
  return Array.from({ length: count }, () => ({ n: 0, sum: 0, sumSq: 0 }));
}

/** Adds a feature-major window (features x steps) to per-feature moments. */
export function addWindowMoments(moments: Moments[], input: Float32Array, steps: number): void {
  if (input.length !== moments.length * steps) throw new Error(`a window of ${input.length} values is not ${moments.length} features x ${steps} steps`);
  for (let f = 0; f < moments.length; f++) {
    const m = moments[f];
    for (let s = f * steps, end = s + steps; s < end; s++) {
      const x = input[s];
      m.n++;
      m.sum += x;
      m.sumSq += x * x;
    }
  }
}

/** Moments from a (mean, sample std, count) summary, e.g. a heartbeat's per-feature drift figures. */
export function momentsFromSummary(mean: number, std: number, n: number): Moments {
  return { n, sum: mean * n, sumSq: n > 1 ? std * std * (n - 1) + n * mean * mean : mean * mean * n };
}

/** Jeffreys (symmetric KL) divergence of N(mean, std) from the manifest's N(0, 1); see the file comment. */
export function gaussianDivergence(mean: number, std: number): number {
  if (!(std > 0) || !Number.isFinite(mean)) return Number.POSITIVE_INFINITY;
  const v = std * std;
  return (v + 1 / v) / 2 - 1 + (mean * mean * (1 + 1 / v)) / 2;
}

/** The drift verdict over per-feature moments of normalised inputs; throws on bad thresholds. */
export function driftVerdict(featureNames: readonly string[], moments: readonly Moments[], thresholds: Partial<DriftThresholds> = {}): DriftVerdict {
  const t = { ...DEFAULT_DRIFT_THRESHOLDS, ...thresholds };
  if (!(t.watch > 0 && t.drift >= t.watch && t.minSteps >= 2)) throw new Error(`drift thresholds need 0 < watch <= drift and minSteps >= 2, got ${JSON.stringify(t)}`);
  if (featureNames.length !== moments.length) throw new Error(`${featureNames.length} feature names for ${moments.length} features`);
  const features = moments.map((m, f): FeatureDriftEvidence => {
    const mean = m.n > 0 ? m.sum / m.n : 0;
    const std = m.n > 1 ? Math.sqrt(Math.max(0, (m.sumSq - m.n * mean * mean) / (m.n - 1))) : 0;
    const divergence = m.n > 1 ? gaussianDivergence(mean, std) : 0;
    const level = divergence >= t.drift ? 'drift' : divergence >= t.watch ? 'watch' : 'stable';
    return { feature: featureNames[f], steps: m.n, mean, std, divergence, level };
  });
  const fewest = Math.min(...features.map((f) => f.steps));
  if (features.length === 0 || fewest < t.minSteps) {
    return { verdict: 'insufficient-data', reason: `${fewest} captured steps per feature, fewer than the ${t.minSteps} a verdict needs`, features, thresholds: t };
  }
  const fmt = (f: FeatureDriftEvidence): string => `${f.feature} (J ${f.divergence.toFixed(2)}: mean ${f.mean.toFixed(2)}, std ${f.std.toFixed(2)})`;
  const drifted = features.filter((f) => f.level === 'drift').sort((a, b) => b.divergence - a.divergence);
  const watched = features.filter((f) => f.level === 'watch').sort((a, b) => b.divergence - a.divergence);
  if (drifted.length > 0) return { verdict: 'drift', reason: `input drift on ${drifted.map(fmt).join(', ')}: J >= ${t.drift}`, features, thresholds: t };
  if (watched.length > 0) return { verdict: 'watch', reason: `some shift on ${watched.map(fmt).join(', ')}: ${t.watch} <= J < ${t.drift}`, features, thresholds: t };
  const top = [...features].sort((a, b) => b.divergence - a.divergence)[0];
  return { verdict: 'stable', reason: `every feature within J < ${t.watch} of the manifest's statistics (largest: ${fmt(top)})`, features, thresholds: t };
}
