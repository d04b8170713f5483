import { describe, expect, it } from 'vitest';
import { Coalescer } from '../src/services/coalescer.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Coalescer', () => {
  it('combines the requests of one turn into one call and answers each caller its own keys', async () => {
    const sent: string[][] = [];
    const coalescer = new Coalescer<string, string>(
      async (keys) => {
        sent.push(keys);
        return new Map(keys.filter((key) => key !== 'b2').map((key) => [key, key.toUpperCase()]));
      },
      { maxKeys: 100, maxInFlight: 2 },
    );
    const [a, b, empty] = await Promise.all([
      coalescer.load(['a1', 'a2']),
      coalescer.load(['b1', 'b2']),
      coalescer.load([]),
    ]);
    expect(sent).toEqual([['a1', 'a2', 'b1', 'b2']]);
    expect([...a]).toEqual([
      ['a1', 'A1'],
      ['a2', 'A2'],
    ]);
    expect([...b]).toEqual([['b1', 'B1']]);
    expect(empty.size).toBe(0);
  });

  it('queues requests while maxInFlight calls run, then sends them together, up to maxKeys keys per call', async () => {
    const sent: number[][] = [];
    const release: (() => void)[] = [];
    const coalescer = new Coalescer<number, true>(
      async (keys) => {
        sent.push(keys);
        await new Promise<void>((resolve) => release.push(resolve));
        return new Map(keys.map((key) => [key, true as const]));
      },
      { maxKeys: 4, maxInFlight: 1 },
    );
    const first = coalescer.load([1]);
    await tick();
    expect(sent).toEqual([[1]]);
    // Five requests arrive while the first call runs: the next calls take whole requests, at most 4 keys each.
    const later = [coalescer.load([2, 3]), coalescer.load([4]), coalescer.load([5, 6]), coalescer.load([7])];
    await tick();
    expect(sent).toHaveLength(1);
    release.shift()?.();
    await first;
    await tick();
    expect(sent).toEqual([[1], [2, 3, 4]]);
    release.shift()?.();
    await tick();
    await tick();
    expect(sent).toEqual([[1], [2, 3, 4], [5, 6, 7]]);
    release.shift()?.();
    expect((await Promise.all(later)).map((answer) => [...answer.keys()])).toEqual([[2, 3], [4], [5, 6], [7]]);
    expect(coalescer.stats).toEqual({ calls: 3, keys: 7 });
  });

  it('fails every request a failed call carried, and goes on with the next ones', async () => {
    let calls = 0;
    const coalescer = new Coalescer<string, number>(
      async (keys) => {
        calls += 1;
        if (calls === 1) throw new Error('throttled');
        return new Map(keys.map((key) => [key, key.length]));
      },
      { maxKeys: 10, maxInFlight: 1 },
    );
    const failing = [coalescer.load(['x']), coalescer.load(['yy'])];
    await expect(failing[0]).rejects.toThrow('throttled');
    await expect(failing[1]).rejects.toThrow('throttled');
    expect([...(await coalescer.load(['zzz']))]).toEqual([['zzz', 3]]);
  });
});
