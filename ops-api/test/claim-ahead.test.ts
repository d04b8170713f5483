import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CLAIM_AHEAD_SECONDS,
  ClaimAhead,
  KEEP_HIDDEN_AFTER_MS,
  MAX_CLAIM_AHEAD,
  MIN_CLAIM_AHEAD,
} from '../src/services/claim-ahead.ts';
import type { QueuedMessage } from '../src/services/dlq-queue.ts';

const batch = (from: number, size = 10): QueuedMessage[] =>
  Array.from({ length: size }, (_, i) => ({
    id: `m${from + i}`,
    body: '{}',
    sentAt: 0,
    receiveCount: 1,
    receiptHandle: `r${from + i}`,
  }));

afterEach(() => {
  vi.useRealTimers();
});

describe('ClaimAhead', () => {
  it('lets the claim run ahead by the rate asked for until a batch finishes, then by the measured pace', async () => {
    vi.useFakeTimers();
    const ahead = new ClaimAhead(3, async () => undefined);
    expect(ahead.limit()).toBe(3 * CLAIM_AHEAD_SECONDS);
    let room = false;
    await ahead.put(batch(0), () => false);
    await ahead.put(batch(10), () => false);
    const third = ahead
      .put(batch(20), () => false)
      .then(() => {
        room = true;
      });
    await vi.advanceTimersByTimeAsync(0);
    expect(room).toBe(false);
    expect(await ahead.take()).toHaveLength(10);
    await third;
    expect(room).toBe(true);
    // 10 messages done in 10 s: 10 s of work at that pace.
    await vi.advanceTimersByTimeAsync(10_000);
    ahead.finished(10);
    expect(ahead.limit()).toBe(10);
    // At most MAX_CLAIM_AHEAD, never below the minimum.
    const fast = new ClaimAhead(1000, async () => undefined);
    expect(fast.limit()).toBe(MAX_CLAIM_AHEAD);
    await vi.advanceTimersByTimeAsync(60_000);
    fast.finished(1);
    expect(fast.limit()).toBe(MIN_CLAIM_AHEAD);
    for (const claim of [ahead, fast]) claim.close();
  });

  it('hides again the batches that wait long, until they are taken', async () => {
    vi.useFakeTimers();
    const extended: string[][] = [];
    const ahead = new ClaimAhead(1000, async (messages) => {
      extended.push(messages.map((message) => message.id));
    });
    await ahead.put(batch(0, 2), () => true);
    await vi.advanceTimersByTimeAsync(KEEP_HIDDEN_AFTER_MS / 2);
    await ahead.put(batch(2, 2), () => true);
    await vi.advanceTimersByTimeAsync(KEEP_HIDDEN_AFTER_MS / 2 + 5_000);
    expect(extended).toEqual([['m0', 'm1']]);
    await vi.advanceTimersByTimeAsync(KEEP_HIDDEN_AFTER_MS / 2);
    expect(extended).toEqual([
      ['m0', 'm1'],
      ['m2', 'm3'],
    ]);
    expect(await ahead.take()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(KEEP_HIDDEN_AFTER_MS);
    expect(extended).toEqual([
      ['m0', 'm1'],
      ['m2', 'm3'],
      ['m2', 'm3'],
    ]);
    ahead.close();
  });

  it('answers no more batches once the claim ended and all were taken; gives back what was never taken', async () => {
    const ahead = new ClaimAhead(1000, async () => undefined);
    await ahead.put(batch(0), () => true);
    await ahead.put(batch(10), () => true);
    ahead.end();
    expect(await ahead.take()).toHaveLength(10);
    expect(ahead.leftover().map((message) => message.id)).toEqual(batch(10).map((message) => message.id));
    expect(await ahead.take()).toBeUndefined();
    ahead.close();
  });
});
