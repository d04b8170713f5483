import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics, MetricUnit as PowertoolsMetricUnitValues } from '@aws-lambda-powertools/metrics';
import {
  DIMENSION_CLAUSE,
  type Guard,
  type MetricDefinition,
  type PartialBatchResponse,
  type PipeKey,
  PROCESSOR_METRICS,
} from '@orderflow/pipeline';
import { classifyFailure } from './classification.ts';
import type { FailureJournal } from './journal.ts';
import { type ApplyEffects, applyRecord, type RecordOutcome, rejection, screenRecord } from './record.ts';
import { identifyRecord } from './record-identity.ts';

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

/**
 * Powertools' DynamoDB Streams processor reports `dynamodb.SequenceNumber`, which is what Lambda event source
 * mappings expect; a pipe expects the record's `eventID` (BATCH_ITEM_IDENTIFIER, DESIGN.md fact 5). A failed element
 * without an `eventID` (not a stream record at all) cannot be named, so it is reported with the empty identifier,
 * which matches no record: Pipes, like Lambda ("an empty string itemIdentifier" counts as a complete failure,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html), then retries the whole
 * batch; bisection isolates the element and, once its retries are exhausted, the DLQ describes it. Acknowledging it
 * instead would checkpoint past data nobody looked at; it has a journal entry either way.
 */
export class PipeBatchProcessor extends BatchProcessor {
  constructor() {
    super(EventType.DynamoDBStreams);
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
  readonly outcomes: readonly (RecordOutcome | { readonly outcome: 'failed'; readonly eventId: string })[];
}

/**
 * Processes one invocation's batch and returns the partial batch response. Never throws for a bad record: each one
 * is logged, journaled and reported by its identifier. Records run in order, one at a time: a shard delivers the
 * changes of one order in sequence and downstream consumers should see them that way.
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
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
  const results = await processor.process();
  const response = processor.response() as PartialBatchResponse;

  const failed = results.filter(([status]) => status === 'fail').length;
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
    batchItemFailures: response.batchItemFailures.length,
  });

  return {
    response: { batchItemFailures: response.batchItemFailures },
    outcomes: results.map(([status, result, raw]) =>
      status === 'success'
        ? (result as RecordOutcome)
        : { outcome: 'failed' as const, eventId: identifyRecord(raw).eventId },
    ),
  };
}

/** Pipeline's metric units are a subset of Powertools' (a new pipeline unit that is not fails to compile here). */
function addMetric(metrics: Metrics, definition: MetricDefinition, value: number): void {
  const unit: PowertoolsMetricUnit = definition.unit;
  metrics.addMetric(definition.name, unit, value);
}
