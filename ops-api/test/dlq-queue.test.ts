import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../local/src/services/dynamodb-local.ts';
import { freePort } from '../../local/src/services/ports.ts';
import { DlqQueue, PEEK_VISIBILITY_SECONDS } from '../src/services/dlq-queue.ts';

const REGION = 'us-east-1';
const MESSAGES = 25;

/** Claims against a queue longer than one receive (10 messages), as the chaos suite's DLQs are. */
describe('DlqQueue.claim on a queue of more than ten messages', () => {
  let stop: () => Promise<void>;
  let sqs: SQSClient;

  beforeAll(async () => {
    const port = await freePort();
    const server = await startFauxqs({ port, logger: false, defaultRegion: REGION } as Parameters<
      typeof startFauxqs
    >[0]);
    stop = async () => server.stop();
    sqs = new SQSClient({ endpoint: `http://127.0.0.1:${port}`, region: REGION, credentials: LOCAL_CREDENTIALS });
  });
  afterAll(async () => {
    sqs.destroy();
    await stop();
  });

  async function queueWith(name: string): Promise<{ queue: DlqQueue; url: string; ids: string[] }> {
    const { QueueUrl: url = '' } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const ids: string[] = [];
    for (let start = 0; start < MESSAGES; start += 10) {
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: Array.from({ length: Math.min(10, MESSAGES - start) }, (_, i) => ({
            Id: String(i),
            MessageBody: `message ${start + i}`,
          })),
        }),
      );
      ids.push(...(sent.Successful ?? []).map((entry) => entry.MessageId ?? ''));
    }
    return { queue: new DlqQueue(sqs, { standard: url, premium: url }), url, ids };
  }

  const visible = async (url: string) =>
    Number(
      (
        await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
        )
      ).Attributes?.ApproximateNumberOfMessages,
    );

  it('reaches a wanted message behind the first ten and gives the others back', async () => {
    const { queue, url, ids } = await queueWith('claim-one');
    const wanted = ids[MESSAGES - 2] as string;
    const claimed: string[] = [];
    for await (const batch of queue.claim('standard', new Set([wanted]))) {
      claimed.push(...batch.map((message) => message.id));
      await queue.release('standard', batch);
    }
    expect(claimed).toEqual([wanted]);
    expect(await visible(url)).toBe(MESSAGES);
  });

  it('claims every message with `all` even when the ones it handed out are released (kept) as it goes', async () => {
    const { queue, url, ids } = await queueWith('claim-all');
    const claimed: string[] = [];
    for await (const batch of queue.claim('standard', 'all')) {
      claimed.push(...batch.map((message) => message.id));
      await queue.release('standard', batch);
    }
    expect(claimed.sort()).toEqual([...ids].sort());
    expect(await visible(url)).toBe(MESSAGES);
  });

  it('claims every message once with receives in parallel, and ends only after a long poll finds nothing', async () => {
    const { queue, url, ids } = await queueWith('claim-parallel');
    const claimed: string[] = [];
    const started = Date.now();
    for await (const batch of queue.claim('standard', 'all', { parallelReceives: 5 })) {
      claimed.push(...batch.map((message) => message.id));
      expect(await queue.deleteMany('standard', batch)).toEqual(new Map());
    }
    expect(claimed.sort()).toEqual([...ids].sort());
    // Short polls may miss messages in SQS; the claim ended on a long poll (1 s) of the emptied queue.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(await visible(url)).toBe(0);
  });

  it('gives back what receives still in flight bring when the caller stops early', async () => {
    const { queue, url } = await queueWith('claim-stopped');
    let taken = 0;
    for await (const batch of queue.claim('standard', 'all', { parallelReceives: 3 })) {
      taken = batch.length;
      await queue.release('standard', batch);
      break;
    }
    expect(taken).toBeGreaterThan(0);
    expect(await visible(url)).toBe(MESSAGES);
  });

  it('finds a message that a concurrent browse is hiding, instead of answering that it is gone', async () => {
    const { queue, url, ids } = await queueWith('claim-during-browse');
    const wanted = ids[3] as string;
    // A browse (peekAll) hides every message for PEEK_VISIBILITY_SECONDS while it walks the queue; simulate one that
    // has received everything and not yet given it back.
    let hidden = 0;
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
        }),
      );
      if (Messages.length === 0) break;
      hidden += Messages.length;
    }
    expect(hidden).toBe(MESSAGES);
    const started = Date.now();
    const claimed: string[] = [];
    for await (const batch of queue.claim('standard', new Set([wanted]))) {
      claimed.push(...batch.map((message) => message.id));
      await queue.release('standard', batch);
    }
    expect(claimed).toEqual([wanted]);
    // It had to wait for the browse's visibility timeout to lapse.
    expect(Date.now() - started).toBeGreaterThanOrEqual((PEEK_VISIBILITY_SECONDS - 1) * 1000);
  });
});

/**
 * SQS returns visible messages in no particular order (fauxqs happens to put a message made visible again at the back).
 * This in-memory queue answers the other legal way round, most recently made visible first, which is what a redrive
 * of a DLQ whose messages keep failing can meet in AWS. It implements only the calls a claim makes.
 */
class RecentFirstQueue {
  private readonly messages: { id: string; body: string; handle: string; visibleAt: number; shownAt: number }[] = [];
  private handles = 0;

  constructor(count: number) {
    for (let i = 0; i < count; i++)
      this.messages.push({ id: `m${i}`, body: `message ${i}`, handle: '', visibleAt: 0, shownAt: i });
  }

  get ids(): string[] {
    return this.messages.map((message) => message.id);
  }

  visible(): number {
    return this.messages.filter((message) => message.visibleAt <= Date.now()).length;
  }

  private setVisibility(handle: string, seconds: number): void {
    const message = this.messages.find((candidate) => candidate.handle === handle);
    if (!message) throw Object.assign(new Error('invalid receipt handle'), { name: 'ReceiptHandleIsInvalid' });
    message.visibleAt = Date.now() + seconds * 1000;
    if (seconds === 0) message.shownAt = performance.now() + this.messages.length;
  }

  readonly client = {
    send: async (command: { input: Record<string, unknown> }): Promise<unknown> => {
      const input = command.input as {
        MaxNumberOfMessages?: number;
        VisibilityTimeout?: number;
        ReceiptHandle?: string;
        Entries?: { ReceiptHandle: string; VisibilityTimeout?: number }[];
      };
      if (command instanceof ReceiveMessageCommand) {
        const now = Date.now();
        const shown = this.messages
          .filter((message) => message.visibleAt <= now)
          .sort((a, b) => b.shownAt - a.shownAt)
          .slice(0, input.MaxNumberOfMessages ?? 1);
        for (const message of shown) {
          message.visibleAt = now + (input.VisibilityTimeout ?? 30) * 1000;
          message.handle = `h${++this.handles}`;
        }
        return {
          Messages: shown.map((message) => ({
            MessageId: message.id,
            Body: message.body,
            ReceiptHandle: message.handle,
            Attributes: { SentTimestamp: '0', ApproximateReceiveCount: '1' },
          })),
        };
      }
      if (command instanceof ChangeMessageVisibilityCommand) {
        this.setVisibility(input.ReceiptHandle ?? '', input.VisibilityTimeout ?? 0);
        return {};
      }
      if (command instanceof ChangeMessageVisibilityBatchCommand) {
        for (const entry of input.Entries ?? []) this.setVisibility(entry.ReceiptHandle, entry.VisibilityTimeout ?? 0);
        return { Successful: [], Failed: [] };
      }
      if (command instanceof GetQueueAttributesCommand) {
        const visible = this.visible();
        return {
          Attributes: {
            ApproximateNumberOfMessages: String(visible),
            ApproximateNumberOfMessagesNotVisible: String(this.messages.length - visible),
          },
        };
      }
      throw new Error(`RecentFirstQueue does not implement ${command.constructor.name}`);
    },
  };
}

describe('DlqQueue.claim when SQS returns given-back messages first', () => {
  it('claims every message of `all` once although each one it handed out is released at once and comes back first', async () => {
    const sqs = new RecentFirstQueue(35);
    const queue = new DlqQueue(sqs.client as unknown as SQSClient, { standard: 'q', premium: 'q' });
    const claimed: string[] = [];
    for await (const batch of queue.claim('standard', 'all', { parallelReceives: 2 })) {
      claimed.push(...batch.map((message) => message.id));
      await queue.release('standard', batch);
    }
    expect(claimed.sort()).toEqual([...sqs.ids].sort());
    // The ones that came back were held out of the way while the claim went on, and are visible again now.
    expect(sqs.visible()).toBe(35);
  });
});
