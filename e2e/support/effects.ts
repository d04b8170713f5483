import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS } from '@orderflow/local';
import {
  type OrderProcessedV1,
  orderProcessedV1,
  type PremiumOrderShippedV1,
  premiumOrderShippedV1,
  type RuntimeInfo,
} from '@orderflow/pipeline/schemas';

export type Notification = OrderProcessedV1 | PremiumOrderShippedV1;

/**
 * Consumes the two downstream queues (standard: `OrderNotificationsQueue`, premium: `AccountManagerQueue`) like a
 * downstream service would, and keeps every notification it received, duplicates included. "Processed exactly once"
 * is then a count of received notifications per stream record (`notificationId` = pipe + eventID).
 */
export class EffectsLog {
  readonly received: Notification[] = [];
  /** When SQS accepted each received notification (its SentTimestamp, epoch ms), index for index with `received`. */
  readonly sentAt: number[] = [];
  /**
   * SQS message ids already recorded: a message received again because its delete did not happen (the runtime died
   * in between) is SQS's at-least-once delivery, not a second effect. A processor's duplicate is a new message.
   * A log that takes over from another after a restart shares its set (`forRuntime(info, previous)`).
   */
  readonly seenMessages: Set<string>;
  /** Bodies that match neither published schema: a contract break, asserted empty by the suites. */
  readonly unreadable: string[] = [];
  private readonly sqs: SQSClient;
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(endpoint: string, queueUrls: readonly string[], region = 'us-east-1', seenMessages = new Set<string>()) {
    this.seenMessages = seenMessages;
    this.sqs = new SQSClient({ endpoint, region, credentials: LOCAL_CREDENTIALS });
    this.loops = queueUrls.map((url) => this.consume(url));
  }

  static forRuntime(info: RuntimeInfo, previous?: EffectsLog): EffectsLog {
    return new EffectsLog(
      info.endpoints.sqs,
      [info.resources.notificationQueueUrl, info.resources.accountManagerQueueUrl],
      info.region,
      previous?.seenMessages,
    );
  }

  /** Notifications about one order, in the order they were received. */
  forOrder(orderId: string): Notification[] {
    return this.received.filter((n) => n.order.orderId === orderId);
  }

  /** How many times each notification id was received. */
  deliveries(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const n of this.received) counts.set(n.notificationId, (counts.get(n.notificationId) ?? 0) + 1);
    return counts;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.sqs.destroy();
  }

  private async consume(queueUrl: string): Promise<void> {
    while (this.running) {
      try {
        const { Messages = [] } = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['SentTimestamp'],
          }),
        );
        for (const message of Messages) {
          if (message.MessageId !== undefined && this.seenMessages.has(message.MessageId)) continue;
          if (message.MessageId !== undefined) this.seenMessages.add(message.MessageId);
          this.record(message.Body ?? '', Number(message.Attributes?.SentTimestamp ?? Number.NaN));
        }
        if (Messages.length > 0)
          await this.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
      } catch {
        // The queue can be briefly missing (a test removes it to break the processor) or the runtime may be
        // restarting; a consumer keeps polling, as a real one would.
        if (this.running) await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  private record(body: string, sentAt: number): void {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      this.unreadable.push(body);
      return;
    }
    const parsed = orderProcessedV1.safeParse(value);
    const notification = parsed.success ? parsed.data : premiumOrderShippedV1.safeParse(value).data;
    if (!notification) return void this.unreadable.push(body);
    this.received.push(notification);
    this.sentAt.push(sentAt);
  }
}
