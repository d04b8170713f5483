import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { guardFor } from '@orderflow/pipeline/engine';
import { DIMENSION_PIPE, type PartialBatchResponse, PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import type { Context } from 'aws-lambda';
import { dynamoDbPriorityShipments } from './adapters/priority-shipments.ts';
import { sqsNotificationSender } from './adapters/sqs-notifications.ts';
import { loadProcessorConfig } from './config.ts';
import { logger, metrics, tracer } from './observability.ts';
import { processBatch } from './processing/batch.ts';
import { type Effects, premiumEffects, standardEffects } from './processing/effects.ts';
import { idempotentEffects } from './processing/idempotency.ts';
import { dynamoDbFailureJournal } from './processing/journal.ts';

export type ProcessorHandler = (event: unknown, context?: Context) => Promise<PartialBatchResponse>;

/**
 * Builds a processor's Lambda handler at init: configuration validated once from the environment (a missing variable
 * fails the cold start with its name), SDK clients and Powertools utilities created once per container. Endpoints
 * and region come from the SDK's standard variables (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS),
 * which is how the local runtime points the same bundle at DynamoDB Local and the SQS emulator.
 */
export function createProcessorHandler(pipe: PipeKey, env: NodeJS.ProcessEnv = process.env): ProcessorHandler {
  const config = loadProcessorConfig(env, pipe);
  const dynamodb = traced(new DynamoDBClient({}));
  // The queue URL is a parameter, not an endpoint: with `useQueueUrlAsEndpoint` (the SDK default) a local endpoint
  // whose queue URLs carry another host (fauxqs: `sqs.<region>.127.0.0.1`) triggers a warning per send. In AWS the
  // resolved regional endpoint and the queue URL's host are the same.
  const sqs = traced(new SQSClient({ useQueueUrlAsEndpoint: false }));
  const sender = sqsNotificationSender(sqs);
  const effects: Effects =
    config.pipe === 'standard'
      ? standardEffects({ sender, queueUrl: config.notificationQueueUrl })
      : premiumEffects({
          sender,
          queueUrl: config.accountManagerQueueUrl,
          priority: dynamoDbPriorityShipments(dynamodb, config.priorityShipmentsTable),
        });
  const idempotent = idempotentEffects(effects, {
    client: dynamodb,
    tableName: config.idempotencyTable,
    pipe,
    expiresAfterSeconds: config.journalTtlDays * 86_400,
  });
  const dependencies = {
    pipe,
    guard: guardFor(PIPES[pipe].rule),
    applyEffects: idempotent.apply,
    journal: dynamoDbFailureJournal(dynamodb, config.journalTable),
    journalTtlDays: config.journalTtlDays,
    logger,
    metrics,
  };
  logger.appendPersistentKeys({ pipe });
  metrics.setDefaultDimensions({ [DIMENSION_PIPE]: pipe });

  return async (event, context) => {
    if (context) {
      logger.addContext(context);
      // Powertools calls getRemainingTimeInMillis() on a registered context; an emulator's partial context must not
      // turn every record into a failure.
      if (typeof context.getRemainingTimeInMillis === 'function') idempotent.config.registerLambdaContext(context);
    }
    // Lambda sets _X_AMZN_TRACE_ID per invocation when X-Ray is active; without it there is no facade segment to
    // attach to (an emulator that sets AWS_EXECUTION_ENV but runs no X-Ray), so no subsegment is opened.
    const parent = tracer?.isTracingEnabled() && process.env._X_AMZN_TRACE_ID ? tracer.getSegment() : undefined;
    const segment = parent?.addNewSubsegment(`## ${PIPES[pipe].functionId}`);
    if (tracer && segment) {
      tracer.setSegment(segment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
      tracer.putAnnotation(DIMENSION_PIPE, pipe);
    }
    try {
      const { response } = await processBatch(event, dependencies);
      return response;
    } catch (error: unknown) {
      segment?.addError(error as Error);
      throw error;
    } finally {
      metrics.publishStoredMetrics();
      if (segment && parent) {
        segment.close();
        tracer?.setSegment(parent);
      }
    }
  };
}

/** The client, instrumented for X-Ray when the Tracer is loaded (it returns the client as is when tracing is off). */
function traced<T>(client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}
