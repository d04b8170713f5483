import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { DEAD_LETTER_KEYS, deadLetterCounterUpdate, deadLetterKey } from '@orderflow/pipeline/facts';
import { backoffDelay, sleep } from './backoff.ts';
import type { BuiltDeadLetter } from './build.ts';

/** BatchWriteItem takes at most 25 requests a call; a transaction at most 100 actions (DynamoDB API reference). */
const WRITES_PER_BATCH = 25;
const TRANSACTION_ITEMS = 100;
/** Rounds of UnprocessedItems, and attempts of a transaction that conflicted with another, before giving up. */
const MAX_ROUNDS = 6;

export interface DeadLetterStore {
  /** Whether the dead letter with this id is stored (a strongly consistent read). */
  exists(id: string): Promise<boolean>;
  /** Stores it: `created`, or `exists` when a dead letter with its id was stored first (by a redelivery). */
  save(built: BuiltDeadLetter): Promise<'created' | 'exists'>;
}

/**
 * Writes a dead letter so that it appears whole and is counted once:
 * 1. its record items (and the parts of an oversized body) with BatchWriteItem: keyed by the dead letter's id and
 *    the record, so a retry writes the same items again, and nothing reads them before the dead letter exists;
 * 2. one transaction (TransactWriteItems): the dead letter item, conditional on its id not being stored yet
 *    (`attribute_not_exists`), its order links, and `ADD count 1` on its (pipe, state, cause) counter. The counter
 *    moves exactly when the dead letter appears, so counts are exact; a redelivered message fails the condition and
 *    nothing of the transaction is applied.
 * A transaction that conflicts with a concurrent one on the same counter item (`TransactionConflict`) is tried
 * again with backoff and jitter (DynamoDB developer guide, "Transaction conflict handling").
 */
export function dynamoDbDeadLetterStore(
  client: DynamoDBDocumentClient,
  table: string,
  options: { sleep?: (ms: number) => Promise<void> } = {},
): DeadLetterStore {
  const wait = options.sleep ?? sleep;

  async function batchWrite(items: readonly Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < items.length; i += WRITES_PER_BATCH) {
      let pending: NonNullable<BatchWriteCommand['input']['RequestItems']>[string] | undefined = items
        .slice(i, i + WRITES_PER_BATCH)
        .map((Item) => ({ PutRequest: { Item } }));
      for (let round = 0; pending?.length; round++) {
        if (round >= MAX_ROUNDS) {
          throw new Error(`dead-letter store: ${pending.length} items still unprocessed after ${MAX_ROUNDS} rounds`);
        }
        if (round > 0) await wait(backoffDelay(round));
        const answer: BatchWriteCommandOutput = await client.send(
          new BatchWriteCommand({ RequestItems: { [table]: pending } }),
        );
        pending = answer.UnprocessedItems?.[table];
      }
    }
  }

  return {
    async exists(id) {
      const answer = await client.send(
        new GetCommand({
          TableName: table,
          Key: deadLetterKey(id),
          ConsistentRead: true,
          ProjectionExpression: '#pk',
          ExpressionAttributeNames: { '#pk': DEAD_LETTER_KEYS.partitionKey },
        }),
      );
      return answer.Item !== undefined;
    },

    async save(built) {
      // Links beyond what one transaction holds (a batch of more than 97 orders) are written with the records.
      const room = TRANSACTION_ITEMS - 2;
      const linked = built.orderLinks.slice(0, room);
      await batchWrite([...built.recordItems, ...built.bodyItems, ...built.orderLinks.slice(room)]);
      const { counter } = built;
      const transaction: TransactWriteCommandInput = {
        TransactItems: [
          {
            Put: {
              TableName: table,
              Item: built.item,
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': DEAD_LETTER_KEYS.partitionKey },
            },
          },
          ...linked.map((link) => ({ Put: { TableName: table, Item: link } })),
          {
            Update: deadLetterCounterUpdate(table, {
              key: counter.key,
              add: 1,
              pipe: counter.pipe,
              state: built.deadLetter.state,
              causeKey: counter.causeKey,
              signature: counter.signature,
              message: counter.message,
            }),
          },
        ],
      };
      for (let attempt = 1; ; attempt++) {
        try {
          await client.send(new TransactWriteCommand(transaction));
          return 'created';
        } catch (error: unknown) {
          if (!(error instanceof TransactionCanceledException)) throw error;
          const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
          if (codes[0] === 'ConditionalCheckFailed') return 'exists';
          if (!codes.includes('TransactionConflict') || attempt >= MAX_ROUNDS) throw error;
          await wait(backoffDelay(attempt, 50, 2000));
        }
      }
    },
  };
}
