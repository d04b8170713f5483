/**
 * Metric names, units and dimensions, shared by the processors (EMF through Powertools Metrics), the local runtime's
 * CloudWatch endpoint, the stack's dashboards and alarms, and the ops API.
 *
 * AWS publishes no metric for records a pipe filtered out and no IteratorAge for Pipes (docs/AWS-FACTS.md, fact 8), so
 * the
 * filter-match funnel is produced by this project: exactly in local mode (the pipe emulator counts), and in AWS from
 * what the processors see.
 */
import { PIPE_KEYS } from '../pipes/definitions.ts';

export const METRICS_NAMESPACE = 'Orderflow';

/** Powertools' default `service` dimension value of the processors. */
export const SERVICE_NAME = 'orderflow';

export type MetricUnit = 'Count' | 'None' | 'Milliseconds' | 'Seconds';

export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly dimensions: readonly string[];
  readonly description: string;
}

export const DIMENSION_PIPE = 'Pipe';
export const DIMENSION_CLAUSE = 'Clause';

function metric(name: string, unit: MetricUnit, description: string, dimensions: readonly string[] = [DIMENSION_PIPE]) {
  return { name, unit, description, dimensions } as const satisfies MetricDefinition;
}

/** Published by the processors as EMF. */
export const PROCESSOR_METRICS = {
  // Counted per delivery: a record the pipe retries, or an operator redrives, is counted again each time it arrives.
  recordsReceived: metric(
    'RecordsReceived',
    'Count',
    'records delivered by the pipe, matched by its filter (each retry and redrive counts)',
  ),
  guardPassed: metric('GuardPassed', 'Count', 'records that satisfy the full business rule (each retry counts)'),
  guardRejected: metric('GuardRejected', 'Count', 'records the pipe filter let through but the rule rejects', [
    DIMENSION_PIPE,
    DIMENSION_CLAUSE,
  ]),
  recordsProcessed: metric(
    'RecordsProcessed',
    'Count',
    'records acknowledged as processed (a replay of one already applied counts again)',
  ),
  recordsFailed: metric('RecordsFailed', 'Count', 'record failures reported to the pipe (each retry counts)'),
  orderValue: metric('OrderValue', 'None', 'amount of each processed order'),
  journalWrites: metric('JournalWrites', 'Count', 'failure journal entries written'),
} as const;

/**
 * Published by the dead-letter archivers as EMF (one archiver per pipe, dimension `Pipe`). Plain literals rather than
 * `metric()` calls, so that a bundle that does not use them (a processor's) drops them.
 */
export const ARCHIVER_METRICS = {
  deadLettersCaptured: {
    name: 'DeadLettersCaptured',
    unit: 'Count',
    description:
      'DLQ messages stored as new dead letters (malformed bodies included; a redelivered message is not counted again)',
    dimensions: [DIMENSION_PIPE],
  },
  malformedCaptured: {
    name: 'MalformedDeadLettersCaptured',
    unit: 'Count',
    description: 'DLQ bodies stored as malformed dead letters',
    dimensions: [DIMENSION_PIPE],
  },
  alreadyCaptured: {
    name: 'DeadLettersAlreadyCaptured',
    unit: 'Count',
    description: 'redelivered DLQ messages whose dead letter was already stored (deleted, nothing written)',
    dimensions: [DIMENSION_PIPE],
  },
  captureFailures: {
    name: 'DeadLetterCaptureFailures',
    unit: 'Count',
    description: 'DLQ messages the archiver could not store; they stay in the DLQ and are received again',
    dimensions: [DIMENSION_PIPE],
  },
  recordsFromJournal: {
    name: 'DeadLetterRecordsFromJournal',
    unit: 'Count',
    description: 'records of new dead letters read from the journal',
    dimensions: [DIMENSION_PIPE],
  },
  recordsFromStream: {
    name: 'DeadLetterRecordsFromStream',
    unit: 'Count',
    description: 'records of new dead letters read from the stream',
    dimensions: [DIMENSION_PIPE],
  },
  recordsMissing: {
    name: 'DeadLetterRecordsMissing',
    unit: 'Count',
    description: 'records of new dead letters found in neither the journal nor the stream (counted, never invented)',
    dimensions: [DIMENSION_PIPE],
  },
} as const satisfies Record<string, MetricDefinition>;

/** Published only by the local pipe emulator, which sees every record it polls (exact funnel head). */
export const LOCAL_PIPE_METRICS = {
  recordsPolled: metric('RecordsPolled', 'Count', 'stream records read by the pipe'),
  recordsMatched: metric('RecordsMatchedByFilter', 'Count', 'records that matched the pipe filter'),
  recordsFilteredOut: metric('RecordsFilteredOut', 'Count', 'records the pipe filter dropped'),
  recordsSentToDlq: metric('RecordsSentToDlq', 'Count', 'records given up on and described in a DLQ message'),
} as const;

/*
 * AWS's metric names, stated once: the local runtime publishes them (pipe emulator, Lambda endpoint, queue depths);
 * the alarm definitions, the stack's dashboards and the ops API read them. Only names this project uses are listed.
 */

/**
 * AWS/EventBridge/Pipes metrics (dimension PipeName), published by AWS and by the local emulator, per execution (a
 * batch through the pipe): EventBridge user guide, "Logging and monitoring Amazon EventBridge Pipes using Amazon
 * CloudWatch Logs", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-monitoring.html. Counts have
 * unit None, durations Milliseconds; the outcome counters are 0 for an execution that did not end that way.
 */
export const PIPES_NAMESPACE = 'AWS/EventBridge/Pipes';
export const PIPES_METRICS = {
  invocations: 'Invocations',
  eventCount: 'EventCount',
  /** The whole execution. */
  duration: 'Duration',
  executionFailed: 'ExecutionFailed',
  executionPartiallyFailed: 'ExecutionPartiallyFailed',
  executionThrottled: 'ExecutionThrottled',
  executionTimeout: 'ExecutionTimeout',
  /** How long the target stage took (the Lambda invocation, with these pipes). */
  targetStageDuration: 'TargetStageDuration',
  targetStageFailed: 'TargetStageFailed',
  /** The target reported some records failed (a partial batch response). */
  targetStagePartiallyFailed: 'TargetStagePartiallyFailed',
} as const;

/** AWS/Lambda metrics (dimension FunctionName), published by AWS and by the local Lambda endpoint. */
export const LAMBDA_NAMESPACE = 'AWS/Lambda';
export const LAMBDA_METRICS = {
  invocations: 'Invocations',
  errors: 'Errors',
  throttles: 'Throttles',
  duration: 'Duration',
  concurrentExecutions: 'ConcurrentExecutions',
} as const;

/** AWS/SQS metrics (dimension QueueName), published by AWS and by the local runtime's queue observer. */
export const SQS_NAMESPACE = 'AWS/SQS';
export const SQS_METRICS = {
  messagesVisible: 'ApproximateNumberOfMessagesVisible',
  messagesNotVisible: 'ApproximateNumberOfMessagesNotVisible',
  ageOfOldestMessage: 'ApproximateAgeOfOldestMessage',
  messagesSent: 'NumberOfMessagesSent',
} as const;

/** AWS/DynamoDB metrics; stream reads are dimensioned by TableName, Operation and StreamLabel. */
export const DYNAMODB_NAMESPACE = 'AWS/DynamoDB';
export const DYNAMODB_METRICS = {
  returnedRecordsCount: 'ReturnedRecordsCount',
  /** Sum per TableName; locally the gateway counts 1 per item of a successful write (an on-demand table's minimum). */
  consumedWriteCapacityUnits: 'ConsumedWriteCapacityUnits',
} as const;

/**
 * In AWS the head of the funnel (records in the stream) is only estimable: DynamoDB's `ReturnedRecordsCount` for
 * `GetRecords` counts what every reader of the stream fetched, so it is divided by the number of readers (one pipe
 * per key) and shown as an estimate.
 */
export const STREAM_ESTIMATE = {
  namespace: DYNAMODB_NAMESPACE,
  metricName: DYNAMODB_METRICS.returnedRecordsCount,
  operation: 'GetRecords',
  readers: PIPE_KEYS.length,
} as const;

/**
 * The filter-match funnel, in pipeline order: what the ops API reports and the console draws. The head (polled,
 * filtered out) is exact locally and an estimate in AWS.
 */
export const FUNNEL_STAGES = [
  'polled',
  'matchedByPipeFilter',
  'filteredOut',
  'guardPassed',
  'guardRejected',
  'processed',
  'failed',
  'sentToDlq',
] as const;
export type FunnelStageKey = (typeof FUNNEL_STAGES)[number];
