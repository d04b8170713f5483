import { createSign, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * The JSON documents SNS delivers: the notification envelope HTTP/S, SQS and `email-json` endpoints receive, and the
 * event Lambda receives. Field names and the signature follow the SNS developer guide ("Parsing Amazon SNS message
 * formats", "Verifying the signatures of Amazon SNS messages", "Invoking Lambda functions with Amazon SNS
 * notifications").
 */

/** A message attribute as Publish takes it. */
export interface MessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}

export type MessageAttributes = Readonly<Record<string, MessageAttribute>>;

/** What one delivery of one published message carries. */
export interface NotificationInput {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subscriptionArn: string;
  readonly subject?: string;
  /** The message for this subscription's protocol (MessageStructure=json already applied). */
  readonly message: string;
  /** Epoch ms of the Publish. */
  readonly timestamp: number;
  readonly attributes?: MessageAttributes;
  readonly sequenceNumber?: string;
}

/** The fields of a Notification in the order SNS writes them. */
export interface NotificationEnvelope {
  readonly Type: 'Notification';
  readonly MessageId: string;
  readonly SequenceNumber?: string;
  readonly TopicArn: string;
  readonly Subject?: string;
  readonly Message: string;
  readonly Timestamp: string;
  readonly SignatureVersion: '1' | '2';
  readonly Signature: string;
  readonly SigningCertURL: string;
  readonly UnsubscribeURL: string;
  readonly MessageAttributes?: Readonly<Record<string, { Type: string; Value: string }>>;
}

/** `MessageAttributes` of an envelope: `{ name: { Type, Value } }`, binary values in base64. */
export function envelopeAttributes(
  attributes: MessageAttributes | undefined,
): Record<string, { Type: string; Value: string }> | undefined {
  if (!attributes || Object.keys(attributes).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      {
        Type: value.DataType,
        Value:
          value.BinaryValue !== undefined
            ? Buffer.from(value.BinaryValue).toString('base64')
            : (value.StringValue ?? ''),
      },
    ]),
  );
}

/**
 * The string SNS signs for a Notification: each of Message, MessageId, Subject (only when there is one), Timestamp,
 * TopicArn and Type as `name\nvalue\n`, in that order.
 */
export function stringToSign(envelope: Omit<NotificationEnvelope, 'Signature' | 'SigningCertURL'>): string {
  let text = `Message\n${envelope.Message}\nMessageId\n${envelope.MessageId}\n`;
  if (envelope.Subject !== undefined) text += `Subject\n${envelope.Subject}\n`;
  text += `Timestamp\n${envelope.Timestamp}\nTopicArn\n${envelope.TopicArn}\nType\n${envelope.Type}\n`;
  return text;
}

/**
 * Signs notifications with an RSA key made for this run: SignatureVersion 1 is SHA1withRSA, 2 SHA256withRSA, as SNS
 * does. `SigningCertURL` serves the public key as PEM (SNS serves an X.509 certificate; Node's verifiers accept
 * either), so a subscriber can check a local signature the way it checks AWS's.
 */
export class NotificationSigner {
  private readonly keys: Promise<{ privateKey: KeyObject; publicKey: KeyObject }>;

  constructor() {
    this.keys = promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    // A failure surfaces where the keys are used; this keeps it from being an unhandled rejection meanwhile.
    this.keys.catch(() => undefined);
  }

  async publicKeyPem(): Promise<string> {
    return (await this.keys).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  async sign(text: string, version: '1' | '2'): Promise<string> {
    const signer = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    signer.update(text, 'utf8');
    return signer.sign((await this.keys).privateKey, 'base64');
  }
}

/** The notification envelope, signed. */
export async function notificationEnvelope(
  input: NotificationInput,
  options: {
    readonly signer: NotificationSigner;
    readonly signatureVersion: '1' | '2';
    readonly signingCertUrl: string;
    readonly unsubscribeUrl: string;
    /** `email-json` envelopes carry no MessageAttributes. */
    readonly withAttributes: boolean;
  },
): Promise<NotificationEnvelope> {
  const unsigned = {
    Type: 'Notification' as const,
    MessageId: input.messageId,
    ...(input.sequenceNumber ? { SequenceNumber: input.sequenceNumber } : {}),
    TopicArn: input.topicArn,
    ...(input.subject !== undefined ? { Subject: input.subject } : {}),
    Message: input.message,
    Timestamp: new Date(input.timestamp).toISOString(),
    SignatureVersion: options.signatureVersion,
    UnsubscribeURL: options.unsubscribeUrl,
  };
  const signature = await options.signer.sign(stringToSign(unsigned), options.signatureVersion);
  const attributes = options.withAttributes ? envelopeAttributes(input.attributes) : undefined;
  return {
    Type: unsigned.Type,
    MessageId: unsigned.MessageId,
    ...(unsigned.SequenceNumber ? { SequenceNumber: unsigned.SequenceNumber } : {}),
    TopicArn: unsigned.TopicArn,
    ...(unsigned.Subject !== undefined ? { Subject: unsigned.Subject } : {}),
    Message: unsigned.Message,
    Timestamp: unsigned.Timestamp,
    SignatureVersion: unsigned.SignatureVersion,
    Signature: signature,
    SigningCertURL: options.signingCertUrl,
    UnsubscribeURL: options.unsubscribeUrl,
    ...(attributes ? { MessageAttributes: attributes } : {}),
  };
}

/** The event an SNS-subscribed Lambda function receives (one record per notification). */
export function lambdaEvent(envelope: NotificationEnvelope, subscriptionArn: string): unknown {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: subscriptionArn,
        Sns: {
          Type: envelope.Type,
          MessageId: envelope.MessageId,
          TopicArn: envelope.TopicArn,
          Subject: envelope.Subject ?? null,
          Message: envelope.Message,
          Timestamp: envelope.Timestamp,
          SignatureVersion: envelope.SignatureVersion,
          Signature: envelope.Signature,
          SigningCertUrl: envelope.SigningCertURL,
          UnsubscribeUrl: envelope.UnsubscribeURL,
          MessageAttributes: envelope.MessageAttributes ?? {},
        },
      },
    ],
  };
}
