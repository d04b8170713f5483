import { evaluateExpression, type MathValue } from './metric-math.ts';
import type { Dimension, MetricStore } from './metric-store.ts';

/** A `MetricDataQuery` of GetMetricData and of a metric-math alarm, in the API's own field names. */
export interface MetricDataQuery {
  readonly Id: string;
  readonly Label?: string;
  readonly ReturnData?: boolean;
  readonly Expression?: string;
  readonly Period?: number;
  readonly MetricStat?: {
    readonly Metric: {
      readonly Namespace: string;
      readonly MetricName: string;
      readonly Dimensions?: readonly Dimension[];
    };
    readonly Period: number;
    readonly Stat: string;
    readonly Unit?: string;
  };
}

export interface QueryResult {
  readonly id: string;
  readonly label: string;
  readonly returned: boolean;
  /** Bucket start (ms) → value, ascending. */
  readonly points: Map<number, number>;
}

export class MetricQueryError extends Error {
  override readonly name = 'MetricQueryError';
}

/**
 * Runs metric queries over [start, end): MetricStats read the store, expressions combine earlier results (any order;
 * an expression may refer to an id defined after it, as in CloudWatch).
 */
export function runQueries(
  store: MetricStore,
  queries: readonly MetricDataQuery[],
  start: number,
  end: number,
): QueryResult[] {
  const values = new Map<string, MathValue>();
  const byId = new Map(queries.map((q) => [q.Id, q]));
  const resolving = new Set<string>();
  const resolve = (id: string): MathValue => {
    const known = values.get(id);
    if (known !== undefined) return known;
    const query = byId.get(id);
    if (!query) throw new MetricQueryError(`metric query refers to unknown id '${id}'`);
    if (resolving.has(id)) throw new MetricQueryError(`metric query '${id}' refers to itself`);
    resolving.add(id);
    let value: MathValue;
    if (query.MetricStat) {
      const { Metric, Period, Stat } = query.MetricStat;
      value = store.statistic(
        { namespace: Metric.Namespace, metricName: Metric.MetricName, dimensions: Metric.Dimensions ?? [] },
        Stat,
        Period,
        start,
        end,
      );
    } else if (query.Expression) {
      const period = query.Period ?? periodOf(queries);
      const buckets: number[] = [];
      for (let t = Math.floor(start / (period * 1000)) * period * 1000; t < end; t += period * 1000) buckets.push(t);
      const variables = new Map<string, MathValue>();
      for (const other of queries)
        if (other.Id !== id && query.Expression.includes(other.Id)) variables.set(other.Id, resolve(other.Id));
      value = evaluateExpression(query.Expression, variables, buckets);
    } else {
      throw new MetricQueryError(`metric query '${id}' has neither MetricStat nor Expression`);
    }
    resolving.delete(id);
    values.set(id, value);
    return value;
  };
  return queries.map((query) => {
    const value = resolve(query.Id);
    const points = value instanceof Map ? value : scalarSeries(value, queries, start, end);
    return {
      id: query.Id,
      label: query.Label ?? query.MetricStat?.Metric.MetricName ?? query.Id,
      returned: query.ReturnData !== false,
      points,
    };
  });
}

function periodOf(queries: readonly MetricDataQuery[]): number {
  return queries.find((q) => q.MetricStat)?.MetricStat?.Period ?? 60;
}

/** A constant expression (e.g. `100`) is drawn as one value per period. */
function scalarSeries(
  value: number,
  queries: readonly MetricDataQuery[],
  start: number,
  end: number,
): Map<number, number> {
  const periodMs = periodOf(queries) * 1000;
  const out = new Map<number, number>();
  for (let t = Math.floor(start / periodMs) * periodMs; t < end; t += periodMs) out.set(t, value);
  return out;
}
