import * as z from 'zod/mini';
import { formatIssues } from '../orders/order.ts';
import '../zod-locale.ts';

/**
 * The body a stream-sourced pipe sends to its dead-letter queue: metadata only, no records and no error text
 * (docs/AWS-FACTS.md, fact 7). Records must be re-read from the stream with GetShardIterator(AT_SEQUENCE_NUMBER) +
 * GetRecords
 * while the stream still holds them (24 hours), or taken from the failure journal afterwards.
 */
export interface PipeDlqMessage {
  context: {
    /** `arn:aws:pipes:REGION:ACCOUNT:pipe/NAME` */
    partnerResourceArn: string;
    condition: DlqCondition;
  };
  version: string;
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

/** Why the batch was given up on: retries used up, or records older than MaximumRecordAgeInSeconds. */
const DLQ_CONDITIONS = ['RetryAttemptsExhausted', 'RecordAgeExceeded'] as const;
export type DlqCondition = (typeof DLQ_CONDITIONS)[number] | (string & {});

const sequenceNumber = z.string().check(z.regex(/^\d{1,40}$/, 'must be a decimal sequence number'));

export const pipeDlqMessageSchema = z.object({
  context: z.object({
    partnerResourceArn: z.string().check(z.regex(/^arn:[\w-]+:pipes:[\w-]*:\d*:pipe\/[\w.-]+$/, 'must be a pipe ARN')),
    condition: z.string().check(z.minLength(1, 'must name the failure condition')),
  }),
  version: z.string().check(z.minLength(1, 'must be a non-empty string')),
  timestamp: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
  DDBStreamBatchInfo: z.object({
    shardId: z.string().check(z.minLength(1, 'must be a non-empty string')),
    startSequenceNumber: sequenceNumber,
    endSequenceNumber: sequenceNumber,
    approximateArrivalOfFirstRecord: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
    approximateArrivalOfLastRecord: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
    batchSize: z.int().check(z.gte(1, 'must be at least 1')),
    streamArn: z
      .string()
      .check(z.regex(/^arn:[\w-]+:dynamodb:[\w-]*:\d*:table\/[\w.-]+\/stream\/.+$/, 'must be a stream ARN')),
  }),
});

export class DlqMessageError extends Error {
  override readonly name = 'DlqMessageError';
  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`not a pipe dead-letter message: ${problems.join('; ')}`, options);
  }
}

/** Parses a DLQ message body (the SQS `Body` string or an already-parsed object). */
export function parseDlqMessage(body: unknown): PipeDlqMessage {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch (error: unknown) {
      throw new DlqMessageError([`body is not JSON (${(error as Error).message})`], { cause: error });
    }
  }
  const result = pipeDlqMessageSchema.safeParse(value);
  if (!result.success) throw new DlqMessageError(formatIssues(result.error), { cause: result.error });
  const info = result.data.DDBStreamBatchInfo;
  if (BigInt(info.startSequenceNumber) > BigInt(info.endSequenceNumber)) {
    throw new DlqMessageError(['DDBStreamBatchInfo.startSequenceNumber: is after endSequenceNumber']);
  }
  return result.data;
}
