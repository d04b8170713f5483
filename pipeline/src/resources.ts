/**
 * Names shared by the stack (which creates the resources), the handlers (which read them from the environment), the
 * local runtime (which creates them from the synthesized template) and the ops API.
 */
import type { PipeKey } from './pipes/definitions.ts';

/** The CloudFormation stack; the local runtime reads `<STACK_NAME>.template.json` from the cloud assembly. */
export const STACK_NAME = 'Orderflow';

/** Logical ids in the stack; also the local runtime's resource names. */
export const LOGICAL_IDS = {
  ordersTable: 'OrdersTable',
  journalTable: 'FailureJournalTable',
  idempotencyTable: 'IdempotencyTable',
  priorityShipmentsTable: 'PriorityShipmentsTable',
  auditTable: 'AuditTable',
  /** Redrive jobs and message leases of the ops API: mutable state, kept apart from the append-only audit log. */
  jobsTable: 'OpsJobsTable',
  /** Dead letters captured from the pipes' DLQs, their records, order links and counters (`dead-letters/`). */
  deadLetterTable: 'DeadLetterTable',
  notificationQueue: 'OrderNotificationsQueue',
  accountManagerQueue: 'AccountManagerQueue',
} as const;

/** Environment variables of the processors (validated once at init by the handlers). */
export const HANDLER_ENV = {
  pipe: 'ORDERFLOW_PIPE',
  ordersTable: 'ORDERS_TABLE_NAME',
  journalTable: 'JOURNAL_TABLE_NAME',
  idempotencyTable: 'IDEMPOTENCY_TABLE_NAME',
  priorityShipmentsTable: 'PRIORITY_SHIPMENTS_TABLE_NAME',
  notificationQueueUrl: 'NOTIFICATION_QUEUE_URL',
  accountManagerQueueUrl: 'ACCOUNT_MANAGER_QUEUE_URL',
  journalTtlDays: 'JOURNAL_TTL_DAYS',
} as const;

/**
 * Environment of a pipe's dead-letter archiver (`DEAD_LETTER_ARCHIVERS[k].functionId`), validated at init, besides
 * `HANDLER_ENV.pipe` and `HANDLER_ENV.journalTable`, which it reads as the processors do. (Not restated here by
 * reference: a property read would keep this object in every bundle that imports this module.)
 */
export const DEAD_LETTER_ARCHIVER_ENV = {
  deadLetterTable: 'DEAD_LETTER_TABLE_NAME',
  /** The pipe's DLQ: the only event source the archiver accepts messages from. */
  deadLetterQueueArn: 'DEAD_LETTER_QUEUE_ARN',
  /** The pipe a DLQ body must name (`context.partnerResourceArn`); any other body is kept as `malformed`. */
  pipeArn: 'ORDERFLOW_PIPE_ARN',
  /** The Orders table's stream; a body must name a stream of this table (any label) to be read. */
  ordersStreamArn: 'ORDERS_STREAM_ARN',
} as const;

/** Orders table: single partition key. */
export const ORDERS_PARTITION_KEY = 'orderId';
/**
 * Failure journal table: one item per (pipe, stream record), keyed by {@link journalRecordKey}. `bySequence` finds a
 * pipe's entries in a DLQ message's sequence range (the dead-letter archiver's lookup): partition `pipe`, sort
 * `sequenceKey` ({@link journalSequenceKey}), keys only, sparse (an entry without a sequence number has no
 * `sequenceKey`: an index key attribute may not be empty).
 */
export const JOURNAL_KEYS = {
  partitionKey: 'recordKey',
  ttlAttribute: 'expiresAt',
  sequenceIndex: { name: 'bySequence', partitionKey: 'pipe', sortKey: 'sequenceKey' },
} as const;
/** Audit table: partitioned by UTC day, sorted by time then id, so a time range is a few queries. */
export const AUDIT_KEYS = { partitionKey: 'day', sortKey: 'atId' } as const;
/** Ops jobs table: one item per job (`job#<id>`) or lease (`lease#<pipe>#<messageId>`); leases expire by TTL. */
export const JOBS_KEYS = { partitionKey: 'pk', ttlAttribute: 'expiresAt' } as const;
/** Powertools idempotency persistence defaults. */
export const IDEMPOTENCY_KEYS = { partitionKey: 'id', ttlAttribute: 'expiration' } as const;
/** Priority shipments of the premium workflow: one item per order. */
export const PRIORITY_SHIPMENT_KEYS = { partitionKey: 'orderId' } as const;

export const DEFAULT_JOURNAL_TTL_DAYS = 14;
/** DynamoDB's item size limit is 400 KB; the journal keeps the record below this to leave room for the rest. */
export const JOURNAL_RECORD_MAX_BYTES = 350 * 1024;

/**
 * The journal's sort key in `bySequence`: the sequence number padded to 40 digits (DynamoDB Streams sequence numbers
 * have 21 to 40), so that string order is numeric order; undefined for anything but 1 to 40 decimal digits.
 */
export function journalSequenceKey(sequenceNumber: string): string | undefined {
  return /^\d{1,40}$/.test(sequenceNumber) ? sequenceNumber.padStart(40, '0') : undefined;
}

/** The failure journal's key of a stream record: `<pipe>#<eventID>`. */
export function journalRecordKey(pipe: PipeKey, eventId: string): string {
  return `${pipe}#${eventId}`;
}

/**
 * `.orderflow/runtime.json`, written by `npm start` (the local runtime) for tools and tests, and read by the ops API
 * to point the AWS SDK clients at the local endpoints (`runtimeInfoSchema`).
 */
export const RUNTIME_INFO_FILE = '.orderflow/runtime.json';
