import { HANDLER_ENTRIES } from '@orderflow/handlers/bundling';
import {
  DEAD_LETTER_ARCHIVER_ENV,
  DEAD_LETTER_ARCHIVER_SETTINGS,
  DEAD_LETTER_ARCHIVERS,
  DEAD_LETTER_CAPTURE_ENABLED,
  HANDLER_ENV,
  JOURNAL_KEYS,
  METRICS_NAMESPACE,
  PIPE_KEYS,
  type PipeKey,
  SERVICE_NAME,
} from '@orderflow/pipeline/facts';
import { Duration } from 'aws-cdk-lib';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { type CfnEventSourceMapping, EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundledFunction } from './bundled-function.ts';
import type { OrderPipe } from './order-pipe.ts';
import type { PipelineData } from './pipeline-data.ts';
import { grantOnIndex, grantOnTable } from './table-grants.ts';

export interface DeadLetterArchiversProps {
  readonly data: PipelineData;
  readonly pipes: Readonly<Record<PipeKey, OrderPipe>>;
  readonly logRetention: RetentionDays;
}

// Exactly the calls an archiver makes (handlers/src/dead-letters), and what its event source mapping makes with
// the function's role:
// - journal: Query of the bySequence index, then BatchGetItem of the entries (journal-lookup.ts);
// - stream: GetShardIterator and GetRecords, for records the journal lacks (stream-range-reader.ts); on the current
//   stream of the Orders table only (a message naming a replaced stream fails its read and, after maxReceiveCount
//   receives, waits in the unarchivable queue);
// - store: GetItem (is it stored already?), BatchWriteItem (record items), PutItem and UpdateItem (the transaction:
//   TransactWriteItems has no action of its own, each item is authorized as its Put or Update; store.ts);
// - its DLQ: ReceiveMessage, DeleteMessage and GetQueueAttributes, the permissions Lambda's SQS event source needs
//   in the execution role (Lambda developer guide, "Using Lambda with Amazon SQS", execution role permissions). No
//   ChangeMessageVisibility: the mapping returns failed messages by their visibility timeout.
const JOURNAL_READS = ['dynamodb:BatchGetItem'];
const JOURNAL_INDEX_READS = ['dynamodb:Query'];
const STREAM_READS = ['dynamodb:GetShardIterator', 'dynamodb:GetRecords'];
const STORE_WRITES = ['dynamodb:GetItem', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
const QUEUE_CONSUMER = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'];

/**
 * A dead-letter archiver per pipe: the event source of the pipe's DLQ, capturing each DLQ message into the
 * dead-letter store within seconds of its arrival (docs/ARCHITECTURE.md, "Dead-letter store"). One function per pipe,
 * like the processors, so that its errors and alarms are the pipe's; all run the one `DeadLetterArchiverFunction`
 * bundle. A message the archiver fails on stays in the DLQ (partial batch response), is received again after the
 * DLQ's visibility timeout, and after `maxReceiveCount` receives moves to the pipe's unarchivable queue.
 */
export class DeadLetterArchivers extends Construct {
  readonly functions: Readonly<Record<PipeKey, NodejsFunction>>;
  readonly mappings: Readonly<Record<PipeKey, EventSourceMapping>>;

  constructor(scope: Construct, id: string, props: DeadLetterArchiversProps) {
    super(scope, id);
    const { data } = props;
    const streamArn = data.ordersTable.tableStreamArn;
    if (!streamArn) throw new Error(`table ${data.ordersTable.node.path} has no stream for the archivers to read`);
    const settings = DEAD_LETTER_ARCHIVER_SETTINGS;
    const functions = {} as Record<PipeKey, NodejsFunction>;
    const mappings = {} as Record<PipeKey, EventSourceMapping>;
    for (const key of PIPE_KEYS) {
      const dlq = data.deadLetterQueues[key];
      const fn = bundledFunction(this, DEAD_LETTER_ARCHIVERS[key].functionId, {
        entry: HANDLER_ENTRIES.DeadLetterArchiverFunction,
        entryOwner: 'the handlers package (handlers/src/functions)',
        description: `Captures the ${key} pipe's DLQ messages into the dead-letter store.`,
        environment: {
          [HANDLER_ENV.pipe]: key,
          [HANDLER_ENV.journalTable]: data.journalTable.tableName,
          [DEAD_LETTER_ARCHIVER_ENV.deadLetterTable]: data.deadLetterTable.tableName,
          [DEAD_LETTER_ARCHIVER_ENV.deadLetterQueueArn]: dlq.queueArn,
          [DEAD_LETTER_ARCHIVER_ENV.pipeArn]: props.pipes[key].pipe.attrArn,
          [DEAD_LETTER_ARCHIVER_ENV.ordersStreamArn]: streamArn,
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
        logRetention: props.logRetention,
        timeout: Duration.seconds(settings.timeoutSeconds),
        logicalId: DEAD_LETTER_ARCHIVERS[key].functionId,
      });
      grantOnTable(data.journalTable, fn, ...JOURNAL_READS);
      grantOnIndex(data.journalTable, JOURNAL_KEYS.sequenceIndex.name, fn, ...JOURNAL_INDEX_READS);
      Grant.addToPrincipal({ grantee: fn, actions: STREAM_READS, resourceArns: [streamArn] });
      grantOnTable(data.deadLetterTable, fn, ...STORE_WRITES);
      dlq.grant(fn, ...QUEUE_CONSUMER);

      // Partial batch responses: only the messages whose dead letter could not be stored go back to the queue
      // (Lambda developer guide, "Handling errors for an SQS event source in Lambda"). MaximumConcurrency bounds the
      // invocations this mapping runs at once (2 to 1,000).
      mappings[key] = new EventSourceMapping(this, `${key}Mapping`, {
        target: fn,
        eventSourceArn: dlq.queueArn,
        batchSize: settings.batchSize,
        maxBatchingWindow: Duration.seconds(settings.maximumBatchingWindowInSeconds),
        reportBatchItemFailures: true,
        maxConcurrency: settings.maximumConcurrency,
        // Deployed disabled for now (DEAD_LETTER_CAPTURE_ENABLED says why); an operator may enable it with
        // `aws lambda update-event-source-mapping --enabled`, knowing that the console then shows no DLQ messages.
        enabled: DEAD_LETTER_CAPTURE_ENABLED,
      });
      (mappings[key].node.defaultChild as CfnEventSourceMapping).overrideLogicalId(
        DEAD_LETTER_ARCHIVERS[key].mappingId,
      );
      // CreateEventSourceMapping checks the role's SQS permissions: the policy must be in place first.
      if (fn.role) mappings[key].node.addDependency(fn.role);
      functions[key] = fn;
    }
    this.functions = functions;
    this.mappings = mappings;
  }
}
