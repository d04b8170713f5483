import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import type { FailureResponse, SuccessResponse } from '@aws-lambda-powertools/batch/types';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics, MetricUnit as PowertoolsMetricUnitValues } from '@aws-lambda-powertools/metrics';
import type { Guard } from '@orderflow/pipeline/engine';
import {
  DIMENSION_CLAUSE,
  type MetricDefinition,
  type PartialBatchResponse,
  type PipeKey,
  PROCESSOR_METRICS,
} from '@orderflow/pipeline/facts';
import type { DynamoDBRecord } from 'aws-lambda';
import { classifyFailure } from './classification.ts';
import type { FailureJournal } from './journal.ts';
import { KEY_GROUP_CONCURRENCY, runInKeyOrder } from './key-order.ts';
import { type ApplyEffects, applyRecord, type RecordOutcome, rejection, screenRecord } from './record.ts';
import { identifyRecord, orderKeyOf } from './record-identity.ts';

type PowertoolsMetricUnit = (typeof PowertoolsMetricUnitValues)[keyof typeof PowertoolsMetricUnitValues];

/** Thrown when an invocation payload is not a batch at all (neither a bare array nor `{Records: [...]}`). */
export class InvalidBatchError extends Error {
  override readonly name = 'InvalidBatchError';
}

/**
 * The records of an invocation. A pipe sends a bare JSON array (EventBridge user guide, "Pipes batching and
 * concurrency": https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html); an
 * event source mapping sends `{Records: [...]}`; both are accepted so the same function can sit behind either.
 */
export function batchRecordsOf(event: unknown): unknown[] {
  if (Array.isArray(event)) return event;
  const records = (event as { Records?: unknown } | null)?.Records;
  if (Array.isArray(records)) return records;
  const shape = event === null ? 'null' : Array.isArray(event) ? 'array' : typeof event;
  throw new InvalidBatchError(
    `expected a pipe batch (JSON array of stream records) or {"Records":[...]}, got ${shape === 'object' ? `an object with keys ${Object.keys(event as object).join(', ') || '(none)'}` : shape}`,
  );
}

/** Reported in place of a record that did not run because an earlier record of the same order failed. */
export class RecordBlockedError extends Error {
  override readonly name = 'RecordBlockedError';
  constructor(
    readonly eventId: string,
    readonly orderId: string,
    readonly blockedBy: string,
  ) {
    super(`record ${eventId} of order ${orderId} not run: the earlier record ${blockedBy} of that order failed`);
  }
}

/**
 * Powertools' batch processor, run in key order: the records of different orders concurrently, the records of one
 * order one after another, and none after a failed one (`runInKeyOrder`). Those are reported failed without running,
 * as `RecordBlockedError`s: the pipe then re-delivers them after the failed record, so a retry or a redrive never
 * applies an older change of an order after a newer one.
 *
 * Powertools' DynamoDB Streams collector reports `dynamodb.SequenceNumber`, which is what Lambda event source
 * mappings expect; a pipe expects the record's `eventID` (BATCH_ITEM_IDENTIFIER, docs/AWS-FACTS.md, fact 5). A failed
 * element
 * without an `eventID` (not a stream record at all) cannot be named, so it is reported with the empty identifier,
 * which matches no record: Pipes, like Lambda ("an empty string itemIdentifier" counts as a complete failure,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html), then retries the whole
 * batch; bisection isolates the element and, once its retries are exhausted, the DLQ describes it. Acknowledging it
 * instead would checkpoint past data nobody looked at; it has a journal entry either way.
 */
export class PipeBatchProcessor extends BatchProcessor {
  readonly #concurrency: number;
  #blocked = new Map<number, RecordBlockedError>();

  constructor(concurrency = KEY_GROUP_CONCURRENCY) {
    super(EventType.DynamoDBStreams);
    this.#concurrency = concurrency;
  }

  /** The records of the last `process()` that did not run, by position in the batch. */
  get blocked(): ReadonlyMap<number, RecordBlockedError> {
    return this.#blocked;
  }

  override async process(): Promise<(SuccessResponse | FailureResponse)[]> {
    this.prepare();
    this.#blocked = new Map();
    const records = this.records;
    const outcomes = await runInKeyOrder(records, {
      keyOf: orderKeyOf,
      run: (record) => this.processRecord(record),
      failed: ([status]) => status === 'fail',
      concurrency: this.#concurrency,
    });
    const results = outcomes.map((outcome, position) => {
      if (outcome.ran) return outcome.result;
      const record = records[position] as DynamoDBRecord;
      const blocked = new RecordBlockedError(
        identifyRecord(record).eventId,
        orderKeyOf(record) ?? '',
        identifyRecord(records[outcome.blockedBy]).eventId,
      );
      this.#blocked.set(position, blocked);
      return this.failureHandler(record, blocked);
    });
    // Records finish in any order; the response lists them in batch order, whatever order they failed in.
    this.failureMessages = results.filter(([status]) => status === 'fail').map(([, , record]) => record);
    this.clean();
    return results;
  }

  override collectDynamoDBFailures(): { itemIdentifier: string }[] {
    const identifiers = new Set<string>();
    for (const failed of this.failureMessages as unknown[]) {
      identifiers.add(identifyRecord(failed).itemIdentifier ?? '');
    }
    return [...identifiers].map((itemIdentifier) => ({ itemIdentifier }));
  }
}

export interface BatchDependencies {
  readonly pipe: PipeKey;
  readonly guard: Guard;
  readonly applyEffects: ApplyEffects;
  readonly journal: FailureJournal;
  readonly journalTtlDays: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

export interface BatchReport {
  readonly response: PartialBatchResponse;
  readonly outcomes: readonly (
    | RecordOutcome
    | { readonly outcome: 'failed'; readonly eventId: string }
    | { readonly outcome: 'blocked'; readonly eventId: string; readonly blockedBy: string }
  )[];
}

/**
 * Processes one invocation's batch and returns the partial batch response. Never throws for a bad record: each one
 * is logged, journaled and reported by its identifier. Orders run concurrently, the records of one order in stream
 * order (`PipeBatchProcessor`); a record blocked behind a failed one is logged and reported but not journaled: it did
 * not fail, and the failed record's entry says why it waits.
 */
export async function processBatch(event: unknown, deps: BatchDependencies): Promise<BatchReport> {
  const records = batchRecordsOf(event);
  const { logger, metrics, pipe } = deps;
  const now = deps.now ?? (() => new Date());
  const rejectedByClause = new Map<string, number>();
  let guardPassed = 0;
  let processed = 0;
  let journalWrites = 0;

  const handleRecord = async (raw: unknown): Promise<RecordOutcome> => {
    try {
      const { record, verdict } = screenRecord(raw, deps.guard);
      if (verdict.verdict === 'reject') {
        const rejected = rejection(record, verdict);
        rejectedByClause.set(rejected.clause, (rejectedByClause.get(rejected.clause) ?? 0) + 1);
        logger.info('record rejected by the guard', {
          eventId: rejected.eventId,
          clause: rejected.clause,
          explanation: rejected.explanation,
        });
        return rejected;
      }
      guardPassed++;
      const outcome = await applyRecord(record, deps);
      processed++;
      // A replayed record (a retry or redrive of one already applied) is acknowledged again but its value was counted.
      if (!outcome.replayed) addMetric(metrics, PROCESSOR_METRICS.orderValue, outcome.orderAmount);
      logger.info(outcome.replayed ? 'record already processed, effects not repeated' : 'record processed', {
        eventId: outcome.eventId,
        orderId: outcome.orderId,
        customerEmail: outcome.customerEmail,
        orderAmount: outcome.orderAmount,
        notified: outcome.notified,
      });
      return outcome;
    } catch (error: unknown) {
      const identity = identifyRecord(raw);
      const classification = classifyFailure(error);
      logger.error('record failed', {
        eventId: identity.eventId,
        orderId: identity.orderId,
        sequenceNumber: identity.sequenceNumber,
        classification,
        error,
      });
      try {
        await deps.journal.recordFailure({
          pipe,
          identity,
          error,
          classification,
          at: now(),
          ttlDays: deps.journalTtlDays,
        });
        journalWrites++;
      } catch (journalError: unknown) {
        // The record is reported as failed regardless; the pipe retries it and the journal write with it.
        logger.error('failure journal write failed', { eventId: identity.eventId, error: journalError });
      }
      throw error;
    }
  };

  const processor = new PipeBatchProcessor();
  processor.register(records as Parameters<PipeBatchProcessor['register']>[0], handleRecord, {
    throwOnFullBatchFailure: false,
  });
  const results = await processor.process();
  const response = processor.response() as PartialBatchResponse;

  const failed = results.filter(([status]) => status === 'fail').length;
  for (const blocked of processor.blocked.values()) {
    logger.warn('record not run: an earlier record of the same order failed', {
      eventId: blocked.eventId,
      orderId: blocked.orderId,
      blockedBy: blocked.blockedBy,
    });
  }
  addMetric(metrics, PROCESSOR_METRICS.recordsReceived, records.length);
  addMetric(metrics, PROCESSOR_METRICS.guardPassed, guardPassed);
  addMetric(metrics, PROCESSOR_METRICS.recordsProcessed, processed);
  addMetric(metrics, PROCESSOR_METRICS.recordsFailed, failed);
  addMetric(metrics, PROCESSOR_METRICS.journalWrites, journalWrites);
  for (const [clause, count] of rejectedByClause) {
    // The Clause dimension applies to this metric only, so it goes out as its own EMF document.
    const single = metrics.singleMetric();
    single.addDimension(DIMENSION_CLAUSE, clause);
    addMetric(single, PROCESSOR_METRICS.guardRejected, count);
  }
  logger.info('batch done', {
    received: records.length,
    processed,
    rejected: records.length - processed - failed,
    failed,
    blocked: processor.blocked.size,
    batchItemFailures: response.batchItemFailures.length,
  });

  return {
    response: { batchItemFailures: response.batchItemFailures },
    outcomes: results.map(([status, result, raw], position) => {
      if (status === 'success') return result as RecordOutcome;
      const blocked = processor.blocked.get(position);
      return blocked
        ? { outcome: 'blocked' as const, eventId: blocked.eventId, blockedBy: blocked.blockedBy }
        : { outcome: 'failed' as const, eventId: identifyRecord(raw).eventId };
    }),
  };
}

/** Pipeline's metric units are a subset of Powertools' (a new pipeline unit that is not fails to compile here). */
function addMetric(metrics: Metrics, definition: MetricDefinition, value: number): void {
  const unit: PowertoolsMetricUnit = definition.unit;
  metrics.addMetric(definition.name, unit, value);
}
