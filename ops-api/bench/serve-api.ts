/**
 * The ops API under test, in its own process so the load generator does not share its event loop. Started by
 * `api-load.ts` with `fork`: receives the runtime info over IPC, listens on a free loopback port and answers its URL;
 * answers `memory` requests with its own RSS/heap (current and peak) and closes on `stop`.
 */
import type { RuntimeInfo } from '@orderflow/pipeline/schemas';
import { buildApp } from '../src/app.ts';
import { createAwsClients } from '../src/clients.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import { aroundEachCall } from '../test/helpers/sdk-calls.ts';

/** Per AWS command: calls and mean latency (ms) since the last `calls` request. */
export type CallStats = Record<string, { calls: number; meanMs: number }>;
export type ServeRequest =
  | { type: 'start'; info: RuntimeInfo }
  | { type: 'memory' }
  | { type: 'calls' }
  | { type: 'stop' };
export type ServeAnswer =
  | { type: 'listening'; url: string }
  | { type: 'memory'; rss: number; heapUsed: number; peakRss: number; peakHeapUsed: number }
  | { type: 'calls'; stats: CallStats }
  | { type: 'stopped' };

const send = (answer: ServeAnswer) => process.send?.(answer);
let peakRss = 0;
let peakHeapUsed = 0;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  peakHeapUsed = Math.max(peakHeapUsed, usage.heapUsed);
}, 50);
let close: (() => Promise<void>) | undefined;
let calls = new Map<string, { calls: number; totalMs: number }>();

/** Counts every AWS SDK call the API makes, by command, with its latency as the API sees it. */
function countCalls(client: Parameters<typeof aroundEachCall>[0]): void {
  aroundEachCall(client, 'benchCallCounter', async (name, _input, send) => {
    const started = performance.now();
    try {
      return await send();
    } finally {
      const entry = calls.get(name) ?? { calls: 0, totalMs: 0 };
      entry.calls++;
      entry.totalMs += performance.now() - started;
      calls.set(name, entry);
    }
  });
}

process.on('message', async (request: ServeRequest) => {
  if (request.type === 'start') {
    // No rate limit: the benchmark is one client on loopback sending far more than an operator would.
    const config = configFromRuntimeInfo(request.info, { rateLimitPerMinute: 1_000_000_000 });
    const clients = createAwsClients(config);
    for (const client of [clients.sqs, clients.dynamodb, clients.streams, clients.lambda, clients.cloudwatch]) {
      countCalls(client as never);
    }
    const app = await buildApp(config, { clients, server: { logger: false } });
    close = async () => {
      await app.close();
      clients.destroy();
    };
    send({ type: 'listening', url: await app.listen({ port: 0, host: '127.0.0.1' }) });
  } else if (request.type === 'calls') {
    const stats: CallStats = {};
    for (const [name, entry] of [...calls].sort((a, b) => b[1].calls - a[1].calls)) {
      stats[name] = { calls: entry.calls, meanMs: Math.round((entry.totalMs / entry.calls) * 10) / 10 };
    }
    calls = new Map();
    send({ type: 'calls', stats });
  } else if (request.type === 'memory') {
    const usage = process.memoryUsage();
    send({ type: 'memory', rss: usage.rss, heapUsed: usage.heapUsed, peakRss, peakHeapUsed });
  } else {
    clearInterval(sampler);
    await close?.();
    send({ type: 'stopped' });
    // process.exit would skip writing a --cpu-prof profile; let the event loop drain instead.
    process.disconnect();
  }
});
