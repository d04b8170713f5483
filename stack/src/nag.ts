import { DEAD_LETTER_CAPTURE_ENABLED } from '@orderflow/pipeline/facts';
import { type CfnElement, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { OpsToolkit } from './constructs/ops-toolkit.ts';
import type { OrderflowStack } from './orderflow-stack.ts';

/** cdk-nag v3 rule ids carry the pack's name (`AwsSolutions::AwsSolutions-SQS3`). */
function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${rule}`, reason });
}

/**
 * cdk-nag `AwsSolutionsChecks` acknowledgements, each with the reason the finding does not apply or is accepted. Kept
 * in one place so that a reviewer sees every exception at once; each is scoped to the constructs it concerns.
 */
export function acknowledgeFindings(stack: OrderflowStack): void {
  // With capture on, the pipes' DLQs need no SQS3 acknowledgement: each has a redrive policy to its unarchivable queue
  // (the archiver's give-up path), and an unarchivable queue is itself a dead-letter queue, which cdk-nag recognises.
  // While capture is deployed disabled, the DLQs have no redrive policy (the console's receives would move messages
  // out of sight) and nothing sends to the unarchivable queues.
  if (!DEAD_LETTER_CAPTURE_ENABLED) {
    for (const queue of Object.values(stack.data.deadLetterQueues))
      acknowledge(
        queue,
        'SQS3',
        "This queue is the dead-letter queue of an EventBridge pipe (DeadLetterConfig), which cdk-nag cannot see because it only recognises SQS redrive policies; it has none of its own while dead-letter capture is disabled, because the console's receives would count toward it.",
      );
    for (const queue of Object.values(stack.data.unarchivableQueues))
      acknowledge(
        queue,
        'SQS3',
        'The dead-letter queue of a pipe DLQ once dead-letter capture is enabled (its redrive policy then names it); until then nothing sends to it.',
      );
  }
  for (const queue of [stack.data.notificationQueue, stack.data.accountManagerQueue]) {
    acknowledge(
      queue,
      'SQS3',
      'Downstream notification queue: its consumers live outside this stack and own their retry and redrive policy; messages carry a deterministic notificationId so a consumer can de-duplicate.',
    );
  }
  for (const pipe of Object.values(stack.pipes)) {
    acknowledge(
      pipe,
      'IAM5[Resource::*]',
      'dynamodb:ListStreams, which the EventBridge user guide lists for a DynamoDB stream source, supports no resource-level permissions (Service Authorization Reference); every other action of the pipe role is on its own stream, processor, DLQ and log group.',
    );
  }
  const functions = [
    ...Object.values(stack.processors.functions),
    ...Object.values(stack.deadLetterArchivers.functions),
    ...(stack.opsToolkit ? [stack.opsToolkit.apiFunction] : []),
  ];
  for (const fn of functions) {
    acknowledge(
      fn,
      'L1',
      'Node.js 22 is the runtime the handlers are built and tested for (esbuild target node22, Powertools 2.x); moving to a newer runtime is a deliberate upgrade, not a drift.',
    );
    acknowledge(
      fn,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'The AWS-managed basic execution policy only lets the function write its own CloudWatch logs.',
    );
    acknowledge(
      fn,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/CloudWatchLambdaInsightsExecutionRolePolicy]',
      'Required by the Lambda Insights extension; it only writes to the /aws/lambda-insights log group.',
    );
    acknowledge(
      fn,
      'IAM5[Resource::*]',
      'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) and CloudWatch GetMetricData/ListMetrics support no resource-level permissions (Service Authorization Reference); the ops API needs DescribeAlarms on * to see the composite alarm (CloudWatch API reference, DescribeAlarms).',
    );
  }
  if (stack.opsToolkit) acknowledgeOpsToolkit(stack, stack.opsToolkit);
}

function acknowledgeOpsToolkit(stack: OrderflowStack, toolkit: OpsToolkit): void {
  const distribution = toolkit.distribution;
  acknowledge(
    distribution,
    'CFR1',
    'The console is for the team operating the pipeline wherever they are; every request is behind a Cognito login with MFA.',
  );
  acknowledge(
    distribution,
    'CFR2',
    'The distribution serves only static files; the API it calls is authorised by a Cognito JWT and throttled at the API Gateway stage. WAF is left to accounts that mandate it.',
  );
  acknowledge(
    distribution,
    'CFR3',
    'Static assets only, nothing sensitive is served; operator actions are recorded in the audit table and API calls in the API access log.',
  );
  acknowledge(
    distribution,
    'CFR4',
    'The distribution uses the default *.cloudfront.net certificate, with which CloudFront cannot pin a minimum TLS version; a custom domain with TLSv1.2_2021 is a deploy-time choice (docs/DEPLOY.md).',
  );
  acknowledge(
    toolkit.bucket,
    'S1',
    'Holds only the public build of the console and the runbooks, written by the deployment; CloudFront reads it through origin access control.',
  );
  acknowledge(
    toolkit.userPool,
    'COG8',
    'Threat protection needs the Plus feature plan; the pool has no self sign-up, requires MFA and has a handful of administrator-invited users.',
  );
  // The provider function that CDK's BucketDeployment creates once per stack (a singleton at the stack's root).
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
    acknowledge(
      child,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's BucketDeployment provider uses the basic execution policy for its own logs.",
    );
    const consoleBucket = stack.getLogicalId(toolkit.bucket.node.defaultChild as CfnElement);
    for (const finding of [
      'Resource::*',
      'Action::s3:GetObject*',
      'Action::s3:GetBucket*',
      'Action::s3:List*',
      'Action::s3:DeleteObject*',
      'Action::s3:Abort*',
      'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
      `Resource::<${consoleBucket}.Arn>/*`,
    ]) {
      acknowledge(
        child,
        `IAM5[${finding}]`,
        "CDK's BucketDeployment provider copies the asset objects into the console bucket and invalidates CloudFront; these grants are CDK's own, scoped to the asset bucket and the console bucket.",
      );
    }
    acknowledge(child, 'L1', "The runtime of CDK's BucketDeployment provider is chosen by aws-cdk-lib.");
  }
}
