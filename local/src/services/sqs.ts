import { type ListenOptions, Server } from 'node:net';
import { join } from 'node:path';
import { startFauxqs } from 'fauxqs';
import { freePort } from './ports.ts';
import { type JournaledMessage, QueueJournal } from './sqs-journal.ts';

export interface LocalSqs {
  readonly endpoint: string;
  readonly port: number;
  /** Creates a queue directly on the emulator; returns its URL and ARN. */
  createQueue(name: string, attributes?: Record<string, string>): { queueUrl: string; queueArn: string };
  /** Queue depth and oldest message, read without receiving (for the AWS/SQS metrics CloudWatch would publish). */
  inspect(name: string): QueueDepth | undefined;
  stop(): Promise<void>;
}

export interface QueueDepth {
  readonly visible: number;
  readonly notVisible: number;
  /**
   * Sent time (epoch ms) of the oldest message `ApproximateAgeOfOldestMessage` counts, if any: on a standard queue a
   * message received {@link AGE_RECEIVE_LIMIT} or more times and not deleted is left out (see `oldestCounted`).
   */
  readonly oldestSentAt?: number;
  /** Messages left out of `oldestSentAt` because they were received too often (poison pills). */
  readonly leftOutOfAge: number;
}

/**
 * SQS developer guide, "Available CloudWatch metrics for Amazon SQS", `ApproximateAgeOfOldestMessage`
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html):
 * on a standard queue, a message received three or more times and not deleted is moved to the back of the queue, and
 * the metric shows the next message not received that often, redrive policy or not; such poison-pill messages stay out
 * of the metric until they are deleted. FIFO queues do not reorder, so every message counts there.
 * docs/AWS-FACTS.md, fact 13.
 */
export const AGE_RECEIVE_LIMIT = 3;

interface InspectedMessage {
  readonly sentTimestamp: number;
  readonly approximateReceiveCount: number;
}

/** The oldest sent time `ApproximateAgeOfOldestMessage` counts, and how many messages it leaves out. */
export function oldestCounted(
  messages: Iterable<InspectedMessage>,
  fifo: boolean,
): { oldestSentAt: number | undefined; leftOut: number } {
  let oldestSentAt: number | undefined;
  let leftOut = 0;
  for (const message of messages) {
    if (!fifo && message.approximateReceiveCount >= AGE_RECEIVE_LIMIT) {
      leftOut++;
      continue;
    }
    if (oldestSentAt === undefined || message.sentTimestamp < oldestSentAt) oldestSentAt = message.sentTimestamp;
  }
  return { oldestSentAt, leftOut };
}

/**
 * fauxqs 1.9.2 names every queue `http://sqs.<region>.<host>:<port>/…` (host default `localhost`), which does not
 * resolve without DNS tricks, and the AWS SDK v3 sends SQS calls to the QueueUrl's host. Its store already knows the
 * plain form (`requestHost`, 127.0.0.1:<port> for queues created in-process) and uses it when no host is set, but a
 * host is always set; this makes the store use the plain form. Queues are looked up by exact URL, so every client
 * sees the same `http://127.0.0.1:<port>/000000000000/<name>`. Behind the local IAM gateway the queues are named with
 * the gateway's host instead (`queueUrlHosts`, by the emulator's port), since clients reach them through it.
 */
const queueUrlHosts = new Map<string, string>();
async function usePlainQueueUrls(): Promise<void> {
  const { SqsStore } = await fauxqsStore();
  SqsStore.prototype.buildQueueUrl = (name, port, requestHost) =>
    `http://${queueUrlHosts.get(port) ?? (requestHost || `127.0.0.1:${port}`)}/000000000000/${name}`;
}

/** fauxqs 1.9.2's queue, as far as persistence touches it. */
interface FauxqsQueue {
  inflightMessages: Map<string, { message: JournaledMessage }>;
  enqueue(message: JournaledMessage): void;
  deleteMessage(receiptHandle: string): boolean;
  purge(): void;
}

async function fauxqsStore() {
  const storeModule = new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs'));
  return (await import(storeModule.href)) as {
    SqsStore: {
      prototype: {
        buildQueueUrl(name: string, port: string, requestHost: string, region: string): string;
        createQueue(...args: unknown[]): FauxqsQueue;
      };
    };
    SqsQueue: { prototype: FauxqsQueue };
  };
}

/** The journal of each persisted queue, and the queue each journaled message currently lives in. */
const journals = new WeakMap<FauxqsQueue, QueueJournal>();
const owners = new WeakMap<JournaledMessage, QueueJournal>();
/** Set while `createQueue` runs, to learn the queue object that fauxqs keeps to itself. */
let onQueueCreated: ((queue: FauxqsQueue) => void) | undefined;
let journaling = false;

/**
 * Makes fauxqs report every state change of a persisted queue to its journal: sends (and moves into it by a
 * RedrivePolicy, which leave the source queue), deletes and purges. Queues without a journal behave as before.
 */
async function useJournals(): Promise<void> {
  if (journaling) return;
  journaling = true;
  const { SqsStore, SqsQueue } = await fauxqsStore();
  const { createQueue } = SqsStore.prototype;
  SqsStore.prototype.createQueue = function (this: unknown, ...args: unknown[]) {
    const queue = createQueue.apply(this, args);
    onQueueCreated?.(queue);
    return queue;
  };
  const { enqueue, deleteMessage, purge } = SqsQueue.prototype;
  SqsQueue.prototype.enqueue = function (this: FauxqsQueue, message) {
    enqueue.call(this, message);
    const journal = journals.get(this);
    const previous = owners.get(message);
    if (previous && previous !== journal) {
      previous.deleted(message.messageId);
      owners.delete(message);
    }
    if (!journal) return;
    journal.sent(message);
    owners.set(message, journal);
  };
  SqsQueue.prototype.deleteMessage = function (this: FauxqsQueue, receiptHandle) {
    const entry = this.inflightMessages.get(receiptHandle);
    const deleted = deleteMessage.call(this, receiptHandle);
    if (deleted && entry) {
      journals.get(this)?.deleted(entry.message.messageId);
      owners.delete(entry.message);
    }
    return deleted;
  };
  SqsQueue.prototype.purge = function (this: FauxqsQueue) {
    purge.call(this);
    journals.get(this)?.purged();
  };
}

/**
 * fauxqs 1.9.2's `startFauxqs` listens on every interface (`0.0.0.0`; its `host` option only names queue URLs), which
 * would let any machine on the network reach the emulator behind the IAM gateway's back. While it starts, its listen
 * on `port` is turned to 127.0.0.1 (Fastify listens with an options object).
 */
async function onLoopback<T>(port: number, start: () => Promise<T>): Promise<T> {
  const { listen } = Server.prototype;
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    const options = args[0] as ListenOptions | undefined;
    if (options && typeof options === 'object' && options.port === port && options.host === '0.0.0.0')
      args[0] = { ...options, host: '127.0.0.1' };
    return (listen as (...a: unknown[]) => Server).apply(this, args);
  } as typeof listen;
  try {
    return await start();
  } finally {
    Server.prototype.listen = listen;
  }
}

/**
 * Starts the fauxqs SQS emulator on 127.0.0.1. Queue URLs use `127.0.0.1` so they resolve without DNS tricks.
 * With `dataDir`, the queues made with `createQueue` keep their messages in `<dataDir>/sqs/<queue>.ndjson` and get
 * them back when created again after a restart (see QueueJournal).
 */
export async function startSqs(
  options: {
    port?: number;
    region?: string;
    dataDir?: string;
    /** `host:port` the queue URLs name, when clients reach the emulator through a gateway; default its own. */
    queueUrlHost?: string;
  } = {},
): Promise<LocalSqs> {
  await usePlainQueueUrls();
  if (options.dataDir) await useJournals();
  const opened: QueueJournal[] = [];
  const port = options.port ?? (await freePort());
  if (options.queueUrlHost) queueUrlHosts.set(String(port), options.queueUrlHost);
  const server = await onLoopback(port, () =>
    startFauxqs({
      port,
      logger: false,
      ...(options.region ? { defaultRegion: options.region } : {}),
    } as Parameters<typeof startFauxqs>[0]),
  );
  const endpoint = `http://127.0.0.1:${server.port}`;
  return {
    endpoint,
    port: server.port,
    createQueue(name, attributes) {
      let queue: FauxqsQueue | undefined;
      onQueueCreated = (created) => {
        queue = created;
      };
      let created: ReturnType<typeof server.createQueue>;
      try {
        created = server.createQueue(name, attributes ? { attributes } : undefined);
      } finally {
        onQueueCreated = undefined;
      }
      if (options.dataDir && queue) {
        const { journal, messages } = QueueJournal.open(join(options.dataDir, 'sqs', `${name}.ndjson`));
        opened.push(journal);
        for (const message of messages) {
          queue.enqueue(message);
          owners.set(message, journal);
        }
        journals.set(queue, journal);
      }
      return { queueUrl: created.queueUrl, queueArn: created.queueArn };
    },
    inspect(name) {
      const state = server.inspectQueue(name);
      if (!state) return undefined;
      const { ready, delayed, inflight } = state.messages;
      // fauxqs returns a message whose visibility timeout ran out to the queue only on its next receive; SQS counts it
      // visible at once.
      const now = Date.now();
      const expired = inflight.filter((m) => m.visibilityDeadline <= now).length;
      const fifo = state.attributes.FifoQueue === 'true' || name.endsWith('.fifo');
      const { oldestSentAt, leftOut } = oldestCounted([...ready, ...delayed, ...inflight.map((m) => m.message)], fifo);
      return {
        visible: ready.length + expired,
        notVisible: inflight.length - expired,
        ...(oldestSentAt === undefined ? {} : { oldestSentAt }),
        leftOutOfAge: leftOut,
      };
    },
    async stop() {
      queueUrlHosts.delete(String(port));
      await server.stop();
      for (const journal of opened) journal.close();
    },
  };
}
