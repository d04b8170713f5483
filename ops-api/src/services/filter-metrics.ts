import {
  type CloudWatchClient,
  GetMetricDataCommand,
  ListMetricsCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import {
  DIMENSION_CLAUSE,
  DIMENSION_PIPE,
  FUNNEL_STAGES,
  LOCAL_PIPE_METRICS,
  METRICS_NAMESPACE,
  PIPES,
  type PipeKey,
  PROCESSOR_METRICS,
  SQS_METRICS,
  SQS_NAMESPACE,
  STREAM_ESTIMATE,
} from '@orderflow/pipeline/facts';
import { METRICS_DEFAULT_WINDOW_MS, type MetricsQuery, type MetricsResponse } from '../schemas/index.ts';

type Stage = keyof Omit<MetricsResponse['funnel'], 'guardRejectedByClause'>;
type Series = Map<number, number>;

/** The pipe emulator's metrics (LOCAL_PIPE_METRICS): published by the local runtime only, never by AWS. */
const LOCAL_ONLY_METRICS: ReadonlySet<string> = new Set(Object.values(LOCAL_PIPE_METRICS).map((metric) => metric.name));

/** GetMetricData accepts up to 500 queries per call (CloudWatch API reference). */
const MAX_QUERIES = 500;

const STAGE_OF_METRIC: Readonly<Record<string, Stage>> = {
  [LOCAL_PIPE_METRICS.recordsPolled.name]: 'polled',
  [LOCAL_PIPE_METRICS.recordsMatched.name]: 'matchedByPipeFilter',
  [LOCAL_PIPE_METRICS.recordsFilteredOut.name]: 'filteredOut',
  [LOCAL_PIPE_METRICS.recordsSentToDlq.name]: 'sentToDlq',
  [PROCESSOR_METRICS.guardPassed.name]: 'guardPassed',
  [PROCESSOR_METRICS.guardRejected.name]: 'guardRejected',
  [PROCESSOR_METRICS.recordsProcessed.name]: 'processed',
  [PROCESSOR_METRICS.recordsFailed.name]: 'failed',
};

/**
 * The filter-match funnel of a pipe from CloudWatch. AWS publishes no count of filtered-out records (docs/AWS-FACTS.md,
 * fact 8): locally the pipe emulator's LOCAL_PIPE_METRICS give exact polled/matched/filtered-out/DLQ counts; in AWS the
 * processors' RecordsReceived is what the filter matched, and the stream total is an estimate from DynamoDB's
 * ReturnedRecordsCount divided by the number of readers (pipeline's STREAM_ESTIMATE).
 *
 * Metric dimension sets are discovered with ListMetrics (filtered by the Pipe dimension) rather than assumed, because
 * Powertools adds its `service` dimension to every metric it publishes.
 */
export class FilterMetrics {
  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly options: {
      readonly mode: 'local' | 'aws';
      readonly ordersTable: string;
      readonly dlqNames: Readonly<Record<PipeKey, string>>;
    },
  ) {}

  async funnel(query: MetricsQuery): Promise<MetricsResponse> {
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - METRICS_DEFAULT_WINDOW_MS);
    const exact = this.options.mode === 'local';
    const metrics = await this.pipeMetrics(query.pipe);
    const queries: MetricDataQuery[] = [];
    const meaning = new Map<string, { stage: Stage | 'received'; clause?: string }>();
    for (const metric of metrics) {
      const name = metric.MetricName ?? '';
      const stage = name === PROCESSOR_METRICS.recordsReceived.name ? 'received' : STAGE_OF_METRIC[name];
      // The pipe emulator's exact counts exist only on the local runtime; in AWS mode (the API as deployed, also when
      // it runs on the local runtime) the funnel is what AWS publishes, so they must not add to the estimates.
      if (!exact && LOCAL_ONLY_METRICS.has(name)) continue;
      if (!stage || queries.length >= MAX_QUERIES - 2) continue;
      const id = `m${queries.length}`;
      const clause = metric.Dimensions?.find((dimension) => dimension.Name === DIMENSION_CLAUSE)?.Value;
      meaning.set(id, { stage, ...(clause ? { clause } : {}) });
      queries.push({ Id: id, MetricStat: { Metric: metric, Period: query.period, Stat: 'Sum' } });
    }
    if (!exact) {
      const search = `SEARCH('{${STREAM_ESTIMATE.namespace},Operation,StreamLabel,TableName} MetricName="${STREAM_ESTIMATE.metricName}" TableName="${this.options.ordersTable}" Operation="${STREAM_ESTIMATE.operation}"', 'Sum', ${query.period})`;
      queries.push(
        { Id: 'streamreturned', Expression: search, ReturnData: false },
        { Id: 'streamestimate', Expression: `SUM(streamreturned) / ${STREAM_ESTIMATE.readers}` },
      );
      meaning.set('streamestimate', { stage: 'polled' });
      queries.push({
        Id: 'dlqsent',
        MetricStat: {
          Metric: {
            Namespace: SQS_NAMESPACE,
            MetricName: SQS_METRICS.messagesSent,
            Dimensions: [{ Name: 'QueueName', Value: this.options.dlqNames[query.pipe] }],
          },
          Period: query.period,
          Stat: 'Sum',
        },
      });
      meaning.set('dlqsent', { stage: 'sentToDlq' });
    }
    const stages = new Map<Stage | 'received', Series>();
    const byClause = new Map<string, number>();
    let nextToken: string | undefined;
    do {
      if (queries.length === 0) break;
      const page = await this.cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: from,
          EndTime: to,
          NextToken: nextToken,
          ScanBy: 'TimestampAscending',
        }),
      );
      for (const result of page.MetricDataResults ?? []) {
        const what = meaning.get(result.Id ?? '');
        if (!what) continue;
        const series = stages.get(what.stage) ?? new Map<number, number>();
        stages.set(what.stage, series);
        (result.Timestamps ?? []).forEach((timestamp, index) => {
          const at = new Date(timestamp).getTime();
          const value = result.Values?.[index] ?? 0;
          series.set(at, (series.get(at) ?? 0) + value);
          if (what.clause) byClause.set(what.clause, (byClause.get(what.clause) ?? 0) + value);
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);

    if (!exact) {
      stages.set('matchedByPipeFilter', stages.get('received') ?? new Map());
      const polled = stages.get('polled') ?? new Map<number, number>();
      const matched = stages.get('matchedByPipeFilter') ?? new Map<number, number>();
      const filteredOut = new Map<number, number>();
      for (const [at, value] of polled) filteredOut.set(at, Math.max(0, value - (matched.get(at) ?? 0)));
      stages.set('filteredOut', filteredOut);
    }
    const total = (stage: Stage) => [...(stages.get(stage)?.values() ?? [])].reduce((sum, value) => sum + value, 0);
    const stage = (key: Stage, label: string, estimate = false) => ({ value: total(key), estimate, label });
    return {
      pipe: query.pipe,
      from: from.toISOString(),
      to: to.toISOString(),
      period: query.period,
      exact,
      funnel: {
        polled: stage(
          'polled',
          exact ? 'records read from the stream by the pipe' : 'records in the stream (estimate: reads / readers)',
          !exact,
        ),
        matchedByPipeFilter: stage(
          'matchedByPipeFilter',
          exact ? LOCAL_PIPE_METRICS.recordsMatched.description : PROCESSOR_METRICS.recordsReceived.description,
        ),
        filteredOut: stage(
          'filteredOut',
          exact ? 'records dropped by the pipe filter' : 'records dropped by the pipe filter (estimate)',
          !exact,
        ),
        guardPassed: stage('guardPassed', PROCESSOR_METRICS.guardPassed.description),
        guardRejected: stage('guardRejected', PROCESSOR_METRICS.guardRejected.description),
        guardRejectedByClause: PIPES[query.pipe].rule.clauses.map((clause) => ({
          clause: clause.id,
          description: clause.description,
          value: byClause.get(clause.id) ?? 0,
        })),
        processed: stage('processed', PROCESSOR_METRICS.recordsProcessed.description),
        failed: stage('failed', PROCESSOR_METRICS.recordsFailed.description),
        sentToDlq: stage(
          'sentToDlq',
          exact ? 'records sent to the DLQ' : 'DLQ messages sent (each describes a batch of records)',
        ),
      },
      series: FUNNEL_STAGES.map((key) => ({
        stage: key,
        points: [...(stages.get(key) ?? new Map<number, number>())]
          .sort(([a], [b]) => a - b)
          .map(([at, value]) => ({ timestamp: new Date(at).toISOString(), value })),
      })),
    };
  }

  private async pipeMetrics(pipe: PipeKey) {
    const metrics = [];
    let nextToken: string | undefined;
    do {
      const page = await this.cloudwatch.send(
        new ListMetricsCommand({
          Namespace: METRICS_NAMESPACE,
          Dimensions: [{ Name: DIMENSION_PIPE, Value: pipe }],
          NextToken: nextToken,
        }),
      );
      metrics.push(...(page.Metrics ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return metrics;
  }
}
