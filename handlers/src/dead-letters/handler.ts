import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { compilePattern, pipeFilterOf } from '@orderflow/pipeline/engine';
import { DIMENSION_PIPE, type PartialBatchResponse } from '@orderflow/pipeline/facts';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from '../observability.ts';
import { archiveBatch } from './archiver.ts';
import { loadArchiverConfig } from './config.ts';
import { dynamoDbJournalLookup } from './journal-lookup.ts';
import { dynamoDbDeadLetterStore } from './store.ts';

export type ArchiverHandler = (event: unknown, context?: Context) => Promise<PartialBatchResponse>;

/**
 * Builds a pipe's dead-letter archiver at init: configuration validated once from the environment (a missing
 * variable fails the cold start with its name), SDK clients created once per container. Endpoints and region come
 * from the SDK's standard variables, as for the processors. The streams client makes one attempt per call: the
 * reader backs off on throttling itself (stream-range-reader.ts).
 */
export function createDeadLetterArchiverHandler(env: NodeJS.ProcessEnv = process.env): ArchiverHandler {
  const config = loadArchiverConfig(env);
  const documents = DynamoDBDocumentClient.from(traced(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const streams = traced(new DynamoDBStreamsClient({ maxAttempts: 1 }));
  const filter = compilePattern(pipeFilterOf(config.pipe), 'pipes');
  const dependencies = {
    config,
    journal: dynamoDbJournalLookup(documents, config.journalTable),
    streams,
    store: dynamoDbDeadLetterStore(documents, config.deadLetterTable),
    pipeDelivers: (record: unknown) => filter.matches(record),
    logger,
    metrics,
  };
  logger.appendPersistentKeys({ pipe: config.pipe });
  metrics.setDefaultDimensions({ [DIMENSION_PIPE]: config.pipe });

  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      const { response } = await archiveBatch(event, dependencies);
      return response;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/** The client, instrumented for X-Ray when the Tracer is loaded. */
function traced<T>(client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}
