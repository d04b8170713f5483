import {
  AUDIT_KEYS,
  DEAD_LETTER_ARCHIVER_SETTINGS,
  DEAD_LETTER_ARCHIVERS,
  DEAD_LETTER_CAPTURE_ENABLED,
  DEAD_LETTER_INDEX_PROJECTION,
  DEAD_LETTER_INDEXES,
  DEAD_LETTER_KEYS,
  IDEMPOTENCY_KEYS,
  JOBS_KEYS,
  JOURNAL_KEYS,
  LOGICAL_IDS,
  ORDERS_PARTITION_KEY,
  type PipeKey,
  PRIORITY_SHIPMENT_KEYS,
} from '@orderflow/pipeline/facts';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  type CfnTable,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
  type TableProps,
} from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type CfnQueue, Queue, QueueEncryption, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ResolvedPipe } from '../props.ts';

export interface PipelineDataProps {
  readonly pipes: Readonly<Record<PipeKey, ResolvedPipe>>;
  /** @default RemovalPolicy.RETAIN (set by the stack) */
  readonly removalPolicy: RemovalPolicy;
  /** @default true (set by the stack) */
  readonly deletionProtection: boolean;
}

/**
 * Actions that change or remove an existing item, denied on the audit table to every principal (an explicit Deny in a
 * resource-based policy wins over any Allow; IAM user guide, "Policy evaluation logic"; docs/AWS-FACTS.md, fact 15).
 * `BatchWriteItem` is denied whole: its put requests overwrite unconditionally. Transactions are authorised per item
 * with these same actions. What no policy can express: a `PutItem` that overwrites an existing item is the same
 * action as one that adds a new item, and IAM has no condition key for a request's `ConditionExpression`; the ops API
 * adds entries with `attribute_not_exists` (ops-api/src/services/audit-log.ts), and an administrator can still
 * remove this policy (`PutResourcePolicy`/`DeleteResourcePolicy` are left allowed on purpose, so the table never
 * locks its own account out; CloudTrail records either call). `Resource: '*'` means this table: a table's own ARN
 * cannot be referenced in its own policy without a circular dependency.
 */
function auditAppendOnly(): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'AuditEntriesAreNeverChangedOrRemoved',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: [
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:PartiQLUpdate',
          'dynamodb:PartiQLDelete',
        ],
        resources: ['*'],
      }),
    ],
  });
}

/**
 * The stateful part of the pipeline: the Orders table and its stream, the processors' tables, the ops API's audit
 * and jobs tables, the dead-letter store, the downstream queues, the pipes' dead-letter queues and the queues their
 * archivers give up to. Logical ids are pinned to pipeline's
 * `LOGICAL_IDS` so the local runtime, the ops API and runbooks can find them by name.
 */
export class PipelineData extends Construct {
  readonly ordersTable: Table;
  readonly journalTable: Table;
  readonly idempotencyTable: Table;
  readonly priorityShipmentsTable: Table;
  readonly auditTable: Table;
  readonly jobsTable: Table;
  /** The dead-letter store (`dead-letters/` in pipeline): written by the archivers, read by the ops API. */
  readonly deadLetterTable: Table;
  readonly notificationQueue: Queue;
  readonly accountManagerQueue: Queue;
  readonly deadLetterQueues: Readonly<Record<PipeKey, Queue>>;
  /** Where a pipe's DLQ moves a message its archiver failed on `maxReceiveCount` times (the DLQ's redrive policy). */
  readonly unarchivableQueues: Readonly<Record<PipeKey, Queue>>;

  constructor(scope: Construct, id: string, props: PipelineDataProps) {
    super(scope, id);
    const common = {
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    } satisfies Partial<TableProps>;
    const table = (logicalId: string, tableProps: Omit<TableProps, keyof typeof common>): Table => {
      const created = new Table(this, logicalId, { ...common, ...tableProps });
      (created.node.defaultChild as CfnTable).overrideLogicalId(logicalId);
      return created;
    };

    // NEW_AND_OLD_IMAGES: the premium rule compares the old and the new status (pipeline/src/pipes/definitions.ts).
    this.ordersTable = table(LOGICAL_IDS.ordersTable, {
      partitionKey: { name: ORDERS_PARTITION_KEY, type: AttributeType.STRING },
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
    });
    this.journalTable = table(LOGICAL_IDS.journalTable, {
      partitionKey: { name: JOURNAL_KEYS.partitionKey, type: AttributeType.STRING },
      timeToLiveAttribute: JOURNAL_KEYS.ttlAttribute,
    });
    // The archiver's look-up of a DLQ message's entries by sequence range. Keys only: an entry's retries rewrite no
    // key attribute, so they write nothing to the index; the archiver reads the entries from the table.
    const bySequence = JOURNAL_KEYS.sequenceIndex;
    this.journalTable.addGlobalSecondaryIndex({
      indexName: bySequence.name,
      partitionKey: { name: bySequence.partitionKey, type: AttributeType.STRING },
      sortKey: { name: bySequence.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY,
    });
    this.idempotencyTable = table(LOGICAL_IDS.idempotencyTable, {
      partitionKey: { name: IDEMPOTENCY_KEYS.partitionKey, type: AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_KEYS.ttlAttribute,
    });
    this.priorityShipmentsTable = table(LOGICAL_IDS.priorityShipmentsTable, {
      partitionKey: { name: PRIORITY_SHIPMENT_KEYS.partitionKey, type: AttributeType.STRING },
    });
    this.auditTable = table(LOGICAL_IDS.auditTable, {
      partitionKey: { name: AUDIT_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: AUDIT_KEYS.sortKey, type: AttributeType.STRING },
      resourcePolicy: auditAppendOnly(),
    });
    // Redrive jobs and message leases change all the time (heartbeats, cancels, releases); they live apart from the
    // audit log so that the audit table can refuse every change to an item.
    this.jobsTable = table(LOGICAL_IDS.jobsTable, {
      partitionKey: { name: JOBS_KEYS.partitionKey, type: AttributeType.STRING },
      timeToLiveAttribute: JOBS_KEYS.ttlAttribute,
    });

    // Dead letters outlive the stream and SQS (docs/ARCHITECTURE.md, "Dead-letter store"): no TTL. Both indexes are
    // sparse (only dead letters carry their keys) and project what a list row shows.
    this.deadLetterTable = table(LOGICAL_IDS.deadLetterTable, {
      partitionKey: { name: DEAD_LETTER_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: DEAD_LETTER_KEYS.sortKey, type: AttributeType.STRING },
    });
    for (const index of Object.values(DEAD_LETTER_INDEXES)) {
      this.deadLetterTable.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.INCLUDE,
        nonKeyAttributes: [...DEAD_LETTER_INDEX_PROJECTION],
      });
    }

    const queue = (logicalId: string, retention: Duration, extra: Partial<QueueProps> = {}): Queue => {
      const created = new Queue(this, logicalId, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: retention,
        removalPolicy: props.removalPolicy,
        ...extra,
      });
      (created.node.defaultChild as CfnQueue).overrideLogicalId(logicalId);
      return created;
    };
    this.notificationQueue = queue(LOGICAL_IDS.notificationQueue, Duration.days(4));
    this.accountManagerQueue = queue(LOGICAL_IDS.accountManagerQueue, Duration.days(4));
    // 14 days, SQS's maximum: a DLQ message is the only pointer to a failed batch until its archiver has stored it
    // (docs/AWS-FACTS.md, fact 7). A message moved to the unarchivable queue keeps its first enqueue time (SQS
    // developer guide, "Using dead-letter queues": the expiration is based on the original enqueue timestamp), so
    // that queue keeps 14 days too.
    const settings = DEAD_LETTER_ARCHIVER_SETTINGS;
    const pipeQueues = (key: PipeKey) => {
      const unarchivable = queue(DEAD_LETTER_ARCHIVERS[key].unarchivableQueueId, Duration.days(14));
      const dlq = queue(props.pipes[key].dlqId, Duration.days(14), {
        // The archiver is this queue's event source: Lambda wants the visibility timeout at least the function's.
        visibilityTimeout: Duration.seconds(settings.queueVisibilityTimeoutSeconds),
        // Only with capture on: every receive counts toward maxReceiveCount, and while the console browses and
        // redrives from the DLQ itself (capture deployed disabled, DEAD_LETTER_CAPTURE_ENABLED) its views and claims
        // would move messages out of sight into a queue nothing watches.
        ...(DEAD_LETTER_CAPTURE_ENABLED
          ? { deadLetterQueue: { queue: unarchivable, maxReceiveCount: settings.maxReceiveCount } }
          : {}),
      });
      return { dlq, unarchivable };
    };
    const standard = pipeQueues('standard');
    const premium = pipeQueues('premium');
    this.deadLetterQueues = { standard: standard.dlq, premium: premium.dlq };
    this.unarchivableQueues = { standard: standard.unarchivable, premium: premium.unarchivable };
  }
}
