/**
 * The dead-letter store (`LOGICAL_IDS.deadLetterTable`): one DynamoDB table holding every failed batch a pipe sent to
 * its DLQ, captured on arrival by the dead-letter archiver, so that operators can list, search, group and count them
 * without receiving a single SQS message, long after the stream (24 hours) and SQS (14 days) have dropped them.
 * The layout, the indexes and the queries each serves are described in docs/ARCHITECTURE.md, "Dead-letter store";
 * this module states the names and key shapes once for the archiver, the stack and the ops API.
 *
 * Items (partition key `pk`, sort key `sk`):
 * - the dead letter: `dl#<id>` / `dl` (the id is the SQS message id of the DLQ message);
 * - its records: `dl#<id>` / `rec#<sequence, 40 digits>#<eventID>#<part>` (a record larger than one item's budget
 *   spans parts), and a DLQ body too large for the dead letter itself: `dl#<id>` / `body#<part>`;
 * - order links: `order#<orderId>` / `<failedAt>#<id>`, one per order of the dead letter;
 * - counters: `count#<pipe>#<counter shard>` / `<state>#<cause key>`, holding `count`.
 *
 * No Node.js built-in here (facts): the cause key, a hash of the cause signature, is `deadLetterCauseKey` in
 * `@orderflow/pipeline/schemas`.
 */
import type { PipeKey } from '../pipes/definitions.ts';

/**
 * A dead letter's state. `open`: captured, nobody acted yet; `redriving`: a redrive job holds it; `redriven`: its
 * records were applied again; `discarded`: an operator gave it up; `fixed`: the order was corrected and flowed
 * through the pipes again as a new change.
 */
export const DEAD_LETTER_STATES = ['open', 'redriving', 'redriven', 'discarded', 'fixed'] as const;
export type DeadLetterState = (typeof DEAD_LETTER_STATES)[number];

/** `batch`: a pipe's DLQ message; `malformed`: a body that is not one of this stack's pipes' (kept as it came). */
export const DEAD_LETTER_KINDS = ['batch', 'malformed'] as const;
export type DeadLetterKind = (typeof DEAD_LETTER_KINDS)[number];

/** Where a record of a dead letter was read from: the failure journal, or the stream (invocation-level failures). */
export const DEAD_LETTER_RECORD_SOURCES = ['journal', 'stream'] as const;
export type DeadLetterRecordSource = (typeof DEAD_LETTER_RECORD_SOURCES)[number];

/**
 * Whether the archivers' event source mappings are deployed enabled. Not yet: the ops API and the console still browse
 * and redrive from the DLQs themselves, and a capture that drains the DLQs within seconds would leave operators nothing
 * to redrive from. It turns on once they read the store; the local runtime can enable a mapping for tests
 * (`runtime.eventSourceMappings.get(mappingId)?.enable()`).
 */
export const DEAD_LETTER_CAPTURE_ENABLED = false;

/**
 * Each pipe's dead-letter archiver (one per pipe, like the processors: its errors, event source and alarms are the
 * pipe's) and the queue its DLQ redrives a message to after the archiver failed on it `maxReceiveCount` times. Kept
 * apart from `PIPES` so that the processors' bundles do not carry them.
 */
export const DEAD_LETTER_ARCHIVERS = {
  standard: {
    functionId: 'StandardDeadLetterArchiverFunction',
    /** Logical id of its `AWS::Lambda::EventSourceMapping` (locally: `runtime.eventSourceMappings.get(id)`). */
    mappingId: 'StandardDeadLetterArchiverMapping',
    unarchivableQueueId: 'StandardPipeUnarchivableQueue',
  },
  premium: {
    functionId: 'PremiumDeadLetterArchiverFunction',
    mappingId: 'PremiumDeadLetterArchiverMapping',
    unarchivableQueueId: 'PremiumPipeUnarchivableQueue',
  },
} as const satisfies Record<PipeKey, { functionId: string; mappingId: string; unarchivableQueueId: string }>;

/**
 * How each archiver consumes its pipe's DLQ (the stack's `AWS::Lambda::EventSourceMapping` and the queues; the local
 * runtime runs them from the template). Lambda developer guide, "Using Lambda with Amazon SQS":
 * - the queue's visibility timeout must be at least the function's timeout, and AWS recommends six times it, so that
 *   a batch delayed by throttling is not received a second time meanwhile;
 * - `maxReceiveCount` of the DLQ's own redrive policy: after that many receives without a delete (the archiver
 *   failed on it every time, or the ops API's browsing received it) a message moves to the unarchivable queue; AWS
 *   recommends at least 5 for a Lambda source. 5 receives, one a visibility timeout (6 minutes), is half an hour.
 * - `maximumConcurrency` (2 to 1,000): the archiver reads the stream as a third reader; few concurrent invocations,
 *   each reading a shard once for all its messages, keep it far from the two-readers-per-shard throttle.
 */
export const DEAD_LETTER_ARCHIVER_SETTINGS = {
  batchSize: 25,
  maximumBatchingWindowInSeconds: 1,
  maximumConcurrency: 5,
  timeoutSeconds: 60,
  queueVisibilityTimeoutSeconds: 360,
  maxReceiveCount: 5,
} as const;

/** The table's primary key. */
export const DEAD_LETTER_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

/**
 * Write shards of the indexes' partition keys. Every dead letter of an outage lands in the same `(pipe, open)` and
 * the same cause: without shards one index partition would take every write (a partition takes at most 1,000 write
 * units a second, and a time-ordered sort key cannot be split for heat). A reader queries every shard and merges by
 * the sort key.
 */
export const DEAD_LETTER_INDEX_SHARDS = 4;

/**
 * Counter shards per pipe. Every capture adds one to its `(pipe, state, cause)` counter in the same transaction as
 * the dead letter; concurrent transactions on one item conflict (`TransactionConflict`), so each dead letter counts
 * on the shard its id hashes to, and a count is the sum over the shards.
 */
export const DEAD_LETTER_COUNTER_SHARDS = 16;

/**
 * The two global secondary indexes. Both are sparse (only dead letters carry their keys) and project the attributes
 * a list row shows ({@link DEAD_LETTER_INDEX_PROJECTION}); the full item is a `BatchGetItem` away.
 * - `byPipeState`: `<pipe>#<state>#<shard>` / `<failedAt>#<id>`: a pipe's dead letters in one state, by time;
 * - `byCause`: `<cause key>#<shard>` / `<state>#<failedAt>#<id>`: one cause's dead letters, by state then time.
 */
export const DEAD_LETTER_INDEXES = {
  byPipeState: { name: 'byPipeState', partitionKey: 'pipeStateKey', sortKey: 'pipeStateSort' },
  byCause: { name: 'byCause', partitionKey: 'causeIndexKey', sortKey: 'causeIndexSort' },
} as const;

/** Non-key attributes both indexes project (INCLUDE): what a list row or a grouping needs. */
export const DEAD_LETTER_INDEX_PROJECTION = [
  'id',
  'kind',
  'pipe',
  'state',
  'failedAt',
  'orderIds',
  'cause',
  'recordCount',
  'missingRecords',
  /** The orders' customer emails, lower-cased: a list's text search (`q`) matches them without reading the items. */
  'emails',
] as const;

const SEQUENCE_DIGITS = 40;

/** DynamoDB Streams sequence numbers are 21 to 40 digits; padded to 40 they sort as numbers. */
export function paddedSequence(sequenceNumber: string): string {
  if (!/^\d{1,40}$/.test(sequenceNumber)) {
    throw new RangeError(`sequence number '${sequenceNumber}' is not 1 to 40 decimal digits`);
  }
  return sequenceNumber.padStart(SEQUENCE_DIGITS, '0');
}

/** Key of the dead letter itself. */
export function deadLetterKey(id: string): { pk: string; sk: string } {
  return { pk: `dl#${id}`, sk: 'dl' };
}

/** Sort key prefix of a dead letter's record items (`Query pk = dl#<id> AND begins_with(sk, 'rec#')`). */
export const DEAD_LETTER_RECORD_PREFIX = 'rec#';
/** Sort key prefix of the parts of a DLQ body too large to keep in the dead letter item. */
export const DEAD_LETTER_BODY_PREFIX = 'body#';

/** Key of one part of one record of a dead letter; parts in order sort in order. */
export function deadLetterRecordKey(
  id: string,
  record: { sequenceNumber: string; eventId: string },
  part = 0,
): { pk: string; sk: string } {
  const sequence = /^\d{1,40}$/.test(record.sequenceNumber) ? paddedSequence(record.sequenceNumber) : 'unsequenced';
  return {
    pk: `dl#${id}`,
    sk: `${DEAD_LETTER_RECORD_PREFIX}${sequence}#${record.eventId}#${String(part).padStart(3, '0')}`,
  };
}

export function deadLetterBodyKey(id: string, part: number): { pk: string; sk: string } {
  return { pk: `dl#${id}`, sk: `${DEAD_LETTER_BODY_PREFIX}${String(part).padStart(3, '0')}` };
}

/** Key of the link from an order to a dead letter: `Query pk = order#<orderId>` lists its dead letters by time. */
export function orderLinkKey(orderId: string, failedAt: string, id: string): { pk: string; sk: string } {
  return { pk: `order#${orderId}`, sk: `${failedAt}#${id}` };
}

/** Key of a counter item: one per pipe, counter shard, state and cause. */
export function counterKey(
  pipe: PipeKey,
  counterShard: number,
  state: DeadLetterState,
  causeKey: string,
): { pk: string; sk: string } {
  return { pk: counterPartition(pipe, counterShard), sk: `${state}#${causeKey}` };
}

/** Partition of one counter shard of a pipe: `Query` it for every (state, cause) count on that shard. */
export function counterPartition(pipe: PipeKey, counterShard: number): string {
  return `count#${pipe}#${counterShard}`;
}

/** Index key attributes of a dead letter in a given state (they change with the state). */
export function deadLetterIndexKeys(input: {
  id: string;
  pipe: PipeKey;
  state: DeadLetterState;
  failedAt: string;
  causeKey: string;
}): Record<
  | (typeof DEAD_LETTER_INDEXES)['byPipeState']['partitionKey' | 'sortKey']
  | (typeof DEAD_LETTER_INDEXES)['byCause']['partitionKey' | 'sortKey'],
  string
> {
  const shard = deadLetterShards(input.id).index;
  return {
    pipeStateKey: pipeStatePartition(input.pipe, input.state, shard),
    pipeStateSort: `${input.failedAt}#${input.id}`,
    causeIndexKey: causePartition(input.causeKey, shard),
    causeIndexSort: `${input.state}#${input.failedAt}#${input.id}`,
  };
}

export function pipeStatePartition(pipe: PipeKey, state: DeadLetterState, indexShard: number): string {
  return `${pipe}#${state}#${indexShard}`;
}

export function causePartition(causeKey: string, indexShard: number): string {
  return `${causeKey}#${indexShard}`;
}

/**
 * The shards a dead letter writes to, from its id (FNV-1a, 32 bits): stable, so a later state change adjusts the
 * same counter item and moves the dead letter within the same index shard.
 */
export function deadLetterShards(id: string): { index: number; counter: number } {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return { index: hash % DEAD_LETTER_INDEX_SHARDS, counter: hash % DEAD_LETTER_COUNTER_SHARDS };
}

/** What a counter update adds and the attributes it keeps (the cause's first signature and message stay). */
export interface DeadLetterCounterChange {
  readonly key: { readonly pk: string; readonly sk: string };
  /** How many dead letters the counter gains (1 per capture; a seeding of many at once adds them together). */
  readonly add: number;
  readonly pipe: PipeKey;
  readonly state: DeadLetterState;
  readonly causeKey: string;
  readonly signature: string;
  readonly message: string;
}

/**
 * The `Update` (document client form) that moves a `(pipe, state, cause)` counter, in the archiver's capture
 * transaction and wherever counters are written the same way (test seeding): one expression, so that the counts
 * every reader sums are written alike.
 */
export function deadLetterCounterUpdate(table: string, change: DeadLetterCounterChange) {
  return {
    TableName: table,
    Key: change.key,
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
      ':add': change.add,
      ':pipe': change.pipe,
      ':state': change.state,
      ':causeKey': change.causeKey,
      ':signature': change.signature,
      ':message': change.message,
    },
  };
}
