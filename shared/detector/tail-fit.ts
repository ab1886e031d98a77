/**
 * Peaks over threshold: a generalised Pareto tail fitted to the peaks of normal excursions, to extrapolate
 * how often normal data would cross a level higher than any it showed. Fitted by probability-weighted
 * moments (Hosking and Wallis 1987: closed form, no optimiser, sound for the few tens of peaks a training
 * farm gives).
 */

/** Generalised Pareto distribution of excesses y >= 0: P(Y > y) = (1 + shape y / scale)^(-1 / shape). */
export interface ParetoTail {
  scale: number;
  shape: number;
}

/** Fits a generalised Pareto tail to excesses over a threshold by probability-weighted moments. */
export function fitParetoTail(excesses: readonly number[]): ParetoTail {
  if (excesses.length < 5) throw new Error(`Pareto tail: need at least 5 excesses, got ${excesses.length}`);
  for (const y of excesses) if (!(y >= 0 && Number.isFinite(y))) throw new Error(`Pareto tail: excesses must be finite and >= 0, got ${y}`);
  const s = [...excesses].sort((a, b) => a - b);
  const n = s.length;
  const a0 = s.reduce((a, b) => a + b, 0) / n;
  let a1 = 0;
  for (let j = 0; j < n; j++) a1 += (1 - (j + 1 - 0.35) / n) * s[j];
  a1 /= n;
  if (!(a0 > 0) || !(a0 - 2 * a1 > 0)) throw new Error('Pareto tail: the excesses have no spread to fit');
  const k = a0 / (a0 - 2 * a1) - 2;
  return { scale: (2 * a0 * a1) / (a0 - 2 * a1), shape: -k };
}

/** P(Y > y) of the tail. */
export function tailSurvival(tail: ParetoTail, y: number): number {
  if (y <= 0) return 1;
  if (Math.abs(tail.shape) < 1e-9) return Math.exp(-y / tail.scale);
  const base = 1 + (tail.shape * y) / tail.scale;
  return base <= 0 ? 0 : base ** (-1 / tail.shape);
}

/** The excess y with P(Y > y) = p (0 < p <= 1). */
export function tailQuantile(tail: ParetoTail, p: number): number {
  if (!(p > 0 && p <= 1)) throw new Error(`tail probability must be in (0, 1], got ${p}`);
  if (Math.abs(tail.shape) < 1e-9) return -tail.scale * Math.log(p);
  return (tail.scale / tail.shape) * (p ** -tail.shape - 1);
}
