import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlarmBoard } from '../src/cloudwatch/alarms.ts';
import { MetricStore } from '../src/cloudwatch/metric-store.ts';
import { type CloudWatchServer, startCloudWatchServer } from '../src/cloudwatch/server.ts';
import { DenialLog } from '../src/gateway/denials.ts';
import { Enforcer } from '../src/gateway/enforcer.ts';
import { cloudWatchGate, functionArn, lambdaGate } from '../src/gateway/http-gates.ts';
import { PrincipalDirectory } from '../src/gateway/principals.ts';
import { LambdaService } from '../src/lambda/lambda-service.ts';
import { type LambdaServer, startLambdaServer } from '../src/lambda/server.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { freePort } from '../src/services/ports.ts';
import { fakeAuthorizer } from './fixtures/fake-authorizer.ts';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const scope = { region: REGION, account: ACCOUNT };
const alarmArn = (name: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-gateway-endpoints-'));
const principals = new PrincipalDirectory(
  ['Invoker', 'Operator', 'Wide'].map((logicalId) => ({
    logicalId,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/${logicalId}`,
    sessionName: logicalId.toLowerCase(),
  })),
);
const authorizer = fakeAuthorizer({
  Invoker: [{ action: 'lambda:InvokeFunction', resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Echo` }],
  Operator: [
    { action: 'cloudwatch:DescribeAlarms', resource: alarmArn('orderflow-*') },
    { action: 'cloudwatch:GetMetricData', resource: '*' },
  ],
  Wide: [
    { action: 'cloudwatch:DescribeAlarms', resource: '*' },
    { action: 'cloudwatch:PutMetricData', resource: '*' },
  ],
});
const denials = new DenialLog(join(stateDir, 'denials.ndjson'));
const enforcer = new Enforcer(authorizer, principals, denials);
const clients: { destroy(): void }[] = [];
const keysOf = (logicalId: string) => {
  const { accessKeyId, secretAccessKey } = principals.role(logicalId).credentials;
  return { accessKeyId, secretAccessKey };
};

let service: LambdaService;
let lambda: LambdaServer;
let cloudwatch: CloudWatchServer;

beforeAll(async () => {
  service = new LambdaService(
    ['Echo', 'Other'].map((name) => ({
      name,
      codeDir: fileURLToPath(new URL('./fixtures/template/asset.abc123', import.meta.url)),
      handler: 'index.handler',
      timeoutSeconds: 3,
      memoryMb: 128,
      environment: {},
    })),
    { region: REGION, account: ACCOUNT, baseEnvironment: {}, publish: () => undefined },
  );
  lambda = await startLambdaServer(service, await freePort(), { gate: lambdaGate(enforcer, scope), denials });
  const store = new MetricStore();
  const alarms = new AlarmBoard(
    [
      {
        kind: 'metric',
        name: 'orderflow-standard-dlq',
        actionsEnabled: true,
        queries: [
          {
            Id: 'm1',
            MetricStat: { Metric: { Namespace: 'AWS/SQS', MetricName: 'X', Dimensions: [] }, Period: 60, Stat: 'Sum' },
            ReturnData: true,
          },
        ],
        period: 60,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        threshold: 0,
        comparison: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
      },
      { kind: 'composite', name: 'orderflow-unhealthy', actionsEnabled: true, rule: 'ALARM("orderflow-standard-dlq")' },
    ],
    store,
  );
  cloudwatch = await startCloudWatchServer(
    { store, alarms, region: REGION, account: ACCOUNT, gate: cloudWatchGate(enforcer, scope) },
    await freePort(),
  );
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await lambda?.stop();
  await cloudwatch?.stop();
  await service?.stop();
  denials.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const lambdaAs = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
  const client = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
};
const cloudWatchAs = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
  const client = new CloudWatchClient({ region: REGION, endpoint: cloudwatch.endpoint, credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
};

describe('the Lambda endpoint under enforcement', () => {
  it("invokes what the role may invoke and refuses the rest with Lambda's 403 AccessDeniedException", async () => {
    const invoker = lambdaAs(keysOf('Invoker'));
    const ok = await invoker.send(new InvokeCommand({ FunctionName: 'Echo', Payload: JSON.stringify({ hi: 1 }) }));
    expect(ok.StatusCode).toBe(200);
    const refused = await invoker.send(new InvokeCommand({ FunctionName: 'Other', Payload: '{}' })).catch((e) => e);
    const message = `User: arn:aws:sts::${ACCOUNT}:assumed-role/Invoker/invoker is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:${REGION}:${ACCOUNT}:function:Other because no identity-based policy allows the lambda:InvokeFunction action`;
    expect(refused).toMatchObject({ name: 'AccessDeniedException', message, $metadata: { httpStatusCode: 403 } });
    expect(denials.list({ limit: 1 })[0]).toMatchObject({
      action: 'lambda:InvokeFunction',
      endpoint: 'lambda',
      message,
    });
  });

  it('reads the function ARN from a name, a partial ARN or a full ARN', () => {
    const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Echo`;
    expect(functionArn('Echo', scope)).toBe(arn);
    expect(functionArn(`${ACCOUNT}:function:Echo`, scope)).toBe(arn);
    expect(functionArn(arn, scope)).toBe(arn);
    expect(functionArn('Echo:live', scope)).toBe(`${arn}:live`);
  });

  it('refuses an unsigned invocation but keeps the local routes open to unsigned callers and the administrator only', async () => {
    const unsigned = await fetch(`${lambda.endpoint}/2015-03-31/functions/Echo/invocations`, {
      method: 'POST',
      body: '{}',
    });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect((await fetch(`${lambda.endpoint}/_local/faults`)).status).toBe(200);
    const asRole = await fetch(`${lambda.endpoint}/_local/faults/Echo`, {
      method: 'PUT',
      body: JSON.stringify({ failureRate: 1, mode: 'throw' }),
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=${keysOf('Invoker').accessKeyId}/20260101/${REGION}/lambda/aws4_request`,
      },
    });
    expect(asRole.status).toBe(403);
    expect(await asRole.json()).toMatchObject({ Message: expect.stringContaining('local administration routes') });
    expect(service.faults.size).toBe(0);
  });

  it('serves the denials log, most recent first, filtered and with its parameters checked', async () => {
    const all = (await (await fetch(`${lambda.endpoint}/_local/denials?limit=1000`)).json()) as {
      total: number;
      file: string;
      denials: { role?: string; time: string }[];
    };
    expect(all.total).toBe(denials.count);
    expect(all.file).toBe(join(stateDir, 'denials.ndjson'));
    expect(all.denials).toEqual(denials.list({ limit: 1000 }));
    const invoker = (await (await fetch(`${lambda.endpoint}/_local/denials?role=Invoker`)).json()) as typeof all;
    expect(invoker.denials.length).toBeGreaterThan(0);
    expect(invoker.denials.every((d) => d.role === 'Invoker')).toBe(true);
    const bad = await fetch(`${lambda.endpoint}/_local/denials?limit=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ message: 'limit must be an integer from 1 to 1000, got 0' });
    const badSince = await fetch(`${lambda.endpoint}/_local/denials?since=yesterday`);
    expect(await badSince.json()).toMatchObject({ message: 'since must be an ISO 8601 time, got yesterday' });
  });
});

describe('the CloudWatch endpoint under enforcement', () => {
  it('authorizes DescribeAlarms on the alarm ARNs it names or the prefix selects', async () => {
    const operator = cloudWatchAs(keysOf('Operator'));
    const named = await operator.send(new DescribeAlarmsCommand({ AlarmNames: ['orderflow-standard-dlq'] }));
    expect(named.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['orderflow-standard-dlq']);
    await expect(operator.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'orderflow-' }))).resolves.toBeDefined();
    const all = await operator.send(new DescribeAlarmsCommand({})).catch((e) => e);
    expect(all).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(all.message).toContain(`cloudwatch:DescribeAlarms on resource: ${alarmArn('*')}`);
  });

  it('returns composite alarms only to a caller allowed DescribeAlarms on *, as AWS documents', async () => {
    const types = ['MetricAlarm', 'CompositeAlarm'] as const;
    const narrow = await cloudWatchAs(keysOf('Operator')).send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: 'orderflow-', AlarmTypes: [...types] }),
    );
    expect(narrow.CompositeAlarms).toEqual([]);
    expect(denials.list({ limit: 1 })[0]).toMatchObject({
      action: 'cloudwatch:DescribeAlarms',
      resource: '*',
      role: 'Operator',
    });
    const wide = await cloudWatchAs(keysOf('Wide')).send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: 'orderflow-', AlarmTypes: [...types] }),
    );
    expect(wide.CompositeAlarms?.map((a) => a.AlarmName)).toEqual(['orderflow-unhealthy']);
  });

  it('authorizes metric operations on * and passes PutMetricData its namespace as cloudwatch:namespace', async () => {
    const now = new Date();
    await cloudWatchAs(keysOf('Operator')).send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - 60_000),
        EndTime: now,
        MetricDataQueries: [{ Id: 'e', Expression: '1' }],
      }),
    );
    const refused = await cloudWatchAs(keysOf('Operator'))
      .send(new PutMetricDataCommand({ Namespace: 'Orderflow', MetricData: [{ MetricName: 'x', Value: 1 }] }))
      .catch((e) => e);
    expect(refused).toMatchObject({ name: 'AccessDenied' });
    authorizer.requests.length = 0;
    await cloudWatchAs(keysOf('Wide')).send(
      new PutMetricDataCommand({ Namespace: 'Orderflow', MetricData: [{ MetricName: 'x', Value: 1 }] }),
    );
    expect(authorizer.requests[0]).toMatchObject({
      action: 'cloudwatch:PutMetricData',
      resource: '*',
      context: { 'aws:SecureTransport': true, 'cloudwatch:namespace': 'Orderflow' },
    });
    await expect(cloudWatchAs(LOCAL_CREDENTIALS).send(new DescribeAlarmsCommand({}))).resolves.toMatchObject({
      MetricAlarms: [expect.objectContaining({ AlarmName: 'orderflow-standard-dlq' })],
    });
  });
});
