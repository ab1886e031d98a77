/** A log for things that can repeat thousands of times a second (bad input): at most one line per interval. */

/** Writes at most one line per `intervalMs`, saying how many were held back since the last one. */
export class RateLimitedLog {
  private last = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly log: (message: string) => void,
    private readonly intervalMs = 1000,
  ) {}

  /** Logs message now, or counts it when a line was written less than intervalMs ago. */
  write(message: string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    const more = this.suppressed ? ` (${this.suppressed} more since the last report)` : '';
    this.suppressed = 0;
    this.last = now;
    this.log(message + more);
  }
}
