/**
 * The runtime's one ordered queue: frames and model swaps are handled one at a time in arrival order, so a
 * swap happens between two frames. Handlers may be async; the next item waits for them.
 */

/** Items handled strictly in order by one handler; a handler error is reported, never stops the queue. */
export class WorkQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly handle: (item: T) => Promise<void> | void,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Items waiting. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends an item and starts handling if idle. */
  push(item: T): void {
    this.items.push(item);
    if (!this.running) void this.pump();
  }

  /** Resolves when every queued item has been handled. */
  idle(): Promise<void> {
    if (!this.running && this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (this.head < this.items.length) {
        const item = this.items[this.head] as T;
        this.items[this.head++] = undefined;
        // Compact now and then so a long-running device does not keep every handled slot.
        if (this.head > 4096 && this.head * 2 > this.items.length) {
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
        try {
          const pending = this.handle(item);
          if (pending) await pending;
        } catch (err) {
          this.onError(err as Error);
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
