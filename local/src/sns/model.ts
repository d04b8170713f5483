import { createHash } from 'node:crypto';
import { QueryApiError } from './query-api-error.ts';

/**
 * SNS as the local runtime models it: topics and subscriptions read from the template
 * (AWS::SNS::Topic, AWS::SNS::Subscription, AWS::SNS::TopicPolicy), and the errors of the SNS API
 * (botocore's `sns/2010-03-31/service-2.json`: code, HTTP status, sender fault).
 */

/** A topic of the template, with intrinsics resolved to local names. */
export interface TopicSpec {
  readonly logicalId: string;
  /** TopicName if set, else the logical id (`.fifo` appended for a FIFO topic), as the template reader names things. */
  readonly name: string;
  readonly arn: string;
  readonly displayName?: string;
  /** KmsMasterKeyId as the template resolves it: a key ARN, a key id or an alias (e.g. `alias/aws/sns`). */
  readonly kmsMasterKeyId?: string;
  readonly fifo: boolean;
  readonly contentBasedDeduplication: boolean;
  /** SignatureVersion of the notifications' signatures: `1` (SHA1withRSA, the default) or `2` (SHA256withRSA). */
  readonly signatureVersion: '1' | '2';
  /** The access policy (the PolicyDocument of the last AWS::SNS::TopicPolicy naming the topic), if any. */
  readonly policy?: { readonly logicalId: string; readonly document: unknown };
}

export const SUBSCRIPTION_PROTOCOLS = ['email', 'email-json', 'sqs', 'lambda', 'http', 'https'] as const;
export type SubscriptionProtocol = (typeof SUBSCRIPTION_PROTOCOLS)[number];

/** A subscription of the template (an AWS::SNS::Subscription, or an entry of a topic's `Subscription` list). */
export interface SubscriptionSpec {
  /** The AWS::SNS::Subscription's logical id, or `<topic id>.Subscription.<n>` for a topic's inline entry. */
  readonly logicalId: string;
  readonly arn: string;
  readonly topicArn: string;
  readonly protocol: SubscriptionProtocol;
  readonly endpoint: string;
  readonly rawMessageDelivery: boolean;
}

/** A KMS key of the template; locally its key id is its logical id, so its ARN is stable across starts. */
export interface KeySpec {
  readonly logicalId: string;
  readonly keyId: string;
  readonly arn: string;
  readonly enabled: boolean;
}

/**
 * The address `npm start` subscribes to the alarm topic when `--alarm-email` is not given (the synth's
 * `-c alarmEmail=`), so that the on-call path exists locally: its mail lands in the outbox. The Playwright suite's
 * template has the same subscription (e2e/global-setup.ts).
 */
export const DEFAULT_ON_CALL_EMAIL = 'oncall@orderflow.local';

export function topicArn(region: string, account: string, name: string): string {
  return `arn:aws:sns:${region}:${account}:${name}`;
}

/** A UUID-shaped id derived from `seed`: the same template gets the same ids at every start. */
export function stableUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((Number.parseInt(hex.slice(16, 17), 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The access policy SNS gives a topic that has none of its own: every principal of the owning account may use it
 * (SNS developer guide, "Example cases for Amazon SNS access control"; docs/AWS-FACTS.md, fact 12). A topic policy
 * replaces it.
 */
export function defaultTopicPolicy(arn: string, account: string): Record<string, unknown> {
  return {
    Version: '2008-10-17',
    Id: '__default_policy_ID',
    Statement: [
      {
        Sid: '__default_statement_ID',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: [
          'SNS:GetTopicAttributes',
          'SNS:SetTopicAttributes',
          'SNS:AddPermission',
          'SNS:RemovePermission',
          'SNS:DeleteTopic',
          'SNS:Subscribe',
          'SNS:ListSubscriptionsByTopic',
          'SNS:Publish',
        ],
        Resource: arn,
        Condition: { StringEquals: { 'AWS:SourceOwner': account } },
      },
    ],
  };
}

/** Region names as CloudWatch writes them in alarm notifications (`ALARM: "name" in US East (N. Virginia)`). */
export const REGION_NAMES: Readonly<Record<string, string>> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-1': 'US West (N. California)',
  'us-west-2': 'US West (Oregon)',
  'ca-central-1': 'Canada (Central)',
  'eu-west-1': 'EU (Ireland)',
  'eu-west-2': 'EU (London)',
  'eu-west-3': 'EU (Paris)',
  'eu-central-1': 'EU (Frankfurt)',
  'eu-north-1': 'EU (Stockholm)',
  'ap-northeast-1': 'Asia Pacific (Tokyo)',
  'ap-northeast-2': 'Asia Pacific (Seoul)',
  'ap-southeast-1': 'Asia Pacific (Singapore)',
  'ap-southeast-2': 'Asia Pacific (Sydney)',
  'ap-south-1': 'Asia Pacific (Mumbai)',
  'sa-east-1': 'South America (Sao Paulo)',
};

export function regionName(region: string): string {
  return REGION_NAMES[region] ?? region;
}

/** An SNS API error: the code and HTTP status botocore's model gives it. */
export class SnsApiError extends QueryApiError {
  override readonly name = 'SnsApiError';

  /** `InvalidParameter` (400): AWS's text is `Invalid parameter: <Parameter>[ Reason: ...]`. */
  static invalidParameter(parameter: string, reason?: string): SnsApiError {
    return new SnsApiError('InvalidParameter', `Invalid parameter: ${parameter}${reason ? ` Reason: ${reason}` : ''}`);
  }

  static notFound(message: string): SnsApiError {
    return new SnsApiError('NotFound', message, 404);
  }

  static authorization(message: string): SnsApiError {
    return new SnsApiError('AuthorizationError', message, 403);
  }
}
