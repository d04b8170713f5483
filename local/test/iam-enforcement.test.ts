import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DYNAMODB_METRICS,
  DYNAMODB_NAMESPACE,
  LOGICAL_IDS,
  PIPES,
  parseDlqMessage,
  runtimeInfoSchema,
} from '@orderflow/pipeline';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorizationRequest } from '../src/iam/authorizer.ts';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { loadTemplate } from '../src/template/local-plan.ts';
import { total } from './helpers.ts';

const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-iam-'));
let runtime: LocalRuntime;
const clients: { destroy(): void }[] = [];
/** Every request the evaluator was asked, as the runtime made them. */
const asked: AuthorizationRequest[] = [];

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
  const authorizer = runtime.iam.authorizer;
  if (!authorizer) throw new Error('enforcement is on by default, so the runtime has an evaluator');
  const authorize = authorizer.authorize.bind(authorizer);
  authorizer.authorize = (request) => {
    asked.push(request);
    return authorize(request);
  };
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** The logical id of the role a function or pipe of the template runs with (`Role` / `RoleArn` → Fn::GetAtt). */
function roleOf(logicalId: string): string {
  const resource = loadTemplate(templateDir).template.Resources[logicalId];
  const property = resource?.Properties?.Role ?? resource?.Properties?.RoleArn;
  const role = (property as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
  if (!role) throw new Error(`${logicalId} has no role of the template`);
  return role;
}

const keysOf = (roleLogicalId: string) => {
  const principal = runtime.info.principals?.[roleLogicalId];
  if (!principal) throw new Error(`runtime.json lists no principal ${roleLogicalId}`);
  return { accessKeyId: principal.accessKeyId, secretAccessKey: principal.secretAccessKey };
};
const sqsAs = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
  const client = new SQSClient({ region: runtime.info.region, endpoint: runtime.info.endpoints.sqs, credentials });
  clients.push(client);
  return client;
};
const dynamoAs = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
  const client = new DynamoDBClient({
    region: runtime.info.region,
    endpoint: runtime.info.endpoints.dynamodb,
    credentials,
  });
  clients.push(client);
  return client;
};
const order = (orderId: string, amount: number, status: string) =>
  dynamoAs(LOCAL_CREDENTIALS).send(
    new PutItemCommand({
      TableName: runtime.info.resources.ordersTable,
      Item: {
        orderId: { S: orderId },
        customerEmail: { S: 'ada@example.com' },
        orderAmount: { N: String(amount) },
        orderStatus: { S: status },
        orderDate: { S: new Date().toISOString() },
      },
    }),
  );
async function receiveOrderIds(queueUrl: string, wanted: (ids: string[]) => boolean): Promise<string[]> {
  const admin = sqsAs(LOCAL_CREDENTIALS);
  const ids: string[] = [];
  return until(
    async () => {
      const result = await admin.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const message of result.Messages ?? []) ids.push(JSON.parse(message.Body ?? '{}').order?.orderId);
      return wanted(ids) && ids;
    },
    `order ids on ${queueUrl}`,
    { timeoutMs: 30_000 },
  );
}

const standardRole = () => roleOf(PIPES.standard.functionId);
const premiumPipeRole = () => roleOf(PIPES.premium.pipeId);

describe('local IAM enforcement with the synthesized template', () => {
  it('gives each role of the template its own keys in runtime.json, and serves the endpoints through the gateway', () => {
    const info = runtimeInfoSchema.parse(JSON.parse(readFileSync(join(stateDir, 'runtime.json'), 'utf8')));
    expect(info.iam).toEqual({ enforcement: 'on', denials: `${info.endpoints.lambda}/_local/denials` });
    const roles = Object.keys(loadTemplate(templateDir).template.Resources).filter(
      (id) => loadTemplate(templateDir).template.Resources[id]?.Type === 'AWS::IAM::Role',
    );
    expect(Object.keys(info.principals ?? {}).sort()).toEqual(roles.sort());
    for (const id of [standardRole(), roleOf(PIPES.standard.pipeId), premiumPipeRole()])
      expect(info.principals?.[id]?.roleArn).toBe(`arn:aws:iam::000000000000:role/${id}`);
    const keys = Object.values(info.principals ?? {}).map((p) => p.accessKeyId);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.every((key) => /^ASIA[A-Z2-7]{16}$/.test(key))).toBe(true);
  });

  it("refuses the standard processor's keys what its role does not allow, with AWS's message, and records it", async () => {
    const standard = sqsAs(keysOf(standardRole()));
    await standard.send(
      new SendMessageCommand({ QueueUrl: runtime.info.resources.notificationQueueUrl, MessageBody: '{}' }),
    );
    const before = runtime.denials.count;
    const refused = await standard
      .send(new SendMessageCommand({ QueueUrl: runtime.info.resources.accountManagerQueueUrl, MessageBody: '{}' }))
      .catch((error: unknown) => error);
    const queueArn = `arn:aws:sqs:us-east-1:000000000000:${runtime.info.resources.accountManagerQueueUrl.split('/').pop()}`;
    const message = `User: arn:aws:sts::000000000000:assumed-role/${standardRole()}/${PIPES.standard.functionId} is not authorized to perform: sqs:SendMessage on resource: ${queueArn} because no identity-based policy allows the sqs:SendMessage action`;
    expect(refused).toMatchObject({ name: 'AccessDenied', message });
    expect(runtime.denials.count).toBe(before + 1);
    const recorded = runtime.denials.list({ limit: 1 })[0];
    expect(recorded).toMatchObject({ role: standardRole(), action: 'sqs:SendMessage', resource: queueArn, message });
    const file = readFileSync(join(stateDir, 'denials.ndjson'), 'utf8').trim().split('\n');
    expect(JSON.parse(file[file.length - 1] as string)).toEqual(recorded);
    const served = (await (await fetch(runtime.info.iam?.denials ?? '')).json()) as { denials: unknown[] };
    expect(served.denials[0]).toEqual(recorded);

    const priority = await dynamoAs(keysOf(standardRole()))
      .send(
        new PutItemCommand({
          TableName: runtime.info.resources.priorityShipmentsTable,
          Item: { orderId: { S: 'not-mine' } },
        }),
      )
      .catch((error: unknown) => error);
    expect(priority).toMatchObject({ name: 'AccessDeniedException' });
    expect((priority as Error).message).toContain(
      `dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/${runtime.info.resources.priorityShipmentsTable}`,
    );
  });

  it("the bench's switch forwards requests to DynamoDB and SQS unauthorized until switched back", async () => {
    const standard = dynamoAs(keysOf(standardRole()));
    const put = () =>
      standard
        .send(
          new PutItemCommand({
            TableName: runtime.info.resources.priorityShipmentsTable,
            Item: { orderId: { S: 'bench-switch' } },
          }),
        )
        .then(
          () => 'served',
          (error: unknown) => (error as Error).name,
        );
    const before = runtime.denials.count;
    try {
      runtime.gateway.setAuthorizing(false);
      expect(await put()).toBe('served');
      expect(runtime.denials.count).toBe(before);
    } finally {
      runtime.gateway.setAuthorizing(true);
    }
    expect(await put()).toBe('AccessDeniedException');
    expect(runtime.denials.count).toBe(before + 1);
  });

  it('carries orders end to end, each function and pipe acting with its own role, with nothing denied', async () => {
    const before = runtime.denials.count;
    const orders = total(runtime.metrics, DYNAMODB_NAMESPACE, DYNAMODB_METRICS.consumedWriteCapacityUnits, {
      TableName: runtime.info.resources.ordersTable,
    });
    asked.length = 0;
    await order('iam-standard', 150, 'pending');
    await order('iam-premium', 4200, 'pending');
    await dynamoAs(LOCAL_CREDENTIALS).send(
      new UpdateItemCommand({
        TableName: runtime.info.resources.ordersTable,
        Key: { orderId: { S: 'iam-premium' } },
        UpdateExpression: 'SET orderStatus = :s',
        ExpressionAttributeValues: { ':s': { S: 'shipped' } },
      }),
    );
    expect(
      await receiveOrderIds(runtime.info.resources.accountManagerQueueUrl, (ids) => ids.includes('iam-premium')),
    ).toEqual(['iam-premium']);
    const standard = await receiveOrderIds(runtime.info.resources.notificationQueueUrl, (ids) =>
      ids.includes('iam-standard'),
    );
    expect(standard).toContain('iam-standard');
    expect(runtime.denials.count, JSON.stringify(runtime.denials.list({ limit: 5 }))).toBe(before);
    expect(
      total(runtime.metrics, DYNAMODB_NAMESPACE, DYNAMODB_METRICS.consumedWriteCapacityUnits, {
        TableName: runtime.info.resources.ordersTable,
      }) - orders,
    ).toBe(3);

    const by = (role: string, action: string) =>
      asked.some((r) => r.principal.kind === 'role' && r.principal.logicalId === role && r.action === action);
    expect(by(roleOf(PIPES.standard.pipeId), 'dynamodb:GetRecords')).toBe(true);
    expect(by(roleOf(PIPES.standard.pipeId), 'lambda:InvokeFunction')).toBe(true);
    expect(by(premiumPipeRole(), 'lambda:InvokeFunction')).toBe(true);
    expect(by(standardRole(), 'sqs:SendMessage')).toBe(true);
    expect(by(standardRole(), 'dynamodb:PutItem')).toBe(true);
    expect(by(roleOf(PIPES.premium.functionId), 'sqs:SendMessage')).toBe(true);
    expect(asked.some((r) => r.principal.kind === 'role' && r.principal.logicalId === LOGICAL_IDS.ordersTable)).toBe(
      false,
    );
  });

  it('fails the invocation of a pipe whose role may not invoke its target, and dead-letters the batch', async () => {
    const authorizer = runtime.iam.authorizer;
    if (!authorizer) throw new Error('no evaluator');
    const authorize = authorizer.authorize;
    authorizer.authorize = (request) =>
      request.principal.kind === 'role' &&
      request.principal.logicalId === premiumPipeRole() &&
      request.action === 'lambda:InvokeFunction'
        ? { allowed: false, reason: 'no-identity-allow', message: `refused for the test: ${request.resource}` }
        : authorize(request);
    try {
      await order('iam-refused-premium', 5000, 'pending');
      await dynamoAs(LOCAL_CREDENTIALS).send(
        new UpdateItemCommand({
          TableName: runtime.info.resources.ordersTable,
          Key: { orderId: { S: 'iam-refused-premium' } },
          UpdateExpression: 'SET orderStatus = :s',
          ExpressionAttributeValues: { ':s': { S: 'shipped' } },
        }),
      );
      const admin = sqsAs(LOCAL_CREDENTIALS);
      const body = await until(
        async () =>
          (
            await admin.send(
              new ReceiveMessageCommand({ QueueUrl: runtime.info.resources.pipes.premium.dlqUrl, WaitTimeSeconds: 1 }),
            )
          ).Messages?.[0]?.Body,
        'a DLQ message of the premium pipe',
        { timeoutMs: 30_000 },
      );
      expect(parseDlqMessage(body).context.condition).toBe('RetryAttemptsExhausted');
      expect(runtime.denials.list({ role: premiumPipeRole(), limit: 1 })[0]).toMatchObject({
        action: 'lambda:InvokeFunction',
        resource: `arn:aws:lambda:us-east-1:000000000000:function:${runtime.info.resources.pipes.premium.function}`,
        endpoint: 'pipe',
      });
    } finally {
      authorizer.authorize = authorize;
    }
  });
});

describe('--iam off', () => {
  let open: LocalRuntime;
  const offState = mkdtempSync(join(tmpdir(), 'orderflow-iam-off-'));
  /** An evaluator that refuses everything: with enforcement off it must never be asked. */
  const refusals: AuthorizationRequest[] = [];
  beforeAll(async () => {
    open = await startLocalRuntime({
      stateDir: offState,
      iam: 'off',
      authorizer: {
        authorize: (request) => {
          refusals.push(request);
          return { allowed: false, reason: 'no-identity-allow', message: 'refused' };
        },
      },
      pipeTiming: { pollIntervalMs: 100 },
    });
  }, 120_000);
  afterAll(async () => {
    await open?.stop();
    rmSync(offState, { recursive: true, force: true });
  });
  /** An order written with the administrator's key (any key is served with enforcement off). */
  const putOrderAsAdmin = async (orderId: string, amount: number) => {
    const admin = new DynamoDBClient({
      region: open.info.region,
      endpoint: open.info.endpoints.dynamodb,
      credentials: LOCAL_CREDENTIALS,
    });
    clients.push(admin);
    await admin.send(
      new PutItemCommand({
        TableName: open.info.resources.ordersTable,
        Item: {
          orderId: { S: orderId },
          customerEmail: { S: 'ada@example.com' },
          orderAmount: { N: String(amount) },
          orderStatus: { S: 'pending' },
          orderDate: { S: new Date().toISOString() },
        },
      }),
    );
  };

  it('authorizes nothing: no principals, every endpoint served whoever signs, the pipeline runs', async () => {
    expect(open.info.iam).toEqual({ enforcement: 'off' });
    expect(open.info.principals).toEqual({});
    expect(open.iam.mode).toBe('off');
    const anyone = new SQSClient({
      region: open.info.region,
      endpoint: open.info.endpoints.sqs,
      credentials: { accessKeyId: 'ASIAANYROLEKEY000000', secretAccessKey: 'x' },
    });
    clients.push(anyone);
    await anyone.send(
      new SendMessageCommand({ QueueUrl: open.info.resources.accountManagerQueueUrl, MessageBody: '{}' }),
    );
    // With enforcement an unsigned invocation is refused (MissingAuthenticationToken); off, it is served.
    const unsigned = await fetch(
      `${open.info.endpoints.lambda}/2015-03-31/functions/${open.info.resources.pipes.standard.function}/invocations`,
      { method: 'POST', body: '[]' },
    );
    expect(unsigned.status).toBe(200);
    await putOrderAsAdmin('off-standard', 150);
    const notified = await until(
      async () =>
        (
          await anyone.send(
            new ReceiveMessageCommand({ QueueUrl: open.info.resources.notificationQueueUrl, WaitTimeSeconds: 1 }),
          )
        ).Messages?.some((m) => JSON.parse(m.Body ?? '{}').order?.orderId === 'off-standard'),
      'the standard notification',
      { timeoutMs: 30_000 },
    );
    expect(notified).toBe(true);
    expect(refusals).toEqual([]);
    expect(open.denials.count).toBe(0);
  });

  it('keeps what is not IAM: the DynamoDB write metric and SQS query-protocol requests', async () => {
    const table = open.info.resources.ordersTable;
    const writesBefore = total(open.metrics, DYNAMODB_NAMESPACE, DYNAMODB_METRICS.consumedWriteCapacityUnits, {
      TableName: table,
    });
    await putOrderAsAdmin('off-metric', 50);
    await until(
      () =>
        total(open.metrics, DYNAMODB_NAMESPACE, DYNAMODB_METRICS.consumedWriteCapacityUnits, { TableName: table }) >
        writesBefore,
      'ConsumedWriteCapacityUnits of the write',
      { timeoutMs: 5000 },
    );
    // The query protocol (what Debian's AWS CLI 2.9 and boto3 1.26 send for SQS): a form body, an XML answer.
    const queueUrl = open.info.resources.accountManagerQueueUrl;
    const answer = await fetch(open.info.endpoints.sqs, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams({
        Action: 'GetQueueAttributes',
        QueueUrl: queueUrl,
        'AttributeName.1': 'QueueArn',
        Version: '2012-11-05',
      }),
    });
    const xml = await answer.text();
    expect(answer.status, xml).toBe(200);
    expect(xml).toContain('<GetQueueAttributesResponse');
    expect(xml).toMatch(/<Name>QueueArn<\/Name><Value>arn:aws:sqs:[^<]+<\/Value>/);
    expect((await fetch(`${open.info.endpoints.lambda}/_local/denials`)).status).toBe(404);
  });

  it('has no bench switch to turn: it was started without an enforcer', () => {
    expect(() => open.gateway.setAuthorizing(true)).toThrow(/started with --iam off/);
  });
});

describe('the --iam flag', () => {
  it('names a value that is neither on nor off', () => {
    const cli = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'local/src/cli.ts'), '--no-build', '--iam', 'maybe'],
      { cwd: join(REPO_ROOT, 'local'), encoding: 'utf8', timeout: 90_000 },
    );
    expect(cli.status).toBe(1);
    expect(`${cli.stdout}${cli.stderr}`).toContain('--iam must be on or off, got maybe');
  });
});
