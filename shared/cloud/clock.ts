/**
 * Clocks for the local cloud. Every timer in the cloud (job timeouts, rollout rates, pre-signed URL expiry)
 * goes through a Clock so tests can run hours of cloud time in seconds.
 */
import type { Clock } from './contracts';

/** The wall clock: Date.now() and the global setTimeout. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    // Not unref'd: a service awaiting a cloud timer must keep the process alive; services cancel on stop().
    const timer = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * A clock running `factor` times faster than the wall clock, starting at the current time.
 * `acceleratedClock(60)` turns a 10-minute job timeout into 10 real seconds.
 */
export function acceleratedClock(factor: number, start = Date.now()): Clock {
  if (!(factor > 0) || !Number.isFinite(factor)) throw new Error(`acceleratedClock: factor must be a positive number, got ${factor}`);
  const realStart = Date.now();
  return {
    now: () => start + (Date.now() - realStart) * factor,
    setTimeout(fn, ms) {
      const timer = setTimeout(fn, Math.max(0, ms) / factor);
      return { cancel: () => clearTimeout(timer) };
    },
  };
}

interface PendingTimer {
  due: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to: `advance(ms)` runs every timer that falls due, in order of due
 * time, and lets promise callbacks settle between timers (so a timer that schedules another works).
 */
export class ManualClock implements Clock {
  private current: number;
  private timers: PendingTimer[] = [];
  private seq = 0;

  constructor(start = Date.now()) {
    this.current = start;
  }

  /** Current time of this clock in ms since the epoch. */
  now(): number {
    return this.current;
  }

  /** Schedule fn at now() + ms of this clock's time. */
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer: PendingTimer = { due: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return {
      cancel: () => {
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
  }

  /** Number of timers not yet run (useful to assert that a service cleaned up). */
  pending(): number {
    return this.timers.length;
  }

  /** Move time forward by ms, running due timers in order; resolves once they and their follow-ups ran. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new Error(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    const target = this.current + ms;
    for (;;) {
      await settle();
      const next = this.nextDue(target);
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.due);
      next.fn();
    }
    this.current = target;
    await settle();
  }

  private nextDue(limit: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** Let pending promise callbacks and I/O callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
