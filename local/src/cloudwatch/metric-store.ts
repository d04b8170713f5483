/**
 * In-memory CloudWatch metric storage: raw samples per metric (namespace, name, dimension set), aggregated on read.
 * Keeping raw values is what makes exact percentiles possible; samples older than the retention are dropped. Samples of
 * one metric with the same value and unit within the same second are kept as one sample with a count: every statistic
 * of a period of a second or more is unchanged, and the pipes' per-poll metrics (mostly 0s and 1s, dozens of polls a
 * second under load) take a few samples a second instead of one per poll.
 */

export interface Dimension {
  readonly Name: string;
  readonly Value: string;
}

export interface MetricId {
  readonly namespace: string;
  readonly metricName: string;
  /** Sorted by name; CloudWatch treats a metric's dimension set as part of its identity. */
  readonly dimensions: readonly Dimension[];
}

export interface MetricSample {
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly value: number;
  /** How many observations `value` stands for (EMF arrays and StatisticValues carry several). */
  readonly count?: number;
  readonly unit?: string;
}

export interface PutMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions?: readonly Dimension[] | Readonly<Record<string, string>>;
  readonly value: number;
  readonly unit?: string;
  readonly timestamp?: number;
}

interface Series {
  readonly id: MetricId;
  samples: MetricSample[];
  /** The second (epoch seconds) of the newest samples, and where each value/unit of it is in `samples`. */
  second: number;
  readonly inSecond: Map<string, number>;
}

/** CloudWatch statistics this store computes (the `Stat` of a MetricStat). */
export type StatName = 'Sum' | 'Average' | 'Minimum' | 'Maximum' | 'SampleCount' | `p${number}`;

export class MetricStatError extends Error {
  override readonly name = 'MetricStatError';
}

export function normaliseDimensions(dimensions: PutMetric['dimensions']): Dimension[] {
  const list = Array.isArray(dimensions)
    ? (dimensions as readonly Dimension[])
    : Object.entries((dimensions ?? {}) as Record<string, string>).map(([Name, Value]) => ({ Name, Value }));
  return [...list].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

function keyOf(namespace: string, metricName: string, dimensions: readonly Dimension[]): string {
  return JSON.stringify([namespace, metricName, dimensions.map((d) => [d.Name, d.Value])]);
}

export class MetricStore {
  private readonly series = new Map<string, Series>();
  private lastPrune = Date.now();

  constructor(
    /** CloudWatch keeps high-resolution data for hours; a local session needs no more than this. */
    private readonly retentionMs = 6 * 3600_000,
  ) {}

  put(metric: PutMetric): void {
    this.putSample(metric, {
      timestamp: metric.timestamp ?? Date.now(),
      value: metric.value,
      ...(metric.unit ? { unit: metric.unit } : {}),
    });
  }

  putSample(metric: Omit<PutMetric, 'value'>, sample: MetricSample): void {
    const dimensions = normaliseDimensions(metric.dimensions);
    const key = keyOf(metric.namespace, metric.metricName, dimensions);
    let series = this.series.get(key);
    if (!series) {
      series = {
        id: { namespace: metric.namespace, metricName: metric.metricName, dimensions },
        samples: [],
        second: Number.NEGATIVE_INFINITY,
        inSecond: new Map(),
      };
      this.series.set(key, series);
    }
    this.add(series, sample);
    if (sample.timestamp - this.lastPrune > 60_000) this.prune(sample.timestamp);
  }

  /** How many samples are held: observations of one value and unit in one second count once. */
  size(): number {
    let n = 0;
    for (const series of this.series.values()) n += series.samples.length;
    return n;
  }

  private add(series: Series, sample: MetricSample): void {
    const second = Math.floor(sample.timestamp / 1000);
    if (second > series.second) {
      series.second = second;
      series.inSecond.clear();
    }
    if (second === series.second) {
      const same = `${sample.value}|${sample.unit ?? ''}`;
      const index = series.inSecond.get(same);
      const kept = index === undefined ? undefined : series.samples[index];
      if (index !== undefined && kept) {
        series.samples[index] = { ...kept, count: (kept.count ?? 1) + (sample.count ?? 1) };
        return;
      }
      series.inSecond.set(same, series.samples.length);
    }
    // An older second (a late EMF timestamp) is kept as it came.
    series.samples.push(sample);
  }

  list(filter: { namespace?: string; metricName?: string; dimensions?: readonly { Name: string; Value?: string }[] }) {
    const out: MetricId[] = [];
    for (const { id } of this.series.values()) {
      if (filter.namespace && id.namespace !== filter.namespace) continue;
      if (filter.metricName && id.metricName !== filter.metricName) continue;
      const wanted = filter.dimensions ?? [];
      if (
        !wanted.every((w) =>
          id.dimensions.some((d) => d.Name === w.Name && (w.Value === undefined || d.Value === w.Value)),
        )
      )
        continue;
      out.push(id);
    }
    return out;
  }

  /**
   * One statistic per period-aligned bucket in [start, end) for exactly this metric (CloudWatch matches the full
   * dimension set, not a subset). Buckets without samples are absent, as in GetMetricData.
   */
  statistic(id: MetricId, stat: string, periodSeconds: number, start: number, end: number): Map<number, number> {
    const out = new Map<number, number>();
    for (const [bucket, samples] of this.buckets(id, periodSeconds, start, end))
      out.set(bucket, aggregate(samples, stat));
    return out;
  }

  /**
   * The samples of exactly this metric in [start, end), by period-aligned bucket (ascending), only those of `unit` when
   * given (GetMetricStatistics: "If you specify a unit, the operation returns only data that was collected with that
   * unit specified"; a sample published without a unit has the unit `None`).
   */
  buckets(id: MetricId, periodSeconds: number, start: number, end: number, unit?: string): Map<number, MetricSample[]> {
    const series = this.series.get(keyOf(id.namespace, id.metricName, normaliseDimensions(id.dimensions)));
    const periodMs = periodSeconds * 1000;
    const buckets = new Map<number, MetricSample[]>();
    for (const sample of series?.samples ?? []) {
      if (sample.timestamp < start || sample.timestamp >= end) continue;
      if (unit !== undefined && (sample.unit ?? 'None') !== unit) continue;
      const bucket = Math.floor(sample.timestamp / periodMs) * periodMs;
      const list = buckets.get(bucket);
      if (list) list.push(sample);
      else buckets.set(bucket, [sample]);
    }
    return new Map([...buckets].sort((a, b) => a[0] - b[0]));
  }

  private prune(now: number): void {
    this.lastPrune = now;
    const oldest = now - this.retentionMs;
    for (const series of this.series.values()) {
      const firstKept = series.samples.findIndex((s) => s.timestamp >= oldest);
      if (firstKept === 0) continue;
      series.samples = firstKept === -1 ? [] : series.samples.slice(firstKept);
      // Indexes into the samples moved.
      series.second = Number.NEGATIVE_INFINITY;
      series.inSecond.clear();
    }
  }
}

/** CloudWatch statistic over the samples of one period. */
export function aggregate(samples: readonly MetricSample[], stat: string): number {
  switch (stat) {
    case 'Sum':
      return samples.reduce((sum, s) => sum + s.value * (s.count ?? 1), 0);
    case 'SampleCount':
      return samples.reduce((sum, s) => sum + (s.count ?? 1), 0);
    case 'Average':
      return aggregate(samples, 'Sum') / aggregate(samples, 'SampleCount');
    // Not Math.min(...values): an hour's samples of a busy metric overflow the call stack as arguments.
    case 'Minimum':
      return samples.reduce((min, s) => Math.min(min, s.value), Number.POSITIVE_INFINITY);
    case 'Maximum':
      return samples.reduce((max, s) => Math.max(max, s.value), Number.NEGATIVE_INFINITY);
    default: {
      const match = /^p(\d+(?:\.\d+)?)$/.exec(stat);
      if (!match)
        throw new MetricStatError(
          `statistic '${stat}' is not supported (Sum, Average, Minimum, Maximum, SampleCount, pNN)`,
        );
      return percentile(samples, Number(match[1]));
    }
  }
}

function percentile(samples: readonly MetricSample[], p: number): number {
  const values: number[] = [];
  for (const s of samples) for (let i = 0; i < (s.count ?? 1); i++) values.push(s.value);
  values.sort((a, b) => a - b);
  // Nearest-rank: the smallest value with at least p% of the observations at or below it.
  const rank = Math.max(1, Math.ceil((p / 100) * values.length));
  return values[Math.min(rank, values.length) - 1] ?? Number.NaN;
}
