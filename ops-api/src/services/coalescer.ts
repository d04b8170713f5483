/**
 * Combines the keys many concurrent callers ask for into few calls of a batch API (TransactWriteItems,
 * BatchGetItem, ...): a request waits until the next turn of the event loop, or until one of the `maxInFlight` calls
 * finishes, and then goes out with every request queued meanwhile, up to `maxKeys` keys per call. Under load the
 * calls fill up; a lone request goes out on its own after one turn of the event loop.
 *
 * Each caller gets the answers for its own keys only; if the call fails, every request it carried fails with it.
 */
export class Coalescer<K, V> {
  private readonly queue: { keys: K[]; resolve: (answer: Map<K, V>) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Calls made and keys sent (tests, benchmarks). */
  readonly stats = { calls: 0, keys: 0 };

  constructor(
    private readonly call: (keys: K[]) => Promise<ReadonlyMap<K, V>>,
    private readonly options: { readonly maxKeys: number; readonly maxInFlight: number },
  ) {}

  load(keys: readonly K[]): Promise<Map<K, V>> {
    if (keys.length === 0) return Promise.resolve(new Map());
    return new Promise((resolve, reject) => {
      this.queue.push({ keys: [...keys], resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      // Whole requests only, so a request is answered by one call; one larger than maxKeys goes alone (the call
      // function splits what its API cannot take at once).
      const taken = [this.queue.shift() as (typeof this.queue)[number]];
      let count = taken[0]?.keys.length ?? 0;
      while (this.queue.length > 0 && count + (this.queue[0]?.keys.length ?? 0) <= this.options.maxKeys) {
        const request = this.queue.shift() as (typeof this.queue)[number];
        taken.push(request);
        count += request.keys.length;
      }
      const keys = taken.flatMap((request) => request.keys);
      this.inFlight++;
      this.stats.calls++;
      this.stats.keys += keys.length;
      this.call(keys)
        .then(
          (answer) => {
            for (const request of taken) {
              const mine = new Map<K, V>();
              for (const key of request.keys) if (answer.has(key)) mine.set(key, answer.get(key) as V);
              request.resolve(mine);
            }
          },
          (error: unknown) => {
            for (const request of taken) request.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
