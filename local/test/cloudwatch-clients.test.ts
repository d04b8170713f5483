import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  DescribeAlarmsForMetricCommand,
  GetDashboardCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListDashboardsCommand,
  ListMetricsCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { AwsQueryProtocol, AwsSmithyRpcV2CborProtocol } from '@aws-sdk/core/protocols';
import { alarmName, COMPOSITE_ALARM, LAMBDA_NAMESPACE } from '@orderflow/pipeline/facts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlarmBoard, type AlarmTransition, alarmArn } from '../src/cloudwatch/alarms.ts';
import { dashboardSpecs } from '../src/cloudwatch/dashboards.ts';
import { MetricStore } from '../src/cloudwatch/metric-store.ts';
import { type CloudWatchServer, startCloudWatchServer } from '../src/cloudwatch/server.ts';
import { DenialLog } from '../src/gateway/denials.ts';
import { Enforcer } from '../src/gateway/enforcer.ts';
import { cloudWatchGate } from '../src/gateway/http-gates.ts';
import { PrincipalDirectory } from '../src/gateway/principals.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, REPO_ROOT } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { freePort } from '../src/services/ports.ts';
import type { LocalResourceValue } from '../src/template/intrinsics.ts';
import { alarmSpecs, loadTemplate, namedResources, topicAndKeyResources } from '../src/template/local-plan.ts';
import { fakeAuthorizer } from './fixtures/fake-authorizer.ts';

/**
 * The local CloudWatch endpoint with the synthesized stack's alarms and dashboard, driven by clients we did not write,
 * in each protocol CloudWatch speaks: the AWS SDK for JavaScript (AWS JSON 1.0 as installed, and the SDK's own query
 * and RPC v2 CBOR protocol implementations), Debian's AWS CLI 2.9 and boto3 1.26 (query), and the machine's python3
 * boto3 1.43, whose model lists `smithy-rpc-v2-cbor`, `json` and `query` and which picks `json` by its own priority
 * order (botocore's PRIORITY_ORDERED_SUPPORTED_PROTOCOLS), and which is also run with its model narrowed to
 * `smithy-rpc-v2-cbor`, so that botocore's own CBOR serializer and parser talk to the endpoint. Every client must read
 * the same answers, and be refused the same way, in its own protocol.
 */
const execFileAsync = promisify(execFile);
const names = { region: LOCAL_REGION, account: LOCAL_ACCOUNT, stackName: 'Orderflow' };
const dir = mkdtempSync(join(tmpdir(), 'orderflow-cloudwatch-clients-'));
const minute = 60_000;
/** The alarms' evaluation clock: fixed, so that every client reads the same states and reasons. */
const now = Math.floor(Date.now() / minute) * minute + 30_000;
const fn = [{ Name: 'FunctionName', Value: 'orderflow-standard-processor' }];
const errorRate = alarmName('processor-error-rate', 'standard');
/** An alarm the composite reads: setting it to ALARM turns the composite to ALARM. */
const drilled = alarmName(COMPOSITE_ALARM.anyOf[0] ?? 'dlq-has-messages', 'standard');
const composite = alarmName(COMPOSITE_ALARM.slug);
const DASHBOARD = 'orderflow-pipeline';
const principals = new PrincipalDirectory([
  { logicalId: 'Reader', roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/Reader`, sessionName: 'reader' },
]);
/** A role that may read metrics and the dashboard, but not alarms. */
const authorizer = fakeAuthorizer({
  Reader: [
    { action: 'cloudwatch:GetMetricStatistics', resource: '*' },
    { action: 'cloudwatch:ListDashboards', resource: '*' },
    { action: 'cloudwatch:GetDashboard', resource: `arn:aws:cloudwatch::${LOCAL_ACCOUNT}:dashboard/${DASHBOARD}` },
  ],
});
const denials = new DenialLog(join(dir, 'denials.ndjson'));
const reader = principals.role('Reader').credentials;

let server: CloudWatchServer;
let board: AlarmBoard;
const transitions: AlarmTransition[] = [];
const seen: Record<string, string | undefined>[] = [];
const clients: CloudWatchClient[] = [];

type Credentials = { accessKeyId: string; secretAccessKey: string };
const jsClient = (
  protocol?: typeof AwsQueryProtocol | typeof AwsSmithyRpcV2CborProtocol,
  credentials?: Credentials,
) => {
  const client = new CloudWatchClient({
    endpoint: server.endpoint,
    region: LOCAL_REGION,
    credentials: credentials ?? LOCAL_CREDENTIALS,
    maxAttempts: 1,
    ...(protocol ? { protocol } : {}),
  });
  clients.push(client);
  return client;
};

const cliEnv = (credentials: Credentials = LOCAL_CREDENTIALS) => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: dir,
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  AWS_DEFAULT_REGION: LOCAL_REGION,
  AWS_CONFIG_FILE: join(dir, 'none'),
  AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
});

/** Debian's AWS CLI (not the pyenv aws-cli v1 that may come first on PATH): its JSON output, or its error text. */
async function cli(args: string[], credentials?: Credentials): Promise<{ out?: unknown; error?: string }> {
  try {
    const { stdout } = await execFileAsync(
      '/usr/bin/aws',
      ['--endpoint-url', server.endpoint, '--output', 'json', 'cloudwatch', ...args],
      { env: cliEnv(credentials) },
    );
    return { out: stdout.trim() === '' ? {} : JSON.parse(stdout) };
  } catch (error: unknown) {
    return { error: (error as { stderr: string }).stderr };
  }
}

/**
 * A boto3 session: each call's answer (timestamps as epoch ms, without ResponseMetadata) or its error. `client` is
 * Debian's boto3 1.26 (`/usr/bin/python3`, query), the machine's boto3 1.43 (`python3`, JSON by its priority order),
 * or boto3 1.43 with the service model's protocols narrowed to RPC v2 CBOR; the script reports the protocol used.
 */
type Boto = 'legacy' | 'current' | 'cbor';
async function boto3(
  client: Boto,
  calls: readonly [string, Record<string, unknown>][],
  credentials: Credentials = LOCAL_CREDENTIALS,
): Promise<{ protocol: string; version: string; results: Record<string, unknown>[] }> {
  const script = `
import json, sys, datetime, boto3, botocore
session = boto3.session.Session()
if sys.argv[3] == 'cbor':
    model = session._session.get_component('data_loader').load_service_model('cloudwatch', 'service-2')
    model['metadata']['protocols'] = ['smithy-rpc-v2-cbor']
client = session.client('cloudwatch', endpoint_url=sys.argv[1], region_name='${LOCAL_REGION}')
model = client.meta.service_model
protocol = model.resolved_protocol if hasattr(model, 'resolved_protocol') else model.protocol
def ms(value):
    if isinstance(value, datetime.datetime):
        return round(value.timestamp() * 1000)
    raise TypeError(repr(value))
results = []
for operation, params in json.loads(sys.argv[2]):
    try:
        out = getattr(client, operation)(**params)
        out.pop('ResponseMetadata', None)
        results.append(out)
    except botocore.exceptions.ClientError as e:
        results.append({'error': e.response['Error'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']})
print(json.dumps({'protocol': protocol, 'version': botocore.__version__, 'results': results}, default=ms))
`;
  const python = client === 'legacy' ? '/usr/bin/python3' : 'python3';
  const { stdout } = await execFileAsync(python, ['-c', script, server.endpoint, JSON.stringify(calls), client], {
    env: cliEnv(credentials),
  });
  return JSON.parse(stdout);
}

/**
 * What boto3 1.26 reads of an answer: its model (Debian's botocore 1.29) predates `MetricAlarm`'s
 * StateTransitionedTimestamp (it has `CompositeAlarm`'s), so the client leaves out the member the endpoint sends.
 */
function asLegacyBotoReads(answer: unknown): unknown {
  const { MetricAlarms, ...rest } = answer as { MetricAlarms?: Record<string, unknown>[] };
  if (!MetricAlarms) return answer;
  return { ...rest, MetricAlarms: MetricAlarms.map(({ StateTransitionedTimestamp: _, ...alarm }) => alarm) };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** One client's answer in a comparable form: timestamps as epoch ms (Dates from the SDK, ISO text from the CLI). */
function normal(value: unknown): unknown {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string' && ISO.test(value)) return Date.parse(value);
  if (Array.isArray(value)) return value.map(normal);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== '$metadata' && key !== 'ResponseMetadata')
        .map(([key, inner]) => [key, normal(inner)]),
    );
  return value;
}

beforeAll(async () => {
  const loaded = loadTemplate(join(REPO_ROOT, 'stack/cdk.out'));
  const resources = new Map<string, LocalResourceValue>(topicAndKeyResources(loaded, names));
  for (const type of ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm'])
    for (const [id, name] of namedResources(loaded, names, type, 'AlarmName'))
      resources.set(id, { ref: name, attributes: { Arn: alarmArn(name, LOCAL_REGION, LOCAL_ACCOUNT) } });
  // The dashboard reads the table's stream label out of its stream ARN.
  resources.set('OrdersTable', {
    ref: 'orderflow-orders',
    attributes: {
      Arn: `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/orderflow-orders`,
      StreamArn: `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/orderflow-orders/stream/2026-01-01T00:00:00.000`,
    },
  });
  for (const [id, name] of namedResources(loaded, names, 'AWS::Lambda::Function', 'FunctionName'))
    resources.set(id, { ref: name, attributes: {} });
  const context = { ...names, resources };
  const store = new MetricStore();
  board = new AlarmBoard(alarmSpecs(loaded, context), store, now - 10 * minute, names);
  board.onTransition((transition) => transitions.push(transition));
  server = await startCloudWatchServer(
    {
      store,
      alarms: board,
      dashboards: dashboardSpecs(loaded, context, now - 10 * minute),
      ...names,
      now: () => now,
      gate: cloudWatchGate(new Enforcer(authorizer, principals, denials), names),
    },
    await freePort(),
  );
  server.server.prependListener('request', (request) =>
    seen.push({
      target: request.headers['x-amz-target'] as string | undefined,
      protocol: request.headers['smithy-protocol'] as string | undefined,
      contentType: request.headers['content-type'],
      url: request.url,
      agent: request.headers['user-agent'],
    }),
  );
}, 60_000);
afterAll(async () => {
  for (const client of clients) client.destroy();
  await server?.stop();
  denials.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the local CloudWatch endpoint, in every protocol CloudWatch speaks', () => {
  it('serves each client in its protocol: JSON from the JavaScript SDK, query from the CLI and boto3 1.26, CBOR from boto3 1.43', async () => {
    seen.length = 0;
    await jsClient().send(new ListDashboardsCommand({}));
    expect(seen.at(-1)).toMatchObject({
      target: 'GraniteServiceVersion20100801.ListDashboards',
      contentType: 'application/x-amz-json-1.0',
    });
    await cli(['list-dashboards']);
    expect(seen.at(-1)).toMatchObject({
      target: undefined,
      contentType: 'application/x-www-form-urlencoded; charset=utf-8',
    });
    expect(seen.at(-1)?.agent).toMatch(/^aws-cli\/2\.9/);
    const legacy = await boto3('legacy', [['list_dashboards', {}]]);
    expect(legacy).toMatchObject({ protocol: 'query', version: expect.stringMatching(/^1\.29\./) });
    expect(seen.at(-1)?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    const current = await boto3('current', [['list_dashboards', {}]]);
    expect(current).toMatchObject({ protocol: 'json', version: expect.stringMatching(/^1\.4\d\./) });
    expect(seen.at(-1)).toMatchObject({ target: 'GraniteServiceVersion20100801.ListDashboards' });
    const cbor = await boto3('cbor', [['list_dashboards', {}]]);
    expect(cbor.protocol).toBe('smithy-rpc-v2-cbor');
    expect(seen.at(-1)).toMatchObject({
      protocol: 'rpc-v2-cbor',
      contentType: 'application/cbor',
      url: '/service/GraniteServiceVersion20100801/operation/ListDashboards',
    });
    await jsClient(AwsSmithyRpcV2CborProtocol).send(new ListDashboardsCommand({}));
    expect(seen.at(-1)).toMatchObject({ protocol: 'rpc-v2-cbor', contentType: 'application/cbor' });
    await jsClient(AwsQueryProtocol).send(new ListDashboardsCommand({}));
    expect(seen.at(-1)?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    // Every client read the same dashboard list.
    const expected = normal(await jsClient().send(new ListDashboardsCommand({})));
    expect(expected).toEqual({
      DashboardEntries: [
        {
          DashboardName: DASHBOARD,
          DashboardArn: `arn:aws:cloudwatch::${LOCAL_ACCOUNT}:dashboard/${DASHBOARD}`,
          LastModified: now - 10 * minute,
          Size: expect.any(Number),
        },
      ],
    });
    for (const session of [legacy, current, cbor]) expect(session.results[0]).toEqual(expected);
    expect(normal((await cli(['list-dashboards'])).out)).toEqual(expected);
  }, 60_000);

  it('stores PutMetricData from every protocol and answers GetMetricStatistics, percentiles included, alike', async () => {
    const at = new Date(now - 2 * minute + 5_000);
    const datum = (Values: number[], Counts?: number[]) => ({
      MetricName: 'Duration',
      Dimensions: fn,
      Timestamp: at,
      Values,
      ...(Counts ? { Counts } : {}),
      Unit: 'Milliseconds' as const,
    });
    // 1..100 ms from four clients, in four protocols: 1..40 (JSON), 41..60 (CBOR), 61..80 (the CLI's query),
    // 81..100 (boto3 1.26's query), plus one value counted 0 times that must not count at all.
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    await jsClient().send(new PutMetricDataCommand({ Namespace: LAMBDA_NAMESPACE, MetricData: [datum(range(1, 40))] }));
    await jsClient(AwsSmithyRpcV2CborProtocol).send(
      new PutMetricDataCommand({ Namespace: LAMBDA_NAMESPACE, MetricData: [datum(range(41, 60))] }),
    );
    const put = await cli([
      'put-metric-data',
      '--namespace',
      LAMBDA_NAMESPACE,
      '--metric-data',
      JSON.stringify([{ ...datum(range(61, 80)), Timestamp: at.toISOString() }]),
    ]);
    expect(put.error).toBeUndefined();
    const legacy = await boto3('legacy', [
      [
        'put_metric_data',
        { Namespace: LAMBDA_NAMESPACE, MetricData: [{ ...datum(range(81, 100)), Timestamp: at.getTime() / 1000 }] },
      ],
    ]);
    expect(legacy.results[0]).toEqual({});

    const window = { StartTime: new Date(now - 10 * minute), EndTime: new Date(now + minute), Period: 60 };
    const query = { Namespace: LAMBDA_NAMESPACE, MetricName: 'Duration', Dimensions: fn, ...window };
    const percentiles = await jsClient().send(
      new GetMetricStatisticsCommand({ ...query, ExtendedStatistics: ['p99', 'p50', 'p99.9'] }),
    );
    expect(normal(percentiles)).toEqual({
      Label: 'Duration',
      Datapoints: [
        {
          Timestamp: now - 2 * minute - 30_000,
          Unit: 'Milliseconds',
          ExtendedStatistics: { p99: 99, p50: 50, 'p99.9': 100 },
        },
      ],
    });
    const statistics = await jsClient().send(
      new GetMetricStatisticsCommand({ ...query, Statistics: ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'] }),
    );
    expect(statistics.Datapoints?.[0]).toMatchObject({
      Sum: 5050,
      SampleCount: 100,
      Average: 50.5,
      Minimum: 1,
      Maximum: 100,
      Unit: 'Milliseconds',
    });
    const secondsOf = { StartTime: window.StartTime.getTime() / 1000, EndTime: window.EndTime.getTime() / 1000 };
    const boto = { Namespace: LAMBDA_NAMESPACE, MetricName: 'Duration', Dimensions: fn, Period: 60, ...secondsOf };
    for (const client of ['legacy', 'current', 'cbor'] as const) {
      const session = await boto3(client, [
        ['get_metric_statistics', { ...boto, ExtendedStatistics: ['p99', 'p50', 'p99.9'] }],
        ['get_metric_statistics', { ...boto, Statistics: ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'] }],
      ]);
      expect(session.results).toEqual([normal(percentiles), normal(statistics)]);
    }
    const cliArgs = [
      'get-metric-statistics',
      '--namespace',
      LAMBDA_NAMESPACE,
      '--metric-name',
      'Duration',
      '--dimensions',
      `Name=FunctionName,Value=${fn[0]?.Value}`,
      '--start-time',
      window.StartTime.toISOString(),
      '--end-time',
      window.EndTime.toISOString(),
      '--period',
      '60',
    ];
    expect(normal((await cli([...cliArgs, '--extended-statistics', 'p99', 'p50', 'p99.9'])).out)).toEqual(
      normal(percentiles),
    );
    // A unit filter that matches no data returns no datapoints ("CloudWatch does not perform unit conversions").
    expect((await cli([...cliArgs, '--statistics', 'Sum', '--unit', 'Seconds'])).out).toEqual({
      Label: 'Duration',
      Datapoints: [],
    });
    // GetMetricData sees the same data through the SDK's query protocol.
    const data = await jsClient(AwsQueryProtocol).send(
      new GetMetricDataCommand({
        StartTime: window.StartTime,
        EndTime: window.EndTime,
        MetricDataQueries: [
          {
            Id: 'p99',
            MetricStat: {
              Metric: { Namespace: LAMBDA_NAMESPACE, MetricName: 'Duration', Dimensions: fn },
              Period: 60,
              Stat: 'p99',
            },
          },
        ],
      }),
    );
    expect(data.MetricDataResults?.[0]).toMatchObject({ Id: 'p99', Values: [99], StatusCode: 'Complete' });
    const listed = await cli(['list-metrics', '--namespace', LAMBDA_NAMESPACE]);
    expect(listed.out).toEqual({ Metrics: [{ Namespace: LAMBDA_NAMESPACE, MetricName: 'Duration', Dimensions: fn }] });
    expect(normal(await jsClient(AwsSmithyRpcV2CborProtocol).send(new ListMetricsCommand({})))).toEqual(listed.out);
  }, 60_000);

  it('refuses GetMetricStatistics as CloudWatch does: Statistics or ExtendedStatistics, and at most 1,440 datapoints', async () => {
    const aligned = now - 30_000;
    const base = {
      Namespace: LAMBDA_NAMESPACE,
      MetricName: 'Duration',
      StartTime: (aligned - 60 * minute) / 1000,
      EndTime: aligned / 1000,
      Period: 60,
    };
    const session = await boto3('legacy', [
      ['get_metric_statistics', base],
      ['get_metric_statistics', { ...base, Statistics: ['Sum'], ExtendedStatistics: ['p99'] }],
      ['get_metric_statistics', { ...base, StartTime: (aligned - 25 * 60 * minute) / 1000, Statistics: ['Sum'] }],
      ['get_metric_statistics', { ...base, Period: 90, Statistics: ['Sum'] }],
      ['get_metric_statistics', { ...base, ExtendedStatistics: ['p101'] }],
    ]);
    expect(session.results.map((r) => [(r.error as { Code: string }).Code, r.status])).toEqual([
      ['InvalidParameterCombination', 400],
      ['InvalidParameterCombination', 400],
      ['InvalidParameterCombination', 400],
      ['InvalidParameterValue', 400],
      ['InvalidParameterValue', 400],
    ]);
    expect(session.results[2]).toHaveProperty(
      'error.Message',
      'You have requested up to 1,500 datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.',
    );
  }, 60_000);

  it('describes the same alarms to every client, and the alarms of one metric with DescribeAlarmsForMetric', async () => {
    const js = normal(
      await jsClient().send(new DescribeAlarmsCommand({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] })),
    ) as { MetricAlarms: { AlarmName: string; Dimensions?: unknown; Namespace?: string; MetricName?: string }[] };
    expect(js.MetricAlarms.map((a) => a.AlarmName)).toContain(errorRate);
    const cbor = normal(
      await jsClient(AwsSmithyRpcV2CborProtocol).send(
        new DescribeAlarmsCommand({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
      ),
    );
    const query = normal(
      await jsClient(AwsQueryProtocol).send(
        new DescribeAlarmsCommand({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
      ),
    );
    // The README's example, as an operator types it.
    const readme = await cli(['describe-alarms', '--alarm-types', 'MetricAlarm', 'CompositeAlarm']);
    const calls: [string, Record<string, unknown>][] = [
      ['describe_alarms', { AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }],
    ];
    const [legacy, current, botoCbor] = await Promise.all([
      boto3('legacy', calls),
      boto3('current', calls),
      boto3('cbor', calls),
    ]);
    for (const other of [cbor, query, normal(readme.out), current.results[0], botoCbor.results[0]])
      expect(other).toEqual(js);
    expect(legacy.results[0]).toEqual(asLegacyBotoReads(js));

    // A single-metric alarm: DescribeAlarmsForMetric finds it by its metric and full dimension set.
    const dlq = js.MetricAlarms.find((a) => a.Namespace !== undefined);
    if (!dlq?.Namespace || !dlq.MetricName) throw new Error('the stack has no single-metric alarm');
    const forMetric = await cli([
      'describe-alarms-for-metric',
      '--namespace',
      dlq.Namespace,
      '--metric-name',
      dlq.MetricName,
      '--dimensions',
      JSON.stringify(dlq.Dimensions),
    ]);
    expect(normal(forMetric.out)).toEqual({ MetricAlarms: [dlq] });
    const narrowed = await jsClient(AwsSmithyRpcV2CborProtocol).send(
      new DescribeAlarmsForMetricCommand({
        Namespace: dlq.Namespace,
        MetricName: dlq.MetricName,
        Dimensions: dlq.Dimensions as { Name: string; Value: string }[],
        Statistic: (dlq as { Statistic?: string }).Statistic === 'Minimum' ? 'Maximum' : 'Minimum',
      }),
    );
    expect(narrowed.MetricAlarms).toEqual([]);
    // A metric-math alarm (the error rate) is not returned for the metrics its expression reads (API reference).
    const math = await jsClient().send(
      new DescribeAlarmsForMetricCommand({ Namespace: LAMBDA_NAMESPACE, MetricName: 'Errors', Dimensions: fn }),
    );
    expect(math.MetricAlarms).toEqual([]);
  }, 60_000);

  it('sets an alarm state from the CLI that holds until the next evaluation, runs its actions, and is in the history', async () => {
    const before = await jsClient().send(new DescribeAlarmsCommand({ AlarmNames: [drilled] }));
    const oldState = before.MetricAlarms?.[0]?.StateValue;
    expect(oldState).not.toBe('ALARM');
    transitions.length = 0;
    const set = await cli([
      'set-alarm-state',
      '--alarm-name',
      drilled,
      '--state-value',
      'ALARM',
      '--state-reason',
      'drill: testing the on-call path',
    ]);
    expect(set).toEqual({ out: {} });
    // The state change runs the alarm's actions (the listener alarm actions subscribe to).
    expect(transitions.map((t) => [t.spec.name, t.oldState, t.newState])).toEqual([[drilled, oldState, 'ALARM']]);
    // A reading (DescribeAlarms) keeps it, and the composite that reads it follows; boto3 over CBOR sees both.
    const current = await boto3('cbor', [
      ['describe_alarms', { AlarmNames: [drilled] }],
      ['describe_alarm_history', { AlarmName: drilled, HistoryItemType: 'StateUpdate', MaxRecords: 1 }],
    ]);
    expect(current.results[0]).toMatchObject({
      MetricAlarms: [{ AlarmName: drilled, StateValue: 'ALARM', StateReason: 'drill: testing the on-call path' }],
    });
    expect(current.results[1]).toMatchObject({
      AlarmHistoryItems: [
        {
          AlarmName: drilled,
          HistoryItemType: 'StateUpdate',
          HistorySummary: `Alarm updated from ${oldState} to ALARM`,
        },
      ],
    });
    const history = await cli([
      'describe-alarm-history',
      '--alarm-name',
      drilled,
      '--history-item-type',
      'StateUpdate',
      '--max-records',
      '1',
    ]);
    expect(normal(history.out)).toEqual(current.results[1]);
    expect(transitions.map((t) => [t.spec.name, t.newState])).toContainEqual([composite, 'ALARM']);
    // The next scheduled evaluation replaces it: no messages, not breaching.
    board.evaluate(now);
    const after = await jsClient(AwsQueryProtocol).send(new DescribeAlarmsCommand({ AlarmNames: [drilled] }));
    expect(after.MetricAlarms?.[0]?.StateValue).toBe(oldState);
  }, 60_000);

  it('disables and enables alarm actions from boto3 1.26, which every client then reads', async () => {
    const legacy = await boto3('legacy', [
      ['disable_alarm_actions', { AlarmNames: [errorRate] }],
      ['describe_alarms', { AlarmNames: [errorRate] }],
    ]);
    expect(legacy.results[0]).toEqual({});
    expect(legacy.results[1]).toMatchObject({ MetricAlarms: [{ AlarmName: errorRate, ActionsEnabled: false }] });
    const cbor = await jsClient(AwsSmithyRpcV2CborProtocol).send(
      new DescribeAlarmsCommand({ AlarmNames: [errorRate] }),
    );
    expect(cbor.MetricAlarms?.[0]?.ActionsEnabled).toBe(false);
    expect(await cli(['enable-alarm-actions', '--alarm-names', errorRate])).toEqual({ out: {} });
    const history = await jsClient().send(
      new DescribeAlarmHistoryCommand({ AlarmName: errorRate, HistoryItemType: 'ConfigurationUpdate', MaxRecords: 2 }),
    );
    expect(
      history.AlarmHistoryItems?.map((item) => JSON.parse(item.HistoryData ?? '{}').updatedAlarm?.actionsEnabled),
    ).toEqual([true, false]);
  }, 60_000);

  it("returns the template's dashboard, resolved, and AWS's not-found error in each protocol", async () => {
    const js = await jsClient().send(new GetDashboardCommand({ DashboardName: DASHBOARD }));
    const body = JSON.parse(js.DashboardBody ?? '{}') as { widgets: { properties: { alarms?: string[] } }[] };
    expect(body.widgets[0]?.properties.alarms).toContain(alarmArn(composite, LOCAL_REGION, LOCAL_ACCOUNT));
    expect(js.DashboardBody).not.toMatch(/Fn::|"Ref"/);
    const readme = await cli(['get-dashboard', '--dashboard-name', DASHBOARD]);
    expect(readme.out).toEqual({
      DashboardArn: js.DashboardArn,
      DashboardBody: js.DashboardBody,
      DashboardName: DASHBOARD,
    });
    const missing = await cli(['get-dashboard', '--dashboard-name', 'nope']);
    expect(missing.error).toContain(
      'An error occurred (ResourceNotFound) when calling the GetDashboard operation: Dashboard nope does not exist',
    );
    const current = await boto3('cbor', [
      ['get_dashboard', { DashboardName: 'nope' }],
      ['set_alarm_state', { AlarmName: 'nope', StateValue: 'OK', StateReason: 'x' }],
    ]);
    expect(current.results).toEqual([
      {
        error: {
          Code: 'ResourceNotFound',
          Message: 'Dashboard nope does not exist',
          Type: 'Sender',
          QueryErrorCode: 'DashboardNotFoundError',
        },
        status: 404,
      },
      {
        error: {
          Code: 'ResourceNotFound',
          Message: 'Alarm nope not found',
          Type: 'Sender',
          QueryErrorCode: 'ResourceNotFound',
        },
        status: 404,
      },
    ]);
    await expect(jsClient().send(new GetDashboardCommand({ DashboardName: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFound',
      $metadata: { httpStatusCode: 404 },
    });
  }, 60_000);

  it("answers an operation it does not serve with each protocol's unknown-operation error", async () => {
    const signed = {
      authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_CREDENTIALS.accessKeyId}/20261207/${LOCAL_REGION}/monitoring/aws4_request, SignedHeaders=host, Signature=0`,
    };
    const query = await fetch(server.endpoint, {
      method: 'POST',
      headers: { ...signed, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Action: 'PutDashboard', Version: '2010-08-01' }),
    });
    expect(query.status).toBe(400);
    const xml = await query.text();
    expect(xml).toMatch(
      /^<ErrorResponse xmlns="http:\/\/monitoring\.amazonaws\.com\/doc\/2010-08-01\/"><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code><Message>operation 'PutDashboard' is not supported by the local CloudWatch endpoint/,
    );
    expect(xml).toMatch(/<RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/);
    const json = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        ...signed,
        'x-amz-target': 'GraniteServiceVersion20100801.Frobnicate',
        'content-type': 'application/x-amz-json-1.0',
      },
      body: '{}',
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({
      __type: 'com.amazon.coral.service#UnknownOperationException',
      message: expect.stringContaining("operation 'Frobnicate' is not a CloudWatch operation"),
    });
    const cbor = await fetch(`${server.endpoint}/service/GraniteServiceVersion20100801/operation/Frobnicate`, {
      method: 'POST',
      headers: {
        ...signed,
        'smithy-protocol': 'rpc-v2-cbor',
        'content-type': 'application/cbor',
        accept: 'application/cbor',
      },
    });
    expect(cbor.status).toBe(404);
    expect(cbor.headers.get('smithy-protocol')).toBe('rpc-v2-cbor');
    const cli = await execFileAsync(
      '/usr/bin/aws',
      [
        '--endpoint-url',
        server.endpoint,
        'cloudwatch',
        'put-dashboard',
        '--dashboard-name',
        'x',
        '--dashboard-body',
        '{}',
      ],
      { env: cliEnv() },
    ).catch((error: { stderr: string }) => error);
    expect((cli as { stderr: string }).stderr).toContain(
      'An error occurred (InvalidAction) when calling the PutDashboard operation',
    );
  }, 60_000);

  it('names what is wrong in a malformed request, in the protocol it came in', async () => {
    const signed = {
      authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_CREDENTIALS.accessKeyId}/20261207/${LOCAL_REGION}/monitoring/aws4_request, SignedHeaders=host, Signature=0`,
    };
    const query = (form: Record<string, string>) =>
      fetch(server.endpoint, {
        method: 'POST',
        headers: { ...signed, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
      }).then(async (response) => ({ status: response.status, body: await response.text() }));
    const statistics = {
      Action: 'GetMetricStatistics',
      Version: '2010-08-01',
      Namespace: LAMBDA_NAMESPACE,
      MetricName: 'Duration',
      StartTime: new Date(now - 10 * minute).toISOString(),
      EndTime: new Date(now).toISOString(),
      'Statistics.member.1': 'Sum',
    };
    const notANumber = await query({ ...statistics, Period: 'sixty' });
    expect(notANumber.status).toBe(400);
    expect(notANumber.body).toContain(
      "<Code>InvalidParameterValue</Code><Message>Period must be a number, got 'sixty'</Message>",
    );
    const notATime = await query({ ...statistics, Period: '60', StartTime: 'yesterday' });
    expect(notATime.body).toContain("StartTime must be an ISO 8601 timestamp, got 'yesterday'");
    const badIndex = await query({ ...statistics, Period: '60', 'Statistics.member.0': 'Sum' });
    expect(badIndex.body).toContain('malformed parameter Statistics.member.0');
    const noVersion = await query({ Action: 'ListMetrics' });
    expect(noVersion.body).toContain('<Code>MissingParameter</Code><Message>The parameter Version must be 2010-08-01.');
    const noAction = await query({ Version: '2010-08-01' });
    expect(noAction.body).toContain('<Code>MissingAction</Code>');
    const json = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        ...signed,
        'x-amz-target': 'GraniteServiceVersion20100801.ListMetrics',
        'content-type': 'application/x-amz-json-1.0',
      },
      body: '{"Namespace": 7}',
    });
    expect(json.status).toBe(400);
    expect(json.headers.get('x-amzn-query-error')).toBe('InvalidParameterValue;Sender');
    expect(await json.json()).toEqual({
      __type: 'com.amazonaws.cloudwatch#InvalidParameterValueException',
      message: 'Namespace must be a string, got 7',
    });
  });

  it('authorizes every protocol alike: a role refused DescribeAlarms is refused in JSON, query and CBOR', async () => {
    const resource = alarmArn('*', LOCAL_REGION, LOCAL_ACCOUNT);
    const message = `cloudwatch:DescribeAlarms on resource: ${resource}`;
    await expect(jsClient(undefined, reader).send(new DescribeAlarmsCommand({}))).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    const cliRefused = await cli(['describe-alarms'], reader);
    expect(cliRefused.error).toContain(
      'An error occurred (AccessDenied) when calling the DescribeAlarms operation: User: ',
    );
    expect(cliRefused.error).toContain(message);
    const sessions = await Promise.all(
      (['legacy', 'current', 'cbor'] as const).map((client) =>
        boto3(
          client,
          [
            ['describe_alarms', {}],
            ['get_dashboard', { DashboardName: DASHBOARD }],
          ],
          reader,
        ),
      ),
    );
    for (const session of sessions) {
      expect(session.results[0]).toMatchObject({
        error: { Code: 'AccessDenied', Type: 'Sender', Message: expect.stringContaining(message) },
        status: 403,
      });
      expect(session.results[1]).toMatchObject({ DashboardName: DASHBOARD });
    }
    // Unsigned: refused before anything is read, in the protocol's form.
    const unsigned = await fetch(server.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Action: 'ListDashboards', Version: '2010-08-01' }),
    });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain(
      '<Code>MissingAuthenticationToken</Code><Message>Request is missing Authentication Token</Message>',
    );
  }, 60_000);
});
