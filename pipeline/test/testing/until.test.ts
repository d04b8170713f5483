import { describe, expect, it } from 'vitest';
import { UntilTimeoutError, until } from '../../testing/index.ts';

describe('until (the shared polling helper)', () => {
  it('answers the first truthy value of the condition, sync or async', async () => {
    let checks = 0;
    expect(await until(() => ++checks >= 3 && `after ${checks}`, 'the third check', { intervalMs: 1 })).toBe('after 3');
    const items: number[] = [];
    queueMicrotask(() => items.push(7));
    expect(await until(async () => items[0], 'an item')).toBe(7);
  });

  it('names what it waited for when the time is up', async () => {
    const waiting = until(() => false, 'a state that never comes', { timeoutMs: 30, intervalMs: 5 });
    await expect(waiting).rejects.toThrow(UntilTimeoutError);
    await expect(until(() => 0, 'the answer', 10)).rejects.toThrow('timed out after 10 ms waiting for the answer');
  });

  it('ends the wait at once when the condition throws', async () => {
    let checks = 0;
    const failing = () => {
      checks++;
      throw new Error('endpoint gone');
    };
    await expect(until(failing, 'the endpoint', 5_000)).rejects.toThrow('endpoint gone');
    expect(checks).toBe(1);
  });

  it('refuses options that are not positive durations, and a wait without a name', async () => {
    await expect(until(() => true, 'x', 0)).rejects.toThrow(
      'until: timeoutMs must be a positive number of milliseconds, got 0',
    );
    await expect(until(() => true, 'x', { intervalMs: Number.NaN })).rejects.toThrow(
      'until: intervalMs must be a positive number of milliseconds, got NaN',
    );
    await expect(until(() => true, ' ')).rejects.toThrow('until: name what is awaited');
  });
});
