/**
 * Load benchmark of the ops API on loopback against DynamoDB Local and fauxqs, with the API, the load generator and
 * the back ends (fauxqs, the stand-in Lambda endpoint) in three processes so none shares another's event loop:
 *  - baseline: GET /api/pipes (auth, routing, serialization; no AWS call) at 50 connections;
 *  - GET /api/dlqs/standard/messages (default page of 20, and a full page of 100) with 100 messages in the DLQ,
 *    50 connections (target p99 <= 50 ms on the default page), reported also as a ratio to the baseline;
 *  - a real redrive of every message of a 400-message DLQ (target >= 200 messages/s), with the CPU time each process
 *    spent meanwhile (API; this one, running fauxqs and the stand-in Lambda; DynamoDB Local's JVM);
 *  - the API process's memory (RSS, heap) before, at peak and after.
 * Prints one JSON object. `BENCH_CPU_PROF_DIR=<dir>` writes a V8 CPU profile of the API process there.
 */
import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import { startBackends } from '../test/helpers/backends.ts';
import { cpuMs, jvmUnder } from './cpu.ts';
import { redriveAll } from './redrive-job.ts';
import type { ServeAnswer, ServeRequest } from './serve-api.ts';

const DLQ_MESSAGES = 100;
const REDRIVE_MESSAGES = 400;
const CONNECTIONS = 50;
const DURATION_SECONDS = 10;
const BASELINE_SECONDS = 5;

interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  non2xx: number;
  errors: number;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const forkTs = (file: string, extra: string[] = []) =>
  fork(here(file), [], { execArgv: ['--import', 'tsx', ...extra], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function ask<T extends ServeAnswer['type']>(
  child: ChildProcess,
  request: ServeRequest,
  answer: T,
): Promise<Extract<ServeAnswer, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ServeAnswer) => {
      if (message.type !== answer) return;
      child.off('message', onMessage);
      resolve(message as Extract<ServeAnswer, { type: T }>);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`the API process exited (${code}) before answering ${answer}`)));
    child.send(request);
  });
}

function load(url: string, headers: Record<string, string>, duration: number): Promise<LoadResult> {
  const child = forkTs('./load-generator.ts');
  return new Promise((resolve, reject) => {
    child.once('message', (result: LoadResult) => resolve(result));
    child.once('exit', (code) => (code ? reject(new Error(`load generator exited with ${code}`)) : undefined));
    child.send({ url, headers, connections: CONNECTIONS, duration });
  });
}

/** CPU time (user + system, ms) of the API process, this process (fauxqs, the stand-in Lambda) and DynamoDB Local. */
const cpuOf = (apiPid: number | undefined, jvm: number | undefined) => ({
  api: cpuMs(apiPid),
  self: cpuMs(process.pid),
  dynamodb: cpuMs(jvm),
});

const backends = await startBackends();
backends.setProcessor('standard', async () => ({ batchItemFailures: [] }));
const jvm = jvmUnder(backends.dynamodbPid);
const order = (i: number) => ({
  orderId: `bench-${i}`,
  customerEmail: `customer-${i}@example.com`,
  orderAmount: 150 + i,
  orderStatus: 'pending',
  orderDate: '2026-11-24T10:00:00Z',
});
async function seed(from: number, count: number): Promise<void> {
  const records: StreamRecord[] = await backends.writeOrders(Array.from({ length: count }, (_, i) => order(from + i)));
  await Promise.all(records.map((record) => backends.sendDlqMessage('standard', [record])));
}

const profileDir = process.env.BENCH_CPU_PROF_DIR;
const api = forkTs('./serve-api.ts', profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
try {
  const { url } = await ask(api, { type: 'start', info: backends.info }, 'listening');
  const viewer = { authorization: `Bearer ${backends.info.tokens.viewer}` };
  const operator = { authorization: `Bearer ${backends.info.tokens.operator}`, 'content-type': 'application/json' };
  await seed(0, DLQ_MESSAGES);
  const listUrl = `${url}/api/dlqs/standard/messages`;
  const first = (await (await fetch(`${listUrl}?limit=100`, { headers: viewer })).json()) as { messages: unknown[] };
  const before = await ask(api, { type: 'memory' }, 'memory');

  const baseline = await load(`${url}/api/pipes`, viewer, BASELINE_SECONDS);
  await ask(api, { type: 'calls' }, 'calls');
  const list = await load(listUrl, viewer, DURATION_SECONDS);
  const fullPage = await load(`${listUrl}?limit=100`, viewer, DURATION_SECONDS);
  const listCalls = await ask(api, { type: 'calls' }, 'calls');

  await seed(DLQ_MESSAGES, REDRIVE_MESSAGES - DLQ_MESSAGES);
  await ask(api, { type: 'calls' }, 'calls');
  const cpuBefore = cpuOf(api.pid, jvm);
  const job = await redriveAll(url, operator, viewer);
  const cpuAfter = cpuOf(api.pid, jvm);
  const seconds = (Date.parse(job.finishedAt ?? new Date().toISOString()) - Date.parse(job.createdAt)) / 1000;
  const redriven = job.results.filter((result) => result.outcome === 'redriven').length;
  const throughput = Math.round((redriven / seconds) * 10) / 10;
  const redriveCalls = await ask(api, { type: 'calls' }, 'calls');
  const after = await ask(api, { type: 'memory' }, 'memory');

  const ratio = (result: LoadResult) => Math.round((result.latencyMs.p99 / baseline.latencyMs.p99) * 100) / 100;
  console.log(
    JSON.stringify(
      {
        benchmark: 'ops-api',
        processes: 'API, load generator (autocannon) and back ends (fauxqs, stand-in Lambda) each in its own process',
        dlqMessages: first.messages.length,
        connections: CONNECTIONS,
        baseline: { route: 'GET /api/pipes (no AWS call)', durationSeconds: BASELINE_SECONDS, ...baseline },
        listMessages: {
          route: 'GET /api/dlqs/standard/messages (default page: 20)',
          durationSeconds: DURATION_SECONDS,
          ...list,
          p99VsBaseline: ratio(list),
          target: 'p99 <= 50 ms',
          met: list.latencyMs.p99 <= 50 && list.non2xx === 0 && list.errors === 0,
        },
        listMessagesFullPage: {
          route: 'GET /api/dlqs/standard/messages?limit=100 (what the console asks for)',
          durationSeconds: DURATION_SECONDS,
          ...fullPage,
          p99VsBaseline: ratio(fullPage),
        },
        listAwsCalls: { note: 'both list runs together', ...listCalls.stats },
        redrive: {
          messages: job.results.length,
          redriven,
          status: job.status,
          seconds,
          messagesPerSecond: throughput,
          target: '>= 200 messages/s',
          met: throughput >= 200 && job.status === 'succeeded',
          processor: 'stand-in Lambda endpoint answering success at once: this measures the redrive, not a processor',
          cpuMs: {
            note: 'CPU time per process while the job ran (Linux only)',
            api: cpuAfter.api - cpuBefore.api,
            backEnds: cpuAfter.self - cpuBefore.self,
            dynamodbLocal: cpuAfter.dynamodb - cpuBefore.dynamodb,
          },
          awsCalls: redriveCalls.stats,
        },
        apiMemoryMb: {
          rssBefore: mb(before.rss),
          rssPeak: mb(after.peakRss),
          rssAfter: mb(after.rss),
          heapUsedBefore: mb(before.heapUsed),
          heapUsedPeak: mb(after.peakHeapUsed),
          heapUsedAfter: mb(after.heapUsed),
        },
        machine: {
          node: process.version,
          cpus: os.cpus().length,
          cpuModel: os.cpus()[0]?.model,
          platform: os.platform(),
          loadAverage1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
          note: 'shared machine: the load average counts other work running at the same time',
        },
        reproduce: 'npm run bench -w ops-api',
      },
      null,
      2,
    ),
  );
} finally {
  if (api.connected) await ask(api, { type: 'stop' }, 'stopped').catch(() => undefined);
  await backends.stop();
}
