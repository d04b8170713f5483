import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  type FailureClassification,
  JOURNAL_KEYS,
  journalRecordKey,
  journalSequenceKey,
  type PipeKey,
} from '@orderflow/pipeline/facts';
import type { JournalEntry } from '@orderflow/pipeline/schemas';
import type { RecordIdentity } from './record-identity.ts';

/** Error messages are kept short enough to show in the console and to leave the item's budget to the record. */
const ERROR_MESSAGE_MAX_CHARS = 4000;

export interface RecordFailure {
  readonly pipe: PipeKey;
  readonly identity: RecordIdentity;
  readonly error: unknown;
  readonly classification: FailureClassification;
  readonly at: Date;
  readonly ttlDays: number;
}

/** Everything of a journal entry except the two fields that depend on earlier failures of the same record. */
export type JournalFailureFields = Omit<JournalEntry, 'attempts' | 'firstFailureAt'>;

export function journalFailureFields(failure: RecordFailure): JournalFailureFields {
  const { identity, error } = failure;
  const at = failure.at.toISOString();
  const sequenceKey = journalSequenceKey(identity.sequenceNumber);
  return {
    recordKey: journalRecordKey(failure.pipe, identity.eventId),
    pipe: failure.pipe,
    eventId: identity.eventId,
    sequenceNumber: identity.sequenceNumber,
    // The dead-letter archiver finds a DLQ message's entries by sequence range (JOURNAL_KEYS.sequenceIndex).
    ...(sequenceKey === undefined ? {} : { sequenceKey }),
    ...(identity.orderId === undefined ? {} : { orderId: identity.orderId }),
    record: identity.json,
    recordTruncated: identity.jsonTruncated,
    errorName: error instanceof Error ? error.name : typeof error,
    errorMessage: (error instanceof Error ? error.message : String(error)).slice(0, ERROR_MESSAGE_MAX_CHARS),
    classification: failure.classification,
    lastFailureAt: at,
    expiresAt: Math.floor(failure.at.getTime() / 1000) + failure.ttlDays * 86_400,
  };
}

export interface FailureJournal {
  /** Writes or updates the record's entry: attempts +1, first failure kept, everything else replaced. */
  recordFailure(failure: RecordFailure): Promise<void>;
}

/**
 * The failure journal table (docs/AWS-FACTS.md, fact 7: the DLQ of a stream-sourced pipe holds batch metadata only, so
 * this
 * is where operators see why a record failed). One `UpdateItem` per failure: `ADD attempts` and
 * `if_not_exists(firstFailureAt)` make concurrent and repeated failures of one record count correctly without a read.
 */
export function dynamoDbFailureJournal(client: DynamoDBClient, tableName: string): FailureJournal {
  return {
    async recordFailure(failure) {
      const { recordKey, ...fields } = journalFailureFields(failure);
      const names: Record<string, string> = { '#attempts': 'attempts', '#firstFailureAt': 'firstFailureAt' };
      const values: Record<string, { S: string } | { N: string } | { BOOL: boolean }> = { ':one': { N: '1' } };
      const sets = ['#firstFailureAt = if_not_exists(#firstFailureAt, :lastFailureAt)'];
      for (const [name, value] of Object.entries(fields)) {
        names[`#${name}`] = name;
        values[`:${name}`] =
          typeof value === 'number'
            ? { N: String(value) }
            : typeof value === 'boolean'
              ? { BOOL: value }
              : { S: value };
        sets.push(`#${name} = :${name}`);
      }
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { [JOURNAL_KEYS.partitionKey]: { S: recordKey } },
          UpdateExpression: `SET ${sets.join(', ')} ADD #attempts :one`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    },
  };
}
