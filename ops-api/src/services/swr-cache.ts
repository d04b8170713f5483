/**
 * A cache of promises, stale-while-revalidate: an entry is fresh for `ttlMs`; until `maxStaleMs` it is still served
 * while one refresh runs in the background (started only once the previous value has settled, so two loads of one
 * key never overlap — for a DLQ walk an overlap would hide messages from the other walk); older entries are loaded
 * again while the caller waits. Concurrent callers share one load. Failed loads are not kept. `delete`/`clear`
 * also discard any refresh already running, so an invalidation is never undone by a load that started before it.
 */
export class SwrCache<K, V> {
  private readonly entries = new Map<K, { at: number; value: Promise<V>; settled: boolean; refreshing: boolean }>();
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxStaleMs: number = ttlMs,
    private readonly maxEntries = 5000,
  ) {}

  get(key: K, load: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    const age = entry ? Date.now() - entry.at : Number.POSITIVE_INFINITY;
    if (entry && age < this.ttlMs) return entry.value;
    if (entry && age < this.maxStaleMs && (!entry.settled || entry.refreshing)) return entry.value;
    if (entry && age < this.maxStaleMs) {
      entry.refreshing = true;
      const generation = this.generation;
      const next = load();
      next.then(
        () => {
          if (this.generation === generation && this.entries.get(key) === entry) this.store(key, next, true);
        },
        () => {
          entry.refreshing = false;
        },
      );
      return entry.value;
    }
    const value = load();
    this.store(key, value, false);
    value.then(
      () => {
        const current = this.entries.get(key);
        if (current?.value === value) current.settled = true;
      },
      () => {
        if (this.entries.get(key)?.value === value) this.entries.delete(key);
      },
    );
    return value;
  }

  delete(key: K): void {
    this.generation++;
    this.entries.delete(key);
  }

  /** Forgets every entry whose key matches. */
  clear(matches: (key: K) => boolean): void {
    this.generation++;
    for (const key of this.entries.keys()) if (matches(key)) this.entries.delete(key);
  }

  private store(key: K, value: Promise<V>, settled: boolean): void {
    if (this.entries.size >= this.maxEntries) {
      const now = Date.now();
      for (const [candidate, entry] of this.entries) {
        if (now - entry.at >= this.maxStaleMs) this.entries.delete(candidate);
      }
      // Still full of live entries: drop the oldest (Map iteration is insertion order).
      const oldest = this.entries.keys().next();
      if (this.entries.size >= this.maxEntries && !oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.delete(key);
    this.entries.set(key, { at: Date.now(), value, settled, refreshing: false });
  }
}
