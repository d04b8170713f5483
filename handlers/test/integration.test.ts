import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { type DynamoDbLocal, LOCAL_CREDENTIALS, type LocalSqs, startDynamoDbLocal, startSqs } from '@orderflow/local';
import {
  HANDLER_ENV,
  IDEMPOTENCY_KEYS,
  JOURNAL_KEYS,
  JOURNAL_RECORD_MAX_BYTES,
  journalRecordKey,
  LOGICAL_IDS,
  type PipeKey,
  PRIORITY_SHIPMENT_KEYS,
} from '@orderflow/pipeline/facts';
import {
  idempotencyRecordId,
  journalEntrySchema,
  orderProcessedV1,
  premiumOrderShippedV1,
  type StreamRecord,
} from '@orderflow/pipeline/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
async function coldStart(functionId: string, pipe: PipeKey): Promise<Handler> {
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

async function journalEntry(pipe: PipeKey, eventId: string) {
  const item = await dynamodb.send(
    new GetItemCommand({
      TableName: LOGICAL_IDS.journalTable,
      Key: { [JOURNAL_KEYS.partitionKey]: { S: journalRecordKey(pipe, eventId) } },
      ConsistentRead: true,
    }),
  );
  return item.Item ? journalEntrySchema.parse(unmarshall(item.Item)) : undefined;
}

/** One SendMessage seen by the proxy, with when it reached the proxy and when the proxy answered. */
interface ObservedSend {
  readonly notificationId: string;
  readonly orderId: string;
  readonly startedAt: number;
  endedAt: number;
}

/**
 * A real HTTP proxy in front of the SQS emulator that holds every SendMessage for `delayMs` (a slow downstream) and
 * answers the ones whose notification id is in `failing` with a client error, recording what was in flight when.
 */
async function startSlowSqsProxy(target: string, delayMs: number) {
  const sends: ObservedSend[] = [];
  const failing = new Set<string>();
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const action = String(request.headers['x-amz-target'] ?? '');
    let send: ObservedSend | undefined;
    if (action.endsWith('.SendMessage')) {
      const message = JSON.parse(JSON.parse(body.toString('utf8')).MessageBody) as {
        notificationId: string;
        order: { orderId: string };
      };
      send = {
        notificationId: message.notificationId,
        orderId: message.order.orderId,
        startedAt: Date.now(),
        endedAt: 0,
      };
      sends.push(send);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    try {
      if (send && failing.has(send.notificationId)) {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ __type: 'com.amazonaws.sqs#InvalidAddress', message: 'injected by the test' }));
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => name !== 'host' && name !== 'connection'),
      ) as Record<string, string>;
      const upstream = await fetch(new URL(request.url ?? '/', target), { method: request.method, headers, body });
      response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
      response.end(Buffer.from(await upstream.arrayBuffer()));
    } finally {
      if (send) {
        send.endedAt = Date.now();
        inFlight--;
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sends,
    failing,
    maxInFlight: () => maxInFlight,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Whether two sends of the same order were ever in flight at once. */
function sameOrderOverlap(sends: readonly ObservedSend[]): boolean {
  return sends.some((a, i) =>
    sends.some((b, j) => i < j && a.orderId === b.orderId && a.startedAt < b.endedAt && b.startedAt < a.endedAt),
  );
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

  it('runs orders concurrently, one order in stream order, and holds its later records back after a failure', async () => {
    const order = (orderId: string) => ({
      orderId,
      customerEmail: 'kim@example.org',
      orderAmount: 250,
      orderStatus: 'pending',
      orderDate: '2026-11-24T09:00:00Z',
    });
    const concurrentIds = ['par-1', 'par-2', 'par-3', 'par-4', 'par-5'];
    for (const orderId of [...concurrentIds, 'seq-a', 'seq-b']) await putOrder(order(orderId));
    await ship('seq-a');
    const captured = await captureStream();
    const concurrent = concurrentIds.map((orderId) => recordsOf(captured, orderId)[0] ?? expect.fail(orderId));
    const [aInsert, aModify] = recordsOf(captured, 'seq-a');
    const [bInsert] = recordsOf(captured, 'seq-b');
    if (!aInsert || !aModify || !bInsert) return expect.fail('stream records missing');

    const delayMs = 400;
    const proxy = await startSlowSqsProxy(sqsLocal.endpoint, delayMs);
    try {
      await withEnv({ AWS_ENDPOINT_URL_SQS: proxy.endpoint }, async () => {
        const handler = await coldStart('OrderProcessorFunction', 'standard');
        // Five orders, each with one slow send: one after another they would take at least 5 × 400 ms.
        const started = Date.now();
        const { result } = await captureOutput(() => handler(concurrent, lambdaContext));
        const wallMs = Date.now() - started;
        expect(result).toEqual({ batchItemFailures: [] });
        expect(proxy.maxInFlight()).toBeGreaterThanOrEqual(2);
        expect(wallMs).toBeLessThan(concurrentIds.length * delayMs);

        // The first change of seq-a fails downstream: its later change must not be sent ahead of it.
        proxy.failing.add(`standard:${aInsert.eventID}`);
        const failed = await captureOutput(() => handler([aInsert, bInsert, aModify], lambdaContext));
        expect(failed.result).toEqual({
          batchItemFailures: [{ itemIdentifier: aInsert.eventID }, { itemIdentifier: aModify.eventID }],
        });
        expect(proxy.sends.filter((s) => s.orderId === 'seq-a').map((s) => s.notificationId)).toEqual([
          `standard:${aInsert.eventID}`,
        ]);
        expect(await journalEntry('standard', aInsert.eventID)).toMatchObject({ attempts: 1, orderId: 'seq-a' });
        expect(await journalEntry('standard', aModify.eventID)).toBeUndefined();

        // The pipe re-delivers from the first failed record; downstream has recovered.
        proxy.failing.clear();
        const retried = await captureOutput(() => handler([aInsert, bInsert, aModify], lambdaContext));
        expect(retried.result).toEqual({ batchItemFailures: [] });
      });
      const seqA = proxy.sends.filter((s) => s.orderId === 'seq-a');
      expect(seqA.map((s) => s.notificationId)).toEqual([
        `standard:${aInsert.eventID}`,
        `standard:${aInsert.eventID}`,
        `standard:${aModify.eventID}`,
      ]);
      expect(seqA[2]?.startedAt).toBeGreaterThanOrEqual(seqA[1]?.endedAt ?? Number.POSITIVE_INFINITY);
      // seq-b was sent once: the retry found it done (idempotency) and did not send it again.
      expect(proxy.sends.filter((s) => s.orderId === 'seq-b')).toHaveLength(1);
      expect(sameOrderOverlap(proxy.sends)).toBe(false);
    } finally {
      await proxy.close();
    }
    const delivered: string[] = [];
    for (let page = await receiveAll(queues.notifications ?? ''); page.length > 0; ) {
      delivered.push(...page.map((m) => orderProcessedV1.parse(m.body).notificationId));
      page = await receiveAll(queues.notifications ?? '');
    }
    expect(delivered.sort()).toEqual(
      [...concurrent, aInsert, bInsert, aModify].map((r) => `standard:${r.eventID}`).sort(),
    );
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
