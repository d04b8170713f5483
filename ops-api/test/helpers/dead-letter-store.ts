import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  causeSignature,
  counterKey,
  DEAD_LETTER_INDEX_PROJECTION,
  DEAD_LETTER_INDEXES,
  DEAD_LETTER_KEYS,
  type DeadLetterState,
  deadLetterBodyKey,
  deadLetterIndexKeys,
  deadLetterKey,
  deadLetterRecordKey,
  deadLetterShards,
  type ErrorDescription,
  orderLinkKey,
  type PipeKey,
} from '@orderflow/pipeline/facts';
import { deadLetterCauseKey, parseDeadLetter, splitUtf8 } from '@orderflow/pipeline/schemas';

/** The dead-letter store as the stack defines it (pipeline-data.ts): the keys, both sparse indexes, their projection. */
export async function createDeadLetterTable(raw: DynamoDBClient, name: string): Promise<void> {
  const indexes = Object.values(DEAD_LETTER_INDEXES);
  await raw.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [
        { AttributeName: DEAD_LETTER_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: DEAD_LETTER_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        DEAD_LETTER_KEYS.partitionKey,
        DEAD_LETTER_KEYS.sortKey,
        ...indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
      ].map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
      GlobalSecondaryIndexes: indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...DEAD_LETTER_INDEX_PROJECTION] },
      })),
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

export interface SeedDeadLetter {
  readonly id: string;
  readonly pipe: PipeKey;
  readonly state?: DeadLetterState;
  readonly failedAt: string;
  readonly orderIds: readonly string[];
  readonly emails?: readonly string[];
  readonly cause: ErrorDescription;
  /** Records as the pipe delivered them; each split into parts of `partBytes` (default: the archiver's 350 KB). */
  readonly records?: readonly { eventId: string; sequenceNumber: string; json: string }[];
  /** The DLQ body; split into body items when over `inlineBodyBytes` (default: the archiver's 32 KB). */
  readonly body?: string;
}

const BATCH = 25;

/**
 * Writes dead letters as the archiver does (handlers/src/dead-letters/build.ts and store.ts, which ops-api may not
 * import): the dead letter item with its index keys, record parts, body parts, order links, and its counter moved by
 * one (here summed per counter and added once, so that seeding thousands conflicts with nothing). Items are built
 * with pipeline's key and schema functions and parsed with `parseDeadLetter`, so a layout change breaks this first.
 */
export async function seedDeadLetters(
  dynamodb: DynamoDBDocumentClient,
  table: string,
  letters: readonly SeedDeadLetter[],
  options: { partBytes?: number; inlineBodyBytes?: number } = {},
): Promise<void> {
  const partBytes = options.partBytes ?? 350 * 1024;
  const inlineBodyBytes = options.inlineBodyBytes ?? 32 * 1024;
  const items: Record<string, unknown>[] = [];
  const counters = new Map<
    string,
    {
      key: { pk: string; sk: string };
      add: number;
      pipe: PipeKey;
      state: DeadLetterState;
      causeKey: string;
      signature: string;
      message: string;
    }
  >();
  for (const letter of letters) {
    const state = letter.state ?? 'open';
    const signature = causeSignature(letter.cause);
    const causeKey = deadLetterCauseKey(signature);
    const body = letter.body ?? JSON.stringify({ seeded: letter.id });
    const bodyParts = Buffer.byteLength(body, 'utf8') > inlineBodyBytes ? splitUtf8(body, partBytes) : [];
    const records = letter.records ?? [];
    const deadLetter = parseDeadLetter({
      id: letter.id,
      kind: 'batch',
      pipe: letter.pipe,
      state,
      version: 1,
      failedAt: letter.failedAt,
      capturedAt: letter.failedAt,
      firstFailureAt: letter.failedAt,
      lastFailureAt: letter.failedAt,
      cause: { signature, message: letter.cause.errorMessage, errorName: letter.cause.errorName, key: causeKey },
      orderIds: [...letter.orderIds],
      emails: [...(letter.emails ?? [])],
      expectedRecords: records.length,
      recordCount: records.length,
      missingRecords: 0,
      sources: { journal: 0, stream: records.length },
      records: records.map((record, index) => ({
        eventId: record.eventId,
        sequenceNumber: record.sequenceNumber,
        ...(letter.orderIds[index] ? { orderId: letter.orderIds[index] } : {}),
        source: 'stream',
        truncated: false,
      })),
      dlqBody: bodyParts.length > 0 ? '' : body,
      dlqBodyParts: bodyParts.length,
      sqs: {
        messageId: letter.id,
        queueArn: `arn:aws:sqs:us-east-1:000000000000:${letter.pipe}-dlq`,
        sentAt: letter.failedAt,
        receiveCount: 1,
      },
    });
    const shards = deadLetterShards(letter.id);
    items.push({
      ...deadLetterKey(letter.id),
      ...deadLetter,
      shard: shards.counter,
      ...deadLetterIndexKeys({ id: letter.id, pipe: letter.pipe, state, failedAt: letter.failedAt, causeKey }),
    });
    for (const record of records) {
      const parts = splitUtf8(record.json, partBytes);
      parts.forEach((text, part) => {
        items.push({
          ...deadLetterRecordKey(letter.id, record, part),
          id: letter.id,
          eventId: record.eventId,
          sequenceNumber: record.sequenceNumber,
          source: 'stream',
          part,
          parts: parts.length,
          record: text,
        });
      });
    }
    bodyParts.forEach((text, part) => {
      items.push({ ...deadLetterBodyKey(letter.id, part), id: letter.id, part, parts: bodyParts.length, text });
    });
    for (const orderId of deadLetter.orderIds) {
      items.push({
        ...orderLinkKey(orderId, letter.failedAt, letter.id),
        id: letter.id,
        pipe: letter.pipe,
        failedAt: letter.failedAt,
      });
    }
    const key = counterKey(letter.pipe, shards.counter, state, causeKey);
    const id = `${key.pk}|${key.sk}`;
    const counter = counters.get(id) ?? {
      key,
      add: 0,
      pipe: letter.pipe,
      state,
      causeKey,
      signature,
      message: deadLetter.cause.message,
    };
    counter.add++;
    counters.set(id, counter);
  }
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += BATCH) chunks.push(items.slice(i, i + BATCH));
  await inParallel(chunks, 8, async (chunk) => {
    let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let round = 0; pending.length > 0; round++) {
      if (round >= 10) throw new Error(`seeding: ${pending.length} items unprocessed after ${round} rounds`);
      const answer = await dynamodb.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (answer.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  });
  await inParallel([...counters.values()], 8, async (counter) => {
    await dynamodb.send(
      new UpdateCommand({
        TableName: table,
        Key: counter.key,
        UpdateExpression:
          'ADD #count :add SET #pipe = :pipe, #state = :state, #causeKey = :causeKey, #signature = if_not_exists(#signature, :signature), #message = if_not_exists(#message, :message)',
        ExpressionAttributeNames: {
          '#count': 'count',
          '#pipe': 'pipe',
          '#state': 'state',
          '#causeKey': 'causeKey',
          '#signature': 'signature',
          '#message': 'message',
        },
        ExpressionAttributeValues: {
          ':add': counter.add,
          ':pipe': counter.pipe,
          ':state': counter.state,
          ':causeKey': counter.causeKey,
          ':signature': counter.signature,
          ':message': counter.message,
        },
      }),
    );
  });
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}
