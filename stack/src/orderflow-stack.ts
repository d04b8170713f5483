import { PIPE_KEYS, type PipeKey } from '@orderflow/pipeline/facts';
import { CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DeadLetterArchivers } from './constructs/dead-letter-archiver.ts';
import { type MonitoredPipe, Monitoring } from './constructs/monitoring.ts';
import { OpsToolkit } from './constructs/ops-toolkit.ts';
import { OrderPipe } from './constructs/order-pipe.ts';
import { PipelineData } from './constructs/pipeline-data.ts';
import { Processors } from './constructs/processors.ts';
import { acknowledgeFindings } from './nag.ts';
import { type OrderflowStackProps, validateProps } from './props.ts';

export { STACK_NAME } from '@orderflow/pipeline/facts';

/**
 * Everything a team needs in one account: the Orders table and its stream, both pipes and processors, DLQs, the
 * failure journal, the dead-letter store and its archivers, dashboards and alarms, and the ops toolkit (API +
 * console). Environment-agnostic, so `cdk synth`
 * needs no credentials.
 */
export class OrderflowStack extends Stack {
  readonly data: PipelineData;
  readonly processors: Processors;
  readonly pipes: Readonly<Record<PipeKey, OrderPipe>>;
  readonly deadLetterArchivers: DeadLetterArchivers;
  readonly monitoring: Monitoring;
  readonly opsToolkit: OpsToolkit | undefined;

  constructor(scope: Construct, id: string, props: OrderflowStackProps = {}) {
    super(scope, id, {
      description: 'Orderflow: DynamoDB Streams -> EventBridge Pipes -> Lambda order pipeline and its ops toolkit',
      ...props,
    });
    const { pipes, journalTtlDays, resourcePrefix } = validateProps(props);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    this.data = new PipelineData(this, 'Data', {
      pipes,
      removalPolicy: props.dataRemovalPolicy ?? RemovalPolicy.RETAIN,
      deletionProtection: props.deletionProtection ?? true,
    });
    this.processors = new Processors(this, 'Processors', { pipes, data: this.data, journalTtlDays, logRetention });
    const orderPipes = {} as Record<PipeKey, OrderPipe>;
    for (const key of PIPE_KEYS) {
      orderPipes[key] = new OrderPipe(this, `${key}Pipe`, {
        pipe: pipes[key],
        pipeName: `${resourcePrefix}-${key}`,
        table: this.data.ordersTable,
        target: this.processors.functions[key],
        deadLetterQueue: this.data.deadLetterQueues[key],
        logRetention,
      });
    }
    this.pipes = orderPipes;
    this.deadLetterArchivers = new DeadLetterArchivers(this, 'DeadLetterArchivers', {
      data: this.data,
      pipes: orderPipes,
      logRetention,
    });

    this.opsToolkit =
      props.opsToolkit === false
        ? undefined
        : new OpsToolkit(this, 'OpsToolkit', {
            data: this.data,
            pipes: orderPipes,
            processors: this.processors.functions,
            resourcePrefix,
            logRetention,
            removalPolicy: props.dataRemovalPolicy ?? RemovalPolicy.RETAIN,
            ...(props.consoleDir ? { consoleDir: props.consoleDir } : {}),
            ...(props.cognitoDomainPrefix ? { cognitoDomainPrefix: props.cognitoDomainPrefix } : {}),
            ...(props.runbookBaseUrl ? { runbookBaseUrl: props.runbookBaseUrl } : {}),
          });

    const monitored = {} as Record<PipeKey, MonitoredPipe>;
    for (const key of PIPE_KEYS) {
      monitored[key] = {
        definition: pipes[key],
        pipeName: orderPipes[key].pipeName,
        processor: this.processors.functions[key],
        deadLetterQueue: this.data.deadLetterQueues[key],
        archiver: this.deadLetterArchivers.functions[key],
        unarchivableQueue: this.data.unarchivableQueues[key],
      };
    }
    this.monitoring = new Monitoring(this, 'Monitoring', {
      pipes: monitored,
      ordersTable: this.data.ordersTable,
      resourcePrefix,
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
      ...(this.opsToolkit ? { runbookBaseUrl: this.opsToolkit.runbookBaseUrl } : {}),
      ...(props.runbookBaseUrl ? { runbookBaseUrl: props.runbookBaseUrl } : {}),
      consoleBaseUrl: this.opsToolkit?.consoleUrl,
    });

    new CfnOutput(this, 'OrdersTableName', { value: this.data.ordersTable.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
    for (const key of PIPE_KEYS) {
      new CfnOutput(this, `${key}DeadLetterQueueUrl`, { value: this.data.deadLetterQueues[key].queueUrl });
    }
    acknowledgeFindings(this);
  }
}
