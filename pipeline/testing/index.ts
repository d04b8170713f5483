/**
 * Test support shared by the tests of every package (`@orderflow/pipeline/testing`; never imported by production
 * code, which dependency-cruiser checks): a test waits for a condition it can observe, never for a fixed time.
 */

export interface UntilOptions {
  /** Give up after this long. Default 15 s. */
  timeoutMs?: number;
  /** Pause between two checks. Default 20 ms. */
  intervalMs?: number;
}

/** What `until` answers: the condition's value once it is truthy. */
export type Truthy<T> = Exclude<Awaited<T>, false | 0 | 0n | '' | null | undefined>;

export class UntilTimeoutError extends Error {
  override readonly name = 'UntilTimeoutError';
}

/**
 * Checks `condition` until it answers a truthy value, and answers that value; `what` names the awaited state in the
 * error thrown after `timeoutMs` (a number is the timeout). An error thrown by the condition ends the wait at once.
 *
 *   await until(() => delivered.length === 3, 'three records delivered');
 *   const job = await until(async () => { const j = await getJob(); return j.status !== 'running' && j; }, 'the job');
 */
export async function until<T>(
  condition: () => T | Promise<T>,
  what: string,
  options: number | UntilOptions = {},
): Promise<Truthy<T>> {
  const { timeoutMs = 15_000, intervalMs = 20 } = typeof options === 'number' ? { timeoutMs: options } : options;
  if (typeof condition !== 'function')
    throw new TypeError(`until: the condition must be a function, got ${typeof condition}`);
  if (typeof what !== 'string' || what.trim() === '')
    throw new TypeError('until: name what is awaited (a non-empty string), for the timeout message');
  for (const [name, value] of [
    ['timeoutMs', timeoutMs],
    ['intervalMs', intervalMs],
  ] as const) {
    if (!(typeof value === 'number' && Number.isFinite(value) && value > 0))
      throw new RangeError(`until: ${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as Truthy<T>;
    const left = deadline - Date.now();
    if (left <= 0) throw new UntilTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }
}
export * from './bench.ts';
export * from './dead-letters.ts';
