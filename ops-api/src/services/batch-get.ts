import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** BatchGetItem allows 100 keys per call; unprocessed keys are retried a few times (DynamoDB API reference). */
const KEYS_PER_CALL = 100;
const MAX_ROUNDS = 5;

/** Items of one table by a single-attribute key, in no particular order. */
export async function batchGetByKey(
  dynamodb: DynamoDBDocumentClient,
  table: string,
  keyAttribute: string,
  keys: readonly string[],
): Promise<Record<string, unknown>[]> {
  const unique = [...new Set(keys)];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += KEYS_PER_CALL) chunks.push(unique.slice(i, i + KEYS_PER_CALL));
  const pages = await Promise.all(
    chunks.map(async (chunk) => {
      const items: Record<string, unknown>[] = [];
      let pending: Record<string, unknown>[] | undefined = chunk.map((key) => ({ [keyAttribute]: key }));
      for (let round = 0; pending?.length && round < MAX_ROUNDS; round++) {
        const answer: BatchGetCommandOutput = await dynamodb.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: pending } } }),
        );
        items.push(...(answer.Responses?.[table] ?? []));
        pending = answer.UnprocessedKeys?.[table]?.Keys;
      }
      return items;
    }),
  );
  return pages.flat();
}
