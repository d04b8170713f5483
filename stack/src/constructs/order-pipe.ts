import { filterCriteriaFor } from '@orderflow/pipeline/engine';
import type { PipeKey } from '@orderflow/pipeline/facts';
import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnPipe } from 'aws-cdk-lib/aws-pipes';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ResolvedPipe } from '../props.ts';

export interface OrderPipeProps {
  readonly pipe: ResolvedPipe;
  /** Physical pipe name, e.g. `orderflow-standard` (the `PipeName` metric dimension). */
  readonly pipeName: string;
  readonly table: ITable;
  readonly target: IFunction;
  readonly deadLetterQueue: IQueue;
  readonly logRetention: RetentionDays;
}

/**
 * One `AWS::Pipes::Pipe` from the table's stream to its processor, as the L1 construct (docs/AWS-FACTS.md, fact 10: the
 * alpha
 * L2's versions do not line up with aws-cdk-lib). The pipe evaluates the derived filter; the processor evaluates the
 * full rule (fact 3).
 */
export class OrderPipe extends Construct {
  readonly pipe: CfnPipe;
  readonly role: Role;
  readonly policy: Policy;
  readonly logGroup: LogGroup;
  readonly pipeName: string;
  readonly key: PipeKey;

  constructor(scope: Construct, id: string, props: OrderPipeProps) {
    super(scope, id);
    const { pipe, table, target, deadLetterQueue } = props;
    const streamArn = table.tableStreamArn;
    if (!streamArn) throw new Error(`table ${table.node.path} has no stream, so pipe '${pipe.key}' has no source`);
    this.key = pipe.key;
    this.pipeName = props.pipeName;

    // `vendedlogs` prefix: CloudWatch Logs' prefix for logs that AWS services deliver on a resource's behalf, which
    // keeps the log group's resource policy below its size limit (CloudWatch Logs user guide, "Enabling logging from
    // AWS services").
    this.logGroup = new LogGroup(this, 'LogGroup', {
      logGroupName: `/aws/vendedlogs/pipes/${props.pipeName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.role = new Role(this, 'Role', {
      description: `Execution role of pipe ${props.pipeName}`,
      // Confused-deputy guard: only pipes of this account may assume the role.
      assumedBy: new ServicePrincipal('pipes.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    // Exactly the permissions the EventBridge user guide lists for a DynamoDB stream source with a DLQ and a Lambda
    // target ("Event source permissions for Amazon EventBridge Pipes"), each on this pipe's own resources.
    this.policy = new Policy(this, 'RolePolicy', {
      statements: [
        new PolicyStatement({
          sid: 'ReadOrdersStream',
          effect: Effect.ALLOW,
          actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
          resources: [streamArn],
        }),
        // ListStreams supports no resource type, so only `*` grants it (Service Authorization Reference, Amazon
        // DynamoDB; docs/AWS-FACTS.md, fact 15); on the stream ARN it was a grant that never applied.
        new PolicyStatement({
          sid: 'ListStreams',
          effect: Effect.ALLOW,
          actions: ['dynamodb:ListStreams'],
          resources: ['*'],
        }),
        new PolicyStatement({
          sid: 'InvokeProcessor',
          effect: Effect.ALLOW,
          actions: ['lambda:InvokeFunction'],
          resources: [target.functionArn],
        }),
        new PolicyStatement({
          sid: 'SendToDeadLetterQueue',
          effect: Effect.ALLOW,
          actions: ['sqs:SendMessage'],
          resources: [deadLetterQueue.queueArn],
        }),
        new PolicyStatement({
          sid: 'WritePipeLogs',
          effect: Effect.ALLOW,
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [this.logGroup.logGroupArn],
        }),
      ],
    });
    this.policy.attachToRole(this.role);

    const source = pipe.source;
    this.pipe = new CfnPipe(this, 'Pipe', {
      name: props.pipeName,
      description: pipe.description,
      roleArn: this.role.roleArn,
      source: streamArn,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: source.startingPosition,
          batchSize: source.batchSize,
          maximumBatchingWindowInSeconds: source.maximumBatchingWindowInSeconds,
          maximumRetryAttempts: source.maximumRetryAttempts,
          maximumRecordAgeInSeconds: source.maximumRecordAgeInSeconds,
          parallelizationFactor: source.parallelizationFactor,
          onPartialBatchItemFailure: source.onPartialBatchItemFailure,
          deadLetterConfig: { arn: deadLetterQueue.queueArn },
        },
        filterCriteria: {
          filters: filterCriteriaFor(pipe.filter).Filters.map((filter) => ({ pattern: filter.Pattern })),
        },
      },
      target: target.functionArn,
      // Synchronous: the pipe reads the partial batch response (docs/AWS-FACTS.md, fact 5) and retries / bisects on
      // failure.
      targetParameters: { lambdaFunctionParameters: { invocationType: 'REQUEST_RESPONSE' } },
      logConfiguration: {
        level: 'ERROR',
        cloudwatchLogsLogDestination: { logGroupArn: this.logGroup.logGroupArn },
      },
      desiredState: 'RUNNING',
    });
    this.pipe.overrideLogicalId(pipe.pipeId);
    // docs/AWS-FACTS.md, fact 10: without the DLQ send permission in place the pipe's creation does not stabilize.
    this.pipe.node.addDependency(this.policy);
  }
}
