import { afterEach, describe, expect, it, vi } from 'vitest';
import { SwrCache } from '../src/services/swr-cache.ts';

afterEach(() => vi.useRealTimers());

describe('SwrCache', () => {
  it('shares one load, serves a stale value while one refresh runs, then the refreshed value', async () => {
    vi.useFakeTimers({ now: 0 });
    const cache = new SwrCache<string, number>(1000, 5000);
    let loads = 0;
    const load = async () => ++loads;
    expect(await Promise.all([cache.get('k', load), cache.get('k', load)])).toEqual([1, 1]);
    vi.setSystemTime(2000);
    expect(await cache.get('k', load)).toBe(1); // stale, refresh started
    expect(await cache.get('k', load)).toBe(2); // refreshed; no second refresh was started
    expect(loads).toBe(2);
    vi.setSystemTime(10_000);
    expect(await cache.get('k', load)).toBe(3); // too old to serve: the caller waits for a load
  });

  it('never keeps a failed load, and an invalidation is not undone by a refresh started before it', async () => {
    vi.useFakeTimers({ now: 0 });
    const cache = new SwrCache<string, string>(1000, 5000);
    await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('k', async () => 'fresh')).toBe('fresh');
    vi.setSystemTime(2000);
    let finishRefresh: (value: string) => void = () => undefined;
    const refresh = new Promise<string>((resolve) => {
      finishRefresh = resolve;
    });
    expect(await cache.get('k', () => refresh)).toBe('fresh');
    cache.delete('k');
    finishRefresh('from before the invalidation');
    await refresh;
    expect(await cache.get('k', async () => 'after')).toBe('after');
  });
});
