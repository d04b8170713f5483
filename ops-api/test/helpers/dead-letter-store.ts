import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DEAD_LETTER_INDEX_PROJECTION, DEAD_LETTER_INDEXES, DEAD_LETTER_KEYS } from '@orderflow/pipeline/facts';
import { deadLetterSeedItems, type SeedDeadLetter, seedCounterUpdate } from '@orderflow/pipeline/testing';

export type { SeedDeadLetter } from '@orderflow/pipeline/testing';

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

const BATCH = 25;

/** Writes dead letters as the archiver does (`deadLetterSeedItems`): items by BatchWriteItem, then the counters. */
export async function seedDeadLetters(
  dynamodb: DynamoDBDocumentClient,
  table: string,
  letters: readonly SeedDeadLetter[],
  options: { partBytes?: number; inlineBodyBytes?: number } = {},
): Promise<void> {
  const { items, counters } = deadLetterSeedItems(letters, options);
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
  await inParallel(counters, 8, async (counter) => {
    await dynamodb.send(new UpdateCommand(seedCounterUpdate(table, counter)));
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
