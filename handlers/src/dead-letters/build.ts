import {
  causeSignature,
  counterKey,
  type DeadLetterRecordSource,
  deadLetterBodyKey,
  deadLetterIndexKeys,
  deadLetterKey,
  deadLetterRecordKey,
  deadLetterShards,
  type ErrorDescription,
  orderLinkKey,
  type PipeKey,
} from '@orderflow/pipeline/facts';
import {
  type DeadLetter,
  type DeadLetterRecordItem,
  type DeadLetterRecordSummary,
  deadLetterCauseKey,
  type JournalEntry,
  type PipeDlqMessage,
  splitUtf8,
} from '@orderflow/pipeline/schemas';

/**
 * Budgets that keep every item under DynamoDB's 400 KB item limit (DynamoDB developer guide, "Service, account, and
 * table quotas", item size): a record part, a body part, and the dead letter item as a whole.
 */
export const ITEM_BUDGET = {
  recordPartBytes: 350 * 1024,
  bodyPartBytes: 350 * 1024,
  /** A DLQ body above this is kept in body items rather than in the dead letter (a pipe's is about 1 KB). */
  inlineBodyBytes: 32 * 1024,
  deadLetterBytes: 300 * 1024,
  /** An error message as a record's summary shows it (the record item's journal copy is not cut). */
  summaryMessageChars: 1000,
} as const;

/** A record of a dead letter, from the journal or the stream. */
export interface CapturedRecord {
  readonly eventId: string;
  readonly sequenceNumber: string;
  /** The stream record's JSON as the pipe delivered it to the processor. */
  readonly json: string;
  readonly source: DeadLetterRecordSource;
  /** Only the journal's truncated copy was available. */
  readonly truncated: boolean;
  /** The record's failure journal entry, when it has one. */
  readonly journal?: JournalEntry;
}

export interface CaptureInput {
  /** The SQS message id: the dead letter's id. */
  readonly messageId: string;
  readonly pipe: PipeKey;
  readonly queueArn: string;
  /** SQS SentTimestamp as ISO 8601. */
  readonly sentAt: string;
  readonly receiveCount: number;
  /** The body exactly as the pipe (or whoever) sent it. */
  readonly body: string;
  readonly capturedAt: Date;
  readonly content:
    | {
        readonly kind: 'batch';
        readonly message: PipeDlqMessage;
        /** In sequence order. */
        readonly records: readonly CapturedRecord[];
        readonly missing: { readonly count: number; readonly reason?: string };
      }
    | { readonly kind: 'malformed'; readonly problems: readonly string[] };
}

type Key = { pk: string; sk: string };

export interface BuiltDeadLetter {
  readonly deadLetter: DeadLetter;
  /** The dead letter item: keys, index keys and the dead letter's attributes. */
  readonly item: Key & Record<string, unknown>;
  readonly recordItems: readonly (Key & DeadLetterRecordItem)[];
  readonly bodyItems: readonly (Key & { id: string; part: number; parts: number; text: string })[];
  readonly orderLinks: readonly (Key & { id: string; pipe: PipeKey; failedAt: string })[];
  readonly counter: {
    readonly key: Key;
    readonly pipe: PipeKey;
    readonly signature: string;
    readonly message: string;
    readonly causeKey: string;
  };
}

/** The cause of a batch none of whose records has a journal entry: the invocation itself failed. */
export function invocationFailure(condition: string): ErrorDescription {
  return {
    errorName: 'InvocationFailure',
    errorMessage: `${condition}: no record of the batch has a failure journal entry, so the invocation itself failed (a timeout, a crash, throttling or an error response)`,
  };
}

/** The dead letter and every item that stores it, from what was captured. Pure. */
export function buildDeadLetter(input: CaptureInput): BuiltDeadLetter {
  const id = input.messageId;
  const { content } = input;
  const failedAt =
    content.kind === 'batch' ? new Date(content.message.timestamp).toISOString() : new Date(input.sentAt).toISOString();
  const records = content.kind === 'batch' ? content.records : [];
  const failed = records.find((record) => record.journal);
  const cause: ErrorDescription =
    content.kind === 'malformed'
      ? { errorName: 'MalformedDlqMessage', errorMessage: content.problems.join('; ') }
      : failed?.journal
        ? { errorName: failed.journal.errorName, errorMessage: failed.journal.errorMessage }
        : invocationFailure(content.message.context.condition);
  const signature = causeSignature(cause);
  const causeKey = deadLetterCauseKey(signature);

  const journaled = records.flatMap((record) => (record.journal ? [record.journal] : []));
  const earliest = journaled.map((entry) => entry.firstFailureAt).sort()[0];
  const latest = journaled
    .map((entry) => entry.lastFailureAt)
    .sort()
    .at(-1);

  const summaries = records.map((record): DeadLetterRecordSummary => {
    const parsed = parseRecord(record.json);
    const orderId = record.journal?.orderId ?? parsed.orderId;
    const entry = record.journal;
    return {
      eventId: record.eventId,
      sequenceNumber: record.sequenceNumber,
      ...(parsed.eventName ? { eventName: parsed.eventName } : {}),
      ...(orderId === undefined ? {} : { orderId }),
      source: record.source,
      truncated: record.truncated,
      ...(entry
        ? {
            error: {
              name: entry.errorName,
              message: entry.errorMessage.slice(0, ITEM_BUDGET.summaryMessageChars),
              signature: causeSignature({ errorName: entry.errorName, errorMessage: entry.errorMessage }),
              classification: entry.classification,
              attempts: entry.attempts,
              firstFailureAt: entry.firstFailureAt,
              lastFailureAt: entry.lastFailureAt,
            },
          }
        : {}),
    };
  });
  const orderIds = [...new Set(summaries.flatMap((summary) => (summary.orderId ? [summary.orderId] : [])))];
  const emails = [...new Set(records.flatMap((record) => parseRecord(record.json).emails ?? []))];

  const bodyBytes = Buffer.byteLength(input.body, 'utf8');
  const bodyParts = bodyBytes > ITEM_BUDGET.inlineBodyBytes ? splitUtf8(input.body, ITEM_BUDGET.bodyPartBytes) : [];
  const batch =
    content.kind === 'batch'
      ? {
          pipeArn: content.message.context.partnerResourceArn,
          condition: content.message.context.condition,
          version: content.message.version,
          timestamp: content.message.timestamp,
          ...content.message.DDBStreamBatchInfo,
        }
      : undefined;

  const deadLetter: DeadLetter = {
    id,
    kind: content.kind,
    pipe: input.pipe,
    state: 'open',
    version: 1,
    failedAt,
    capturedAt: input.capturedAt.toISOString(),
    firstFailureAt: earliest ?? failedAt,
    lastFailureAt: latest ?? failedAt,
    cause: {
      signature,
      message: cause.errorMessage.slice(0, ITEM_BUDGET.summaryMessageChars),
      errorName: cause.errorName,
      key: causeKey,
    },
    orderIds,
    emails,
    expectedRecords: batch?.batchSize ?? 0,
    recordCount: records.length,
    missingRecords: content.kind === 'batch' ? content.missing.count : 0,
    ...(content.kind === 'batch' && content.missing.count > 0 && content.missing.reason
      ? { missingReason: content.missing.reason }
      : {}),
    sources: {
      journal: records.filter((record) => record.source === 'journal').length,
      stream: records.filter((record) => record.source === 'stream').length,
    },
    records: summaries,
    ...(batch ? { batch } : {}),
    ...(content.kind === 'malformed' ? { problems: [...content.problems] } : {}),
    dlqBody: bodyParts.length > 0 ? '' : input.body,
    dlqBodyParts: bodyParts.length,
    sqs: { messageId: id, queueArn: input.queueArn, sentAt: input.sentAt, receiveCount: input.receiveCount },
  };

  const shards = deadLetterShards(id);
  const item: Key & Record<string, unknown> = {
    ...deadLetterKey(id),
    ...deadLetter,
    shard: shards.counter,
    ...deadLetterIndexKeys({ id, pipe: input.pipe, state: 'open', failedAt, causeKey }),
  };
  fitDeadLetterItem(item, deadLetter);

  return {
    deadLetter: { ...deadLetter, records: item.records as DeadLetterRecordSummary[] },
    item,
    recordItems: records.flatMap((record) => {
      const parts = splitUtf8(record.json, ITEM_BUDGET.recordPartBytes);
      return parts.map((text, part) => ({
        ...deadLetterRecordKey(id, record, part),
        id,
        eventId: record.eventId,
        sequenceNumber: record.sequenceNumber,
        source: record.source,
        part,
        parts: parts.length,
        record: text,
      }));
    }),
    bodyItems: bodyParts.map((text, part) => ({
      ...deadLetterBodyKey(id, part),
      id,
      part,
      parts: bodyParts.length,
      text,
    })),
    orderLinks: orderIds.map((orderId) => ({ ...orderLinkKey(orderId, failedAt, id), id, pipe: input.pipe, failedAt })),
    counter: {
      key: counterKey(input.pipe, shards.counter, 'open', causeKey),
      pipe: input.pipe,
      signature,
      message: deadLetter.cause.message,
      causeKey,
    },
  };
}

/**
 * Keeps the dead letter item within its budget: a batch of a pipe is small (our pipes send at most 10 records), but
 * Pipes allows up to 10,000 records a batch, and every record has a summary. Summaries past the budget are left out
 * of the item (`records` then lists fewer than `recordCount`); the record items keep every record.
 */
function fitDeadLetterItem(item: Record<string, unknown>, deadLetter: DeadLetter): void {
  const size = () => Buffer.byteLength(JSON.stringify(item), 'utf8');
  let kept = deadLetter.records.length;
  while (kept > 0 && size() > ITEM_BUDGET.deadLetterBytes) {
    kept = Math.floor(kept / 2);
    item.records = deadLetter.records.slice(0, kept);
  }
}

type AttributeMap = { customerEmail?: { S?: unknown } };

/**
 * The event name, order id and customer emails (both images, lower-cased: the ops API's text search compares
 * lower-cased) of a record's JSON, when it parses (a truncated copy does not).
 */
function parseRecord(json: string): { eventName?: string; orderId?: string; emails?: string[] } {
  try {
    const value = JSON.parse(json) as {
      eventName?: unknown;
      dynamodb?: { Keys?: { orderId?: { S?: unknown } }; NewImage?: AttributeMap; OldImage?: AttributeMap };
    };
    const orderId = value.dynamodb?.Keys?.orderId?.S;
    const emails = [value.dynamodb?.NewImage?.customerEmail?.S, value.dynamodb?.OldImage?.customerEmail?.S].flatMap(
      (email) => (typeof email === 'string' && email ? [email.toLowerCase()] : []),
    );
    return {
      ...(typeof value.eventName === 'string' ? { eventName: value.eventName } : {}),
      ...(typeof orderId === 'string' ? { orderId } : {}),
      ...(emails.length > 0 ? { emails } : {}),
    };
  } catch {
    return {};
  }
}
