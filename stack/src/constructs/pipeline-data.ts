import {
  AUDIT_KEYS,
  IDEMPOTENCY_KEYS,
  JOURNAL_KEYS,
  LOGICAL_IDS,
  type PipeKey,
  PRIORITY_SHIPMENT_KEYS,
} from '@orderflow/pipeline';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  type CfnTable,
  StreamViewType,
  Table,
  TableEncryption,
  type TableProps,
} from 'aws-cdk-lib/aws-dynamodb';
import { type CfnQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
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
 * The stateful part of the pipeline: the Orders table and its stream, the processors' tables, the downstream queues
 * and the pipes' dead-letter queues. Logical ids are pinned to pipeline's `LOGICAL_IDS` so the local runtime, the
 * ops API and runbooks can find them by name.
 */
export class PipelineData extends Construct {
  readonly ordersTable: Table;
  readonly journalTable: Table;
  readonly idempotencyTable: Table;
  readonly priorityShipmentsTable: Table;
  readonly auditTable: Table;
  readonly notificationQueue: Queue;
  readonly accountManagerQueue: Queue;
  readonly deadLetterQueues: Readonly<Record<PipeKey, Queue>>;

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
      partitionKey: { name: 'orderId', type: AttributeType.STRING },
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
    });
    this.journalTable = table(LOGICAL_IDS.journalTable, {
      partitionKey: { name: JOURNAL_KEYS.partitionKey, type: AttributeType.STRING },
      timeToLiveAttribute: JOURNAL_KEYS.ttlAttribute,
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
    });

    const queue = (logicalId: string, retention: Duration): Queue => {
      const created = new Queue(this, logicalId, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: retention,
        removalPolicy: props.removalPolicy,
      });
      (created.node.defaultChild as CfnQueue).overrideLogicalId(logicalId);
      return created;
    };
    this.notificationQueue = queue(LOGICAL_IDS.notificationQueue, Duration.days(4));
    this.accountManagerQueue = queue(LOGICAL_IDS.accountManagerQueue, Duration.days(4));
    // 14 days, SQS's maximum: a DLQ message is the only pointer to a failed batch (docs/AWS-FACTS.md, fact 7).
    this.deadLetterQueues = {
      standard: queue(props.pipes.standard.dlqId, Duration.days(14)),
      premium: queue(props.pipes.premium.dlqId, Duration.days(14)),
    };
  }
}
