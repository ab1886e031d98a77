/**
 * Joins calls for the same key while one is running: the second caller waits for the first's result
 * instead of doing the same work again. The capture ingest uses it so a batch a device re-sends while
 * its first copy is still being stored (the device's acknowledgement timeout ran out on a busy cloud)
 * does not queue another PUT of the same bytes: under load such re-sends used to pile up (11,000 queued
 * PUTs at 1000 turbines) and made the cloud slower still.
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** Runs work for key, or joins the run already in progress for it; the key is free again once it settles. */
  run(key: string, work: () => Promise<T>): Promise<T> {
    const current = this.running.get(key);
    if (current) return current;
    const started = work().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }

  /** Keys with a run in progress. */
  get size(): number {
    return this.running.size;
  }
}
