// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudWatch dynamic labels are ${...} inside plain strings
/**
 * CloudWatch `SEARCH` expressions and metric math over arrays of time series on the local CloudWatch endpoint, through
 * the AWS SDK for JavaScript (AWS JSON 1.0, and the query and RPC v2 CBOR protocols for the product's query). The
 * first part runs the endpoint on a store of its own, with metrics published by PutMetricData; the last starts the
 * runtime as `npm start` does (`opsApi: 'lambda'`: the bundled ops API function in AWS mode behind the template's HTTP
 * API) and reads the filter funnel, whose stream estimate is the SEARCH of pipeline's STREAM_ESTIMATE.
 * Syntax: CloudWatch User Guide, "CloudWatch search expression syntax",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetDashboardCommand,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  ListDashboardsCommand,
  type MetricDataQuery,
  type MetricDatum,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { AwsQueryProtocol, AwsSmithyRpcV2CborProtocol } from '@aws-sdk/core/protocols';
import type { MetricsResponse } from '@orderflow/ops-api/schemas';
import { STREAM_ESTIMATE } from '@orderflow/pipeline/facts';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlarmBoard } from '../src/cloudwatch/alarms.ts';
import { MetricStore } from '../src/cloudwatch/metric-store.ts';
import { MAX_METRICS_EXCEEDED, MAX_METRICS_PER_REQUEST } from '../src/cloudwatch/queries.ts';
import { type CloudWatchServer, startCloudWatchServer } from '../src/cloudwatch/server.ts';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { freePort } from '../src/services/ports.ts';

const minute = 60_000;
const aligned = Math.floor(Date.now() / minute) * minute;
const t0 = aligned - 3 * minute;
const t1 = aligned - 2 * minute;
const window = { StartTime: new Date(aligned - 10 * minute), EndTime: new Date(aligned + minute) };

const ORDERS = 'orderflow-orders';
const TEST_NAMESPACE = 'Orderflow/SearchTest';
const LIMIT_NAMESPACE = 'Orderflow/SearchLimit';
/** The ops API's stream estimate (ops-api/src/services/filter-metrics.ts), for the orders table of this test. */
const productSearch = (table: string, period: number) =>
  `SEARCH('{${STREAM_ESTIMATE.namespace},Operation,StreamLabel,TableName} MetricName="${STREAM_ESTIMATE.metricName}" TableName="${table}" Operation="${STREAM_ESTIMATE.operation}"', 'Sum', ${period})`;
const productQueries = (returnSearch: boolean): MetricDataQuery[] => [
  { Id: 'streamreturned', Expression: productSearch(ORDERS, 60), ReturnData: returnSearch },
  { Id: 'streamestimate', Expression: `SUM(streamreturned) / ${STREAM_ESTIMATE.readers}` },
];

let server: CloudWatchServer;
let client: CloudWatchClient;
const clients: CloudWatchClient[] = [];
const clientFor = (protocol?: typeof AwsQueryProtocol | typeof AwsSmithyRpcV2CborProtocol) => {
  const made = new CloudWatchClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
    ...(protocol ? { protocol } : {}),
  });
  clients.push(made);
  return made;
};

const records = (
  streamLabel: string,
  table: string,
  value: number,
  at: number,
  extra: Record<string, string> = {},
) => ({
  MetricName: STREAM_ESTIMATE.metricName,
  Dimensions: [
    { Name: 'Operation', Value: STREAM_ESTIMATE.operation },
    { Name: 'StreamLabel', Value: streamLabel },
    { Name: 'TableName', Value: table },
    ...Object.entries(extra).map(([Name, Value]) => ({ Name, Value })),
  ],
  Value: value,
  Timestamp: new Date(at + 1000),
  Unit: 'Count' as const,
});

beforeAll(async () => {
  const store = new MetricStore();
  server = await startCloudWatchServer(
    { store, alarms: new AlarmBoard([], store), region: 'us-east-1', account: '000000000000', now: () => aligned },
    await freePort(),
  );
  client = clientFor();
  const put = (Namespace: string, MetricData: MetricDatum[]) =>
    client.send(new PutMetricDataCommand({ Namespace, MetricData }));
  await put(STREAM_ESTIMATE.namespace, [
    // Two streams of the orders table over time (a stream label each), read by the pipes.
    records('2026-01-01T00:00:00.000', ORDERS, 4, t0),
    records('2026-01-01T00:00:00.000', ORDERS, 2, t1),
    records('2026-02-01T00:00:00.000', ORDERS, 6, t0),
    // Another table's stream: not the orders table.
    records('2026-01-01T00:00:00.000', 'orderflow-journal', 100, t0),
    // The same metric with another dimension set is another metric, outside the schema.
    records('2026-01-01T00:00:00.000', ORDERS, 1000, t0, { Region: 'us-east-1' }),
    {
      MetricName: STREAM_ESTIMATE.metricName,
      Dimensions: [
        { Name: 'Operation', Value: STREAM_ESTIMATE.operation },
        { Name: 'TableName', Value: ORDERS },
      ],
      Value: 1000,
      Timestamp: new Date(t0 + 1000),
    },
    // Another metric with the schema's dimensions: not ReturnedRecordsCount.
    { ...records('2026-01-01T00:00:00.000', ORDERS, 1000, t0), MetricName: 'ReturnedBytes' },
  ]);
  const at = new Date(t0 + 1000);
  await put(TEST_NAMESPACE, [
    { MetricName: 'CustomCount1', Value: 1, Timestamp: at },
    {
      MetricName: 'SDBFailure',
      Dimensions: [{ Name: 'Service', Value: 'Project2-trial333' }],
      Value: 1,
      Timestamp: at,
    },
    { MetricName: 'NetworkErrors2', Dimensions: [{ Name: 'Service', Value: 'api' }], Value: 1, Timestamp: at },
    { MetricName: 'Network-Errors-2', Dimensions: [{ Name: 'Service', Value: 'api' }], Value: 1, Timestamp: at },
    { MetricName: 'ConnectionErrors', Dimensions: [{ Name: 'Service', Value: 'api' }], Value: 1, Timestamp: at },
    { MetricName: 'Errors', Dimensions: [{ Name: 'Service', Value: 'web' }], Value: 1, Timestamp: at },
  ]);
  // One metric more than a request may read.
  const shards = Array.from({ length: MAX_METRICS_PER_REQUEST + 1 }, (_, i) => ({
    MetricName: 'Load',
    Dimensions: [{ Name: 'Shard', Value: `shard-${String(i).padStart(3, '0')}` }],
    Value: i,
    Timestamp: at,
  }));
  for (let i = 0; i < shards.length; i += 100) await put(LIMIT_NAMESPACE, shards.slice(i, i + 100));
});
afterAll(async () => {
  for (const made of clients) made.destroy();
  await server?.stop();
});

const getMetricData = (MetricDataQueries: MetricDataQuery[], on = client) =>
  on.send(new GetMetricDataCommand({ ...window, MetricDataQueries, ScanBy: 'TimestampAscending' }));

/** Each result as `label: [values]`, in the answer's order. */
const series = (answer: GetMetricDataCommandOutput, id: string) =>
  (answer.MetricDataResults ?? [])
    .filter((result) => result.Id === id)
    .map((result) => ({ label: result.Label, values: result.Values, at: result.Timestamps?.map((t) => t.getTime()) }));

/** The metric names a search in the test namespace finds (their labels name them). */
async function found(search: string): Promise<string[]> {
  const answer = await getMetricData([
    { Id: 'e1', Expression: `SEARCH('${search}', 'Sum', 60)`, Label: "${PROP('MetricName')}" },
  ]);
  return (answer.MetricDataResults ?? []).map((result) => result.Label ?? '').sort();
}

describe('SEARCH on the local CloudWatch endpoint', () => {
  it('answers the ops API’s stream estimate: one series per stream of the orders table, and SUM(...) / readers', async () => {
    const answer = await getMetricData(productQueries(true));
    // Exactly the schema's dimension set, the exact metric name, the table and the operation: two streams.
    expect(series(answer, 'streamreturned')).toEqual([
      { label: 'GetRecords 2026-01-01T00:00:00.000 orderflow-orders', values: [4, 2], at: [t0, t1] },
      { label: 'GetRecords 2026-02-01T00:00:00.000 orderflow-orders', values: [6], at: [t0] },
    ]);
    expect(answer.MetricDataResults?.map((result) => result.StatusCode)).toEqual(['Complete', 'Complete', 'Complete']);
    // SUM of an array is one series, per timestamp; a series divided by a scalar, point by point.
    expect(series(answer, 'streamestimate')).toEqual([
      {
        label: 'streamestimate',
        values: [(4 + 6) / STREAM_ESTIMATE.readers, 2 / STREAM_ESTIMATE.readers],
        at: [t0, t1],
      },
    ]);
    expect(answer.Messages).toEqual([]);
    // What the ops API sends (the search not returned) answers only the estimate, in every protocol.
    const asSent = await getMetricData(productQueries(false));
    expect(asSent.MetricDataResults?.map((result) => result.Id)).toEqual(['streamestimate']);
    for (const protocol of [AwsQueryProtocol, AwsSmithyRpcV2CborProtocol]) {
      const other = await getMetricData(productQueries(true), clientFor(protocol));
      expect(other.MetricDataResults).toEqual(answer.MetricDataResults);
    }
  });

  it('matches the metric schema’s dimension set exactly, and the namespace alone only metrics of no dimension', async () => {
    const names = async (schema: string) =>
      (await getMetricData([{ Id: 'e1', Expression: `SEARCH('${schema}', 'Sum', 60)` }])).MetricDataResults?.map(
        (result) => result.Label,
      ) ?? [];
    expect(await names('{AWS/DynamoDB,TableName,Operation}')).toEqual(['orderflow-orders GetRecords']);
    expect(await names('{AWS/DynamoDB,TableName,Operation,StreamLabel,Region}')).toEqual([
      'orderflow-orders GetRecords 2026-01-01T00:00:00.000 us-east-1',
    ]);
    // The schema's names may be quoted; a comma may follow it.
    expect(await names('{"Orderflow/SearchTest"}, "CustomCount1"')).toEqual(['CustomCount1']);
    expect(await names(`{${TEST_NAMESPACE}}`)).toEqual(['CustomCount1']);
    // Metrics of one dimension set in the schema, told apart by metric name when their dimension values agree.
    expect(await names(`{${TEST_NAMESPACE},Service} Service=api`)).toEqual([
      'api ConnectionErrors',
      'api Network-Errors-2',
      'api NetworkErrors2',
    ]);
  });

  it('finds partial terms by tokens (any case for one token, case-sensitive composites) and exact phrases', async () => {
    const scoped = (term: string) => found(`Namespace="${TEST_NAMESPACE}" ${term}`);
    expect(await scoped('count')).toEqual(['CustomCount1']);
    expect(await scoped('COUNT')).toEqual(['CustomCount1']);
    expect(await scoped('couNT')).toEqual([]);
    expect(await scoped('CustomCount')).toEqual(['CustomCount1']);
    expect(await scoped('Count1')).toEqual(['CustomCount1']);
    expect(await scoped('customcount')).toEqual([]);
    expect(await scoped('count1')).toEqual([]);
    expect(await scoped('customcount1')).toEqual(['CustomCount1']);
    expect(await scoped('sdb')).toEqual(['SDBFailure']);
    // Dimension values are searched too: `Project2-trial333` has the tokens project, 2, trial, 333.
    expect(await scoped('trial')).toEqual(['SDBFailure']);
    expect(await scoped('network/errors')).toEqual(['Network-Errors-2', 'NetworkErrors2']);
    expect(await scoped('Network_Errors')).toEqual(['Network-Errors-2', 'NetworkErrors2']);
    expect(await scoped('Errors')).toEqual(['ConnectionErrors', 'Errors', 'Network-Errors-2', 'NetworkErrors2']);
    expect(await scoped('"Errors"')).toEqual(['Errors']);
    expect(await scoped('"Network-Errors-2"')).toEqual(['Network-Errors-2']);
    expect(await scoped('"Network_Errors_2"')).toEqual([]);
  });

  it('restricts terms to properties and combines them with AND, OR, NOT and parentheses', async () => {
    expect(await found(`Namespace="${TEST_NAMESPACE}" MetricName=Errors`)).toEqual([
      'ConnectionErrors',
      'Errors',
      'Network-Errors-2',
      'NetworkErrors2',
    ]);
    expect(await found('MetricName="Errors"')).toEqual(['Errors']);
    // A dimension name as a property: only the value of that dimension is searched.
    expect(await found('Service=trial')).toEqual(['SDBFailure']);
    expect(await found('Service=("web" OR "Project2-trial333")')).toEqual(['Errors', 'SDBFailure']);
    expect(await found('Namespace=SearchTest AND Service="api" NOT Network')).toEqual(['ConnectionErrors']);
    expect(await found('Namespace=SearchTest (Connection OR SDB) NOT Failure')).toEqual(['ConnectionErrors']);
    expect(
      await found(`{${TEST_NAMESPACE},Service} MetricName="Errors" OR (MetricName=Network AND (web OR api))`),
    ).toEqual(['Errors', 'Network-Errors-2', 'NetworkErrors2']);
    // NOT alone: every metric but those of the namespaces with the token `aws` or the tokens `Search`, `Limit`.
    expect(await found('NOT Namespace=AWS NOT Namespace=SearchLimit')).toEqual([
      'ConnectionErrors',
      'CustomCount1',
      'Errors',
      'Network-Errors-2',
      'NetworkErrors2',
      'SDBFailure',
    ]);
    // Boolean operators are case-sensitive: `or` is a term.
    expect(await found(`Namespace="${TEST_NAMESPACE}" Errors or SDB`)).toEqual([]);
  });

  it('answers a search that finds nothing with no series, and SUM of it with an empty series, not an error', async () => {
    const answer = await getMetricData([
      { Id: 'nothing', Expression: `SEARCH('{${TEST_NAMESPACE},Nothing} Errors', 'Sum', 60)` },
      { Id: 'total', Expression: 'SUM(nothing) / 2' },
    ]);
    expect(answer.MetricDataResults).toEqual([
      { Id: 'total', Label: 'total', Timestamps: [], Values: [], StatusCode: 'Complete' },
    ]);
  });

  it('computes SUM, AVG, MIN and MAX of an array per timestamp, and arithmetic over an array series by series', async () => {
    const answer = await getMetricData([
      { Id: 'streams', Expression: productSearch(ORDERS, 60), ReturnData: false },
      { Id: 'sum', Expression: 'SUM(streams)' },
      { Id: 'avg', Expression: 'AVG(streams)' },
      { Id: 'min', Expression: 'MIN(streams)' },
      { Id: 'max', Expression: 'MAX(streams)' },
      { Id: 'count', Expression: 'SUM(streams) * 0 + METRIC_COUNT(streams)' },
      { Id: 'scaled', Expression: 'streams * 10', Label: "${PROP('Dim.StreamLabel')}" },
      { Id: 'listed', Expression: 'SUM([streams, -streams])' },
    ]);
    const values = (id: string) => series(answer, id).map((one) => one.values);
    expect(values('sum')).toEqual([[10, 2]]);
    // AVG counts the stream without a datapoint at t1 as 0 ("Missing values are treated as 0").
    expect(values('avg')).toEqual([[5, 1]]);
    expect(values('min')).toEqual([[4, 2]]);
    expect(values('max')).toEqual([[6, 2]]);
    expect(values('count')).toEqual([[2, 2]]);
    expect(series(answer, 'scaled')).toEqual([
      { label: '2026-01-01T00:00:00.000', values: [40, 20], at: [t0, t1] },
      { label: '2026-02-01T00:00:00.000', values: [60], at: [t0] },
    ]);
    expect(values('listed')).toEqual([[0, 0]]);
  });

  it('reads at most 500 metrics in one request, with AWS’s message when a search is cut', async () => {
    const limited = await getMetricData([
      { Id: 'shards', Expression: `SEARCH('{${LIMIT_NAMESPACE},Shard} MetricName="Load"', 'Sum', 60)` },
    ]);
    expect(limited.MetricDataResults).toHaveLength(MAX_METRICS_PER_REQUEST);
    expect(limited.Messages).toEqual([MAX_METRICS_EXCEEDED]);
    expect(MAX_METRICS_EXCEEDED.Value).toBe(
      'Maximum number of allowed metrics exceeded. Your search may have been limited.',
    );
    // A MetricStat of the same request counts: one metric less for the search.
    const withMetric = await getMetricData([
      { Id: 'shards', Expression: `SEARCH('{${LIMIT_NAMESPACE},Shard} MetricName="Load"', 'Sum', 60)` },
      {
        Id: 'one',
        MetricStat: {
          Metric: {
            Namespace: LIMIT_NAMESPACE,
            MetricName: 'Load',
            Dimensions: [{ Name: 'Shard', Value: 'shard-000' }],
          },
          Period: 60,
          Stat: 'Sum',
        },
      },
    ]);
    expect(withMetric.MetricDataResults?.filter((result) => result.Id === 'shards')).toHaveLength(
      MAX_METRICS_PER_REQUEST - 1,
    );
    // Up to the limit, no message.
    const within = await getMetricData([
      { Id: 'shards', Expression: `SEARCH('{${LIMIT_NAMESPACE},Shard} MetricName="Load" NOT "shard-500"', 'Sum', 60)` },
    ]);
    expect(within.MetricDataResults).toHaveLength(MAX_METRICS_PER_REQUEST);
    expect(within.Messages).toEqual([]);
  });

  it('refuses malformed expressions with a ValidationError naming the query and what is wrong', async () => {
    const refusal = async (Expression: string, extra: Partial<MetricDataQuery> = {}) => {
      const error = await getMetricData([{ Id: 'e1', Expression, ...extra }]).then(
        () => undefined,
        (caught: unknown) => caught as { name: string; message: string; $metadata: { httpStatusCode?: number } },
      );
      expect(error, Expression).toBeDefined();
      // The model's ValidationException, whose query code is ValidationError.
      expect(error?.name).toBe('ValidationException');
      expect(error?.$metadata.httpStatusCode).toBe(400);
      expect(error?.message).toMatch(/^Error in expression 'e1': /);
      return error?.message.replace(/^Error in expression 'e1': /, '');
    };
    expect(await refusal(`SEARCH('{AWS/DynamoDB,TableName MetricName="x"', 'Sum', 60)`)).toBe(
      "the metric schema expects ',' or '}', found 'MetricName' at position 24",
    );
    expect(await refusal(`SEARCH(' (EC2 OR EBS ', 'Sum', 60)`)).toBe(
      "the '(' at position 1 has no matching ')' (found the end of the query)",
    );
    expect(await refusal(`SEARCH(' EC2 OR EBS) ', 'Sum', 60)`)).toBe("the ')' at position 11 has no matching '('");
    expect(await refusal(`SEARCH(' MetricName="Errors ', 'Sum', 60)`)).toBe(
      'the quoted phrase starting at position 12 has no closing double quote',
    );
    expect(await refusal(`SEARCH(' EC2 OR ', 'Sum', 60)`)).toBe('expected a search term, found the end of the query');
    expect(await refusal(`SEARCH(' AND EC2 ', 'Sum', 60)`)).toBe("expected a search term, found 'AND' at position 1");
    expect(await refusal(`SEARCH(' MetricName= ', 'Sum', 60)`)).toBe(
      'MetricName= expects a value, found the end of the query',
    );
    expect(await refusal(`SEARCH('', 'Sum', 60)`)).toBe(
      'a search expression must contain a metric schema, a search term, or both',
    );
    expect(await refusal(`SEARCH(' Errors {${TEST_NAMESPACE}} ', 'Sum', 60)`)).toBe(
      "the metric schema must come first in the search expression, found '{' at position 8",
    );
    expect(await refusal(`SEARCH('${'x'.repeat(1025)}', 'Sum', 60)`)).toBe(
      'the search expression is 1025 characters long; the maximum search expression query size is 1024 characters',
    );
    expect(await refusal(`SEARCH(' :aws.AccountId = "LOCAL" ', 'Sum', 60)`)).toMatch(
      /^:aws\.AccountId is not served by the local CloudWatch/,
    );
    expect(await refusal(`SEARCH(' Errors ', 'Total', 60)`)).toBe(
      "'Total' is not a statistic SEARCH can use (Sum, Average, Minimum, Maximum, SampleCount, pNN)",
    );
    expect(await refusal(`SEARCH(' Errors ', 'Sum', 45)`)).toBe(
      'the period of a SEARCH must be 1, 5, 10, 20, 30 or a multiple of 60 seconds, got 45',
    );
    expect(await refusal(`SEARCH(' Errors ', 'Sum')`)).toBe(
      'SEARCH needs a period: give it as its third argument or as the query’s Period',
    );
    expect(await refusal(`SEARCH(" Errors ", 'Sum', 60)`)).toMatch(
      /^SEARCH takes the search expression and the statistic, each in single quotes/,
    );
    expect(await refusal(`SEARCH(' Errors ', 'Sum', 60`)).toMatch(/expected '\)', found 'end'/);
    expect(await refusal(`SEARCH(' Errors ', 'Sum', 60) + 'x'`)).toBe(
      "the string 'x' is only an argument of SEARCH or METRICS",
    );
    expect(await refusal(`SUM(SEARCH(' Errors ', 'Sum', 60), 2)`)).toMatch(/^SUM takes one argument/);
    expect(await refusal(`RATE(SEARCH(' Errors ', 'Sum', 60))`)).toMatch(
      /^Function 'RATE' is not served by the local CloudWatch \(served: .*SEARCH/,
    );
    expect(await refusal(`sum(SEARCH(' Errors ', 'Sum', 60))`)).toBe("Function 'sum' not found");
    // The query protocol's ValidationError code reads as the same shape.
    await expect(
      getMetricData([{ Id: 'e1', Expression: `SEARCH('', 'Sum', 60)` }], clientFor(AwsQueryProtocol)),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: "Error in expression 'e1': a search expression must contain a metric schema, a search term, or both",
    });
    // The period may come from the query instead of the SEARCH.
    const answer = await getMetricData([
      { Id: 'e1', Expression: `SEARCH('{${TEST_NAMESPACE}} "CustomCount1"', 'Sum')`, Period: 60 },
    ]);
    expect(series(answer, 'e1')).toEqual([{ label: 'CustomCount1', values: [1], at: [t0] }]);
  });
});

describe('the ops API as deployed reads the filter funnel from the local CloudWatch', () => {
  const templateDir = join(REPO_ROOT, 'stack/cdk.out');
  const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-cloudwatch-search-'));
  let runtime: LocalRuntime;
  let cloudwatch: CloudWatchClient;
  let dynamo: DynamoDBClient;
  beforeAll(async () => {
    if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
      const synth = spawnSync('npm', ['run', 'build', '-w', 'stack'], { cwd: REPO_ROOT, encoding: 'utf8' });
      if (synth.status !== 0) throw new Error(`stack synth failed: ${synth.stderr}`);
    }
    runtime = await startLocalRuntime({
      templateDir,
      stateDir,
      traffic: 'off',
      writeRuntimeFile: false,
      opsApi: 'lambda',
      pipeTiming: { pollIntervalMs: 100, retryBaseDelayMs: 20 },
    });
    const config = { region: runtime.info.region, credentials: LOCAL_CREDENTIALS };
    cloudwatch = new CloudWatchClient({ ...config, endpoint: runtime.info.endpoints.cloudwatch });
    dynamo = new DynamoDBClient({ ...config, endpoint: runtime.info.endpoints.dynamodb });
  }, 180_000);
  afterAll(async () => {
    cloudwatch?.destroy();
    dynamo?.destroy();
    await runtime?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('answers GET /api/metrics/filter with the stream estimate of the pipes’ GetRecords (SEARCH, then SUM / readers)', async () => {
    await dynamo.send(
      new PutItemCommand({
        TableName: runtime.info.resources.ordersTable,
        Item: {
          orderId: { S: 'search-1' },
          customerEmail: { S: 'search@example.com' },
          orderAmount: { N: '120' },
          orderStatus: { S: 'pending' },
          orderDate: { S: new Date().toISOString() },
        },
      }),
    );
    // What every reader of the stream fetched, read as the ops API reads it: one record, read by each pipe.
    const returned = async () => {
      const answer = await cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: new Date(Date.now() - 60 * minute),
          EndTime: new Date(Date.now() + minute),
          MetricDataQueries: [
            {
              Id: 'streams',
              Expression: productSearch(runtime.info.resources.ordersTable, 300),
              ReturnData: false,
            },
            { Id: 'total', Expression: 'SUM(streams)' },
          ],
        }),
      );
      return (answer.MetricDataResults?.[0]?.Values ?? []).reduce((sum, value) => sum + value, 0);
    };
    await until(
      async () => (await returned()) >= STREAM_ESTIMATE.readers,
      'each pipe’s GetRecords of the order counted in ReturnedRecordsCount',
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // An earlier stream of the table (a stream label of its own) that readers fetched 1,000 records from: the search
    // finds both streams, and the estimate is far above anything the pipes count of this one order.
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: STREAM_ESTIMATE.namespace,
        MetricData: [records('2026-01-01T00:00:00.000', runtime.info.resources.ordersTable, 1000, Date.now() - 1000)],
      }),
    );
    const total = await returned();
    expect(total).toBeGreaterThanOrEqual(1000 + STREAM_ESTIMATE.readers);
    const funnel = async () => {
      const response = await fetch(`${runtime.info.opsApi}/api/metrics/filter?pipe=standard&period=300`, {
        headers: { authorization: `Bearer ${runtime.info.tokens.viewer}` },
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`GET /api/metrics/filter answered ${response.status}: ${text}`);
      return JSON.parse(text) as MetricsResponse;
    };
    const answer = await funnel();
    // The deployed function runs in AWS mode: the head of the funnel is the estimate.
    expect(answer.exact).toBe(false);
    expect(answer.funnel.polled.estimate).toBe(true);
    // The estimate alone, between the counts read before and after: in AWS mode the pipe emulator's local-only counts
    // (LOCAL_PIPE_METRICS, at least this order's 1 per pipe) are left out, as AWS does not publish them.
    const after = await returned();
    expect(answer.funnel.polled.value).toBeGreaterThanOrEqual(total / STREAM_ESTIMATE.readers);
    expect(answer.funnel.polled.value).toBeLessThanOrEqual(after / STREAM_ESTIMATE.readers);
  }, 60_000);

  it('answers every expression of the template’s dashboard and alarms through GetMetricData', async () => {
    const range = { StartTime: new Date(Date.now() - 60 * minute), EndTime: new Date(Date.now() + minute) };
    const alarms = await cloudwatch.send(new DescribeAlarmsCommand({}));
    const mathAlarms = (alarms.MetricAlarms ?? []).filter((alarm) => alarm.Metrics?.some((m) => m.Expression));
    expect(mathAlarms.length).toBeGreaterThan(0);
    for (const alarm of mathAlarms) {
      const answer = await cloudwatch.send(
        new GetMetricDataCommand({ ...range, MetricDataQueries: alarm.Metrics ?? [] }),
      );
      expect(answer.MetricDataResults, alarm.AlarmName).toHaveLength(1);
    }
    // A dashboard's expression rows (`{expression, id}`) and the metric rows they read (`{id, stat, period}`).
    const names = (await cloudwatch.send(new ListDashboardsCommand({}))).DashboardEntries ?? [];
    let expressions = 0;
    for (const { DashboardName } of names) {
      const body = JSON.parse(
        (await cloudwatch.send(new GetDashboardCommand({ DashboardName }))).DashboardBody ?? '{"widgets":[]}',
      ) as { widgets: { type: string; properties: { metrics?: unknown[][]; period?: number } }[] };
      for (const widget of body.widgets) {
        if (widget.type !== 'metric') continue;
        const queries: MetricDataQuery[] = [];
        let previous: string[] = [];
        for (const row of widget.properties.metrics ?? []) {
          const options = (row.find((cell) => typeof cell === 'object') ?? {}) as Record<string, unknown>;
          const cells = row.filter((cell): cell is string => typeof cell === 'string');
          if (typeof options.expression === 'string') {
            // CDK writes expression rows without an id; a dashboard needs none, GetMetricData does.
            queries.push({ Id: String(options.id ?? `expr${queries.length}`), Expression: options.expression });
            continue;
          }
          const resolved = cells.map((cell, i) => (cell === '.' ? (previous[i] ?? '') : cell));
          previous = resolved;
          if (typeof options.id !== 'string') continue;
          const [Namespace, MetricName, ...pairs] = resolved;
          const Dimensions = [];
          for (let i = 0; i + 1 < pairs.length; i += 2) Dimensions.push({ Name: pairs[i], Value: pairs[i + 1] });
          queries.push({
            Id: options.id,
            ReturnData: false,
            MetricStat: {
              Metric: { Namespace, MetricName, Dimensions },
              Period: Number(options.period ?? widget.properties.period ?? 300),
              Stat: String(options.stat ?? 'Average'),
            },
          });
        }
        if (!queries.some((query) => query.Expression)) continue;
        expressions += queries.filter((query) => query.Expression).length;
        await cloudwatch.send(new GetMetricDataCommand({ ...range, MetricDataQueries: queries }));
      }
    }
    expect(expressions).toBeGreaterThan(0);
  });
});
