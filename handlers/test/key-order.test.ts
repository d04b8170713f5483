import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupByKey, KEY_GROUP_CONCURRENCY, runInKeyOrder } from '../src/processing/key-order.ts';

interface Item {
  readonly key: string | undefined;
  readonly fails: boolean;
  /** Microtask turns the item takes, so runs interleave differently from case to case. */
  readonly turns: number;
}

const item: fc.Arbitrary<Item> = fc.record({
  key: fc.option(fc.constantFrom('a', 'b', 'c', 'd'), { nil: undefined }),
  fails: fc.boolean(),
  turns: fc.nat(5),
});

/** Runs `items` in key order and records what ran, when it started and ended, and the most items ever in flight. */
async function traced(items: readonly Item[], concurrency: number) {
  const events: { position: number; at: 'start' | 'end' }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const outcomes = await runInKeyOrder(items, {
    keyOf: (i) => i.key,
    concurrency,
    failed: (result: { failed: boolean }) => result.failed,
    run: async (i, position) => {
      events.push({ position, at: 'start' });
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      for (let turn = 0; turn < i.turns; turn++) await Promise.resolve();
      inFlight--;
      events.push({ position, at: 'end' });
      return { failed: i.fails };
    },
  });
  return { outcomes, events, maxInFlight };
}

describe('groupByKey', () => {
  it('keeps each key in item order, groups by first appearance, keyless items alone', () => {
    expect(groupByKey(['a', undefined, 'b', 'a', undefined, 'b', 'a'], (k) => k)).toEqual([
      [0, 3, 6],
      [1],
      [2, 5],
      [4],
    ]);
  });
});

describe('runInKeyOrder', () => {
  it('runs a key in item order one at a time, blocks only its records after its first failure', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(item, { maxLength: 30 }), fc.integer({ min: 1, max: 6 }), async (items, bound) => {
        const { outcomes, events, maxInFlight } = await traced(items, bound);
        expect(maxInFlight).toBeLessThanOrEqual(bound);
        const firstFailure = new Map<string, number>();
        items.forEach((i, position) => {
          const blocker = i.key === undefined ? undefined : firstFailure.get(i.key);
          if (blocker === undefined) {
            expect(outcomes[position]).toEqual({ ran: true, result: { failed: i.fails } });
            if (i.fails && i.key !== undefined) firstFailure.set(i.key, position);
          } else {
            expect(outcomes[position]).toEqual({ ran: false, blockedBy: blocker });
          }
        });
        // Within a key, an item starts only after the previous one of that key ended.
        const lastEnd = new Map<string, number>();
        for (const event of events) {
          const key = items[event.position]?.key;
          if (key === undefined) continue;
          if (event.at === 'end') lastEnd.set(key, event.position);
          else expect(lastEnd.get(key) ?? -1).toBe(items.findLastIndex((i, p) => p < event.position && i.key === key));
        }
        expect(events.filter((e) => e.at === 'start')).toHaveLength(outcomes.filter((o) => o.ran).length);
      }),
      { numRuns: 200 },
    );
  });

  it('starts as many keys at once as the bound allows, and no more', async () => {
    const release: (() => void)[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const keys = Array.from({ length: 25 }, (_, n) => `order-${n}`);
    const running = runInKeyOrder(keys, {
      keyOf: (k) => k,
      failed: () => false,
      run: async () => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise<void>((resolve) => release.push(resolve));
        inFlight--;
        return 'done';
      },
    });
    while (release.length > 0 || inFlight > 0) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(inFlight).toBeLessThanOrEqual(KEY_GROUP_CONCURRENCY);
      for (const resolve of release.splice(0)) resolve();
    }
    const outcomes = await running;
    expect(maxInFlight).toBe(KEY_GROUP_CONCURRENCY);
    expect(outcomes).toHaveLength(25);
    expect(outcomes.every((o) => o.ran)).toBe(true);
  });

  it('rejects a bound that is not a positive integer, naming it', async () => {
    await expect(
      runInKeyOrder([1], { keyOf: () => undefined, failed: () => false, run: async () => 1, concurrency: 0 }),
    ).rejects.toThrow('key-ordered concurrency must be a positive integer, got 0');
  });
});
