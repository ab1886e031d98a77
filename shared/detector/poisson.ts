/**
 * Poisson bounds for event rates: how high a false-alarm rate could be, given a count in an exposure (e.g.
 * normal turbine-days), and how much exposure a target rate needs before a measurement can support it.
 */

/** P(X <= count) for X ~ Poisson(mean), summed in log space (no overflow for large counts or means). */
export function poissonCdf(count: number, mean: number): number {
  if (!Number.isInteger(count) || count < 0) throw new Error(`Poisson count must be a non-negative integer, got ${count}`);
  if (!(mean >= 0 && Number.isFinite(mean))) throw new Error(`Poisson mean must be a non-negative number, got ${mean}`);
  if (mean === 0) return 1;
  let logTerm = -mean; // log of e^-mean mean^i / i!, for i = 0
  let sum = Math.exp(logTerm);
  for (let i = 1; i <= count; i++) {
    logTerm += Math.log(mean / i);
    sum += Math.exp(logTerm);
  }
  return Math.min(1, sum);
}

/**
 * One-sided upper confidence bound of a Poisson mean after observing `count` events: the mean at which
 * seeing `count` or fewer has probability 1 - confidence (the exact, Garwood bound; 0 events at 95 %
 * give 2.996). Found by bisection on the CDF, which falls as the mean grows.
 */
export function poissonUpperBound(count: number, confidence = 0.95): number {
  if (!(confidence > 0 && confidence < 1)) throw new Error(`confidence must be between 0 and 1, got ${confidence}`);
  poissonCdf(count, 0); // validates count
  const alpha = 1 - confidence;
  let lo = count;
  let hi = count + 10 * Math.sqrt(count + 1) + 10;
  while (poissonCdf(count, hi) > alpha) hi *= 2;
  for (let k = 0; k < 200 && hi - lo > 1e-12 * hi; k++) {
    const mid = (lo + hi) / 2;
    if (poissonCdf(count, mid) > alpha) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Upper confidence bound of a rate per unit of exposure (e.g. false alarms per turbine-day). */
export function rateUpperBound(count: number, exposure: number, confidence = 0.95): number {
  if (!(exposure > 0 && Number.isFinite(exposure))) throw new Error(`exposure must be a positive number, got ${exposure}`);
  return poissonUpperBound(count, confidence) / exposure;
}

/** Exposure needed before zero events bound the rate at or below `targetRate` (6.0 turbine-days for 0.5 per day at 95 %). */
export function exposureToSupport(targetRate: number, confidence = 0.95): number {
  if (!(targetRate > 0 && Number.isFinite(targetRate))) throw new Error(`target rate must be a positive number, got ${targetRate}`);
  return poissonUpperBound(0, confidence) / targetRate;
}
