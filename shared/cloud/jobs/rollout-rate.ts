/**
 * Rollout rates of IoT Jobs: how many things a job may notify per minute now, from its
 * jobExecutionsRolloutConfig (a fixed maximum, or an exponential rate that grows with notified or
 * succeeded things).
 */
import type { JobRecord } from './records';

/** One rollout window: rates are per minute of cloud time. */
export const MINUTE = 60_000;

/**
 * Things notified per minute for this job now (AWS caps every rate at 1000 a minute); succeeded() gives
 * the job's SUCCEEDED count, read only when the rate grows with successes.
 */
export function rolloutRate(job: JobRecord, succeeded: () => number): number {
  const cfg = job.jobExecutionsRolloutConfig;
  if (!cfg || (cfg.maximumPerMinute === undefined && !cfg.exponentialRate)) return Infinity;
  let rate = cfg.maximumPerMinute ?? 1000;
  const exp = cfg.exponentialRate;
  if (exp) {
    const crit = exp.rateIncreaseCriteria;
    const count = crit.numberOfNotifiedThings !== undefined ? job.rollout.notified : succeeded();
    const threshold = crit.numberOfNotifiedThings ?? crit.numberOfSucceededThings ?? 1;
    const steps = Math.floor(count / threshold);
    rate = Math.min(rate, Math.floor(exp.baseRatePerMinute * Math.pow(exp.incrementFactor, steps)));
  }
  return Math.max(1, Math.min(rate, 1000));
}
