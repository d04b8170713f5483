import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics, MetricUnit as PowertoolsMetricUnitValues } from '@aws-lambda-powertools/metrics';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { ARCHIVER_METRICS, type MetricDefinition, type PartialBatchResponse } from '@orderflow/pipeline/facts';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import type { SQSRecord } from 'aws-lambda';
import { buildDeadLetter, type CaptureInput } from './build.ts';
import type { ArchiverConfig } from './config.ts';
import { readDlqBody } from './dlq-body.ts';
import type { JournalLookup } from './journal-lookup.ts';
import { resolveRecords } from './resolve-records.ts';
import type { DeadLetterStore } from './store.ts';
import { StreamRangeReader, type StreamRangeReaderOptions } from './stream-range-reader.ts';

type PowertoolsMetricUnit = (typeof PowertoolsMetricUnitValues)[keyof typeof PowertoolsMetricUnitValues];

export interface ArchiverDependencies {
  readonly config: ArchiverConfig;
  readonly journal: JournalLookup;
  readonly streams: DynamoDBStreamsClient;
  readonly store: DeadLetterStore;
  /** Whether the pipe would deliver a stream record (its filter, `pipeFilterOf` compiled for Pipes). */
  readonly pipeDelivers: (record: StreamRecord) => boolean;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly streamOptions?: StreamRangeReaderOptions;
  readonly now?: () => Date;
}

/** Thrown for an SQS record that is not from this archiver's DLQ: it is left in its queue, never captured here. */
export class ForeignEventSourceError extends Error {
  override readonly name = 'ForeignEventSourceError';
}

export type CaptureOutcome =
  | { readonly outcome: 'captured'; readonly id: string; readonly kind: 'batch' | 'malformed' }
  | { readonly outcome: 'already-captured'; readonly id: string };

/**
 * One invocation's messages (an SQS event), each captured as a dead letter independently (Powertools' batch
 * processor, in parallel): a message whose dead letter is stored, or was stored before (a redelivery), succeeds and
 * the event source mapping deletes it; a message that could not be stored is reported in `batchItemFailures`, stays
 * in the DLQ and is received again after its visibility timeout (Lambda developer guide, "Handling errors for an SQS
 * event source in Lambda", partial batch responses). Nothing is deleted before it is stored.
 */
export async function archiveBatch(
  event: unknown,
  deps: ArchiverDependencies,
): Promise<{ response: PartialBatchResponse; outcomes: CaptureOutcome[]; stream: StreamRangeReader['stats'] }> {
  const { logger, metrics, config } = deps;
  // One reader per invocation: the messages of one shard share its reads (it holds them until every message has
  // asked for its read or needs none, then reads each shard once).
  const reader = new StreamRangeReader(deps.streams, deps.streamOptions);
  const outcomes: CaptureOutcome[] = [];
  const counts = { captured: 0, malformed: 0, already: 0, failures: 0, journal: 0, stream: 0, missing: 0 };

  const messages = (event as { Records?: SQSRecord[] } | null)?.Records ?? [];
  reader.expect(messages.map((message) => message.messageId));

  const capture = async (record: SQSRecord): Promise<CaptureOutcome> => {
    try {
      if (record.eventSourceARN !== config.deadLetterQueueArn) {
        throw new ForeignEventSourceError(
          `message ${record.messageId} comes from ${record.eventSourceARN}, not from this archiver's DLQ ${config.deadLetterQueueArn}`,
        );
      }
      // A redelivery (the delete after a success was lost, or a second receive) stops here, before any read.
      if (await deps.store.exists(record.messageId)) {
        reader.leave(record.messageId);
        counts.already++;
        logger.info('dead letter already stored', { messageId: record.messageId });
        return { outcome: 'already-captured', id: record.messageId };
      }
      const input = await captureInput(record, deps, reader);
      reader.leave(record.messageId);
      const built = buildDeadLetter(input);
      const saved = await deps.store.save(built);
      if (saved === 'exists') {
        counts.already++;
        return { outcome: 'already-captured', id: record.messageId };
      }
      const { deadLetter } = built;
      counts.captured++;
      if (deadLetter.kind === 'malformed') counts.malformed++;
      counts.journal += deadLetter.sources.journal;
      counts.stream += deadLetter.sources.stream;
      counts.missing += deadLetter.missingRecords;
      logger.info('dead letter stored', {
        id: deadLetter.id,
        kind: deadLetter.kind,
        cause: deadLetter.cause.signature,
        orderIds: deadLetter.orderIds,
        records: deadLetter.recordCount,
        fromJournal: deadLetter.sources.journal,
        fromStream: deadLetter.sources.stream,
        missing: deadLetter.missingRecords,
        ...(deadLetter.problems ? { problems: deadLetter.problems } : {}),
      });
      return { outcome: 'captured', id: deadLetter.id, kind: deadLetter.kind };
    } catch (error: unknown) {
      reader.leave(record.messageId);
      counts.failures++;
      logger.error('dead letter not stored; the message stays in the DLQ and will be received again', {
        messageId: record.messageId,
        receiveCount: record.attributes?.ApproximateReceiveCount,
        error,
      });
      throw error;
    }
  };

  const processor = new BatchProcessor(EventType.SQS);
  const response = (await processPartialResponse(
    event as Parameters<typeof processPartialResponse>[0],
    async (record: SQSRecord) => {
      outcomes.push(await capture(record));
    },
    processor,
    { throwOnFullBatchFailure: false },
  )) as PartialBatchResponse;

  addMetric(metrics, ARCHIVER_METRICS.deadLettersCaptured, counts.captured);
  addMetric(metrics, ARCHIVER_METRICS.malformedCaptured, counts.malformed);
  addMetric(metrics, ARCHIVER_METRICS.alreadyCaptured, counts.already);
  addMetric(metrics, ARCHIVER_METRICS.captureFailures, counts.failures);
  addMetric(metrics, ARCHIVER_METRICS.recordsFromJournal, counts.journal);
  addMetric(metrics, ARCHIVER_METRICS.recordsFromStream, counts.stream);
  addMetric(metrics, ARCHIVER_METRICS.recordsMissing, counts.missing);
  logger.info('batch done', {
    messages: (event as { Records?: unknown[] }).Records?.length ?? 0,
    captured: counts.captured,
    alreadyCaptured: counts.already,
    failed: counts.failures,
    streamCalls: reader.stats,
  });
  return { response: { batchItemFailures: response.batchItemFailures }, outcomes, stream: reader.stats };
}

async function captureInput(
  record: SQSRecord,
  deps: ArchiverDependencies,
  reader: StreamRangeReader,
): Promise<CaptureInput> {
  const sentMs = Number(record.attributes?.SentTimestamp);
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount);
  const common = {
    messageId: record.messageId,
    pipe: deps.config.pipe,
    queueArn: record.eventSourceARN,
    sentAt: new Date(Number.isFinite(sentMs) ? sentMs : Date.now()).toISOString(),
    receiveCount: Number.isInteger(receiveCount) ? receiveCount : 0,
    body: record.body,
    capturedAt: (deps.now ?? (() => new Date()))(),
  };
  const reading = readDlqBody(record.body, deps.config);
  if (reading.kind === 'malformed') return { ...common, content: reading };
  const resolved = await resolveRecords(deps.config.pipe, reading.message, {
    journal: deps.journal,
    readStream: (info) => reader.read(info, record.messageId),
    pipeDelivers: deps.pipeDelivers,
  });
  return {
    ...common,
    content: { kind: 'batch', message: reading.message, records: resolved.records, missing: resolved.missing },
  };
}

/** Pipeline's metric units are a subset of Powertools' (a new pipeline unit that is not fails to compile here). */
function addMetric(metrics: Metrics, definition: MetricDefinition, value: number): void {
  const unit: PowertoolsMetricUnit = definition.unit;
  metrics.addMetric(definition.name, unit, value);
}
