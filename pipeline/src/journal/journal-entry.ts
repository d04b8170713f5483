import * as z from 'zod/mini';
import { PIPE_KEYS } from '../pipes/definitions.ts';
import '../zod-locale.ts';
import { FAILURE_CLASSIFICATIONS } from './failure-classification.ts';

/**
 * A failure journal entry, written by a processor for every record it reports as failed (docs/AWS-FACTS.md, fact 7: the
 * DLQ
 * holds only batch metadata, so this is where operators learn why a record failed, and what redrive falls back to
 * once the stream has dropped the record after 24 hours).
 */
export const journalEntrySchema = z.object({
  recordKey: z.string(),
  pipe: z.enum(PIPE_KEYS),
  eventId: z.string(),
  sequenceNumber: z.string(),
  /** `journalSequenceKey(sequenceNumber)`: the sort key of the `bySequence` index; absent without a sequence number. */
  sequenceKey: z.optional(z.string()),
  shardHint: z.optional(z.string()),
  orderId: z.optional(z.string()),
  /** The stream record as JSON, truncated to stay within DynamoDB's item limit (`recordTruncated` says so). */
  record: z.string(),
  recordTruncated: z.boolean(),
  errorName: z.string(),
  errorMessage: z.string(),
  classification: z.enum(FAILURE_CLASSIFICATIONS),
  attempts: z.int().check(z.gte(1)),
  firstFailureAt: z.string(),
  lastFailureAt: z.string(),
  /** TTL, epoch seconds. */
  expiresAt: z.int(),
});

export type JournalEntry = z.infer<typeof journalEntrySchema>;
