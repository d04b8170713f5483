/**
 * How many orders of one invocation run at once. At the pipes' batch sizes (10 standard, 5 premium) that is the
 * whole batch; the bound is what keeps a larger `BatchSize` (up to 10,000) from opening a request per record at once:
 * each running record makes its DynamoDB and SQS calls one after another, so at most this many of them are in flight
 * per container, well inside the AWS SDK's default pool of 50 sockets per client, and a throttled table or queue sees
 * at most this many callers retrying.
 */
export const KEY_GROUP_CONCURRENCY = 10;

/** What became of one item: it ran (with its result), or it did not run because `blockedBy` (a position) failed. */
export type KeyOrderedOutcome<R> =
  | { readonly ran: true; readonly result: R }
  | { readonly ran: false; readonly blockedBy: number };

/**
 * Positions of `items` grouped by key: each group in item order, groups in the order of their first item. An item
 * without a key forms a group of its own (nothing is known to order it against).
 */
export function groupByKey<T>(items: readonly T[], keyOf: (item: T) => string | undefined): number[][] {
  const groups: number[][] = [];
  const byKey = new Map<string, number[]>();
  items.forEach((item, position) => {
    const key = keyOf(item);
    const group = key === undefined ? undefined : byKey.get(key);
    if (group) {
      group.push(position);
      return;
    }
    const created = [position];
    if (key !== undefined) byKey.set(key, created);
    groups.push(created);
  });
  return groups;
}

export interface KeyOrderOptions<T, R> {
  readonly keyOf: (item: T) => string | undefined;
  /** Runs one item; reports a failure in its result (a throw is a bug and rejects the whole run). */
  readonly run: (item: T, position: number) => Promise<R>;
  readonly failed: (result: R) => boolean;
  /** @default KEY_GROUP_CONCURRENCY */
  readonly concurrency?: number;
}

/**
 * Runs the items of different keys concurrently (at most `concurrency` groups at a time) and the items of one key
 * strictly one after another, in item order. Once an item fails, the later items of its key do not run: a stream
 * delivers one order's changes in sequence, and a later change applied before an earlier one would reach downstream
 * consumers out of order (the pipe retries from the failed record, so the later ones come back after it). Outcomes
 * are returned by position.
 */
export async function runInKeyOrder<T, R>(
  items: readonly T[],
  options: KeyOrderOptions<T, R>,
): Promise<KeyOrderedOutcome<R>[]> {
  const concurrency = options.concurrency ?? KEY_GROUP_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`key-ordered concurrency must be a positive integer, got ${concurrency}`);
  }
  const groups = groupByKey(items, options.keyOf);
  const outcomes = new Array<KeyOrderedOutcome<R>>(items.length);
  let nextGroup = 0;
  const worker = async (): Promise<void> => {
    for (let group = groups[nextGroup++]; group !== undefined; group = groups[nextGroup++]) {
      let failedAt: number | undefined;
      for (const position of group) {
        if (failedAt !== undefined) {
          outcomes[position] = { ran: false, blockedBy: failedAt };
          continue;
        }
        const result = await options.run(items[position] as T, position);
        outcomes[position] = { ran: true, result };
        if (options.failed(result)) failedAt = position;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, groups.length) }, worker));
  return outcomes;
}
