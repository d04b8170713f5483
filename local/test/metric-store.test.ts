import { describe, expect, it } from 'vitest';
import { MetricStore } from '../src/cloudwatch/metric-store.ts';

const id = { namespace: 'Orderflow', metricName: 'RecordsPolled', dimensions: [{ Name: 'Pipe', Value: 'standard' }] };
const STATS = ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum', 'p50', 'p90', 'p99'] as const;
// A whole minute, 20 minutes ago: inside the retention, and no later than the store's own clock.
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;

/** What each statistic of `values` is, computed directly (nearest-rank percentiles). */
function expected(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = values.reduce((a, b) => a + b, 0);
  const rank = (p: number) => sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
  return {
    Sum: sum,
    SampleCount: values.length,
    Average: sum / values.length,
    Minimum: sorted[0],
    Maximum: sorted[sorted.length - 1],
    p50: rank(50),
    p90: rank(90),
    p99: rank(99),
  };
}

describe('metric store', () => {
  it('keeps the observations of one value and unit in one second as one sample, with every statistic unchanged', () => {
    const store = new MetricStore();
    const values: number[] = [];
    // Three seconds of 50 polls each, mostly 0s and 1s, as a busy pipe reports them.
    for (let i = 0; i < 150; i++) {
      const value = i % 7 === 0 ? 3 : i % 2;
      values.push(value);
      store.put({ ...id, value, unit: 'Count', timestamp: T0 + i * 20 });
    }
    expect(store.size()).toBe(9); // 3 seconds × values 0, 1 and 3
    for (const stat of STATS) {
      const [sum] = store.statistic(id, stat, 60, T0, T0 + 60_000).values();
      expect(sum, stat).toBe(expected(values)[stat]);
    }
    // Per-second periods still see each second's own observations.
    const perSecond = store.statistic(id, 'SampleCount', 1, T0, T0 + 3000);
    expect([...perSecond.values()]).toEqual([50, 50, 50]);
  });

  it('does not merge different units, or a late sample into the current second', () => {
    const store = new MetricStore();
    store.put({ ...id, value: 1, unit: 'Count', timestamp: T0 + 1500 });
    store.put({ ...id, value: 1, unit: 'None', timestamp: T0 + 1600 });
    store.put({ ...id, value: 1, unit: 'Count', timestamp: T0 + 200 });
    store.put({ ...id, value: 1, unit: 'Count', timestamp: T0 + 1700 });
    expect(store.size()).toBe(3);
    expect([...store.statistic(id, 'Sum', 1, T0, T0 + 2000)]).toEqual([
      [T0, 1],
      [T0 + 1000, 3],
    ]);
  });

  it('answers Minimum and Maximum over a period holding hundreds of thousands of samples', () => {
    const store = new MetricStore();
    const count = 300_000;
    for (let i = 0; i < count; i++) store.put({ ...id, value: i, timestamp: T0 + i });
    // The range may straddle an hour: at most two buckets.
    const minimum = [...store.statistic(id, 'Minimum', 3600, T0, T0 + count).values()];
    const maximum = [...store.statistic(id, 'Maximum', 3600, T0, T0 + count).values()];
    expect(Math.min(...minimum)).toBe(0);
    expect(Math.max(...maximum)).toBe(count - 1);
  });
});
