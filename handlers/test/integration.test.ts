import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as SdkStreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  HANDLER_ENV,
  IDEMPOTENCY_KEYS,
  idempotencyRecordId,
  JOURNAL_KEYS,
  JOURNAL_RECORD_MAX_BYTES,
  journalEntrySchema,
  journalRecordKey,
  LOGICAL_IDS,
  orderProcessedV1,
  PRIORITY_SHIPMENT_KEYS,
  premiumOrderShippedV1,
  type StreamRecord,
} from '@orderflow/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, LOCAL_CREDENTIALS, startDynamoDbLocal } from '../../local/src/services/dynamodb-local.ts';
import { type LocalSqs, startSqs } from '../../local/src/services/sqs.ts';
import { bundleProcessors } from '../scripts/bundle.ts';
import { captureOutput, emfMetrics, jsonLines } from './support.ts';

/*
 * The bundled handlers (handlers/dist, built here with the stack's esbuild options) against DynamoDB Local and the
 * fauxqs SQS emulator, fed with stream records captured from DynamoDB Local's real stream.
 */
type Handler = (event: unknown, context?: unknown) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

let ddbLocal: DynamoDbLocal;
let sqsLocal: LocalSqs;
let dynamodb: DynamoDBClient;
let streams: DynamoDBStreamsClient;
let sqs: SQSClient;
let bundles: Record<string, string>;
const queues: Record<string, string> = {};
const region = 'us-east-1';

beforeAll(async () => {
  const built = await bundleProcessors();
  bundles = Object.fromEntries(built.map((b) => [b.functionId, b.file]));
  [ddbLocal, sqsLocal] = await Promise.all([startDynamoDbLocal(), startSqs()]);
  const clientConfig = { region, credentials: LOCAL_CREDENTIALS };
  dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: ddbLocal.endpoint });
  streams = new DynamoDBStreamsClient({ ...clientConfig, endpoint: ddbLocal.endpoint });
  sqs = new SQSClient({ ...clientConfig, endpoint: sqsLocal.endpoint });
  await createTable(LOGICAL_IDS.ordersTable, 'orderId', true);
  await createTable(LOGICAL_IDS.journalTable, JOURNAL_KEYS.partitionKey);
  await createTable(LOGICAL_IDS.idempotencyTable, IDEMPOTENCY_KEYS.partitionKey);
  await createTable(LOGICAL_IDS.priorityShipmentsTable, PRIORITY_SHIPMENT_KEYS.partitionKey);
  queues.notifications = sqsLocal.createQueue(LOGICAL_IDS.notificationQueue).queueUrl;
  queues.accountManagers = sqsLocal.createQueue(LOGICAL_IDS.accountManagerQueue).queueUrl;
  // What the local runtime sets from the template; the SDK honours the service-specific endpoint variables.
  Object.assign(process.env, {
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: ddbLocal.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsLocal.endpoint,
    [HANDLER_ENV.journalTable]: LOGICAL_IDS.journalTable,
    [HANDLER_ENV.idempotencyTable]: LOGICAL_IDS.idempotencyTable,
    [HANDLER_ENV.priorityShipmentsTable]: LOGICAL_IDS.priorityShipmentsTable,
    [HANDLER_ENV.notificationQueueUrl]: queues.notifications,
    [HANDLER_ENV.accountManagerQueueUrl]: queues.accountManagers,
    [HANDLER_ENV.journalTtlDays]: '7',
  });
});

afterAll(async () => {
  dynamodb?.destroy();
  streams?.destroy();
  sqs?.destroy();
  await Promise.all([ddbLocal?.stop(), sqsLocal?.stop()]);
});

async function createTable(name: string, key: string, withStream = false): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      ...(withStream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } } : {}),
    }),
  );
}

/**
 * A fresh container of a bundled function: config is read at import, so the pipe is set first; the query string
 * gives a new module instance (new clients, no in-memory state), as a retry on another Lambda instance would.
 */
let containers = 0;
async function coldStart(functionId: string, pipe: 'standard' | 'premium'): Promise<Handler> {
  process.env[HANDLER_ENV.pipe] = pipe;
  const module = (await import(`${bundles[functionId]}?container=${++containers}`)) as { handler: Handler };
  return module.handler;
}

async function withEnv<T>(variables: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const previous = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  try {
    return await fn();
  } finally {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

async function putOrder(order: Record<string, unknown>): Promise<void> {
  const item = Object.fromEntries(
    Object.entries(order).map(([k, v]) => [k, typeof v === 'number' ? { N: String(v) } : { S: String(v) }]),
  );
  await dynamodb.send(new PutItemCommand({ TableName: LOGICAL_IDS.ordersTable, Item: item }));
}

async function ship(orderId: string): Promise<void> {
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: LOGICAL_IDS.ordersTable,
      Key: { orderId: { S: orderId } },
      UpdateExpression: 'SET orderStatus = :shipped',
      ExpressionAttributeValues: { ':shipped': { S: 'shipped' } },
    }),
  );
}

/** Every record of the Orders stream, shaped as a pipe delivers it (Pipes adds eventSourceARN; times in seconds). */
async function captureStream(): Promise<StreamRecord[]> {
  const table = await dynamodb.send(new DescribeTableCommand({ TableName: LOGICAL_IDS.ordersTable }));
  const streamArn = table.Table?.LatestStreamArn ?? expect.fail('Orders table has no stream');
  const description = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const records: StreamRecord[] = [];
  for (const shard of description.StreamDescription?.Shards ?? []) {
    let iterator = (
      await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      if (!page.Records?.length) break;
      records.push(...page.Records.map((r) => asPipeDelivers(r, streamArn)));
      iterator = page.NextShardIterator;
    }
  }
  return records;
}

function asPipeDelivers(record: SdkStreamRecord, streamArn: string): StreamRecord {
  const { ApproximateCreationDateTime: created, ...dynamodbPart } = record.dynamodb ?? {};
  return JSON.parse(
    JSON.stringify({
      ...record,
      eventSourceARN: streamArn,
      dynamodb: { ...dynamodbPart, ApproximateCreationDateTime: Math.floor((created?.getTime() ?? 0) / 1000) },
    }),
  ) as StreamRecord;
}

function recordsOf(records: StreamRecord[], orderId: string): StreamRecord[] {
  return records.filter((r) => r.dynamodb.Keys.orderId?.S === orderId);
}

async function receiveAll(queueUrl: string): Promise<{ body: unknown; type?: string }[]> {
  const result = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
  );
  return (result.Messages ?? []).map((m) => ({
    body: JSON.parse(m.Body ?? 'null'),
    type: m.MessageAttributes?.type?.StringValue,
  }));
}

async function journalEntry(pipe: 'standard' | 'premium', eventId: string) {
  const item = await dynamodb.send(
    new GetItemCommand({
      TableName: LOGICAL_IDS.journalTable,
      Key: { [JOURNAL_KEYS.partitionKey]: { S: journalRecordKey(pipe, eventId) } },
      ConsistentRead: true,
    }),
  );
  return item.Item ? journalEntrySchema.parse(unmarshall(item.Item)) : undefined;
}

const lambdaContext = {
  functionName: 'OrderProcessorFunction',
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:OrderProcessorFunction',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 30_000,
};

describe('bundled processors against DynamoDB Local and SQS', () => {
  it('standard: notifies once across a retried batch, journals the bad record, reports it by eventID', async () => {
    await putOrder({
      orderId: 'std-good',
      customerEmail: 'ann@example.org',
      orderAmount: 150,
      orderStatus: 'pending',
      orderDate: '2026-11-24T09:00:00Z',
    });
    await putOrder({
      orderId: 'std-small',
      customerEmail: 'bob@example.org',
      orderAmount: 40,
      orderStatus: 'pending',
      orderDate: '2026-11-24T09:00:00Z',
    });
    await putOrder({
      orderId: 'std-bad',
      customerEmail: 'not-an-email',
      orderAmount: 300,
      orderStatus: 'pending',
      orderDate: '2026-11-24T09:00:00Z',
    });
    await ship('std-good');
    const captured = await captureStream();
    const [goodInsert, goodModify] = recordsOf(captured, 'std-good');
    const [small] = recordsOf(captured, 'std-small');
    const [bad] = recordsOf(captured, 'std-bad');
    if (!goodInsert || !goodModify || !small || !bad) return expect.fail('stream records missing');
    expect(goodModify.dynamodb.OldImage?.orderStatus).toEqual({ S: 'pending' });
    const batch = [goodInsert, small, bad, goodModify];

    const first = await captureOutput(async () =>
      (await coldStart('OrderProcessorFunction', 'standard'))(batch, lambdaContext),
    );
    expect(first.result).toEqual({ batchItemFailures: [{ itemIdentifier: bad.eventID }] });
    const metrics = emfMetrics(first.lines);
    expect(metrics.find((m) => m.name === 'GuardRejected')?.dimensions).toMatchObject({
      Pipe: 'standard',
      Clause: 'amount-over-100',
      service: 'orderflow',
    });
    expect(metrics.find((m) => m.name === 'RecordsProcessed')?.value).toBe(2);
    expect(metrics.find((m) => m.name === 'OrderValue')?.value).toBe(300);
    expect(first.lines.join('\n')).not.toContain('ann@example.org');
    expect(jsonLines(first.lines).find((l) => l.message === 'record processed')).toMatchObject({
      pipe: 'standard',
      customerEmail: 'a***@example.org',
    });

    const notifications = await receiveAll(queues.notifications ?? '');
    expect(notifications).toHaveLength(2);
    const bodies = notifications.map((n) => orderProcessedV1.parse(n.body));
    expect(bodies.map((b) => b.notificationId).sort()).toEqual(
      [`standard:${goodInsert.eventID}`, `standard:${goodModify.eventID}`].sort(),
    );
    expect(bodies.find((b) => b.change.eventName === 'MODIFY')?.change.previousStatus).toBe('pending');
    expect(notifications.every((n) => n.type === 'OrderProcessed')).toBe(true);

    const idempotencyItem = await dynamodb.send(
      new GetItemCommand({
        TableName: LOGICAL_IDS.idempotencyTable,
        Key: { id: { S: idempotencyRecordId('standard', goodInsert.eventID) } },
      }),
    );
    expect(idempotencyItem.Item?.status?.S).toBe('COMPLETED');

    const entry = await journalEntry('standard', bad.eventID);
    expect(entry).toMatchObject({
      pipe: 'standard',
      eventId: bad.eventID,
      sequenceNumber: bad.dynamodb.SequenceNumber,
      orderId: 'std-bad',
      errorName: 'OrderValidationError',
      classification: 'permanent',
      attempts: 1,
      recordTruncated: false,
    });
    expect(entry?.errorMessage).toContain('customerEmail');
    expect(JSON.parse(entry?.record ?? '{}')).toEqual(bad);
    expect(entry?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 6 * 86_400);

    // The pipe retries the batch (another container): effects are not applied again, the journal counts the attempt.
    // That container starts as Lambda starts one (AWS_EXECUTION_ENV set), so the Tracer and the X-Ray SDK are loaded
    // and the clients instrumented; with no X-Ray daemon here a missing segment is ignored, as in the local runtime.
    const retry = await withEnv(
      { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR' },
      () => captureOutput(async () => (await coldStart('OrderProcessorFunction', 'standard'))(batch, lambdaContext)),
    );
    expect(retry.result).toEqual({ batchItemFailures: [{ itemIdentifier: bad.eventID }] });
    expect(await receiveAll(queues.notifications ?? '')).toEqual([]);
    expect(retry.lines.filter((l) => l.includes('effects not repeated'))).toHaveLength(2);
    expect(emfMetrics(retry.lines).find((m) => m.name === 'OrderValue')).toBeUndefined();
    const retried = await journalEntry('standard', bad.eventID);
    expect(retried?.attempts).toBe(2);
    expect(retried?.firstFailureAt).toBe(entry?.firstFailureAt);
  });

  it('premium: marks the order once and notifies account managers once', async () => {
    await putOrder({
      orderId: 'vip-1',
      customerEmail: 'vip@example.com',
      orderAmount: 2500,
      orderStatus: 'pending',
      orderDate: '2026-11-24T09:00:00Z',
    });
    await ship('vip-1');
    const [insert, modify] = recordsOf(await captureStream(), 'vip-1');
    if (!insert || !modify) return expect.fail('stream records missing');

    const handler = await coldStart('PremiumOrderProcessorFunction', 'premium');
    const { result } = await captureOutput(() => handler([insert, modify], lambdaContext));
    expect(result).toEqual({ batchItemFailures: [] });
    const mark = await dynamodb.send(
      new GetItemCommand({ TableName: LOGICAL_IDS.priorityShipmentsTable, Key: { orderId: { S: 'vip-1' } } }),
    );
    expect(mark.Item?.eventId?.S).toBe(modify.eventID);
    const [message, ...others] = await receiveAll(queues.accountManagers ?? '');
    expect(others).toEqual([]);
    const body = premiumOrderShippedV1.parse(message?.body);
    expect(body).toMatchObject({
      notificationId: `premium:${modify.eventID}`,
      order: { orderId: 'vip-1', orderAmount: 2500 },
    });
    expect(body.priorityShipping.markedAt).toBe(mark.Item?.markedAt?.S);

    const again = await captureOutput(async () =>
      (await coldStart('PremiumOrderProcessorFunction', 'premium'))({ Records: [modify] }, lambdaContext),
    );
    expect(again.result).toEqual({ batchItemFailures: [] });
    expect(await receiveAll(queues.accountManagers ?? '')).toEqual([]);
  });

  it('journals an oversized record within the item limit and an element with no eventID under a stable id', async () => {
    await putOrder({
      orderId: 'std-huge',
      customerEmail: 'hugo@example.org',
      orderAmount: 500,
      orderStatus: 'pending',
      orderDate: '2026-11-24T09:00:00Z',
    });
    const [captured] = recordsOf(await captureStream(), 'std-huge');
    if (!captured) return expect.fail('stream record missing');
    // Over DynamoDB's 400 KB item limit if journaled whole; the 600,000-character id also fails the order schema.
    const huge = structuredClone(captured);
    huge.eventID = `${captured.eventID}-huge`;
    huge.dynamodb.NewImage = { ...huge.dynamodb.NewImage, orderId: { S: 'h'.repeat(600_000) } };
    const shapeless = { hello: 'not a stream record' };

    const { result } = await captureOutput(async () =>
      (await coldStart('OrderProcessorFunction', 'standard'))([huge, shapeless], lambdaContext),
    );
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['', huge.eventID]);
    const hugeEntry = await journalEntry('standard', huge.eventID);
    expect(hugeEntry).toMatchObject({ recordTruncated: true, errorName: 'OrderValidationError', orderId: 'std-huge' });
    expect(Buffer.byteLength(hugeEntry?.record ?? '')).toBeLessThanOrEqual(JOURNAL_RECORD_MAX_BYTES);
    const scan = await dynamodb.send(new ScanCommand({ TableName: LOGICAL_IDS.journalTable, ConsistentRead: true }));
    const unidentified = (scan.Items ?? [])
      .map((item) => unmarshall(item))
      .filter((item) => String(item.eventId).startsWith('unidentified-'));
    expect(unidentified).toHaveLength(1);
    expect(journalEntrySchema.parse(unidentified[0])).toMatchObject({
      errorName: 'StreamRecordError',
      classification: 'permanent',
      sequenceNumber: '',
    });
  });

  it('fails a cold start with the name of a missing variable', async () => {
    const saved = process.env[HANDLER_ENV.notificationQueueUrl];
    delete process.env[HANDLER_ENV.notificationQueueUrl];
    try {
      await expect(coldStart('OrderProcessorFunction', 'standard')).rejects.toThrow(
        /NOTIFICATION_QUEUE_URL is missing/,
      );
    } finally {
      process.env[HANDLER_ENV.notificationQueueUrl] = saved;
    }
  });
});
