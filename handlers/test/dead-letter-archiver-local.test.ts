import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS, type LocalRuntime, REPO_ROOT, startLocalRuntime } from '@orderflow/local';
import {
  ARCHIVER_METRICS,
  DEAD_LETTER_ARCHIVERS,
  DIMENSION_PIPE,
  deadLetterKey,
  LOGICAL_IDS,
  METRICS_NAMESPACE,
  PIPES,
  SERVICE_NAME,
} from '@orderflow/pipeline/facts';
import { type DeadLetter, parseDeadLetter } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * End to end in the local runtime, from the synthesized template (stack/cdk.out) and the bundled functions: an order
 * fails in the standard processor, the pipe gives its batch up to the DLQ, the DLQ's event source mapping runs the
 * standard pipe's dead-letter archiver, and the failed order is a dead letter in the store within seconds, the DLQ
 * empty again. Every call goes through the local IAM gateway with each role's own grants.
 */

const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-archiver-'));
let runtime: LocalRuntime;
let documents: DynamoDBDocumentClient;
let sqs: SQSClient;
let cloudwatch: CloudWatchClient;

beforeAll(async () => {
  if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
    throw new Error(`no synthesized stack in ${templateDir}: run npm run build -w stack`);
  }
  runtime = await startLocalRuntime({
    stateDir,
    observeIntervalMs: 300,
    pipeTiming: { pollIntervalMs: 100, retryBaseDelayMs: 20 },
  });
  // The stack deploys the mappings disabled for now (DEAD_LETTER_CAPTURE_ENABLED says why); capture is what this file
  // tests, so it turns them on, as `aws lambda update-event-source-mapping --enabled` would.
  for (const archiver of Object.values(DEAD_LETTER_ARCHIVERS)) {
    const mapping = runtime.eventSourceMappings.get(archiver.mappingId);
    if (!mapping) throw new Error(`the runtime has no event source mapping ${archiver.mappingId}`);
    await mapping.enable();
  }
  const config = { region: runtime.info.region, credentials: LOCAL_CREDENTIALS };
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({ ...config, endpoint: runtime.info.endpoints.dynamodb }));
  sqs = new SQSClient({ ...config, endpoint: runtime.info.endpoints.sqs });
  cloudwatch = new CloudWatchClient({ ...config, endpoint: runtime.info.endpoints.cloudwatch });
}, 180_000);

afterAll(async () => {
  documents?.destroy();
  sqs?.destroy();
  cloudwatch?.destroy();
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function fault(mode: 'downstream' | 'throw' | undefined): Promise<void> {
  const url = `${runtime.info.endpoints.lambda}/_local/faults/${PIPES.standard.functionId}`;
  const response = await fetch(url, {
    method: mode ? 'PUT' : 'DELETE',
    ...(mode ? { body: JSON.stringify({ failureRate: 1, mode }) } : {}),
  });
  expect(response.ok).toBe(true);
}

async function order(orderId: string): Promise<void> {
  await documents.send(
    new PutCommand({
      TableName: runtime.info.resources.ordersTable,
      Item: {
        orderId,
        customerEmail: 'ada@example.com',
        orderAmount: 150,
        orderStatus: 'pending',
        orderDate: new Date().toISOString(),
      },
    }),
  );
}

/** The order's dead letter, once the archiver has stored it (found through its order link). */
async function deadLetterOf(orderId: string): Promise<DeadLetter> {
  return until(
    async () => {
      const links = await documents.send(
        new QueryCommand({
          TableName: LOGICAL_IDS.deadLetterTable,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `order#${orderId}` },
        }),
      );
      const id = links.Items?.[0]?.id;
      if (typeof id !== 'string') return undefined;
      const item = await documents.send(
        new GetCommand({ TableName: LOGICAL_IDS.deadLetterTable, Key: deadLetterKey(id), ConsistentRead: true }),
      );
      return item.Item ? parseDeadLetter(item.Item) : undefined;
    },
    `a dead letter of order ${orderId} in the store`,
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

async function dlqDepth(): Promise<number> {
  const answer = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: runtime.info.resources.pipes.standard.dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(answer.Attributes?.ApproximateNumberOfMessages) +
    Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

describe('the dead-letter archiver in the local runtime', () => {
  it('a downstream fault: the failed order is a dead letter within seconds, its error from the journal, the DLQ empty', async () => {
    await fault('downstream');
    try {
      await order('archived-downstream');
      const deadLetter = await deadLetterOf('archived-downstream');

      expect(deadLetter).toMatchObject({
        kind: 'batch',
        pipe: 'standard',
        state: 'open',
        orderIds: ['archived-downstream'],
        missingRecords: 0,
        sources: { journal: 1, stream: 0 },
        batch: {
          pipeArn: 'arn:aws:pipes:us-east-1:000000000000:pipe/orderflow-standard',
          condition: 'RetryAttemptsExhausted',
        },
      });
      expect(deadLetter.records[0]?.error?.attempts).toBeGreaterThan(1);
      expect(deadLetter.cause.signature).toBe(deadLetter.records[0]?.error?.signature);
      // Within seconds of the pipe giving the batch up.
      const lag = Date.parse(deadLetter.capturedAt) - Date.parse(deadLetter.sqs.sentAt);
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(10_000);
      await until(async () => (await dlqDepth()) === 0, 'the standard DLQ drained by the archiver', 30_000);
    } finally {
      await fault(undefined);
    }
  });

  it('an invocation that fails as a whole: the records come from the stream, and the capture is counted', async () => {
    await fault('throw');
    try {
      await order('archived-crash');
      const deadLetter = await deadLetterOf('archived-crash');
      expect(deadLetter).toMatchObject({
        orderIds: ['archived-crash'],
        sources: { journal: 0, stream: 1 },
        cause: { errorName: 'InvocationFailure' },
      });
      expect(deadLetter.records[0]).toMatchObject({ source: 'stream', eventName: 'INSERT' });
    } finally {
      await fault(undefined);
    }
    // The DLQ is drained within seconds, so what an alarm can rest on is the archiver's count of captured dead letters
    // (the form dlq-has-messages takes once capture is deployed enabled: DEAD_LETTER_CAPTURE_ENABLED).
    await until(
      async () => {
        const answer = await cloudwatch.send(
          new GetMetricStatisticsCommand({
            Namespace: METRICS_NAMESPACE,
            MetricName: ARCHIVER_METRICS.deadLettersCaptured.name,
            Dimensions: [
              { Name: DIMENSION_PIPE, Value: 'standard' },
              { Name: 'service', Value: SERVICE_NAME },
            ],
            StartTime: new Date(Date.now() - 10 * 60_000),
            EndTime: new Date(Date.now() + 60_000),
            Period: 60,
            Statistics: ['Sum'],
          }),
        );
        return (answer.Datapoints ?? []).reduce((sum, point) => sum + (point.Sum ?? 0), 0) >= 1;
      },
      'the standard archiver counted its captured dead letters',
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  it('ran with exactly the grants the stack gives: no call of any role was refused; one mapping per pipe DLQ', () => {
    expect(runtime.denials.list({ limit: 1000 })).toEqual([]);
    expect([...runtime.eventSourceMappings.keys()].sort()).toEqual(
      Object.values(DEAD_LETTER_ARCHIVERS)
        .map((archiver) => archiver.mappingId)
        .sort(),
    );
  });
});
