import { HANDLER_ENTRIES } from '@orderflow/handlers/bundling';
import { HANDLER_ENV, METRICS_NAMESPACE, PIPE_KEYS, type PipeKey, SERVICE_NAME } from '@orderflow/pipeline/facts';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ResolvedPipe } from '../props.ts';
import { bundledFunction } from './bundled-function.ts';
import type { PipelineData } from './pipeline-data.ts';
import { grantOnTable } from './table-grants.ts';

export interface ProcessorsProps {
  readonly pipes: Readonly<Record<PipeKey, ResolvedPipe>>;
  readonly data: PipelineData;
  readonly journalTtlDays: number;
  readonly logRetention: RetentionDays;
}

// Exactly the calls the processors make (docs/AWS-FACTS.md, fact 15), and nothing they do not:
// - Powertools' idempotency persistence layer (`DynamoDBPersistenceLayer`) sends PutItem (conditional), GetItem,
//   UpdateItem and DeleteItem (Powertools for AWS Lambda (TypeScript), "Idempotency", IAM permissions);
// - the failure journal is one UpdateItem per failed record (handlers/src/processing/journal.ts);
// - the priority mark is a conditional PutItem, then a GetItem when it exists
//   (handlers/src/adapters/priority-shipments.ts);
// - notifications are one SendMessage each (handlers/src/adapters/sqs-notifications.ts); the queue URL comes from the
//   environment, so neither GetQueueUrl nor GetQueueAttributes is needed.
// No processor reads the Orders table: the record's images carry the order.
const IDEMPOTENCY_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
const JOURNAL_ACTIONS = ['dynamodb:UpdateItem'];
const PRIORITY_MARK_ACTIONS = ['dynamodb:PutItem', 'dynamodb:GetItem'];
const NOTIFY_ACTIONS = ['sqs:SendMessage'];

/** The two processors, each the target of one pipe, with only the grants its workflow needs. */
export class Processors extends Construct {
  readonly functions: Readonly<Record<PipeKey, NodejsFunction>>;

  constructor(scope: Construct, id: string, props: ProcessorsProps) {
    super(scope, id);
    const { data } = props;
    // Every processor gets every resource name: the handlers validate one environment shape at init, and names are
    // not permissions; the grants below are what differ.
    const sharedEnvironment: Record<string, string> = {
      [HANDLER_ENV.ordersTable]: data.ordersTable.tableName,
      [HANDLER_ENV.journalTable]: data.journalTable.tableName,
      [HANDLER_ENV.idempotencyTable]: data.idempotencyTable.tableName,
      [HANDLER_ENV.priorityShipmentsTable]: data.priorityShipmentsTable.tableName,
      [HANDLER_ENV.notificationQueueUrl]: data.notificationQueue.queueUrl,
      [HANDLER_ENV.accountManagerQueueUrl]: data.accountManagerQueue.queueUrl,
      [HANDLER_ENV.journalTtlDays]: String(props.journalTtlDays),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    const functions = {} as Record<PipeKey, NodejsFunction>;
    for (const key of PIPE_KEYS) {
      const pipe = props.pipes[key];
      const fn = bundledFunction(this, pipe.functionId, {
        entry: HANDLER_ENTRIES[pipe.functionId],
        entryOwner: 'the handlers package (handlers/src/functions)',
        description: pipe.description,
        environment: { ...sharedEnvironment, [HANDLER_ENV.pipe]: key },
        logRetention: props.logRetention,
        logicalId: pipe.functionId,
      });
      // The table only: the journal's index is the archivers' (table-grants.ts).
      grantOnTable(data.journalTable, fn, ...JOURNAL_ACTIONS);
      data.idempotencyTable.grant(fn, ...IDEMPOTENCY_ACTIONS);
      functions[key] = fn;
    }
    data.notificationQueue.grant(functions.standard, ...NOTIFY_ACTIONS);
    data.priorityShipmentsTable.grant(functions.premium, ...PRIORITY_MARK_ACTIONS);
    data.accountManagerQueue.grant(functions.premium, ...NOTIFY_ACTIONS);
    this.functions = functions;
  }
}
