import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { JOURNAL_KEYS, journalRecordKey, journalSequenceKey, type PipeKey } from '@orderflow/pipeline/facts';
import { type JournalEntry, journalEntrySchema } from '@orderflow/pipeline/schemas';
import { backoffDelay, sleep } from './backoff.ts';

/** BatchGetItem takes at most 100 keys a call (DynamoDB API reference, BatchGetItem). */
const KEYS_PER_CALL = 100;
/** Rounds of UnprocessedKeys retried, with backoff, before the lookup fails (and the message is retried). */
const MAX_ROUNDS = 6;

export interface JournalLookup {
  /** The pipe's journal entries whose sequence number lies in `[start, end]`, in sequence order. */
  entriesInRange(pipe: PipeKey, startSequenceNumber: string, endSequenceNumber: string): Promise<JournalEntry[]>;
  /** The pipe's journal entries of these records, by event id (a strongly consistent read of the table). */
  entriesFor(pipe: PipeKey, eventIds: readonly string[]): Promise<Map<string, JournalEntry>>;
}

/**
 * The failure journal, read by sequence range: a `Query` of its `bySequence` index (partition `pipe`, sort the
 * padded sequence number; keys only) for the record keys in the DLQ message's range, then `BatchGetItem` of those
 * entries with a strongly consistent read. A global secondary index is eventually consistent, so an entry written a
 * moment before the pipe gave its batch up can be missing from the index: the records the stream then supplies are
 * looked up again by key (`entriesFor`), which sees every write.
 *
 * The journal keeps no shard id (a pipe delivers none to its target), so entries of another shard whose sequence
 * numbers fall in the range are returned too; docs/ARCHITECTURE.md, "Dead-letter store", says what that means.
 */
export function dynamoDbJournalLookup(client: DynamoDBDocumentClient, table: string): JournalLookup {
  const index = JOURNAL_KEYS.sequenceIndex;

  async function batchGet(keys: readonly string[]): Promise<JournalEntry[]> {
    const unique = [...new Set(keys)];
    const entries: JournalEntry[] = [];
    for (let i = 0; i < unique.length; i += KEYS_PER_CALL) {
      let pending: Record<string, unknown>[] | undefined = unique
        .slice(i, i + KEYS_PER_CALL)
        .map((key) => ({ [JOURNAL_KEYS.partitionKey]: key }));
      for (let round = 0; pending?.length; round++) {
        if (round >= MAX_ROUNDS) {
          throw new Error(`failure journal: ${pending.length} keys still unprocessed after ${MAX_ROUNDS} rounds`);
        }
        if (round > 0) await sleep(backoffDelay(round));
        const answer: BatchGetCommandOutput = await client.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of answer.Responses?.[table] ?? []) {
          const parsed = journalEntrySchema.safeParse(item);
          // An entry that does not parse is no entry: its record is then taken from the stream, if it still has it.
          if (parsed.success) entries.push(parsed.data);
        }
        pending = answer.UnprocessedKeys?.[table]?.Keys;
      }
    }
    return entries;
  }

  return {
    async entriesInRange(pipe, startSequenceNumber, endSequenceNumber) {
      const start = journalSequenceKey(startSequenceNumber);
      const end = journalSequenceKey(endSequenceNumber);
      if (!start || !end) throw new RangeError(`not a sequence range: ${startSequenceNumber}..${endSequenceNumber}`);
      const keys: string[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: table,
            IndexName: index.name,
            KeyConditionExpression: '#pipe = :pipe AND #sequence BETWEEN :start AND :end',
            ExpressionAttributeNames: { '#pipe': index.partitionKey, '#sequence': index.sortKey },
            ExpressionAttributeValues: { ':pipe': pipe, ':start': start, ':end': end },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const key = item[JOURNAL_KEYS.partitionKey];
          if (typeof key === 'string') keys.push(key);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return (await batchGet(keys))
        .filter((entry) => entry.pipe === pipe)
        .sort((a, b) => compareSequence(a.sequenceNumber, b.sequenceNumber));
    },

    async entriesFor(pipe, eventIds) {
      const entries = await batchGet(eventIds.map((eventId) => journalRecordKey(pipe, eventId)));
      return new Map(entries.map((entry) => [entry.eventId, entry]));
    },
  };
}

export function compareSequence(a: string, b: string): number {
  const x = BigInt(/^\d+$/.test(a) ? a : '0');
  const y = BigInt(/^\d+$/.test(b) ? b : '0');
  return x < y ? -1 : x > y ? 1 : 0;
}
