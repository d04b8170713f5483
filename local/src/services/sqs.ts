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

/** Starts the fauxqs SQS emulator on 127.0.0.1. Queue URLs use `127.0.0.1` so they resolve without DNS tricks. */
export async function startSqs(options: { port?: number; region?: string } = {}): Promise<LocalSqs> {
  const port = options.port ?? (await freePort());
  const server = await startFauxqs({
    port,
    logger: false,
    host: '127.0.0.1',
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
