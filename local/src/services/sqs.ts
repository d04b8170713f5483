import { startFauxqs } from 'fauxqs';
import { freePort } from './ports.ts';

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
  /** Sent time (epoch ms) of the oldest message, if any. */
  readonly oldestSentAt?: number;
}

/**
 * fauxqs 1.9.2 names every queue `http://sqs.<region>.<host>:<port>/…` (host default `localhost`), which does not
 * resolve without DNS tricks, and the AWS SDK v3 sends SQS calls to the QueueUrl's host. Its store already knows the
 * plain form (`requestHost`, 127.0.0.1:<port> for queues created in-process) and uses it when no host is set, but a
 * host is always set; this makes the store use the plain form. Queues are looked up by exact URL, so every client
 * sees the same `http://127.0.0.1:<port>/000000000000/<name>`.
 */
async function usePlainQueueUrls(): Promise<void> {
  const storeModule = new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs'));
  const { SqsStore } = (await import(storeModule.href)) as {
    SqsStore: { prototype: { buildQueueUrl(name: string, port: string, requestHost: string, region: string): string } };
  };
  SqsStore.prototype.buildQueueUrl = (name, port, requestHost) =>
    `http://${requestHost || `127.0.0.1:${port}`}/000000000000/${name}`;
}

/** Starts the fauxqs SQS emulator on 127.0.0.1. Queue URLs use `127.0.0.1` so they resolve without DNS tricks. */
export async function startSqs(options: { port?: number; region?: string } = {}): Promise<LocalSqs> {
  await usePlainQueueUrls();
  const port = options.port ?? (await freePort());
  const server = await startFauxqs({
    port,
    logger: false,
    ...(options.region ? { defaultRegion: options.region } : {}),
  } as Parameters<typeof startFauxqs>[0]);
  const endpoint = `http://127.0.0.1:${server.port}`;
  return {
    endpoint,
    port: server.port,
    createQueue(name, attributes) {
      const created = server.createQueue(name, attributes ? { attributes } : undefined);
      return { queueUrl: created.queueUrl, queueArn: created.queueArn };
    },
    inspect(name) {
      const state = server.inspectQueue(name);
      if (!state) return undefined;
      const all = [
        ...state.messages.ready,
        ...state.messages.delayed,
        ...state.messages.inflight.map((m) => m.message),
      ];
      const oldest = all.reduce<number | undefined>(
        (min, m) => (min === undefined || m.sentTimestamp < min ? m.sentTimestamp : min),
        undefined,
      );
      return {
        visible: state.messages.ready.length,
        notVisible: state.messages.inflight.length,
        ...(oldest === undefined ? {} : { oldestSentAt: oldest }),
      };
    },
    stop: () => server.stop(),
  };
}
