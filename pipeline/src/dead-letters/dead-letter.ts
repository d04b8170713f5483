import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { FAILURE_CLASSIFICATIONS } from '../journal/failure-classification.ts';
import { formatIssues } from '../orders/order.ts';
import { PIPE_KEYS } from '../pipes/definitions.ts';
import '../zod-locale.ts';
import { DEAD_LETTER_KINDS, DEAD_LETTER_RECORD_SOURCES, DEAD_LETTER_STATES } from './dead-letter-store.ts';

/**
 * The items of the dead-letter store as the archiver writes them and readers parse them (layout:
 * `dead-letter-store.ts`, docs/ARCHITECTURE.md "Dead-letter store"). Keys and index attributes are not part of
 * these schemas; parsing an item drops them.
 */

/** The cause key: the first 128 bits of SHA-256 of the cause signature, hex (an index key must stay short). */
export function deadLetterCauseKey(signature: string): string {
  return createHash('sha256').update(signature, 'utf8').digest('hex').slice(0, 32);
}

const isoTime = z.string().check(z.minLength(1, 'must be an ISO 8601 date-time'));
const count = z.int().check(z.gte(0, 'must be 0 or more'));

/** One record of a dead letter as the dead letter item lists it (the record itself is in its record items). */
export const deadLetterRecordSummarySchema = z.object({
  eventId: z.string(),
  sequenceNumber: z.string(),
  eventName: z.optional(z.string()),
  orderId: z.optional(z.string()),
  source: z.enum(DEAD_LETTER_RECORD_SOURCES),
  /** The record could not be kept whole: the journal's copy is truncated and the stream no longer holds it. */
  truncated: z.boolean(),
  /** The processor's error, from its failure journal entry; absent for a record the journal lacks. */
  error: z.optional(
    z.object({
      name: z.string(),
      message: z.string(),
      signature: z.string(),
      classification: z.enum(FAILURE_CLASSIFICATIONS),
      attempts: z.int(),
      firstFailureAt: isoTime,
      lastFailureAt: isoTime,
    }),
  ),
});
export type DeadLetterRecordSummary = z.infer<typeof deadLetterRecordSummarySchema>;

export const deadLetterSchema = z.object({
  /** The SQS message id of the DLQ message it was captured from. */
  id: z.string().check(z.minLength(1)),
  kind: z.enum(DEAD_LETTER_KINDS),
  pipe: z.enum(PIPE_KEYS),
  state: z.enum(DEAD_LETTER_STATES),
  /** Starts at 1; every state change adds 1 (a condition on it makes concurrent changes safe). */
  version: z.int().check(z.gte(1)),
  /** When the pipe gave the batch up (the DLQ body's `timestamp`; a malformed body: its SQS SentTimestamp). */
  failedAt: isoTime,
  capturedAt: isoTime,
  /** From the journal's entries (earliest first failure, latest last failure); `failedAt` where it has none. */
  firstFailureAt: isoTime,
  lastFailureAt: isoTime,
  cause: z.object({
    signature: z.string(),
    /** One message of this cause as it was (the first failed record's), for the operator to read. */
    message: z.string(),
    errorName: z.string(),
    key: z.string(),
  }),
  orderIds: z.array(z.string()),
  /**
   * The customer emails of its records' images (new and old), lower-cased, without repeats: projected into both
   * indexes so that a list's text search (`q`) matches an email from the index rows alone.
   */
  emails: z.array(z.string()),
  /** Records the batch had (`DDBStreamBatchInfo.batchSize`; 0 for a malformed body). */
  expectedRecords: count,
  /** Records captured (journal + stream). */
  recordCount: count,
  /** Records of the batch captured from neither source: never invented, counted, with the reason. */
  missingRecords: count,
  missingReason: z.optional(z.string()),
  sources: z.object({ journal: count, stream: count }),
  records: z.array(deadLetterRecordSummarySchema),
  /** The DLQ message's metadata (a `batch` dead letter). */
  batch: z.optional(
    z.object({
      pipeArn: z.string(),
      condition: z.string(),
      version: z.string(),
      timestamp: isoTime,
      shardId: z.string(),
      startSequenceNumber: z.string(),
      endSequenceNumber: z.string(),
      batchSize: z.int(),
      streamArn: z.string(),
      approximateArrivalOfFirstRecord: isoTime,
      approximateArrivalOfLastRecord: isoTime,
    }),
  ),
  /** Why the body is not a DLQ message of this stack's pipe (a `malformed` dead letter). */
  problems: z.optional(z.array(z.string())),
  /** The DLQ message body exactly as it was sent; empty when it is kept in `dlqBodyParts` body items. */
  dlqBody: z.string(),
  dlqBodyParts: count,
  sqs: z.object({
    messageId: z.string(),
    queueArn: z.string(),
    /** SQS `SentTimestamp`, ISO 8601. */
    sentAt: isoTime,
    /** SQS `ApproximateReceiveCount` when the archiver captured it. */
    receiveCount: count,
  }),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** One part of one record: `record` parts in order are the stream record's JSON, as a pipe delivers it. */
export const deadLetterRecordItemSchema = z.object({
  id: z.string(),
  eventId: z.string(),
  sequenceNumber: z.string(),
  source: z.enum(DEAD_LETTER_RECORD_SOURCES),
  part: count,
  parts: z.int().check(z.gte(1)),
  record: z.string(),
});
export type DeadLetterRecordItem = z.infer<typeof deadLetterRecordItemSchema>;

export class DeadLetterItemError extends Error {
  override readonly name = 'DeadLetterItemError';
  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`not a dead letter item: ${problems.join('; ')}`, options);
  }
}

/** Parses a dead letter item (keys and index attributes are dropped); throws {@link DeadLetterItemError}. */
export function parseDeadLetter(item: unknown): DeadLetter {
  const result = deadLetterSchema.safeParse(item);
  if (result.success) return result.data;
  throw new DeadLetterItemError(formatIssues(result.error), { cause: result.error });
}

/**
 * The records' JSON texts from a dead letter's record items (any order), by event id in sequence order; throws
 * {@link DeadLetterItemError} when a part is missing.
 */
export function assembleDeadLetterRecords(items: readonly unknown[]): { eventId: string; json: string }[] {
  const byRecord = new Map<string, DeadLetterRecordItem[]>();
  for (const item of items) {
    const result = deadLetterRecordItemSchema.safeParse(item);
    if (!result.success) throw new DeadLetterItemError(formatIssues(result.error), { cause: result.error });
    const key = `${result.data.sequenceNumber.padStart(40, '0')}#${result.data.eventId}`;
    byRecord.set(key, [...(byRecord.get(key) ?? []), result.data]);
  }
  return [...byRecord.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, parts]) => {
      const ordered = parts.sort((a, b) => a.part - b.part);
      const expected = ordered[0]?.parts ?? 0;
      if (ordered.length !== expected || ordered.some((part, index) => part.part !== index)) {
        throw new DeadLetterItemError([
          `record ${ordered[0]?.eventId}: ${ordered.length} of ${expected} parts present (${ordered.map((p) => p.part).join(', ')})`,
        ]);
      }
      return { eventId: ordered[0]?.eventId ?? '', json: ordered.map((part) => part.record).join('') };
    });
}

/**
 * Splits `text` into parts of at most `maxBytes` of UTF-8 each, never inside a character: how a record or body
 * larger than one item's budget is kept across items.
 */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (!Number.isInteger(maxBytes) || maxBytes < 4) throw new RangeError(`maxBytes must be at least 4, got ${maxBytes}`);
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return [text];
  const parts: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + maxBytes, bytes.length);
    // Back off continuation bytes (10xxxxxx) so that the cut falls on a character boundary.
    while (end < bytes.length && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    parts.push(bytes.subarray(start, end).toString('utf8'));
    start = end;
  }
  return parts;
}
