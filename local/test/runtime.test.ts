import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { alarmName } from '@orderflow/pipeline/facts';
import { parseDlqMessage, runtimeInfoSchema } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';

const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-state-'));
let runtime: LocalRuntime;
let dynamo: DynamoDBClient;
let sqs: SQSClient;

beforeAll(async () => {
  // The synthesized stack is the input; build it when a fresh clone has none.
  if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
    const synth = spawnSync('npm', ['run', 'build', '-w', 'stack'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`stack synth failed: ${synth.stderr}`);
  }
  runtime = await startLocalRuntime({
    stateDir,
    observeIntervalMs: 300,
    pipeTiming: { pollIntervalMs: 100, retryBaseDelayMs: 20 },
  });
  const config = { region: runtime.info.region, credentials: LOCAL_CREDENTIALS };
  dynamo = new DynamoDBClient({ ...config, endpoint: runtime.info.endpoints.dynamodb });
  sqs = new SQSClient({ ...config, endpoint: runtime.info.endpoints.sqs });
}, 120_000);
afterAll(async () => {
  dynamo?.destroy();
  sqs?.destroy();
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
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

async function receive(queueUrl: string, count: number): Promise<string[]> {
  const bodies: string[] = [];
  const deadline = Date.now() + 20_000;
  while (bodies.length < count && Date.now() < deadline) {
    const result = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    bodies.push(...(result.Messages ?? []).map((m) => m.Body ?? ''));
  }
  return bodies;
}

describe('the local runtime from the synthesized template and the real handler bundles', () => {
  it('writes runtime.json per the shared schema, with distinct random tokens', () => {
    const info = runtimeInfoSchema.parse(JSON.parse(readFileSync(join(stateDir, 'runtime.json'), 'utf8')));
    expect(info).toEqual(runtime.info);
    expect(info.tokens.operator).not.toBe(info.tokens.viewer);
    expect(info.resources.pipes.standard).toMatchObject({
      name: 'orderflow-standard',
      function: 'OrderProcessorFunction',
    });
    expect(runtime.summary.ignored['AWS::IAM::Role']).toBeGreaterThan(0);
  });

  it('carries orders from the table through both pipes to the processors and their queues', async () => {
    await order('e2e-standard', 'ada@example.com', 150, 'pending');
    await order('e2e-test-customer', 'bob@test.com', 150, 'pending');
    await order('e2e-premium', 'grace@example.com', 4200, 'pending');
    await dynamo.send(
      new UpdateItemCommand({
        TableName: runtime.info.resources.ordersTable,
        Key: { orderId: { S: 'e2e-premium' } },
        UpdateExpression: 'SET orderStatus = :s',
        ExpressionAttributeValues: { ':s': { S: 'shipped' } },
      }),
    );
    const premium = await receive(runtime.info.resources.accountManagerQueueUrl, 1);
    expect(premium.map((b) => JSON.parse(b).order.orderId)).toEqual(['e2e-premium']);
    const standard = await receive(runtime.info.resources.notificationQueueUrl, 3);
    // The test.com customer passes the pipe filter (Pipes cannot express "does not contain") but not the guard.
    expect(standard.map((b) => JSON.parse(b).order.orderId).sort()).toEqual([
      'e2e-premium',
      'e2e-premium',
      'e2e-standard',
    ]);
  });

  it('sends a failing batch to the DLQ after retries, and the DLQ alarm goes off', async () => {
    const fault = await fetch(`${runtime.info.endpoints.lambda}/_local/faults/OrderProcessorFunction`, {
      method: 'PUT',
      body: JSON.stringify({ failureRate: 1, mode: 'throw' }),
    });
    expect(fault.status).toBe(200);
    await order('e2e-doomed', 'dan@example.com', 300, 'pending');
    const cloudwatch = new CloudWatchClient({
      region: runtime.info.region,
      credentials: LOCAL_CREDENTIALS,
      endpoint: runtime.info.endpoints.cloudwatch,
    });
    try {
      const name = alarmName('dlq-has-messages', 'standard');
      const stateOf = async () =>
        (await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms?.[0];
      expect((await stateOf())?.StateValue).toBe('OK');
      const alarm = await until(
        async () => {
          const current = await stateOf();
          return current?.StateValue === 'ALARM' && current;
        },
        `${name} in ALARM`,
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(alarm?.StateReason).toMatch(
        /^Threshold Crossed: 1 out of the last 1 datapoints \[1\.0 \(.+\)\] was greater than the threshold \(0\.0\)/,
      );
    } finally {
      cloudwatch.destroy();
    }
    const [body] = await receive(runtime.info.resources.pipes.standard.dlqUrl, 1);
    const message = parseDlqMessage(body);
    expect(message.context).toEqual({
      partnerResourceArn: 'arn:aws:pipes:us-east-1:000000000000:pipe/orderflow-standard',
      condition: 'RetryAttemptsExhausted',
    });
    expect(message.DDBStreamBatchInfo.batchSize).toBe(1);
    await fetch(`${runtime.info.endpoints.lambda}/_local/faults/OrderProcessorFunction`, { method: 'DELETE' });
  });
});
