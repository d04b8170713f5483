import { randomUUID } from 'node:crypto';
import type { PutMetric } from '../cloudwatch/metric-store.ts';
import type { Endpoint, Permission } from '../gateway/enforcer.ts';
import type { AuthorizationDecision, ConditionContext, Principal } from '../iam/authorizer.ts';
import {
  lambdaEvent,
  type MessageAttribute,
  type MessageAttributes,
  type NotificationEnvelope,
  NotificationSigner,
  notificationEnvelope,
} from './envelope.ts';
import {
  defaultTopicPolicy,
  type KeySpec,
  SnsApiError,
  type SubscriptionProtocol,
  type SubscriptionSpec,
  type TopicSpec,
} from './model.ts';
import type { Outbox } from './outbox.ts';

/**
 * The local SNS service: the template's topics and subscriptions, the API operations (protocol-independent: plain
 * inputs and outputs, errors as `SnsApiError`), and the deliveries a Publish makes. Every Publish is authorized as
 * SNS authorizes it: `SNS:Publish` on the topic (the caller's identity policy and the topic policy), and for a topic
 * encrypted with a KMS key, `kms:GenerateDataKey` and `kms:Decrypt` on the key (its key policy), which the publisher
 * needs (SNS developer guide, "Managing Amazon SNS encryption keys and costs"; docs/AWS-FACTS.md, facts 12 and 15).
 * Deliveries to SQS and Lambda are authorized as `sns.amazonaws.com` with `aws:SourceArn` = the topic, as the queue's
 * or function's resource policy sees them.
 */

/** The Enforcer's decision (the runtime's `LocalIam.authorize`), recording denials under `endpoint`. */
export type SnsAuthorize = (principal: Principal, permission: Permission, endpoint: Endpoint) => AuthorizationDecision;

export interface SnsCaller {
  readonly principal: Principal;
  /** Condition keys of the request beyond the local ones (a service's `aws:SourceArn`, `aws:SourceAccount`). */
  readonly context?: ConditionContext;
  /** Where the request came in, for the denials log. */
  readonly endpoint: Endpoint;
}

export interface PublishInput {
  readonly TopicArn?: string;
  readonly TargetArn?: string;
  readonly PhoneNumber?: string;
  readonly Message?: string;
  readonly Subject?: string;
  readonly MessageStructure?: string;
  readonly MessageAttributes?: MessageAttributes;
  readonly MessageGroupId?: string;
  readonly MessageDeduplicationId?: string;
}

export interface PublishOutput {
  readonly MessageId: string;
  readonly SequenceNumber?: string;
}

/** How deliveries reach the runtime's other services. */
export interface DeliveryTargets {
  /** Sends a message to an SQS queue of the runtime, by queue ARN. */
  sqs?(
    queueArn: string,
    body: string,
    options: { attributes?: MessageAttributes; groupId?: string; deduplicationId?: string },
  ): Promise<void>;
  /** Invokes a function of the runtime, by ARN (SNS invokes asynchronously: the result is not awaited by Publish). */
  lambda?(functionArn: string, event: unknown): Promise<void>;
}

/** One delivery attempt of one message to one subscription. */
export interface Delivery {
  /** ISO 8601. */
  readonly time: string;
  readonly messageId: string;
  readonly topicArn: string;
  readonly subscriptionArn: string;
  readonly protocol: SubscriptionProtocol;
  readonly endpoint: string;
  readonly status: 'delivered' | 'failed';
  readonly error?: string;
}

export interface SnsServiceOptions {
  readonly region: string;
  readonly account: string;
  /** The SNS endpoint's URL (signing certificate and unsubscribe links point at it). */
  readonly endpoint: string;
  readonly topics: readonly TopicSpec[];
  readonly subscriptions: readonly SubscriptionSpec[];
  readonly keys: readonly KeySpec[];
  /** Local IAM; absent, every request is allowed (`--iam off`). */
  readonly authorize?: SnsAuthorize;
  readonly targets: DeliveryTargets;
  readonly outbox: Outbox;
  /** AWS/SNS metrics (NumberOfMessagesPublished, NumberOfNotificationsDelivered, ...). */
  readonly publishMetrics?: (metrics: PutMetric[]) => void;
  readonly onError?: (error: unknown) => void;
}

/** The largest message SNS takes, attributes included (Publish, API reference): 256 KiB. */
export const MAX_MESSAGE_BYTES = 262_144;
const PAGE = 100;
const KEPT_DELIVERIES = 1000;
const AWS_MANAGED_SNS_KEY = 'alias/aws/sns';
const SNS_SERVICE: Principal = { kind: 'service', service: 'sns.amazonaws.com' };
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const ATTRIBUTE_TYPES = /^(String|Number|Binary|String\.Array)(\..+)?$/;

/** The default delivery policy SNS reports for a topic without one (GetTopicAttributes, EffectiveDeliveryPolicy). */
export const EFFECTIVE_DELIVERY_POLICY = JSON.stringify({
  http: {
    defaultHealthyRetryPolicy: {
      minDelayTarget: 20,
      maxDelayTarget: 20,
      numRetries: 3,
      numMaxDelayRetries: 0,
      numNoDelayRetries: 0,
      numMinDelayRetries: 0,
      backoffFunction: 'linear',
    },
    disableSubscriptionOverrides: false,
    defaultRequestPolicy: { headerContentType: 'text/plain; charset=UTF-8' },
  },
});

const ARN = /^arn:aws:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256})$/;

/** Page tokens: the index of the next item, opaque to callers. */
const pageToken = (index: number) => Buffer.from(`page:${index}`, 'utf8').toString('base64url');
function pageStart(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  const match = /^page:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match) throw SnsApiError.invalidParameter('NextToken');
  return Number(match[1]);
}

function page<T>(items: readonly T[], token: string | undefined): { items: T[]; nextToken?: string } {
  const start = pageStart(token);
  const slice = items.slice(start, start + PAGE);
  return { items: slice, ...(start + PAGE < items.length ? { nextToken: pageToken(start + PAGE) } : {}) };
}

export interface SubscriptionView {
  readonly SubscriptionArn: string;
  readonly Owner: string;
  readonly Protocol: string;
  readonly Endpoint: string;
  readonly TopicArn: string;
}

export class SnsService {
  readonly signer = new NotificationSigner();
  private readonly topics: ReadonlyMap<string, TopicSpec>;
  private readonly deliveriesKept: Delivery[] = [];
  private readonly pending = new Set<Promise<void>>();
  private sequence = 10_000_000_000_000_000_000n;

  constructor(private readonly options: SnsServiceOptions) {
    this.topics = new Map(options.topics.map((topic) => [topic.arn, topic]));
  }

  get region(): string {
    return this.options.region;
  }

  get signingCertUrl(): string {
    return `${this.options.endpoint}/SimpleNotificationService-local.pem`;
  }

  topic(arn: string): TopicSpec | undefined {
    return this.topics.get(arn);
  }

  subscriptionsOf(topicArn: string): SubscriptionSpec[] {
    return this.options.subscriptions.filter((s) => s.topicArn === topicArn);
  }

  /** The most recent deliveries (at most 1,000), newest first. */
  deliveries(): Delivery[] {
    return [...this.deliveriesKept].reverse();
  }

  /** Resolves when every delivery started so far has finished (tests, a clean stop). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  // ---- operations ----------------------------------------------------------------------------------------------

  listTopics(input: { NextToken?: string }): { Topics: { TopicArn: string }[]; NextToken?: string } {
    const { items, nextToken } = page(
      this.options.topics.map((t) => t.arn),
      input.NextToken,
    );
    return { Topics: items.map((TopicArn) => ({ TopicArn })), ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  listSubscriptions(input: { NextToken?: string }): { Subscriptions: SubscriptionView[]; NextToken?: string } {
    const { items, nextToken } = page(this.options.subscriptions, input.NextToken);
    return { Subscriptions: items.map((s) => this.view(s)), ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  listSubscriptionsByTopic(input: { TopicArn?: string; NextToken?: string }): {
    Subscriptions: SubscriptionView[];
    NextToken?: string;
  } {
    const topic = this.requireTopic(input.TopicArn, 'TopicArn');
    const { items, nextToken } = page(this.subscriptionsOf(topic.arn), input.NextToken);
    return { Subscriptions: items.map((s) => this.view(s)), ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  getTopicAttributes(input: { TopicArn?: string }): { Attributes: Record<string, string> } {
    const topic = this.requireTopic(input.TopicArn, 'TopicArn');
    const attributes: Record<string, string> = {
      Policy: JSON.stringify(topic.policy?.document ?? defaultTopicPolicy(topic.arn, this.options.account)),
      Owner: this.options.account,
      SubscriptionsPending: '0',
      TopicArn: topic.arn,
      EffectiveDeliveryPolicy: EFFECTIVE_DELIVERY_POLICY,
      SubscriptionsConfirmed: String(this.subscriptionsOf(topic.arn).length),
      DisplayName: topic.displayName ?? '',
      SubscriptionsDeleted: '0',
    };
    if (topic.kmsMasterKeyId) attributes.KmsMasterKeyId = topic.kmsMasterKeyId;
    if (topic.signatureVersion !== '1') attributes.SignatureVersion = topic.signatureVersion;
    if (topic.fifo) {
      attributes.FifoTopic = 'true';
      attributes.ContentBasedDeduplication = String(topic.contentBasedDeduplication);
    }
    return { Attributes: attributes };
  }

  /**
   * Publish: validates the request, authorizes it (SNS:Publish on the topic; the KMS key's use for an encrypted
   * topic), answers the message id and delivers to every subscription in the background.
   */
  publish(input: PublishInput, caller: SnsCaller): PublishOutput {
    const arn = this.targetOf(input);
    this.authorizeOrThrow(caller, { action: 'SNS:Publish', resource: arn }, (message) =>
      SnsApiError.authorization(message),
    );
    const topic = this.topics.get(arn);
    if (!topic) throw SnsApiError.notFound('Topic does not exist');
    const message = input.Message;
    if (message === undefined || message === '') throw SnsApiError.invalidParameter('Empty message');
    if (input.Subject !== undefined) validateSubject(input.Subject);
    const messages = messagesByProtocol(message, input.MessageStructure);
    const attributes = input.MessageAttributes ?? {};
    validateAttributes(attributes);
    const size =
      Buffer.byteLength(message) +
      Object.entries(attributes).reduce(
        (sum, [name, value]) =>
          sum +
          Buffer.byteLength(name) +
          Buffer.byteLength(value.DataType) +
          (value.BinaryValue?.length ?? Buffer.byteLength(value.StringValue ?? '')),
        0,
      );
    if (size > MAX_MESSAGE_BYTES) throw SnsApiError.invalidParameter('Message too long');
    let sequenceNumber: string | undefined;
    if (topic.fifo) {
      if (!input.MessageGroupId)
        throw SnsApiError.invalidParameter('The MessageGroupId parameter is required for FIFO topics');
      if (!input.MessageDeduplicationId && !topic.contentBasedDeduplication)
        throw SnsApiError.invalidParameter(
          'The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
      this.sequence += 1n;
      sequenceNumber = this.sequence.toString();
    }
    this.authorizeKey(topic, caller);

    const messageId = randomUUID();
    const timestamp = Date.now();
    this.metric(topic, 'NumberOfMessagesPublished', 1, 'Count', timestamp);
    this.metric(topic, 'PublishSize', size, 'Bytes', timestamp);
    for (const subscription of this.subscriptionsOf(topic.arn)) {
      const work = this.deliver(topic, subscription, {
        messageId,
        message: messages[subscription.protocol] ?? messages.default ?? message,
        ...(input.Subject !== undefined ? { subject: input.Subject } : {}),
        attributes,
        timestamp,
        ...(sequenceNumber ? { sequenceNumber } : {}),
        ...(input.MessageGroupId ? { groupId: input.MessageGroupId } : {}),
        ...(input.MessageDeduplicationId ? { deduplicationId: input.MessageDeduplicationId } : {}),
      }).catch((error: unknown) => this.options.onError?.(error));
      this.pending.add(work);
      void work.finally(() => this.pending.delete(work));
    }
    return { MessageId: messageId, ...(sequenceNumber ? { SequenceNumber: sequenceNumber } : {}) };
  }

  // ---- helpers -------------------------------------------------------------------------------------------------

  private view(subscription: SubscriptionSpec): SubscriptionView {
    return {
      SubscriptionArn: subscription.arn,
      Owner: this.options.account,
      Protocol: subscription.protocol,
      Endpoint: subscription.endpoint,
      TopicArn: subscription.topicArn,
    };
  }

  private requireTopic(arn: string | undefined, parameter: string): TopicSpec {
    if (arn === undefined || arn === '')
      throw SnsApiError.invalidParameter(parameter, 'No value for required parameter');
    if (!ARN.test(arn)) throw SnsApiError.invalidParameter(parameter);
    const topic = this.topics.get(arn);
    if (!topic) throw SnsApiError.notFound('Topic does not exist');
    return topic;
  }

  /** The topic a Publish names: exactly one of TopicArn, TargetArn (a topic's ARN) and PhoneNumber. */
  private targetOf(input: PublishInput): string {
    const given = (['TopicArn', 'TargetArn', 'PhoneNumber'] as const).filter(
      (key) => input[key] !== undefined && input[key] !== '',
    );
    if (given.length === 0)
      throw SnsApiError.invalidParameter('TopicArn or TargetArn', 'No value for required parameter');
    if (given.length > 1)
      throw SnsApiError.invalidParameter(
        given.join(' and '),
        'Only one of TopicArn, TargetArn and PhoneNumber may be given',
      );
    const [key] = given as ['TopicArn' | 'TargetArn' | 'PhoneNumber'];
    if (key === 'PhoneNumber')
      throw SnsApiError.invalidParameter('PhoneNumber', 'SMS is not delivered by the local runtime');
    const arn = input[key] as string;
    if (!ARN.test(arn)) throw SnsApiError.invalidParameter(key);
    return arn;
  }

  private authorizeOrThrow(caller: SnsCaller, permission: Permission, error: (message: string) => SnsApiError): void {
    const authorize = this.options.authorize;
    if (!authorize) return;
    const decision = authorize(
      caller.principal,
      caller.context ? { ...permission, context: { ...caller.context, ...permission.context } } : permission,
      caller.endpoint,
    );
    if (!decision.allowed) throw error(decision.message);
  }

  /**
   * A topic encrypted with a KMS key: the publisher needs `kms:GenerateDataKey*` and `kms:Decrypt` on the key. A key
   * of the template is decided by its key policy; `alias/aws/sns`, the AWS managed key, lets the account's principals
   * use it through SNS and no service principal (which is why CloudWatch cannot publish to a topic it encrypts).
   */
  private authorizeKey(topic: TopicSpec, caller: SnsCaller): void {
    const keyId = topic.kmsMasterKeyId;
    if (!keyId) return;
    const kmsError = (code: string, text: string) =>
      `${text} (Service: AWSKMS; Status Code: 400; Error Code: ${code}; Request ID: ${randomUUID()}; Proxy: null)`;
    if (keyId === AWS_MANAGED_SNS_KEY || keyId.endsWith(`:${AWS_MANAGED_SNS_KEY}`)) {
      if (caller.principal.kind !== 'service') return;
      throw new SnsApiError(
        'KMSAccessDenied',
        kmsError(
          'AccessDeniedException',
          `User: ${caller.principal.service} is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:${this.options.region}:${this.options.account}:${AWS_MANAGED_SNS_KEY} because no resource-based policy allows the kms:GenerateDataKey action`,
        ),
      );
    }
    const key = this.options.keys.find((k) => k.arn === keyId || k.keyId === keyId);
    if (!key) throw new SnsApiError('KMSNotFound', kmsError('NotFoundException', `Invalid keyId '${keyId}'`));
    if (!key.enabled) throw new SnsApiError('KMSDisabled', kmsError('DisabledException', `${key.arn} is disabled.`));
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt'])
      this.authorizeOrThrow(
        caller,
        { action, resource: key.arn, context: { 'kms:ViaService': `sns.${this.options.region}.amazonaws.com` } },
        (message) => new SnsApiError('KMSAccessDenied', kmsError('AccessDeniedException', message)),
      );
  }

  private metric(topic: TopicSpec, metricName: string, value: number, unit: string, timestamp: number): void {
    this.options.publishMetrics?.([
      { namespace: 'AWS/SNS', metricName, dimensions: { TopicName: topic.name }, value, unit, timestamp },
    ]);
  }

  private record(delivery: Delivery): void {
    this.deliveriesKept.push(delivery);
    if (this.deliveriesKept.length > KEPT_DELIVERIES) this.deliveriesKept.shift();
  }

  private async deliver(
    topic: TopicSpec,
    subscription: SubscriptionSpec,
    message: {
      messageId: string;
      message: string;
      subject?: string;
      attributes: MessageAttributes;
      timestamp: number;
      sequenceNumber?: string;
      groupId?: string;
      deduplicationId?: string;
    },
  ): Promise<void> {
    const envelope = (withAttributes: boolean): Promise<NotificationEnvelope> =>
      notificationEnvelope(
        {
          messageId: message.messageId,
          topicArn: topic.arn,
          subscriptionArn: subscription.arn,
          ...(message.subject !== undefined ? { subject: message.subject } : {}),
          message: message.message,
          timestamp: message.timestamp,
          attributes: message.attributes,
          ...(message.sequenceNumber ? { sequenceNumber: message.sequenceNumber } : {}),
        },
        {
          signer: this.signer,
          signatureVersion: topic.signatureVersion,
          signingCertUrl: this.signingCertUrl,
          unsubscribeUrl: `${this.options.endpoint}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscription.arn)}`,
          withAttributes,
        },
      );
    const asSns = { 'aws:SourceArn': topic.arn, 'aws:SourceAccount': this.options.account };
    let error: string | undefined;
    try {
      switch (subscription.protocol) {
        case 'email':
        case 'email-json':
          this.options.outbox.deliver(subscription.endpoint, await envelope(false));
          break;
        case 'sqs': {
          const decision = this.options.authorize?.(
            SNS_SERVICE,
            { action: 'sqs:SendMessage', resource: subscription.endpoint, context: asSns },
            'sns',
          );
          if (decision && !decision.allowed) throw new Error(decision.message);
          if (!this.options.targets.sqs) throw new Error('no SQS service to deliver to');
          const body = subscription.rawMessageDelivery ? message.message : JSON.stringify(await envelope(true));
          await this.options.targets.sqs(subscription.endpoint, body, {
            ...(subscription.rawMessageDelivery ? { attributes: message.attributes } : {}),
            ...(message.groupId ? { groupId: message.groupId } : {}),
            ...(message.deduplicationId ? { deduplicationId: message.deduplicationId } : {}),
          });
          break;
        }
        case 'lambda': {
          const decision = this.options.authorize?.(
            SNS_SERVICE,
            { action: 'lambda:InvokeFunction', resource: subscription.endpoint, context: asSns },
            'sns',
          );
          if (decision && !decision.allowed) throw new Error(decision.message);
          if (!this.options.targets.lambda) throw new Error('no Lambda service to deliver to');
          await this.options.targets.lambda(subscription.endpoint, lambdaEvent(await envelope(true), subscription.arn));
          break;
        }
        case 'http':
        case 'https':
          await this.post(subscription, await envelope(true), message.message);
          break;
      }
    } catch (caught: unknown) {
      error = (caught as Error).message ?? String(caught);
    }
    const at = Date.now();
    this.record({
      time: new Date(at).toISOString(),
      messageId: message.messageId,
      topicArn: topic.arn,
      subscriptionArn: subscription.arn,
      protocol: subscription.protocol,
      endpoint: subscription.endpoint,
      status: error === undefined ? 'delivered' : 'failed',
      ...(error === undefined ? {} : { error }),
    });
    this.metric(
      topic,
      error === undefined ? 'NumberOfNotificationsDelivered' : 'NumberOfNotificationsFailed',
      1,
      'Count',
      at,
    );
  }

  /** HTTP/S deliveries go to loopback addresses only: the local runtime sends nothing off this machine. */
  private async post(subscription: SubscriptionSpec, envelope: NotificationEnvelope, raw: string): Promise<void> {
    let url: URL;
    try {
      url = new URL(subscription.endpoint);
    } catch {
      throw new Error(`endpoint ${subscription.endpoint} is not a URL`);
    }
    if (!LOOPBACK.has(url.hostname))
      throw new Error(
        `not delivered: the local runtime delivers HTTP(S) to loopback addresses only (${subscription.endpoint})`,
      );
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain; charset=UTF-8',
        'x-amz-sns-message-type': 'Notification',
        'x-amz-sns-message-id': envelope.MessageId,
        'x-amz-sns-topic-arn': envelope.TopicArn,
        'x-amz-sns-subscription-arn': subscription.arn,
        ...(subscription.rawMessageDelivery ? { 'x-amz-sns-rawdelivery': 'true' } : {}),
        'user-agent': 'Amazon Simple Notification Service Agent',
      },
      body: subscription.rawMessageDelivery ? raw : JSON.stringify(envelope),
      signal: AbortSignal.timeout(15_000),
    });
    await response.arrayBuffer();
    if (response.status < 200 || response.status > 299)
      throw new Error(`endpoint ${subscription.endpoint} answered HTTP ${response.status}`);
  }
}

/** Subject: ASCII printable, starting with a letter, number or punctuation, no line breaks, under 100 characters. */
function validateSubject(subject: string): void {
  if (subject === '' || subject.length > 100 || !/^[\x21-\x7e][\x20-\x7e]*$/.test(subject))
    throw SnsApiError.invalidParameter(
      'Subject',
      'must be ASCII text that begins with a letter, number or punctuation mark, without line breaks or control characters, at most 100 characters',
    );
}

/**
 * The message per protocol. With MessageStructure=json the message is a JSON object of strings with a `default` entry
 * and optional protocol entries (`email`, `email-json`, `sqs`, `lambda`, `http`, `https`, `sms`, ...).
 */
function messagesByProtocol(message: string, structure: string | undefined): Record<string, string> {
  if (structure === undefined || structure === '') return { default: message };
  if (structure !== 'json') throw SnsApiError.invalidParameter('MessageStructure', `must be json, got ${structure}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw SnsApiError.invalidParameter('Message Structure - JSON message body failed to parse');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw SnsApiError.invalidParameter('Message Structure - JSON message body failed to parse');
  const entries = parsed as Record<string, unknown>;
  if (typeof entries.default !== 'string')
    throw SnsApiError.invalidParameter('Message Structure - No default entry in JSON message body');
  for (const [key, value] of Object.entries(entries))
    if (typeof value !== 'string')
      throw SnsApiError.invalidParameter(
        `Message Structure - the ${key} entry of the JSON message body is not a string`,
      );
  return entries as Record<string, string>;
}

function validateAttributes(attributes: MessageAttributes): void {
  const names = Object.keys(attributes);
  if (names.length > 10)
    throw SnsApiError.invalidParameter('MessageAttributes', `at most 10 message attributes, got ${names.length}`);
  for (const [name, value] of Object.entries(attributes) as [string, MessageAttribute][]) {
    if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name) || name.startsWith('AWS.') || name.startsWith('Amazon.'))
      throw SnsApiError.invalidParameter('MessageAttributes', `message attribute name '${name}' is not valid`);
    if (!value.DataType || !ATTRIBUTE_TYPES.test(value.DataType))
      throw new SnsApiError(
        'ParameterValueInvalid',
        `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
      );
    const binary = value.DataType.startsWith('Binary');
    if (binary ? value.BinaryValue === undefined : value.StringValue === undefined || value.StringValue === '')
      throw new SnsApiError(
        'ParameterValueInvalid',
        `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${value.DataType}'.`,
      );
    if (value.DataType.startsWith('Number') && !Number.isFinite(Number(value.StringValue)))
      throw new SnsApiError('ParameterValueInvalid', `Could not cast message attribute '${name}' value to number.`);
  }
}
