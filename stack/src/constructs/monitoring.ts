import {
  type AlarmMetric,
  type AlarmSlug,
  ARCHIVER_METRICS,
  alarmDescription,
  alarmName,
  alarmWindowSeconds,
  COMPOSITE_ALARM,
  type CompositeAlarmDefinition,
  consoleDeepLink,
  DIMENSION_CLAUSE,
  DIMENSION_PIPE,
  DYNAMODB_METRICS,
  DYNAMODB_NAMESPACE,
  LAMBDA_METRICS,
  LAMBDA_NAMESPACE,
  METRICS_NAMESPACE,
  PIPE_ALARMS,
  PIPE_KEYS,
  PIPES_METRICS,
  PIPES_NAMESPACE,
  type PipeAlarmDefinition,
  type PipeKey,
  PROCESSOR_METRICS,
  runbookPath,
  SERVICE_NAME,
  SQS_METRICS,
  SQS_NAMESPACE,
  STREAM_ESTIMATE,
} from '@orderflow/pipeline/facts';
import { ArnFormat, Aws, Duration, Fn, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmRule,
  AlarmStatusWidget,
  ComparisonOperator,
  CompositeAlarm,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ResolvedPipe } from '../props.ts';

export interface MonitoredPipe {
  readonly definition: ResolvedPipe;
  readonly pipeName: string;
  readonly processor: IFunction;
  readonly deadLetterQueue: IQueue;
  /** The pipe's dead-letter archiver and the queue its DLQ gives up to. */
  readonly archiver: IFunction;
  readonly unarchivableQueue: IQueue;
}

export interface MonitoringProps {
  readonly pipes: Readonly<Record<PipeKey, MonitoredPipe>>;
  readonly ordersTable: ITable;
  readonly resourcePrefix: string;
  /** @default - no subscription */
  readonly alarmEmail?: string;
  /** Base URL the runbook paths (`docs/runbooks/<slug>.md`) are appended to. @default the repository-relative path */
  readonly runbookBaseUrl?: string;
  /** Base URL of the console for deep links; undefined when the ops toolkit is not deployed. */
  readonly consoleBaseUrl: string | undefined;
}

const COMPARISON: Record<PipeAlarmDefinition['comparison'], ComparisonOperator> = {
  GreaterThanThreshold: ComparisonOperator.GREATER_THAN_THRESHOLD,
  GreaterThanOrEqualToThreshold: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  LessThanThreshold: ComparisonOperator.LESS_THAN_THRESHOLD,
  LessThanOrEqualToThreshold: ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
};
const MISSING_DATA: Record<PipeAlarmDefinition['treatMissingData'], TreatMissingData> = {
  breaching: TreatMissingData.BREACHING,
  notBreaching: TreatMissingData.NOT_BREACHING,
  ignore: TreatMissingData.IGNORE,
  missing: TreatMissingData.MISSING,
};

/**
 * Alarms from pipeline's definitions (per pipe, plus the composite), their SNS topic, and the dashboard. The alarm
 * text and thresholds are pipeline's; this construct only binds them to this stack's resources.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: readonly { readonly pipe: PipeKey; readonly slug: AlarmSlug; readonly alarm: Alarm }[];
  readonly compositeAlarm: CompositeAlarm;
  readonly dashboard: Dashboard;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: MonitoringProps,
  ) {
    super(scope, id);
    // Only this stack's alarms (every alarm name starts with the resource prefix, composites included) of this
    // account may use the topic and its key: the confused-deputy guard for a service principal (aws:SourceArn,
    // aws:SourceAccount; SNS developer guide, "Amazon SNS access control use cases").
    const alarmPublisher = new ServicePrincipal('cloudwatch.amazonaws.com', {
      conditions: {
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ArnLike: {
          'aws:SourceArn': Stack.of(this).formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: `${props.resourcePrefix}-*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    });
    // CloudWatch can only publish to an encrypted topic whose key policy lets it use the key, which rules out the
    // AWS-managed SNS key (SNS developer guide, "Managing Amazon SNS encryption keys and costs", section "Enable
    // compatibility between event sources from AWS services and encrypted topics"; docs/AWS-FACTS.md, fact 12).
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the Orderflow alarm topic',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowAlarmsToUseTheKey',
        principals: [alarmPublisher],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: 'Orderflow alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default access policy (docs/AWS-FACTS.md, fact 12): `enforceSSL` alone leaves
    // only the TLS Deny, and nothing would allow CloudWatch to publish, so no alarm notification would ever arrive.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowAlarmsToPublish',
        principals: [alarmPublisher],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);

    const alarms: { pipe: PipeKey; slug: AlarmSlug; alarm: Alarm }[] = [];
    for (const key of PIPE_KEYS) {
      for (const definition of PIPE_ALARMS) {
        const alarm = new Alarm(this, `${key}-${definition.slug}`, {
          alarmName: alarmName(definition.slug, key, props.resourcePrefix),
          alarmDescription: this.describe(definition, key),
          metric: this.alarmMetric(definition, key),
          threshold: definition.threshold,
          evaluationPeriods: definition.evaluationPeriods,
          datapointsToAlarm: definition.datapointsToAlarm,
          comparisonOperator: COMPARISON[definition.comparison],
          treatMissingData: MISSING_DATA[definition.treatMissingData],
        });
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
        alarms.push({ pipe: key, slug: definition.slug, alarm });
      }
    }
    this.alarms = alarms;

    this.compositeAlarm = new CompositeAlarm(this, COMPOSITE_ALARM.slug, {
      compositeAlarmName: alarmName(COMPOSITE_ALARM.slug, undefined, props.resourcePrefix),
      alarmDescription: this.describe(COMPOSITE_ALARM),
      alarmRule: AlarmRule.anyOf(
        ...alarms.filter(({ slug }) => COMPOSITE_ALARM.anyOf.includes(slug)).map(({ alarm }) => alarm),
      ),
    });
    this.compositeAlarm.addAlarmAction(action);
    this.compositeAlarm.addOkAction(action);

    this.dashboard = this.buildDashboard();
  }

  private describe(definition: PipeAlarmDefinition | CompositeAlarmDefinition, pipe?: PipeKey): string {
    const base = this.props.runbookBaseUrl?.replace(/\/+$/, '');
    const runbookUrl = base ? `${base}/${runbookPath(definition.slug)}` : runbookPath(definition.slug);
    const consoleUrl = this.props.consoleBaseUrl
      ? consoleDeepLink(this.props.consoleBaseUrl, definition.consoleView, {
          ...(pipe ? { pipe } : {}),
          windowSeconds: alarmWindowSeconds(definition),
        })
      : '(ops toolkit not deployed in this stack)';
    return alarmDescription(definition, { runbookUrl, consoleUrl }, pipe);
  }

  private alarmMetric(definition: PipeAlarmDefinition, pipe: PipeKey): IMetric {
    const period = Duration.seconds(definition.periodSeconds);
    if (definition.kind === 'metric') return this.resourceMetric(definition.metric, pipe, period);
    const usingMetrics: Record<string, IMetric> = {};
    for (const [id, metric] of Object.entries(definition.metrics)) {
      usingMetrics[id] = this.resourceMetric(metric, pipe, period);
    }
    return new MathExpression({ expression: definition.expression, usingMetrics, period });
  }

  /** A metric of one of the pipe's resources (or the table it reads), dimensioned as its AWS namespace publishes it. */
  private resourceMetric(metric: AlarmMetric, pipe: PipeKey, period: Duration): Metric {
    const resources = this.props.pipes[pipe];
    const dimensionsMap: Record<AlarmMetric['resource'], Record<string, string>> = {
      dlq: { QueueName: resources.deadLetterQueue.queueName },
      function: { FunctionName: resources.processor.functionName },
      pipe: { PipeName: resources.pipeName },
      ordersTable: { TableName: this.props.ordersTable.tableName },
      archiver: { FunctionName: resources.archiver.functionName },
      unarchivableQueue: { QueueName: resources.unarchivableQueue.queueName },
      // Powertools Metrics adds its `service` dimension to every metric, next to the handler's own `Pipe`.
      metrics: { service: SERVICE_NAME, [DIMENSION_PIPE]: pipe },
    };
    return new Metric({
      namespace: metric.namespace,
      metricName: metric.metricName,
      statistic: metric.statistic,
      dimensionsMap: dimensionsMap[metric.resource],
      period,
    });
  }

  private buildDashboard(): Dashboard {
    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${this.props.resourcePrefix}-pipeline`,
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      new AlarmStatusWidget({
        title: 'Alarms',
        width: 24,
        alarms: [this.compositeAlarm, ...this.alarms.map(({ alarm }) => alarm)],
      }),
    );
    for (const key of PIPE_KEYS) dashboard.addWidgets(...this.pipeWidgets(key));
    return dashboard;
  }

  private pipeWidgets(key: PipeKey): (TextWidget | GraphWidget)[] {
    const { definition, pipeName, processor, deadLetterQueue, unarchivableQueue } = this.props.pipes[key];
    const minute = Duration.minutes(1);
    // Powertools Metrics adds its `service` dimension to every metric it emits, next to the handler's own `Pipe`.
    const emf = (name: string, extra: Record<string, string> = {}, label?: string) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        statistic: 'Sum',
        period: minute,
        dimensionsMap: { service: SERVICE_NAME, [DIMENSION_PIPE]: key, ...extra },
        ...(label ? { label } : {}),
      });
    const aws = (namespace: string, name: string, dimensionsMap: Record<string, string>, statistic = 'Sum') =>
      new Metric({
        namespace,
        metricName: name,
        statistic,
        period: minute,
        dimensionsMap,
        label: `${name} ${statistic}`,
      });
    const pipeMetric = (name: string, statistic = 'Sum') =>
      aws(PIPES_NAMESPACE, name, { PipeName: pipeName }, statistic);
    const fnMetric = (name: string, statistic = 'Sum') =>
      aws(LAMBDA_NAMESPACE, name, { FunctionName: processor.functionName }, statistic);
    const dlqMetric = (name: string) => aws(SQS_NAMESPACE, name, { QueueName: deadLetterQueue.queueName }, 'Maximum');

    // AWS counts no filtered-out records for Pipes (docs/AWS-FACTS.md, fact 8): the head of the funnel is every stream
    // reader's
    // GetRecords total divided by the number of readers, and is labelled an estimate.
    const streamLabel = Fn.select(3, Fn.split('/', this.props.ordersTable.tableStreamArn ?? ''));
    const streamEstimate = new MathExpression({
      expression: `returned / ${STREAM_ESTIMATE.readers}`,
      label: `Stream records (estimate: GetRecords ÷ ${STREAM_ESTIMATE.readers} readers)`,
      period: minute,
      usingMetrics: {
        returned: new Metric({
          namespace: STREAM_ESTIMATE.namespace,
          metricName: STREAM_ESTIMATE.metricName,
          statistic: 'Sum',
          period: minute,
          dimensionsMap: {
            TableName: this.props.ordersTable.tableName,
            Operation: STREAM_ESTIMATE.operation,
            StreamLabel: streamLabel,
          },
        }),
      },
    });
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: 8, height: 6 });

    return [
      new TextWidget({
        width: 24,
        height: 2,
        markdown: `## ${definition.title} (pipe \`${pipeName}\`)\n${definition.description} Received = matched by the pipe filter; the guard then applies the full rule.`,
      }),
      graph(`${key}: filter-match funnel`, [
        streamEstimate,
        emf(PROCESSOR_METRICS.recordsReceived.name, {}, 'Received (matched pipe filter)'),
        emf(PROCESSOR_METRICS.guardPassed.name, {}, 'Passed the full rule'),
        emf(PROCESSOR_METRICS.recordsProcessed.name, {}, 'Processed'),
        emf(PROCESSOR_METRICS.recordsFailed.name, {}, 'Failed'),
      ]),
      graph(
        `${key}: guard rejections by clause`,
        definition.rule.clauses.map((clause) =>
          emf(PROCESSOR_METRICS.guardRejected.name, { [DIMENSION_CLAUSE]: clause.id }, clause.id),
        ),
      ),
      graph(`${key}: journal writes`, [emf(PROCESSOR_METRICS.journalWrites.name, {}, 'Journal entries written')]),
      graph(
        `${key}: dead letters captured (left), records by source (right)`,
        [
          emf(ARCHIVER_METRICS.deadLettersCaptured.name, {}, 'Captured'),
          emf(ARCHIVER_METRICS.captureFailures.name, {}, 'Not stored (retried)'),
          aws(SQS_NAMESPACE, SQS_METRICS.messagesVisible, { QueueName: unarchivableQueue.queueName }, 'Maximum').with({
            label: 'Unarchivable',
          }),
        ],
        [
          emf(ARCHIVER_METRICS.recordsFromJournal.name, {}, 'From the journal'),
          emf(ARCHIVER_METRICS.recordsFromStream.name, {}, 'From the stream'),
          emf(ARCHIVER_METRICS.recordsMissing.name, {}, 'Missing'),
        ],
      ),
      graph(`${key}: pipe executions`, [
        pipeMetric(PIPES_METRICS.invocations),
        pipeMetric(PIPES_METRICS.executionFailed),
        pipeMetric(PIPES_METRICS.executionPartiallyFailed),
        pipeMetric(PIPES_METRICS.executionTimeout),
      ]),
      graph(`${key}: pipe throttles`, [pipeMetric(PIPES_METRICS.executionThrottled)]),
      graph(`${key}: pipe duration`, [
        pipeMetric(PIPES_METRICS.duration, 'p50'),
        pipeMetric(PIPES_METRICS.duration, 'p99'),
      ]),
      graph(`${key}: processor errors and invocations`, [
        fnMetric(LAMBDA_METRICS.invocations),
        fnMetric(LAMBDA_METRICS.errors),
      ]),
      graph(`${key}: processor duration`, [
        fnMetric(LAMBDA_METRICS.duration, 'p50'),
        fnMetric(LAMBDA_METRICS.duration, 'p99'),
      ]),
      graph(`${key}: processor concurrency and throttles`, [
        fnMetric(LAMBDA_METRICS.concurrentExecutions, 'Maximum'),
        fnMetric(LAMBDA_METRICS.throttles),
      ]),
      // Writes against deliveries: what the pipe-stalled alarm compares.
      graph(
        `${key}: Orders table writes (left) and pipe invocations (right)`,
        [
          aws(DYNAMODB_NAMESPACE, DYNAMODB_METRICS.consumedWriteCapacityUnits, {
            TableName: this.props.ordersTable.tableName,
          }),
        ],
        [pipeMetric(PIPES_METRICS.invocations)],
      ),
      // Visible plus in flight is what the dlq-not-drained alarm counts; the age leaves out messages received three
      // or more times, browsing included (docs/AWS-FACTS.md, fact 13), and is labelled so.
      graph(
        `${key}: DLQ depth, visible and in flight (left), and oldest message age in seconds (right)`,
        [dlqMetric(SQS_METRICS.messagesVisible), dlqMetric(SQS_METRICS.messagesNotVisible)],
        [
          aws(SQS_NAMESPACE, SQS_METRICS.ageOfOldestMessage, { QueueName: deadLetterQueue.queueName }, 'Maximum').with({
            label: 'Oldest age (leaves out messages received 3+ times)',
          }),
        ],
      ),
    ];
  }
}
