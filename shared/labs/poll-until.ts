/**
 * Waiting on cloud state that has no event a client can subscribe to (a shadow document, an S3 listing,
 * a job's status over the API): ask again with a growing pause until the answer is there or time is up.
 */

/** How long to wait and how often to ask. */
export interface PollOptions {
  /** Give up after this many ms (default 60 s). */
  timeoutMs?: number;
  /** First pause between two probes in ms (default 100); it doubles up to maxIntervalMs. */
  intervalMs?: number;
  /** Longest pause between two probes in ms (default 2000). */
  maxIntervalMs?: number;
}

/**
 * Calls probe until it returns something other than undefined, and returns that. A probe that throws is
 * asked again (the thing may not exist yet); on timeout the error names what was awaited and the last failure.
 */
export async function pollUntil<T>(what: string, probe: () => Promise<T | undefined>, options: PollOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxIntervalMs = options.maxIntervalMs ?? 2000;
  let interval = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: Error | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err as Error;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s (${attempt} tries) waiting for ${what}${lastError ? `; last error: ${lastError.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(interval, left)));
    interval = Math.min(interval * 2, maxIntervalMs);
  }
}

/** Polls a condition (pollUntil's schedule and timeout) until it holds; for tests and waits that need no value. */
export async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, options: PollOptions = {}): Promise<void> {
  await pollUntil(what, async () => ((await condition()) ? true : undefined), options);
}
