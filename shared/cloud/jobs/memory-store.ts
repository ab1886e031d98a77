/**
 * A StateStore held in memory, for unit tests of services that persist through the store. `reopen()`
 * gives a new store with a JSON copy of everything written so far, as a restart would read it back.
 */
import type { Collection, StateStore } from '../contracts';

/** In-memory StateStore whose contents can be "reloaded" (JSON round trip) into a fresh instance. */
export class MemoryStore implements StateStore {
  private readonly data = new Map<string, Map<string, unknown>>();
  flushes = 0;

  /** A named collection, created empty on first use. */
  collection<T>(name: string): Collection<T> {
    let map = this.data.get(name);
    if (!map) this.data.set(name, (map = new Map()));
    const m = map as Map<string, T>;
    return {
      get: (id) => m.get(id),
      put: (id, value) => void m.set(id, value),
      delete: (id) => m.delete(id),
      values: () => [...m.values()],
      keys: () => [...m.keys()],
      size: () => m.size,
    };
  }

  /** Nothing to write; counts calls so tests can see that a service flushed. */
  async flush(): Promise<void> {
    this.flushes++;
  }

  async close(): Promise<void> {}

  /** A new store holding a deep (JSON) copy of this one, as if read back after a restart. */
  reopen(): MemoryStore {
    const copy = new MemoryStore();
    for (const [name, map] of this.data) {
      const target = new Map<string, unknown>();
      for (const [id, value] of map) target.set(id, JSON.parse(JSON.stringify(value)));
      copy.data.set(name, target);
    }
    return copy;
  }
}
