import { startFauxqs } from 'fauxqs';
import { freePort } from './ports.ts';

export interface LocalSqs {
  readonly endpoint: string;
  readonly port: number;
  /** Creates a queue directly on the emulator; returns its URL and ARN. */
  createQueue(name: string, attributes?: Record<string, string>): { queueUrl: string; queueArn: string };
  stop(): Promise<void>;
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
    stop: () => server.stop(),
  };
}
