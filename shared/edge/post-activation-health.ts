/**
 * Post-activation health: the canary checks a model before it replaces the active one, but a model can
 * still go bad once it serves (NaN outputs, an engine that starts throwing). For watchSeconds after each
 * activation this monitor looks at the runtime's counters once per health-check period; when, in one
 * period, at least maxFailedShare of the windows failed inference (non-finite output or an error), it
 * rolls back to the previous model (the runtime's rollback: same warm-up and canary). So a model that
 * goes bad is replaced within one period of its first failures. A model activated by a rollback is not
 * watched (no ping-pong between two bad models).
 */
import type { ScoringRuntime } from './scoring-runtime';

/** Post-activation health settings. */
export interface PostActivationHealthOptions {
  /** Health-check period in seconds (default 10). */
  periodSeconds: number;
  /** How long after an activation the model is watched, in seconds (default 600). */
  watchSeconds: number;
  /** Share of a period's windows that failed inference above which the model is rolled back (default 0.5). */
  maxFailedShare: number;
}

/** What a rollback by the monitor reports. */
export interface HealthRollback {
  from: { name: string; version: string };
  to: { name: string; version: string } | null;
  failedWindows: number;
  scoredWindows: number;
  /** Milliseconds from the activation to the decision. */
  afterActivationMs: number;
  /**
   * Health checks that saw failed windows, the deciding one included: 1 when the first check after the
   * failures began decided, 2 when that check saw only the start of them (a partial period).
   */
  checksWithFailures: number;
  error?: string;
}

/** Checks the options; throws naming the bad one. */
export function validatePostActivationHealth(o: PostActivationHealthOptions): void {
  if (!(o.periodSeconds > 0)) throw new Error(`post-activation health periodSeconds must be positive, got ${o.periodSeconds}`);
  if (!(o.watchSeconds >= 0)) throw new Error(`post-activation health watchSeconds must be 0 or more, got ${o.watchSeconds}`);
  if (!(o.maxFailedShare > 0 && o.maxFailedShare <= 1)) throw new Error(`post-activation health maxFailedShare must be in (0, 1], got ${o.maxFailedShare}`);
}

/** Watches each newly activated model of runtime and rolls back one that fails; see the file comment. */
export function monitorActivatedModels(
  runtime: ScoringRuntime,
  options: Partial<PostActivationHealthOptions> = {},
  hooks: { log?: (line: string) => void; onRollback?: (r: HealthRollback) => void } = {},
): { stop(): void } {
  const o: PostActivationHealthOptions = { periodSeconds: 10, watchSeconds: 600, maxFailedShare: 0.5, ...options };
  validatePostActivationHealth(o);
  const log = hooks.log ?? (() => undefined);
  let watched: { name: string; version: string; since: number; failed: number; scored: number; checksWithFailures: number } | null = null;
  let rollingBack = false;
  const failedNow = (): number => runtime.counters.windowsUnscored;
  const onSwap = (e: { to: { name: string; version: string } }): void => {
    // The swap a rollback makes is not watched.
    watched = rollingBack ? null : { ...e.to, since: Date.now(), failed: failedNow(), scored: runtime.counters.windowsScored, checksWithFailures: 0 };
  };
  runtime.on('swap', onSwap);
  const timer = setInterval(() => {
    if (!watched || rollingBack) return;
    if (Date.now() - watched.since > o.watchSeconds * 1000) {
      watched = null;
      return;
    }
    const failed = failedNow() - watched.failed;
    const scored = runtime.counters.windowsScored - watched.scored;
    watched.failed += failed;
    watched.scored += scored;
    if (failed > 0) watched.checksWithFailures++;
    if (failed === 0 || failed < o.maxFailedShare * (failed + scored)) return;
    const from = { name: watched.name, version: watched.version };
    const checksWithFailures = watched.checksWithFailures;
    const afterActivationMs = Date.now() - watched.since;
    watched = null;
    rollingBack = true;
    log(`model ${from.name} ${from.version} failed ${failed} of ${failed + scored} windows in the last ${o.periodSeconds} s after activation: rolling back`);
    runtime
      .rollback()
      .then(
        () => {
          const to = runtime.activeModel ? { name: runtime.activeModel.description.name, version: runtime.activeModel.description.version } : null;
          hooks.onRollback?.({ from, to, failedWindows: failed, scoredWindows: scored, afterActivationMs, checksWithFailures });
        },
        (err: Error) => {
          log(`rollback of ${from.name} ${from.version} failed: ${err.message}`);
          hooks.onRollback?.({ from, to: null, failedWindows: failed, scoredWindows: scored, afterActivationMs, checksWithFailures, error: err.message });
        },
      )
      .finally(() => (rollingBack = false));
  }, o.periodSeconds * 1000);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      runtime.off('swap', onSwap);
    },
  };
}
