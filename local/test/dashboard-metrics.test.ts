import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  GetDashboardCommand,
  GetMetricStatisticsCommand,
  ListDashboardsCommand,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DEAD_LETTER_ARCHIVERS,
  LAMBDA_METRICS,
  LAMBDA_NAMESPACE,
  METRICS_NAMESPACE,
  PROCESSOR_METRICS,
} from '@orderflow/pipeline/facts';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { runReadmeBlock } from './aws-clients.ts';

/**
 * "Every dashboard widget shows data": after traffic through both pipes with a failing processor, every metric the
 * synthesized dashboard graphs and every metric an alarm reads (namespace, name and full dimension set, as CloudWatch
 * matches them) has datapoints on the local runtime. A widget line that stays empty because the stack names a metric
 * or a dimension differently from what is published (by AWS, which the local runtime follows) fails here.
 *
 * Metrics published only when their value is not zero, for events this traffic does not cause, are listed in
 * `ONLY_WHEN_NONZERO` with the source that says so; for them the test still requires that the namespace publishes the
 * same dimension set, or the same metric with the same dimension names (so a wrong dimension name is caught).
 */
const templateDir = join(REPO_ROOT, 'stack/cdk.out');
/** The state directory is `<work>/.orderflow`, so the README's commands run as written from `<work>`. */
const work = mkdtempSync(join(tmpdir(), 'orderflow-dashboard-'));
const stateDir = join(work, '.orderflow');
let runtime: LocalRuntime;
let dynamo: DynamoDBClient;
let cloudwatch: CloudWatchClient;

interface MetricRef {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly { Name: string; Value: string }[];
  /** Where it is referenced, for the failure message. */
  readonly where: string;
}

/**
 * Metrics not published while they would be zero:
 * - Lambda `Throttles`: "AWS Lambda only sends these metrics to CloudWatch if they have a nonzero value" (AWS Lambda
 *   metrics, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html); nothing here throttles.
 * - `GuardRejected` (per clause): the processors emit it only for a clause that rejected a record
 *   (handlers/src/processing/batch.ts), and a clause the pipe filter enforces exactly never sees a record that fails
 *   it: its line stays empty unless the filter and the rule drift apart, which is what the widget is there to show.
 *   The traffic makes the standard guard reject on `email-not-test-com`, the one clause the filter cannot express.
 */
const ONLY_WHEN_NONZERO: readonly { namespace: string; metricName: string }[] = [
  { namespace: LAMBDA_NAMESPACE, metricName: LAMBDA_METRICS.throttles },
  { namespace: METRICS_NAMESPACE, metricName: PROCESSOR_METRICS.guardRejected.name },
];

/**
 * The metrics of a dashboard body's metric widgets: each `metrics` row is `[namespace, name, dim, value, ..., {opts}]`
 * (CloudWatch's dashboard body structure; `"."` repeats the row above's value at that position), or an expression row.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
function dashboardMetrics(body: string): MetricRef[] {
  const parsed = JSON.parse(body) as {
    widgets: { type: string; properties: { title?: string; metrics?: unknown[][] } }[];
  };
  const out: MetricRef[] = [];
  for (const widget of parsed.widgets) {
    if (widget.type !== 'metric') continue;
    let previous: unknown[] = [];
    for (const row of widget.properties.metrics ?? []) {
      const cells = row.filter((cell) => typeof cell === 'string') as string[];
      if (cells.length === 0) continue; // an expression row: its inputs are rows of their own
      const resolved = cells.map((cell, i) => (cell === '.' ? String(previous[i]) : cell));
      previous = resolved;
      const [namespace, metricName, ...pairs] = resolved;
      if (!namespace || !metricName) throw new Error(`widget '${widget.properties.title}': malformed row`);
      const dimensions: { Name: string; Value: string }[] = [];
      for (let i = 0; i + 1 < pairs.length; i += 2)
        dimensions.push({ Name: pairs[i] ?? '', Value: pairs[i + 1] ?? '' });
      out.push({ namespace, metricName, dimensions, where: `dashboard widget '${widget.properties.title}'` });
    }
  }
  return out;
}

beforeAll(async () => {
  if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
    const synth = spawnSync('npm', ['run', 'build', '-w', 'stack'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`stack synth failed: ${synth.stderr}`);
  }
  runtime = await startLocalRuntime({
    stateDir,
    observeIntervalMs: 300,
    pipeTiming: { pollIntervalMs: 100, retryBaseDelayMs: 20 },
  });
  // The dashboard graphs the dead-letter archivers too, whose mappings the stack deploys disabled for now
  // (DEAD_LETTER_CAPTURE_ENABLED): turned on here, as an operator would, so that their widgets have data to show.
  for (const archiver of Object.values(DEAD_LETTER_ARCHIVERS)) {
    const mapping = runtime.eventSourceMappings.get(archiver.mappingId);
    if (!mapping) throw new Error(`the runtime has no event source mapping ${archiver.mappingId}`);
    await mapping.enable();
  }
  const config = { region: runtime.info.region, credentials: LOCAL_CREDENTIALS };
  dynamo = new DynamoDBClient({ ...config, endpoint: runtime.info.endpoints.dynamodb });
  cloudwatch = new CloudWatchClient({ ...config, endpoint: runtime.info.endpoints.cloudwatch });
}, 120_000);
afterAll(async () => {
  dynamo?.destroy();
  cloudwatch?.destroy();
  await runtime?.stop();
  rmSync(work, { recursive: true, force: true });
});

const order = (orderId: string, customerEmail: string, orderAmount: number, orderStatus: string) =>
  dynamo.send(
    new PutItemCommand({
      TableName: runtime.info.resources.ordersTable,
      Item: {
        orderId: { S: orderId },
        customerEmail: { S: customerEmail },
        orderAmount: { N: String(orderAmount) },
        orderStatus: { S: orderStatus },
        orderDate: { S: new Date().toISOString() },
      },
    }),
  );
const ship = (orderId: string) =>
  dynamo.send(
    new UpdateItemCommand({
      TableName: runtime.info.resources.ordersTable,
      Key: { orderId: { S: orderId } },
      UpdateExpression: 'SET orderStatus = :s',
      ExpressionAttributeValues: { ':s': { S: 'shipped' } },
    }),
  );
const fault = (functionName: string, body: { failureRate: number; mode: string } | undefined) =>
  fetch(`${runtime.info.endpoints.lambda}/_local/faults/${functionName}`, {
    method: body ? 'PUT' : 'DELETE',
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

async function datapoints(metric: MetricRef): Promise<number> {
  const now = Date.now();
  const answer = await cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: metric.namespace,
      MetricName: metric.metricName,
      Dimensions: [...metric.dimensions],
      StartTime: new Date(now - 30 * 60_000),
      EndTime: new Date(now + 60_000),
      Period: 60,
      Statistics: ['SampleCount'],
    }),
  );
  return answer.Datapoints?.length ?? 0;
}

const key = (dimensions: readonly { Name: string; Value: string }[]) =>
  JSON.stringify([...dimensions].sort((a, b) => a.Name.localeCompare(b.Name)));

describe('every dashboard widget and every alarm shows data on the local runtime', () => {
  it('after traffic through both pipes with a failing processor, every referenced metric has datapoints', async () => {
    const { pipes } = runtime.info.resources;
    // Both pipes process orders; the standard guard rejects a test.com customer the pipe filter lets through.
    await order('dash-standard', 'ada@example.com', 150, 'pending');
    await order('dash-test-customer', 'bob@test.com', 150, 'pending');
    await order('dash-premium', 'grace@example.com', 4200, 'pending');
    await ship('dash-premium');
    await until(async () => {
      const listed = await cloudwatch.send(new ListMetricsCommand({ MetricName: 'RecordsProcessed' }));
      return (listed.Metrics?.length ?? 0) >= 2;
    }, 'both processors reported RecordsProcessed');
    // Then both processors fail: their batches are retried, bisected and dead-lettered.
    for (const pipe of Object.values(pipes))
      expect((await fault(pipe.function, { failureRate: 1, mode: 'throw' })).status).toBe(200);
    await order('dash-doomed', 'dan@example.com', 300, 'pending');
    await order('dash-premium-doomed', 'erin@example.com', 5000, 'pending');
    await ship('dash-premium-doomed');
    await until(async () => {
      const listed = await cloudwatch.send(new ListMetricsCommand({ Namespace: 'AWS/Lambda', MetricName: 'Errors' }));
      return (listed.Metrics?.length ?? 0) >= 2;
    }, 'both processors failed');

    // The dashboard as an operator reads it: ListDashboards, then GetDashboard.
    const dashboards = (await cloudwatch.send(new ListDashboardsCommand({}))).DashboardEntries?.map(
      (d) => d.DashboardName,
    );
    expect(dashboards?.length).toBeGreaterThan(0);
    const referenced: MetricRef[] = [];
    for (const name of dashboards ?? []) {
      const dashboard = await cloudwatch.send(new GetDashboardCommand({ DashboardName: name }));
      referenced.push(...dashboardMetrics(dashboard.DashboardBody ?? '{"widgets":[]}'));
    }
    expect(referenced.length).toBeGreaterThan(20);
    // The alarms' metrics, as DescribeAlarms returns them.
    const alarms = await cloudwatch.send(new DescribeAlarmsCommand({}));
    for (const alarm of alarms.MetricAlarms ?? []) {
      const where = `alarm ${alarm.AlarmName}`;
      if (alarm.Namespace && alarm.MetricName)
        referenced.push({
          namespace: alarm.Namespace,
          metricName: alarm.MetricName,
          dimensions: (alarm.Dimensions ?? []) as { Name: string; Value: string }[],
          where,
        });
      for (const query of alarm.Metrics ?? []) {
        const metric = query.MetricStat?.Metric;
        if (metric?.Namespace && metric.MetricName)
          referenced.push({
            namespace: metric.Namespace,
            metricName: metric.MetricName,
            dimensions: (metric.Dimensions ?? []) as { Name: string; Value: string }[],
            where,
          });
      }
    }

    // The SQS depth metrics are sampled every observe interval, the DLQ after the dead-lettering: wait for the last
    // references to fill before judging, then judge each.
    const empty = async () => {
      const out: MetricRef[] = [];
      for (const metric of referenced) {
        const eventOnly = ONLY_WHEN_NONZERO.some(
          (m) => m.namespace === metric.namespace && m.metricName === metric.metricName,
        );
        if (!eventOnly && (await datapoints(metric)) === 0) out.push(metric);
      }
      return out;
    };
    let missing: MetricRef[] = [];
    await until(
      async () => {
        missing = await empty();
        return missing.length === 0;
      },
      'every referenced metric to have datapoints',
      { timeoutMs: 30_000, intervalMs: 500 },
    ).catch(() => undefined);
    const published = (await cloudwatch.send(new ListMetricsCommand({}))).Metrics ?? [];
    const describe = (m: MetricRef) =>
      `${m.where}: ${m.namespace} ${m.metricName} ${m.dimensions.map((d) => `${d.Name}=${d.Value}`).join(',')} (published in that namespace with these dimensions: ${[
        ...new Set(
          published
            .filter((p) => p.Namespace === m.namespace && p.MetricName === m.metricName)
            .map((p) => (p.Dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).join(',')),
        ),
      ].join(' | ')})`;
    expect(missing.map(describe)).toEqual([]);

    // Metrics published only when not zero: the namespace publishes the same dimension set, or the same metric with
    // the same dimension names.
    const names = (dimensions: readonly { Name?: string }[]) => JSON.stringify(dimensions.map((d) => d.Name).sort());
    for (const metric of referenced.filter((m) =>
      ONLY_WHEN_NONZERO.some((e) => e.namespace === m.namespace && e.metricName === m.metricName),
    )) {
      const alike = published.filter(
        (p) =>
          p.Namespace === metric.namespace &&
          (key((p.Dimensions ?? []) as MetricRef['dimensions']) === key(metric.dimensions) ||
            (p.MetricName === metric.metricName && names(p.Dimensions ?? []) === names(metric.dimensions))),
      );
      expect(alike.length, describe(metric)).toBeGreaterThan(0);
    }
    for (const pipe of Object.values(pipes)) await fault(pipe.function, undefined);
  }, 240_000);

  it("runs the README's CloudWatch commands as written, with Debian's AWS CLI", async () => {
    // `aws` is Debian's AWS CLI 2.9 (/usr/bin first), which speaks the query protocol to CloudWatch.
    const stdout = await runReadmeBlock('CW="aws --endpoint-url', work);
    expect(stdout).toContain('"MetricAlarms"');
    expect(stdout).toContain('"AlarmHistoryItems"');
    // The processor ran in the first test: its p99 duration is there.
    expect(stdout).toMatch(/"ExtendedStatistics": \{\s+"p99": \d/);
    expect(Number(stdout.trim().split('\n').at(-1))).toBeGreaterThan(10);
    // The drill's state change is in the alarm's history (the state itself holds only until the next evaluation,
    // which with the DLQ drained by the archivers above puts it back to OK).
    const history = await cloudwatch.send(
      new DescribeAlarmHistoryCommand({
        AlarmName: 'orderflow-standard-dlq-has-messages',
        HistoryItemType: 'StateUpdate',
      }),
    );
    expect(history.AlarmHistoryItems?.some((item) => item.HistorySummary === 'Alarm updated from OK to ALARM')).toBe(
      true,
    );
    expect(
      history.AlarmHistoryItems?.some((item) => JSON.parse(item.HistoryData ?? '{}').newState?.stateReason === 'drill'),
    ).toBe(true);
  }, 60_000);
});
