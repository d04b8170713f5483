import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type DynamoDbLocal, LOCAL_CREDENTIALS, type LocalSqs, startDynamoDbLocal, startSqs } from '@orderflow/local';
import { compilePattern, pipeFilterOf } from '@orderflow/pipeline/engine';
import {
  ARCHIVER_METRICS,
  causePartition,
  counterKey,
  DEAD_LETTER_ARCHIVER_ENV,
  DEAD_LETTER_COUNTER_SHARDS,
  DEAD_LETTER_INDEX_PROJECTION,
  DEAD_LETTER_INDEXES,
  DEAD_LETTER_KEYS,
  DEAD_LETTER_RECORD_PREFIX,
  deadLetterKey,
  deadLetterShards,
  HANDLER_ENV,
  JOURNAL_KEYS,
  LOGICAL_IDS,
  METRICS_NAMESPACE,
  PIPES,
  pipeStatePartition,
} from '@orderflow/pipeline/facts';
import {
  assembleDeadLetterRecords,
  type DeadLetter,
  deadLetterCauseKey,
  parseDeadLetter,
  pipeRecordOf,
  type StreamRecord,
} from '@orderflow/pipeline/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleProcessors } from '../scripts/bundle.ts';
import { type ArchiverDependencies, archiveBatch } from '../src/dead-letters/archiver.ts';
import type { ArchiverConfig } from '../src/dead-letters/config.ts';
import { dynamoDbJournalLookup } from '../src/dead-letters/journal-lookup.ts';
import { dynamoDbDeadLetterStore } from '../src/dead-letters/store.ts';
import { processBatch } from '../src/processing/batch.ts';
import { dynamoDbFailureJournal } from '../src/processing/journal.ts';
import { maskingJsonReplacer } from '../src/processing/masking.ts';
import { captureOutput, emfMetrics, jsonLines, testDependencies } from './support.ts';

/*
 * The dead-letter archiver against DynamoDB Local (Orders table and stream, failure journal with its bySequence
 * index, the dead-letter store with its indexes) and the fauxqs SQS emulator (the pipe's DLQ): journal entries are
 * written by the processors' own batch code, DLQ bodies name real shards and sequence numbers of DynamoDB Local's
 * stream, and SQS events are built from messages received from the emulator, as an event source mapping does.
 */

const region = 'us-east-1';
const pipe = 'standard' as const;
const pipeArn = `arn:aws:pipes:${region}:000000000000:pipe/orderflow-standard`;
let ddbLocal: DynamoDbLocal;
let sqsLocal: LocalSqs;
let dynamodb: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let streams: DynamoDBStreamsClient;
let sqs: SQSClient;
let streamArn: string;
let dlq: { queueUrl: string; queueArn: string };
let config: ArchiverConfig;

beforeAll(async () => {
  [ddbLocal, sqsLocal] = await Promise.all([startDynamoDbLocal(), startSqs()]);
  const clientConfig = { region, credentials: LOCAL_CREDENTIALS };
  dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: ddbLocal.endpoint });
  documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  streams = new DynamoDBStreamsClient({ ...clientConfig, endpoint: ddbLocal.endpoint, maxAttempts: 1 });
  sqs = new SQSClient({ ...clientConfig, endpoint: sqsLocal.endpoint });
  await createTable({
    TableName: LOGICAL_IDS.ordersTable,
    KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  });
  const bySequence = JOURNAL_KEYS.sequenceIndex;
  await createTable({
    TableName: LOGICAL_IDS.journalTable,
    KeySchema: [{ AttributeName: JOURNAL_KEYS.partitionKey, KeyType: 'HASH' }],
    AttributeDefinitions: [
      { AttributeName: JOURNAL_KEYS.partitionKey, AttributeType: 'S' },
      { AttributeName: bySequence.partitionKey, AttributeType: 'S' },
      { AttributeName: bySequence.sortKey, AttributeType: 'S' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: bySequence.name,
        KeySchema: [
          { AttributeName: bySequence.partitionKey, KeyType: 'HASH' },
          { AttributeName: bySequence.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  });
  const indexes = Object.values(DEAD_LETTER_INDEXES);
  await createTable({
    TableName: LOGICAL_IDS.deadLetterTable,
    KeySchema: [
      { AttributeName: DEAD_LETTER_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: DEAD_LETTER_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      DEAD_LETTER_KEYS.partitionKey,
      DEAD_LETTER_KEYS.sortKey,
      ...indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
    ].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    GlobalSecondaryIndexes: indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...DEAD_LETTER_INDEX_PROJECTION] },
    })),
  });
  const orders = await dynamodb.send(new DescribeTableCommand({ TableName: LOGICAL_IDS.ordersTable }));
  streamArn = orders.Table?.LatestStreamArn ?? expect.fail('the Orders table has no stream');
  dlq = sqsLocal.createQueue(PIPES.standard.dlqId);
  config = {
    serviceName: 'orderflow-test',
    pipe,
    deadLetterTable: LOGICAL_IDS.deadLetterTable,
    journalTable: LOGICAL_IDS.journalTable,
    deadLetterQueueArn: dlq.queueArn,
    pipeArn,
    ordersStreamArn: streamArn,
  };
});

afterAll(async () => {
  for (const client of [dynamodb, streams, sqs]) client?.destroy();
  await Promise.all([ddbLocal?.stop(), sqsLocal?.stop()]);
});

async function createTable(input: Omit<CreateTableCommandInput, 'BillingMode'>): Promise<void> {
  await dynamodb.send(new CreateTableCommand({ ...input, BillingMode: 'PAY_PER_REQUEST' }));
}

const filter = compilePattern(pipeFilterOf(pipe), 'pipes');
const logger = new Logger({ serviceName: 'orderflow-test', jsonReplacerFn: maskingJsonReplacer, logLevel: 'ERROR' });

function dependencies(overrides: Partial<ArchiverDependencies> = {}): ArchiverDependencies {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'orderflow-test' });
  return {
    config,
    journal: dynamoDbJournalLookup(documents, LOGICAL_IDS.journalTable),
    streams,
    store: dynamoDbDeadLetterStore(documents, LOGICAL_IDS.deadLetterTable),
    pipeDelivers: (record) => filter.matches(record),
    logger,
    metrics,
    streamOptions: { sleep: async () => {} },
    ...overrides,
  };
}

let orderCount = 0;
/** Orders that pass the standard rule unless `image` says otherwise; answers their stream records, in order. */
async function writeOrders(images: Record<string, unknown>[]): Promise<StreamRecord[]> {
  const ids: string[] = [];
  for (const image of images) {
    const order = {
      orderId: `dl-${++orderCount}`,
      customerEmail: 'jane.doe@example.org',
      orderAmount: 150,
      orderStatus: 'pending',
      orderDate: '2026-11-24T09:00:00Z',
      ...image,
    };
    ids.push(order.orderId);
    await dynamodb.send(
      new PutItemCommand({
        TableName: LOGICAL_IDS.ordersTable,
        Item: Object.fromEntries(
          Object.entries(order).map(([k, v]) => [k, typeof v === 'number' ? { N: String(v) } : { S: String(v) }]),
        ),
      }),
    );
  }
  return (await streamRecords()).filter((record) => ids.includes(record.dynamodb.Keys.orderId?.S ?? ''));
}

async function ship(orderId: string): Promise<StreamRecord> {
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: LOGICAL_IDS.ordersTable,
      Key: { orderId: { S: orderId } },
      UpdateExpression: 'SET orderStatus = :shipped',
      ExpressionAttributeValues: { ':shipped': { S: 'shipped' } },
    }),
  );
  const records = (await streamRecords()).filter((record) => record.dynamodb.Keys.orderId?.S === orderId);
  return records.at(-1) ?? expect.fail(`no MODIFY record of ${orderId}`);
}

let shardId = '';
/** Every record of the Orders stream's (single, in DynamoDB Local) shard, shaped as a pipe delivers it. */
async function streamRecords(): Promise<StreamRecord[]> {
  const description = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const shard = description.StreamDescription?.Shards?.[0] ?? expect.fail('the stream has no shard');
  shardId = shard.ShardId ?? '';
  let iterator = (
    await streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
    )
  ).ShardIterator;
  const records: StreamRecord[] = [];
  while (iterator) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
    if (!page.Records?.length) break;
    records.push(...page.Records.map((record) => pipeRecordOf(record, streamArn)));
    iterator = page.NextShardIterator;
  }
  return records;
}

/** The processors' own batch code fails these records (a downstream fault) and journals each one. */
async function failInProcessor(records: StreamRecord[], message = 'connect ECONNREFUSED 10.0.3.7:443') {
  const { response } = await processBatch(
    records,
    testDependencies(pipe, {
      journal: dynamoDbFailureJournal(dynamodb, LOGICAL_IDS.journalTable),
      applyEffects: async () => {
        throw Object.assign(new Error(message), { code: 'ECONNREFUSED' });
      },
      logger: new Logger({ serviceName: 'orderflow-test', logLevel: 'SILENT' }),
    }),
  );
  expect(response.batchItemFailures).toHaveLength(records.length);
}

/** The body the pipe sends to its DLQ for a batch of these records (docs/AWS-FACTS.md, fact 7). */
function dlqBody(records: StreamRecord[], overrides: { batchSize?: number; shardId?: string; pipeArn?: string } = {}) {
  const first = records[0] ?? expect.fail('a batch has records');
  const last = records.at(-1) ?? first;
  const at = (record: StreamRecord) =>
    new Date((record.dynamodb.ApproximateCreationDateTime ?? 0) * 1000).toISOString();
  return JSON.stringify({
    context: { partnerResourceArn: overrides.pipeArn ?? pipeArn, condition: 'RetryAttemptsExhausted' },
    version: '1.0',
    timestamp: '2026-11-24T10:05:00.000Z',
    DDBStreamBatchInfo: {
      shardId: overrides.shardId ?? shardId,
      startSequenceNumber: first.dynamodb.SequenceNumber,
      endSequenceNumber: last.dynamodb.SequenceNumber,
      approximateArrivalOfFirstRecord: at(first),
      approximateArrivalOfLastRecord: at(last),
      batchSize: overrides.batchSize ?? records.length,
      streamArn,
    },
  });
}

/** Sends the bodies to the DLQ and receives them as an event source mapping does: an SQS event of those messages. */
async function sqsEvent(bodies: string[]) {
  for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: dlq.queueUrl, MessageBody: body }));
  const messages = [];
  while (messages.length < bodies.length) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq.queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
        VisibilityTimeout: 300,
        WaitTimeSeconds: 1,
      }),
    );
    messages.push(...(answer.Messages ?? []));
  }
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: message.Attributes ?? {},
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: dlq.queueArn,
      awsRegion: region,
    })),
  };
}

async function deadLetter(id: string): Promise<DeadLetter | undefined> {
  const answer = await documents.send(
    new GetCommand({ TableName: LOGICAL_IDS.deadLetterTable, Key: deadLetterKey(id), ConsistentRead: true }),
  );
  return answer.Item ? parseDeadLetter(answer.Item) : undefined;
}

async function recordsOf(id: string): Promise<StreamRecord[]> {
  const answer = await documents.send(
    new QueryCommand({
      TableName: LOGICAL_IDS.deadLetterTable,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :records)',
      ExpressionAttributeValues: { ':pk': deadLetterKey(id).pk, ':records': DEAD_LETTER_RECORD_PREFIX },
      ConsistentRead: true,
    }),
  );
  return assembleDeadLetterRecords(answer.Items ?? []).map(({ json }) => JSON.parse(json) as StreamRecord);
}

/** The exact count of open dead letters of a cause: the sum of its counter over every shard. */
async function openCount(causeKey: string): Promise<number> {
  let total = 0;
  for (let shard = 0; shard < DEAD_LETTER_COUNTER_SHARDS; shard++) {
    const answer = await documents.send(
      new GetCommand({
        TableName: LOGICAL_IDS.deadLetterTable,
        Key: counterKey(pipe, shard, 'open', causeKey),
        ConsistentRead: true,
      }),
    );
    total += Number(answer.Item?.count ?? 0);
  }
  return total;
}

describe('DeadLetterArchiver', () => {
  it('captures a batch whose records failed in the processor from the journal alone, without reading the stream', async () => {
    const records = await writeOrders([{}, { orderAmount: 420 }, {}]);
    await failInProcessor(records, 'connect ECONNREFUSED 10.0.3.7:443');
    const event = await sqsEvent([dlqBody(records)]);
    const before = await openCount(deadLetterCauseKey('Error: connect ECONNREFUSED <ip>:<port>'));

    const { response, outcomes, stream } = await archiveBatch(event, dependencies());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(stream).toEqual({ getShardIterator: 0, getRecords: 0, throttled: 0 });
    const id = event.Records[0]?.messageId ?? '';
    expect(outcomes).toEqual([{ outcome: 'captured', id, kind: 'batch' }]);
    const stored = (await deadLetter(id)) ?? expect.fail('no dead letter');
    expect(stored).toMatchObject({
      id,
      kind: 'batch',
      pipe,
      state: 'open',
      failedAt: '2026-11-24T10:05:00.000Z',
      firstFailureAt: '2026-11-24T10:00:00.000Z',
      lastFailureAt: '2026-11-24T10:00:00.000Z',
      cause: {
        signature: 'Error: connect ECONNREFUSED <ip>:<port>',
        message: 'connect ECONNREFUSED 10.0.3.7:443',
        errorName: 'Error',
      },
      orderIds: records.map((record) => record.dynamodb.Keys.orderId?.S),
      expectedRecords: 3,
      recordCount: 3,
      missingRecords: 0,
      sources: { journal: 3, stream: 0 },
      dlqBody: event.Records[0]?.body,
      sqs: { messageId: id, queueArn: dlq.queueArn, receiveCount: 1 },
    });
    expect(stored.records.map((record) => [record.eventId, record.source, record.error?.classification])).toEqual(
      records.map((record) => [record.eventID, 'journal', 'transient']),
    );
    expect(stored.records[0]?.error).toMatchObject({ name: 'Error', attempts: 1 });
    expect(await recordsOf(id)).toEqual(records);
    expect(await openCount(stored.cause.key)).toBe(before + 1);

    // Indexed: by pipe and state (its shard), by cause, and each order links to it.
    const shard = deadLetterShards(id).index;
    const byPipe = await documents.send(
      new QueryCommand({
        TableName: LOGICAL_IDS.deadLetterTable,
        IndexName: DEAD_LETTER_INDEXES.byPipeState.name,
        KeyConditionExpression: '#key = :key',
        ExpressionAttributeNames: { '#key': DEAD_LETTER_INDEXES.byPipeState.partitionKey },
        ExpressionAttributeValues: { ':key': pipeStatePartition(pipe, 'open', shard) },
      }),
    );
    expect(byPipe.Items?.map((item) => item.id)).toContain(id);
    expect(Object.keys(byPipe.Items?.[0] ?? {}).sort()).toEqual(
      [
        ...DEAD_LETTER_INDEX_PROJECTION,
        DEAD_LETTER_KEYS.partitionKey,
        DEAD_LETTER_KEYS.sortKey,
        DEAD_LETTER_INDEXES.byPipeState.partitionKey,
        DEAD_LETTER_INDEXES.byPipeState.sortKey,
      ].sort(),
    );
    const byCause = await documents.send(
      new QueryCommand({
        TableName: LOGICAL_IDS.deadLetterTable,
        IndexName: DEAD_LETTER_INDEXES.byCause.name,
        KeyConditionExpression: '#key = :key AND begins_with(#sort, :open)',
        ExpressionAttributeNames: {
          '#key': DEAD_LETTER_INDEXES.byCause.partitionKey,
          '#sort': DEAD_LETTER_INDEXES.byCause.sortKey,
        },
        ExpressionAttributeValues: { ':key': causePartition(stored.cause.key, shard), ':open': 'open#' },
      }),
    );
    expect(byCause.Items?.map((item) => item.id)).toContain(id);
    const orderId = records[1]?.dynamodb.Keys.orderId?.S ?? '';
    const links = await documents.send(
      new QueryCommand({
        TableName: LOGICAL_IDS.deadLetterTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `order#${orderId}` },
        ConsistentRead: true,
      }),
    );
    expect(links.Items).toEqual([
      expect.objectContaining({ id, pipe, failedAt: '2026-11-24T10:05:00.000Z', sk: `2026-11-24T10:05:00.000Z#${id}` }),
    ]);
  });

  it('reads the stream for an invocation-level failure (nothing journaled): both images, only what the pipe delivers', async () => {
    const [first] = await writeOrders([{}]);
    // In the range but in no batch: the pipe's filter drops a cancelled order.
    const [cancelled] = await writeOrders([{ orderStatus: 'cancelled' }]);
    const shipped = await ship(first?.dynamodb.Keys.orderId?.S ?? '');
    const [last] = await writeOrders([{}]);
    const batch = [first, shipped, last] as StreamRecord[];
    const event = await sqsEvent([dlqBody(batch)]);

    const { response, stream } = await archiveBatch(event, dependencies());

    expect(response.batchItemFailures).toEqual([]);
    expect(stream).toMatchObject({ getShardIterator: 1, throttled: 0 });
    const id = event.Records[0]?.messageId ?? '';
    const stored = (await deadLetter(id)) ?? expect.fail('no dead letter');
    expect(stored).toMatchObject({
      cause: {
        errorName: 'InvocationFailure',
        signature:
          'InvocationFailure: RetryAttemptsExhausted: no record of the batch has a failure journal entry, so the invocation itself failed (a timeout, a crash, throttling or an error response)',
      },
      sources: { journal: 0, stream: 3 },
      expectedRecords: 3,
      recordCount: 3,
      missingRecords: 0,
      orderIds: [first?.dynamodb.Keys.orderId?.S, last?.dynamodb.Keys.orderId?.S],
    });
    expect(stored.records.map((record) => [record.eventId, record.eventName, record.source])).toEqual(
      batch.map((record) => [record.eventID, record.eventName, 'stream']),
    );
    const kept = await recordsOf(id);
    expect(kept).toEqual(batch);
    expect(kept.map((record) => record.eventID)).not.toContain(cancelled?.eventID);
    const modify = kept[1];
    expect(modify?.dynamodb.OldImage?.orderStatus).toEqual({ S: 'pending' });
    expect(modify?.dynamodb.NewImage?.orderStatus).toEqual({ S: 'shipped' });
  });

  it('records a record the stream has trimmed as missing, and keeps what the journal had', async () => {
    const [journaled, lost] = await writeOrders([{}, {}]);
    await failInProcessor([journaled as StreamRecord], 'TimeoutError: SQS did not answer in 3012 ms');
    const event = await sqsEvent([dlqBody([journaled as StreamRecord, lost as StreamRecord])]);
    // DynamoDB Local keeps records for ever; AWS trims them after 24 hours (TrimmedDataAccessException).
    const trimmed = new Proxy(streams, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return async (command: { constructor: { name: string } }) => {
          if (command.constructor.name === 'GetShardIteratorCommand') {
            throw new TrimmedDataAccessException({ message: 'records trimmed', $metadata: {} });
          }
          return target.send(command as never);
        };
      },
    });

    const { response } = await archiveBatch(event, dependencies({ streams: trimmed }));

    expect(response.batchItemFailures).toEqual([]);
    const stored = (await deadLetter(event.Records[0]?.messageId ?? '')) ?? expect.fail('no dead letter');
    expect(stored).toMatchObject({
      expectedRecords: 2,
      recordCount: 1,
      missingRecords: 1,
      missingReason: 'the stream no longer holds these records (TrimmedDataAccessException)',
      sources: { journal: 1, stream: 0 },
      orderIds: [journaled?.dynamodb.Keys.orderId?.S],
      cause: { signature: 'Error: TimeoutError: SQS did not answer in <n> ms' },
    });
    expect(await recordsOf(stored.id)).toEqual([journaled]);
  });

  it('takes a record the journal kept truncated from the stream, whole, across items, with its journaled error', async () => {
    // An order near DynamoDB's 400 KB item limit: the journal keeps 350 KB of its record (recordTruncated).
    const [big] = await writeOrders([{ notes: 'n'.repeat(370 * 1024) }]);
    await failInProcessor([big as StreamRecord]);
    const event = await sqsEvent([dlqBody([big as StreamRecord])]);

    const { response, stream } = await archiveBatch(event, dependencies());

    expect(response.batchItemFailures).toEqual([]);
    expect(stream.getShardIterator).toBe(1);
    const stored = (await deadLetter(event.Records[0]?.messageId ?? '')) ?? expect.fail('no dead letter');
    expect(stored.records).toEqual([
      expect.objectContaining({
        eventId: big?.eventID,
        source: 'stream',
        truncated: false,
        error: expect.objectContaining({ signature: 'Error: connect ECONNREFUSED <ip>:<port>' }),
      }),
    ]);
    const parts = await documents.send(
      new QueryCommand({
        TableName: LOGICAL_IDS.deadLetterTable,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :records)',
        ExpressionAttributeValues: { ':pk': deadLetterKey(stored.id).pk, ':records': DEAD_LETTER_RECORD_PREFIX },
      }),
    );
    expect(parts.Items?.length).toBe(2);
    expect(await recordsOf(stored.id)).toEqual([big]);
  });

  it('keeps malformed and foreign bodies as malformed dead letters, raw body and reasons, reading nothing', async () => {
    const [record] = await writeOrders([{}]);
    const foreign = dlqBody([record as StreamRecord], {
      pipeArn: 'arn:aws:pipes:us-east-1:000000000000:pipe/someone-else',
    });
    const notJson = 'not a pipe message {';
    const event = await sqsEvent([notJson, foreign]);

    const { response, outcomes, stream } = await archiveBatch(event, dependencies());

    expect(response.batchItemFailures).toEqual([]);
    expect(outcomes.map((outcome) => outcome.outcome === 'captured' && outcome.kind)).toEqual([
      'malformed',
      'malformed',
    ]);
    expect(stream.getShardIterator).toBe(0);
    const byBody = new Map(event.Records.map((message) => [message.body, message.messageId]));
    const broken = (await deadLetter(byBody.get(notJson) ?? '')) ?? expect.fail('no dead letter');
    expect(broken).toMatchObject({
      kind: 'malformed',
      pipe,
      state: 'open',
      dlqBody: notJson,
      recordCount: 0,
      expectedRecords: 0,
      cause: { errorName: 'MalformedDlqMessage' },
    });
    expect(broken.problems?.[0]).toMatch(/^body is not JSON/);
    expect(broken.batch).toBeUndefined();
    const stranger = (await deadLetter(byBody.get(foreign) ?? '')) ?? expect.fail('no dead letter');
    expect(stranger.dlqBody).toBe(foreign);
    expect(stranger.problems).toEqual([
      `context.partnerResourceArn: arn:aws:pipes:us-east-1:000000000000:pipe/someone-else is not this DLQ's pipe (${pipeArn})`,
    ]);
    expect(stranger.cause.signature).toBe(
      "MalformedDlqMessage: context.partnerResourceArn: <arn> is not this DLQ's pipe (<arn>)",
    );
  });

  it('is idempotent on the SQS message id: a redelivered message is a success that writes nothing', async () => {
    const records = await writeOrders([{}]);
    await failInProcessor(records, 'connect ETIMEDOUT 10.0.4.2:443');
    const event = await sqsEvent([dlqBody(records)]);
    const id = event.Records[0]?.messageId ?? '';
    await archiveBatch(event, dependencies());
    const first = await deadLetter(id);
    const count = await openCount(first?.cause.key ?? '');

    const again = await archiveBatch(event, dependencies());

    expect(again.response.batchItemFailures).toEqual([]);
    expect(again.outcomes).toEqual([{ outcome: 'already-captured', id }]);
    expect(again.stream.getShardIterator).toBe(0);
    expect(await deadLetter(id)).toEqual(first);
    expect(await openCount(first?.cause.key ?? '')).toBe(count);
    expect(count).toBe(1);

    // Two deliveries racing past the existence check: the conditional put lets one transaction through.
    const racing = await Promise.all([
      archiveBatch(event, dependencies({ store: raceStore() })),
      archiveBatch(event, dependencies({ store: raceStore() })),
    ]);
    expect(racing.flatMap((run) => run.outcomes)).toEqual([
      { outcome: 'already-captured', id },
      { outcome: 'already-captured', id },
    ]);
    expect(await openCount(first?.cause.key ?? '')).toBe(1);
  });

  it('reports only the message whose store write failed, and loses nothing it accepted', async () => {
    const records = await writeOrders([{}, {}]);
    await failInProcessor(records, 'connect ECONNRESET 10.0.5.5:443');
    const brokenBody = `{"not":"a pipe message","n":${Date.now()}}`;
    // The cause the archiver gives that body, learned by capturing a copy of it.
    const probe = await sqsEvent([brokenBody]);
    await archiveBatch(probe, dependencies());
    const causeKey = (await deadLetter(probe.Records[0]?.messageId ?? ''))?.cause.key ?? expect.fail('no probe');
    const event = await sqsEvent([dlqBody(records.slice(0, 1)), brokenBody, dlqBody(records.slice(1))]);
    const broken = event.Records.find((message) => message.body === brokenBody) ?? expect.fail('no broken message');
    // A real DynamoDB failure for that message only: its counter holds a string, so `ADD count 1` is refused and
    // its transaction cancelled (ValidationError).
    const counter = counterKey(pipe, deadLetterShards(broken.messageId).counter, 'open', causeKey);
    await documents.send(
      new PutCommand({ TableName: LOGICAL_IDS.deadLetterTable, Item: { ...counter, count: 'not a number' } }),
    );

    const { response, outcomes } = await archiveBatch(event, dependencies());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: broken.messageId }]);
    expect(outcomes).toHaveLength(2);
    for (const message of event.Records.filter((m) => m !== broken)) {
      expect(await deadLetter(message.messageId)).toMatchObject({ state: 'open', recordCount: 1 });
    }
    expect(await deadLetter(broken.messageId)).toBeUndefined();

    // The event source mapping leaves it in the DLQ; once the fault is gone, its redelivery is stored, and counted.
    await documents.send(new DeleteCommand({ TableName: LOGICAL_IDS.deadLetterTable, Key: counter }));
    const retried = await archiveBatch({ Records: [broken] }, dependencies());
    expect(retried.response.batchItemFailures).toEqual([]);
    expect(await deadLetter(broken.messageId)).toMatchObject({ kind: 'malformed', dlqBody: brokenBody });
    const counted = await documents.send(
      new GetCommand({ TableName: LOGICAL_IDS.deadLetterTable, Key: counter, ConsistentRead: true }),
    );
    expect(counted.Item?.count).toBe(1);
  });

  it('reads one shard once for all the messages of an invocation that need it', async () => {
    const first = await writeOrders([{}, {}]);
    const second = await writeOrders([{}, {}]);
    const event = await sqsEvent([dlqBody(first), dlqBody(second)]);

    const { response, stream } = await archiveBatch(event, dependencies());

    expect(response.batchItemFailures).toEqual([]);
    expect(stream.getShardIterator).toBe(1);
    for (const records of [first, second]) {
      // Messages arrive in any order: each is found by its body's range.
      const body = dlqBody(records);
      const message = event.Records.find((m) => m.body === body) ?? expect.fail('no message');
      const stored = await deadLetter(message.messageId);
      expect(stored?.records.map((record) => [record.eventId, record.source])).toEqual(
        records.map((record) => [record.eventID, 'stream']),
      );
    }
  });

  it('refuses a message of another queue, leaving it for its own consumer', async () => {
    const event = await sqsEvent(['{}']);
    const message = {
      ...(event.Records[0] as (typeof event.Records)[number]),
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:other',
    };

    const { response } = await archiveBatch({ Records: [message] }, dependencies());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: message.messageId }]);
    expect(await deadLetter(message.messageId)).toBeUndefined();
  });

  it('runs as bundled: configuration from the environment, partial batch response, EMF metrics per pipe', async () => {
    const built = await bundleProcessors();
    const bundle = built.find((output) => output.functionId === 'DeadLetterArchiverFunction');
    const records = await writeOrders([{}]);
    await failInProcessor(records);
    const event = await sqsEvent([dlqBody(records)]);
    Object.assign(process.env, {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: ddbLocal.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: ddbLocal.endpoint,
      [HANDLER_ENV.pipe]: pipe,
      [DEAD_LETTER_ARCHIVER_ENV.deadLetterTable]: LOGICAL_IDS.deadLetterTable,
      [HANDLER_ENV.journalTable]: LOGICAL_IDS.journalTable,
      [DEAD_LETTER_ARCHIVER_ENV.deadLetterQueueArn]: dlq.queueArn,
      [DEAD_LETTER_ARCHIVER_ENV.pipeArn]: pipeArn,
      [DEAD_LETTER_ARCHIVER_ENV.ordersStreamArn]: streamArn,
    });
    const { handler } = (await import(`${bundle?.file ?? expect.fail('no archiver bundle')}?cold=1`)) as {
      handler: (event: unknown) => Promise<{ batchItemFailures: unknown[] }>;
    };

    const { result, lines } = await captureOutput(() => handler(event));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(await deadLetter(event.Records[0]?.messageId ?? '')).toMatchObject({ recordCount: 1 });
    const captured = emfMetrics(lines).filter((m) => m.name === ARCHIVER_METRICS.deadLettersCaptured.name);
    expect(captured).toEqual([
      {
        name: ARCHIVER_METRICS.deadLettersCaptured.name,
        value: 1,
        dimensions: expect.objectContaining({ Pipe: pipe }),
      },
    ]);
    expect(jsonLines(lines).some((line) => line.message === 'dead letter stored')).toBe(true);
  });
});

/** A store whose existence check always answers "not yet": both deliveries reach the conditional transaction. */
function raceStore() {
  const store = dynamoDbDeadLetterStore(documents, LOGICAL_IDS.deadLetterTable);
  return { ...store, exists: async () => false };
}
