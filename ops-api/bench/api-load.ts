/**
 * Load benchmark of the ops API on loopback against DynamoDB Local and fauxqs:
 *  - GET /api/dlqs/standard/messages with 100 messages in the DLQ, 50 connections (target p99 <= 50 ms);
 *  - a real redrive of every message (target >= 200 messages/s);
 *  - memory (RSS, heap) before, peak during and after the load.
 * Prints one JSON object.
 */
import os from 'node:os';
import type { StreamRecord } from '@orderflow/pipeline';
import autocannon from 'autocannon';
import { buildApp } from '../src/app.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import type { RedriveJob } from '../src/schemas/index.ts';
import { startBackends } from '../test/helpers/backends.ts';

const DLQ_MESSAGES = 100;
const REDRIVE_MESSAGES = 400;
const CONNECTIONS = 50;
const DURATION_SECONDS = 10;

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
let peakRss = 0;
let peakHeap = 0;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  peakHeap = Math.max(peakHeap, usage.heapUsed);
}, 50);

const backends = await startBackends();
backends.setProcessor('standard', async () => ({ batchItemFailures: [] }));
const order = (i: number) => ({
  orderId: `bench-${i}`,
  customerEmail: `customer-${i}@example.com`,
  orderAmount: 150 + i,
  orderStatus: 'pending',
  orderDate: '2026-11-24T10:00:00Z',
});

async function seed(from: number, count: number): Promise<void> {
  const records: StreamRecord[] = await backends.writeOrders(Array.from({ length: count }, (_, i) => order(from + i)));
  for (const record of records) await backends.sendDlqMessage('standard', [record]);
}

const app = await buildApp(configFromRuntimeInfo(backends.info, { rateLimitPerMinute: 10_000_000 }), {
  server: { logger: false },
});
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const viewer = { authorization: `Bearer ${backends.info.tokens.viewer}` };
const operator = { authorization: `Bearer ${backends.info.tokens.operator}`, 'content-type': 'application/json' };
try {
  await seed(0, DLQ_MESSAGES);
  const before = process.memoryUsage();
  const load = await autocannon({
    url: `${url}/api/dlqs/standard/messages?limit=20`,
    headers: viewer,
    connections: CONNECTIONS,
    duration: DURATION_SECONDS,
  });
  const listed = (await (await fetch(`${url}/api/dlqs/standard/messages?limit=100`, { headers: viewer })).json()) as {
    messages: unknown[];
  };

  await seed(DLQ_MESSAGES, REDRIVE_MESSAGES - DLQ_MESSAGES);
  const started = Date.now();
  const answer = await fetch(`${url}/api/dlqs/standard/redrive`, {
    method: 'POST',
    headers: operator,
    body: JSON.stringify({ all: true, ratePerSecond: 1000 }),
  });
  const { jobId } = (await answer.json()) as { jobId: string };
  let job: RedriveJob;
  for (;;) {
    job = (await (await fetch(`${url}/api/redrives/${jobId}`, { headers: viewer })).json()) as RedriveJob;
    if (job.status !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (Date.parse(job.finishedAt ?? new Date().toISOString()) - Date.parse(job.createdAt)) / 1000;
  const redriven = job.results.filter((result) => result.outcome === 'redriven').length;
  const throughput = Math.round((redriven / seconds) * 10) / 10;
  const after = process.memoryUsage();

  const p99 = load.latency.p99;
  console.log(
    JSON.stringify(
      {
        benchmark: 'ops-api',
        listMessages: {
          dlqMessages: listed.messages.length,
          connections: CONNECTIONS,
          durationSeconds: DURATION_SECONDS,
          requests: load.requests.total,
          requestsPerSecond: load.requests.average,
          latencyMs: { p50: load.latency.p50, p90: load.latency.p90, p99, max: load.latency.max },
          non2xx: load.non2xx,
          errors: load.errors,
          target: 'p99 <= 50 ms',
          met: p99 <= 50 && load.non2xx === 0,
        },
        redrive: {
          messages: job.results.length,
          redriven,
          status: job.status,
          seconds,
          messagesPerSecond: throughput,
          target: '>= 200 messages/s',
          met: throughput >= 200 && job.status === 'succeeded',
        },
        memoryMb: {
          rssBefore: mb(before.rss),
          rssPeak: mb(peakRss),
          rssAfter: mb(after.rss),
          heapUsedBefore: mb(before.heapUsed),
          heapUsedPeak: mb(peakHeap),
          heapUsedAfter: mb(after.heapUsed),
          note: 'one process: the API, fauxqs and the stand-in Lambda endpoint (DynamoDB Local is a separate JVM)',
        },
        machine: {
          node: process.version,
          cpus: os.cpus().length,
          cpuModel: os.cpus()[0]?.model,
          platform: os.platform(),
        },
        reproduce: 'npm run bench -w ops-api',
      },
      null,
      2,
    ),
  );
} finally {
  clearInterval(sampler);
  await app.close();
  await backends.stop();
}
