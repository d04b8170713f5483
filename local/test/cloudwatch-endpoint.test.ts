import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  ListMetricsCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { alarmName, LAMBDA_NAMESPACE, PIPE_ALARMS } from '@orderflow/pipeline/facts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlarmBoard, type MetricAlarmSpec } from '../src/cloudwatch/alarms.ts';
import { MetricStore } from '../src/cloudwatch/metric-store.ts';
import { type CloudWatchServer, startCloudWatchServer } from '../src/cloudwatch/server.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { freePort } from '../src/services/ports.ts';

const errorRate = PIPE_ALARMS.find((a) => a.slug === 'processor-error-rate');
if (errorRate?.kind !== 'math') throw new Error('pipeline defines processor-error-rate as a math alarm');
const fn = [{ Name: 'FunctionName', Value: 'OrderProcessorFunction' }];
/** The error-rate alarm as the stack synthesizes it from pipeline's definition. */
const errorRateAlarm: MetricAlarmSpec = {
  kind: 'metric',
  name: alarmName('processor-error-rate', 'standard'),
  actionsEnabled: true,
  queries: [
    { Id: 'expr', Expression: errorRate.expression, ReturnData: true },
    ...Object.entries(errorRate.metrics).map(([id, m]) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: { Namespace: m.namespace, MetricName: m.metricName, Dimensions: fn },
        Period: errorRate.periodSeconds,
        Stat: m.statistic,
      },
    })),
  ],
  period: errorRate.periodSeconds,
  evaluationPeriods: errorRate.evaluationPeriods,
  datapointsToAlarm: errorRate.datapointsToAlarm,
  threshold: errorRate.threshold,
  comparison: errorRate.comparison,
  treatMissingData: errorRate.treatMissingData,
};
const composite = {
  kind: 'composite' as const,
  name: 'orderflow-pipeline-unhealthy',
  actionsEnabled: true,
  rule: `ALARM("arn:aws:cloudwatch:us-east-1:000000000000:alarm:${errorRateAlarm.name}")`,
};

let store: MetricStore;
let board: AlarmBoard;
let server: CloudWatchServer;
let client: CloudWatchClient;
const minute = 60_000;
const aligned = Math.floor(Date.now() / minute) * minute;
const seen: { target?: string; contentType?: string }[] = [];

beforeAll(async () => {
  store = new MetricStore();
  board = new AlarmBoard([errorRateAlarm, composite], store);
  server = await startCloudWatchServer(
    { store, alarms: board, region: 'us-east-1', account: '000000000000', now: () => aligned + 30_000 },
    await freePort(),
  );
  server.server.prependListener('request', (request) =>
    seen.push({ target: request.headers['x-amz-target'] as string, contentType: request.headers['content-type'] }),
  );
  client = new CloudWatchClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

describe('CloudWatch endpoint, called by @aws-sdk/client-cloudwatch', () => {
  it('speaks the AWS JSON 1.0 protocol the installed client sends', async () => {
    await client.send(new ListMetricsCommand({}));
    expect(seen.at(-1)).toEqual({
      target: 'GraniteServiceVersion20100801.ListMetrics',
      contentType: 'application/x-amz-json-1.0',
    });
  });

  it('stores PutMetricData and answers GetMetricData with statistics, percentiles and metric math', async () => {
    const at = new Date(aligned - 2 * minute + 1000);
    await client.send(
      new PutMetricDataCommand({
        Namespace: LAMBDA_NAMESPACE,
        MetricData: [
          { MetricName: 'Invocations', Dimensions: fn, Timestamp: at, Values: [1], Counts: [20], Unit: 'Count' },
          { MetricName: 'Errors', Dimensions: fn, Timestamp: at, Value: 2, Unit: 'Count' },
          {
            MetricName: 'Duration',
            Dimensions: fn,
            Timestamp: at,
            Values: Array.from({ length: 100 }, (_, i) => i + 1),
            Unit: 'Milliseconds',
          },
        ],
      }),
    );
    const stat = (Id: string, MetricName: string, Stat: string) => ({
      Id,
      MetricStat: { Metric: { Namespace: LAMBDA_NAMESPACE, MetricName, Dimensions: fn }, Period: 60, Stat },
    });
    const result = await client.send(
      new GetMetricDataCommand({
        StartTime: new Date(aligned - 5 * minute),
        EndTime: new Date(aligned + minute),
        MetricDataQueries: [
          stat('p99', 'Duration', 'p99'),
          stat('p50', 'Duration', 'p50'),
          stat('avg', 'Duration', 'Average'),
          { ...stat('invocations', 'Invocations', 'Sum'), ReturnData: false },
          { ...stat('errors', 'Errors', 'Sum'), ReturnData: false },
          { Id: 'rate', Expression: errorRate.expression },
        ],
      }),
    );
    const byId = Object.fromEntries((result.MetricDataResults ?? []).map((r) => [r.Id, r]));
    expect(Object.keys(byId).sort()).toEqual(['avg', 'p50', 'p99', 'rate']);
    expect(byId.p99?.Values).toEqual([99]);
    expect(byId.p50?.Values).toEqual([50]);
    expect(byId.avg?.Values).toEqual([50.5]);
    expect(byId.rate?.Values).toEqual([10]);
    expect(byId.rate?.Timestamps?.[0]?.getTime()).toBe(aligned - 2 * minute);
  });

  it('lists metrics by namespace and dimension', async () => {
    const listed = await client.send(
      new ListMetricsCommand({ Namespace: LAMBDA_NAMESPACE, Dimensions: [{ Name: 'FunctionName' }] }),
    );
    expect(listed.Metrics?.map((m) => m.MetricName).sort()).toEqual(['Duration', 'Errors', 'Invocations']);
  });

  it('moves alarms INSUFFICIENT_DATA → ALARM → OK with AWS-style reasons, composites following', async () => {
    const first = await client.send(new DescribeAlarmsCommand({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    // Only one breaching period so far, the alarm needs three: evaluated as OK (missing periods are not breaching).
    expect(first.MetricAlarms?.[0]?.StateValue).toBe('OK');
    for (const ago of [1, 0]) {
      store.put({
        namespace: LAMBDA_NAMESPACE,
        metricName: 'Invocations',
        dimensions: fn,
        value: 10,
        timestamp: aligned - ago * minute + 1000,
      });
      store.put({
        namespace: LAMBDA_NAMESPACE,
        metricName: 'Errors',
        dimensions: fn,
        value: 5,
        timestamp: aligned - ago * minute + 1000,
      });
    }
    const alarmed = await client.send(new DescribeAlarmsCommand({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    const metricAlarm = alarmed.MetricAlarms?.[0];
    expect(metricAlarm?.StateValue).toBe('ALARM');
    expect(metricAlarm?.StateReason).toMatch(
      /^Threshold Crossed: 3 out of the last 3 datapoints \[.+\] were greater than the threshold \(5\.0\)/,
    );
    expect(metricAlarm?.StateUpdatedTimestamp).toBeInstanceOf(Date);
    expect(alarmed.CompositeAlarms?.[0]?.StateValue).toBe('ALARM');
    // Three minutes later nothing breaches any more: no data is treated as not breaching.
    board.evaluate(aligned + 3 * minute + 1000);
    expect(board.status.get(errorRateAlarm.name)?.state).toBe('OK');
    expect(board.status.get(errorRateAlarm.name)?.reason).toBe(
      'Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [NonBreaching].',
    );
    expect(board.status.get(composite.name)?.state).toBe('OK');
  });

  it('rejects an unsupported operation with an error naming it', async () => {
    const response = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        'x-amz-target': 'GraniteServiceVersion20100801.PutDashboard',
        'content-type': 'application/x-amz-json-1.0',
      },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("operation 'PutDashboard' is not supported");
  });
});
