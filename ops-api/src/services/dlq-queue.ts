import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { PipeKey } from '@orderflow/pipeline/facts';

/**
 * Reading a DLQ without consuming it. SQS has no "peek": a receive hides a message for its visibility timeout. Browsing
 * therefore receives with a short timeout ({@link PEEK_VISIBILITY_SECONDS}) while it walks the queue (so one walk does
 * not see the same message twice), then immediately sets the visibility of everything it saw back to 0
 * (ChangeMessageVisibility: "you can ... set the VisibilityTimeout to 0 ... to make the message immediately visible",
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html).
 * A message is hidden from other readers for the duration of one walk (well under a second for a few hundred
 * messages), and at most {@link PEEK_VISIBILITY_SECONDS} if the process dies mid-walk. A walk raises every message's
 * ApproximateReceiveCount, and SQS leaves a message received three or more times out of ApproximateAgeOfOldestMessage
 * (docs/AWS-FACTS.md, fact 13), the metric of the DLQ age alarm: so browsing walks as seldom as it can (the
 * DlqBrowser keeps one walk as a view while the queue's counts are unchanged), and counts come from
 * GetQueueAttributes ({@link DlqQueue.stats}), which receives nothing.
 */
export const PEEK_VISIBILITY_SECONDS = 5;
/** How long a redrive holds a message it is working on before SQS shows it again (a crashed job loses nothing). */
export const CLAIM_VISIBILITY_SECONDS = 120;
/** Upper bound of one walk; larger DLQs are browsed by their first messages (and redriven with `all`). */
export const MAX_PEEK_MESSAGES = 2000;

export interface QueuedMessage {
  readonly id: string;
  readonly body: string;
  readonly sentAt: number;
  readonly receiveCount: number;
  readonly receiptHandle: string;
}

export interface QueueStats {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export class DlqQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrls: Readonly<Record<PipeKey, string>>,
  ) {}

  async stats(pipe: PipeKey): Promise<QueueStats> {
    const answer = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrls[pipe],
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return {
      visible: Number(answer.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(answer.Attributes?.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }

  /** Every visible message (up to {@link MAX_PEEK_MESSAGES}), left visible again when this resolves. */
  async peekAll(pipe: PipeKey): Promise<QueuedMessage[]> {
    const seen = new Map<string, QueuedMessage>();
    try {
      for (;;) {
        const batch = await this.receive(pipe, PEEK_VISIBILITY_SECONDS);
        const fresh = batch.filter((message) => !seen.has(message.id));
        for (const message of fresh) seen.set(message.id, message);
        if (fresh.length === 0 || seen.size >= MAX_PEEK_MESSAGES) break;
      }
    } finally {
      await this.release(pipe, [...seen.values()]);
    }
    return [...seen.values()];
  }

  /**
   * Hides the wanted messages ({@link CLAIM_VISIBILITY_SECONDS}) and yields them, in batches of up to 10, with a fresh
   * receipt handle; every other message received on the way is made visible again at once. `wanted: 'all'` claims
   * everything visible, and ends once a long poll (which, unlike a short one, asks every SQS server) finds nothing
   * new. Messages hidden by someone else (a concurrent walk) get a few more chances before being reported missing.
   * `parallelReceives` keeps that many receives in flight (fewer when fewer wanted messages remain), so the next
   * messages are on their way while the caller works on the last ones; whatever a receive still in flight brings after
   * the claim ends is made visible again.
   *
   * A message the caller already had and gave back (kept after a failed redrive) may come back in a later receive:
   * SQS returns visible messages in no particular order, so late in a redrive of a DLQ whose messages keep failing,
   * receives could bring nothing but those. Such a message stays hidden (the receive hid it) until the claim ends and
   * is then made visible again, and a receive that brought only such messages does not count as finding nothing: the
   * claim ends only when a long poll finds nothing at all, so no message is left untried. `skip` names messages to
   * treat the same way from the start (a job continuing a run that died: those already have a result).
   */
  async *claim(
    pipe: PipeKey,
    wanted: ReadonlySet<string> | 'all',
    options: { parallelReceives?: number; skip?: ReadonlySet<string> } = {},
  ): AsyncGenerator<QueuedMessage[]> {
    const remaining = wanted === 'all' ? undefined : new Set([...wanted].filter((id) => !options.skip?.has(id)));
    const depth = Math.max(1, options.parallelReceives ?? 1);
    const claimed = new Set<string>(options.skip);
    /** Messages handed out before that came back, hidden until the claim ends (latest receipt handle per id). */
    const returned = new Map<string, QueuedMessage>();
    const inFlight: { waited: boolean; answer: Promise<QueuedMessage[] | { error: unknown }> }[] = [];
    let emptyPasses = 0;
    let streakStart: number | undefined;
    try {
      while (remaining === undefined || remaining.size > 0) {
        const wantedReceives = remaining === undefined ? depth : Math.min(depth, Math.ceil(remaining.size / 10));
        while (inFlight.length < Math.max(1, wantedReceives)) {
          const waitSeconds = emptyPasses > 0 ? 1 : 0;
          inFlight.push({
            waited: waitSeconds > 0,
            answer: this.receive(pipe, CLAIM_VISIBILITY_SECONDS, waitSeconds).catch((error: unknown) => ({ error })),
          });
        }
        const next = inFlight.shift() as (typeof inFlight)[number];
        const answer = await next.answer;
        if ('error' in answer) throw answer.error;
        const others: QueuedMessage[] = [];
        const mine: QueuedMessage[] = [];
        let cameBack = 0;
        for (const message of answer) {
          if (claimed.has(message.id)) {
            returned.set(message.id, message);
            cameBack += 1;
          } else if (remaining === undefined || remaining.has(message.id)) mine.push(message);
          else others.push(message);
        }
        await this.release(pipe, others);
        // Only messages handed out before: they are out of the way now, so this receive is not a sign of an empty DLQ.
        if (mine.length === 0 && cameBack > 0) continue;
        if (mine.length === 0) {
          emptyPasses += 1;
          streakStart ??= Date.now();
          // `all`: done once a long poll (one sent after a short one found nothing) finds nothing new either.
          if (remaining === undefined ? next.waited : await this.givenUp(pipe, emptyPasses, streakStart)) return;
          continue;
        }
        streakStart = undefined;
        emptyPasses = 0;
        for (const message of mine) {
          claimed.add(message.id);
          remaining?.delete(message.id);
        }
        // One receive's worth at a time (up to 10), so the caller can batch its own calls for them.
        yield mine;
      }
    } finally {
      const late = (await Promise.all(inFlight.map((receive) => receive.answer))).flatMap((answer) =>
        'error' in answer ? [] : answer,
      );
      for (const message of late) returned.delete(message.id);
      await this.release(pipe, late);
      // Best effort: one that the caller deleted in the meantime (with its older receipt handle) is simply gone.
      await this.release(pipe, [...returned.values()]).catch(() => undefined);
    }
  }

  /**
   * Whether a claim that keeps missing its wanted messages should report them missing. Short polls sample a subset of
   * SQS servers, so a few passes are needed anyway; and while other messages are in flight, a concurrent browse
   * ({@link peekAll}) may be hiding the wanted one for up to {@link PEEK_VISIBILITY_SECONDS}, so the claim waits that
   * out instead of answering "not found" for a message that is still there.
   */
  private async givenUp(pipe: PipeKey, emptyPasses: number, streakStart: number): Promise<boolean> {
    if (emptyPasses <= 3) return false;
    if (Date.now() - streakStart > (PEEK_VISIBILITY_SECONDS + 2) * 1000) return true;
    return (await this.stats(pipe)).inFlight === 0;
  }

  async delete(pipe: PipeKey, message: QueuedMessage): Promise<void> {
    await this.sqs.send(
      new DeleteMessageCommand({ QueueUrl: this.queueUrls[pipe], ReceiptHandle: message.receiptHandle }),
    );
  }

  /** Deletes messages in DeleteMessageBatch calls of 10; answers the ids SQS did not delete, with its reason. */
  async deleteMany(pipe: PipeKey, messages: readonly QueuedMessage[]): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    await Promise.all(
      chunksOf(messages, 10).map(async (chunk) => {
        const answer = await this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.queueUrls[pipe],
            Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.receiptHandle })),
          }),
        );
        for (const entry of answer.Failed ?? []) {
          const message = chunk[Number(entry.Id)];
          if (message) failed.set(message.id, `${entry.Code ?? 'error'}: ${entry.Message ?? 'not deleted'}`);
        }
      }),
    );
    return failed;
  }

  /** Makes messages visible again now (the failure case of a redrive: the message stays in the DLQ). */
  async release(pipe: PipeKey, messages: readonly QueuedMessage[]): Promise<void> {
    await this.setVisibility(pipe, messages, 0);
  }

  /** Hides claimed messages for another {@link CLAIM_VISIBILITY_SECONDS} (a claim still waiting to work on them). */
  async keepHidden(pipe: PipeKey, messages: readonly QueuedMessage[]): Promise<void> {
    await this.setVisibility(pipe, messages, CLAIM_VISIBILITY_SECONDS);
  }

  private async setVisibility(pipe: PipeKey, messages: readonly QueuedMessage[], seconds: number): Promise<void> {
    if (messages.length === 0) return;
    if (messages.length === 1 && messages[0]) {
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrls[pipe],
          ReceiptHandle: messages[0].receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
      return;
    }
    await Promise.all(
      chunksOf(messages, 10).map((chunk) =>
        this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.queueUrls[pipe],
            Entries: chunk.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.receiptHandle,
              VisibilityTimeout: seconds,
            })),
          }),
        ),
      ),
    );
  }

  private async receive(pipe: PipeKey, visibilityTimeout: number, waitSeconds = 0): Promise<QueuedMessage[]> {
    const answer = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrls[pipe],
        MaxNumberOfMessages: 10,
        VisibilityTimeout: visibilityTimeout,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      }),
    );
    return (answer.Messages ?? []).flatMap(toQueued);
  }
}

function toQueued(message: Message): QueuedMessage[] {
  if (!message.MessageId || !message.ReceiptHandle) return [];
  return [
    {
      id: message.MessageId,
      body: message.Body ?? '',
      sentAt: Number(message.Attributes?.SentTimestamp ?? Date.now()),
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
      receiptHandle: message.ReceiptHandle,
    },
  ];
}

function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
