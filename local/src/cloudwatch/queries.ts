import {
  evaluateExpression,
  type LabelledSeries,
  type MathValue,
  MetricMathError,
  SeriesArray,
  type TimeSeries,
} from './metric-math.ts';
import type { Dimension, MetricId, MetricStore } from './metric-store.ts';
import { parseSearch, SearchSyntaxError, searchMatches } from './search.ts';

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
  /** The query's Id; every series of an array result (a SEARCH) carries it, each with a label of its own. */
  readonly id: string;
  readonly label: string;
  readonly returned: boolean;
  /** Bucket start (ms) → value, ascending. */
  readonly points: Map<number, number>;
}

/** A `MessageData` of GetMetricData's answer. */
export interface QueryMessage {
  readonly Code: string;
  readonly Value: string;
}

export class MetricQueryError extends Error {
  override readonly name = 'MetricQueryError';
}

/**
 * "A GetMetricData operation that does not include a query can retrieve as many as 500 different metrics in a single
 * request" (GetMetricData, API reference): the metrics SEARCH finds count with the MetricStats; past the limit the
 * search is cut and the answer carries the message AWS sends (seen by Grafana's CloudWatch data source,
 * https://github.com/grafana/grafana/issues/21411, code from its test data).
 */
export const MAX_METRICS_PER_REQUEST = 500;
export const MAX_METRICS_EXCEEDED: QueryMessage = {
  Code: 'MaxMetricsExceeded',
  Value: 'Maximum number of allowed metrics exceeded. Your search may have been limited.',
};

/** The statistics this store computes (a SEARCH's second argument). */
const STATISTIC = /^(Sum|Average|Minimum|Maximum|SampleCount|p\d+(\.\d+)?)$/;

/** Runs metric queries over [start, end); see {@link runMetricQueries}. */
export function runQueries(
  store: MetricStore,
  queries: readonly MetricDataQuery[],
  start: number,
  end: number,
): QueryResult[] {
  return runMetricQueries(store, queries, start, end).results;
}

/**
 * Runs metric queries over [start, end): MetricStats read the store, expressions combine other queries' results (any
 * order; an expression may refer to an id defined after it, as in CloudWatch), and a query whose value is an array of
 * time series (a SEARCH) answers one result per series, all with the query's Id. An error in an expression is AWS's
 * `Error in expression '<id>': ...`.
 */
export function runMetricQueries(
  store: MetricStore,
  queries: readonly MetricDataQuery[],
  start: number,
  end: number,
): { results: QueryResult[]; messages: QueryMessage[] } {
  const byId = new Map<string, MetricDataQuery>();
  for (const query of queries) {
    if (byId.has(query.Id))
      throw new MetricQueryError(`The Id '${query.Id}' is used by more than one query: each Id must be unique.`);
    byId.set(query.Id, query);
  }
  const values = new Map<string, MathValue>();
  const messages: QueryMessage[] = [];
  let budget = MAX_METRICS_PER_REQUEST - queries.filter((query) => query.MetricStat).length;
  const resolving = new Set<string>();

  const labelOf = (query: MetricDataQuery) => query.Label ?? query.MetricStat?.Metric.MetricName ?? query.Id;

  const search = (query: MetricDataQuery, text: string, statistic: string, period: number | undefined): SeriesArray => {
    const parsed = parseSearch(text);
    if (!STATISTIC.test(statistic))
      throw new MetricMathError(
        `'${statistic}' is not a statistic SEARCH can use (Sum, Average, Minimum, Maximum, SampleCount, pNN)`,
      );
    const seconds = period ?? query.Period;
    if (seconds === undefined)
      throw new MetricMathError('SEARCH needs a period: give it as its third argument or as the query’s Period');
    if (
      !Number.isInteger(seconds) ||
      seconds < 1 ||
      (seconds < 60 ? ![1, 5, 10, 20, 30].includes(seconds) : seconds % 60 !== 0)
    )
      throw new MetricMathError(
        `the period of a SEARCH must be 1, 5, 10, 20, 30 or a multiple of 60 seconds, got ${seconds}`,
      );
    const found = store.list({}).filter((metric) => searchMatches(parsed, metric));
    found.sort((a, b) => (metricKey(a) < metricKey(b) ? -1 : metricKey(a) > metricKey(b) ? 1 : 0));
    const kept = found.slice(0, Math.max(0, budget));
    if (kept.length < found.length && !messages.includes(MAX_METRICS_EXCEEDED)) messages.push(MAX_METRICS_EXCEEDED);
    budget -= kept.length;
    const labels = defaultLabels(kept, parsed.schema?.dimensions);
    return new SeriesArray(
      kept.map((metric, i) => ({
        label: labels[i] as string,
        metric,
        stat: statistic,
        period: seconds,
        points: store.statistic(metric, statistic, seconds, start, end),
      })),
    );
  };

  const resolve = (id: string): MathValue | undefined => {
    const known = values.get(id);
    if (known !== undefined) return known;
    const query = byId.get(id);
    if (!query) return undefined;
    if (resolving.has(id)) throw new MetricQueryError(`Error in expression '${id}': it refers to itself`);
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
      try {
        value = evaluateExpression(query.Expression, {
          variable: resolve,
          label: (other) => labelOf(byId.get(other) ?? { Id: other }),
          buckets,
          search: (text, statistic, seconds) => search(query, text, statistic, seconds),
          metrics: (filter) =>
            new SeriesArray(
              queries
                .filter((other) => other.MetricStat && (filter === undefined || other.Id.includes(filter)))
                .map((other) => ({ label: labelOf(other), points: resolve(other.Id) as TimeSeries })),
            ),
        });
      } catch (error: unknown) {
        if (error instanceof MetricMathError || error instanceof SearchSyntaxError)
          throw new MetricQueryError(`Error in expression '${id}': ${error.message}`);
        throw error;
      }
    } else {
      throw new MetricQueryError(`metric query '${id}' has neither MetricStat nor Expression`);
    }
    resolving.delete(id);
    values.set(id, value);
    return value;
  };

  const results = queries.flatMap((query): QueryResult[] => {
    const value = resolve(query.Id) as MathValue;
    const returned = query.ReturnData !== false;
    if (value instanceof SeriesArray)
      return value.series.map((series) => ({
        id: query.Id,
        label: arrayLabel(query.Label, series),
        returned,
        points: series.points,
      }));
    const points = value instanceof Map ? value : scalarSeries(value, queries, start, end);
    return [{ id: query.Id, label: labelOf(query), returned, points }];
  });
  return { results, messages };
}

const metricKey = (metric: MetricId) =>
  JSON.stringify([metric.namespace, metric.metricName, metric.dimensions.map((d) => [d.Name, d.Value])]);

/**
 * The label of each series a SEARCH finds, when the query has none: its dimension values, space-separated (in the
 * schema's order), as GetMetricData labels them (`i-123`, `i-456` for `{AWS/EC2,InstanceId}`, Grafana's CloudWatch
 * data source, https://github.com/grafana/grafana/pull/21541); the metric name when it has no dimension, or added
 * when two series would otherwise share a label (AWS makes labels unique by adding the metric name or the statistic;
 * which one it picks is not documented).
 */
function defaultLabels(metrics: readonly MetricId[], schemaOrder: readonly string[] | undefined): string[] {
  const base = metrics.map((metric) => {
    const dimensions = schemaOrder
      ? schemaOrder.map((name) => metric.dimensions.find((d) => d.Name === name)?.Value ?? '')
      : metric.dimensions.map((d) => d.Value);
    return dimensions.join(' ') || metric.metricName;
  });
  const count = (labels: readonly string[], label: string) => labels.filter((other) => other === label).length;
  const named = base.map((label, i) =>
    count(base, label) > 1 && label !== metrics[i]?.metricName ? `${label} ${metrics[i]?.metricName}` : label,
  );
  return named.map((label, i) => (count(named, label) > 1 ? `${label} ${metrics[i]?.namespace}` : label));
}

/**
 * The label of one series of an array result: the series' own when the query has no Label; a Label with dynamic
 * parts (`${LABEL}`, `${PROP('Dim.<name>')}`, `${PROP('MetricName')}`, `${PROP('Namespace')}`, `${PROP('Stat')}`,
 * `${PROP('Period')}`, CloudWatch User Guide, "Using dynamic labels") filled in for the series; a plain Label followed
 * by the series' label, as the console's legend writes "Expression-Label Metric-Label" ("Using metric math").
 */
function arrayLabel(label: string | undefined, series: LabelledSeries): string {
  if (label === undefined) return series.label;
  if (!label.includes('${')) return label === '' ? series.label : `${label} ${series.label}`;
  return label.replace(/\$\{(LABEL|PROP\('([^']*)'\))\}/g, (whole, _: string, property: string | undefined) => {
    if (property === undefined) return series.label;
    if (property === 'MetricName') return series.metric?.metricName ?? whole;
    if (property === 'Namespace') return series.metric?.namespace ?? whole;
    if (property === 'Stat') return series.stat ?? whole;
    if (property === 'Period') return series.period === undefined ? whole : String(series.period);
    if (property.startsWith('Dim.'))
      return series.metric?.dimensions.find((d) => d.Name === property.slice(4))?.Value ?? whole;
    return whole;
  });
}

function periodOf(queries: readonly MetricDataQuery[]): number {
  return queries.find((q) => q.MetricStat)?.MetricStat?.Period ?? 60;
}

/** A constant expression (e.g. `100`) is drawn as one value per period; a scalar of no data (NaN) as none. */
function scalarSeries(
  value: number,
  queries: readonly MetricDataQuery[],
  start: number,
  end: number,
): Map<number, number> {
  const periodMs = periodOf(queries) * 1000;
  const out = new Map<number, number>();
  if (Number.isNaN(value)) return out;
  for (let t = Math.floor(start / periodMs) * periodMs; t < end; t += periodMs) out.set(t, value);
  return out;
}
