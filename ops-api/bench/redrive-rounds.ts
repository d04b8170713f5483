/**
 * The redrive phase of `api-load.ts` alone, repeated (`ROUNDS`, default 3, of `MESSAGES`, default 400, single-record
 * DLQ messages), for profiling: per round the job's throughput, the AWS calls it made (count x mean ms as the API saw
 * them) and the CPU time of each process (API; this process, which runs fauxqs and the stand-in Lambda; DynamoDB
 * Local's JVM). Rounds after the first show the warmed-up figure. `BENCH_CPU_PROF_DIR=<dir>` writes a V8 CPU profile
 * of the API process. Run: `npx tsx bench/redrive-rounds.ts` in ops-api/.
 */
import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import { positiveIntegerFromEnv } from '@orderflow/pipeline/testing';
import { startBackends } from '../test/helpers/backends.ts';
import { cpuMs, jvmUnder } from './cpu.ts';
import { redriveAll } from './redrive-job.ts';
import type { ServeAnswer, ServeRequest } from './serve-api.ts';

const MESSAGES = positiveIntegerFromEnv('MESSAGES', 400);
const ROUNDS = positiveIntegerFromEnv('ROUNDS', 3);

function ask<T extends ServeAnswer['type']>(child: ChildProcess, request: ServeRequest, answer: T) {
  return new Promise<Extract<ServeAnswer, { type: T }>>((resolve) => {
    const onMessage = (message: ServeAnswer) => {
      if (message.type !== answer) return;
      child.off('message', onMessage);
      resolve(message as Extract<ServeAnswer, { type: T }>);
    };
    child.on('message', onMessage);
    child.send(request);
  });
}

const backends = await startBackends();
backends.setProcessor('standard', async () => ({ batchItemFailures: [] }));
const jvm = jvmUnder(backends.dynamodbPid);
const profileDir = process.env.BENCH_CPU_PROF_DIR;
const api = fork(fileURLToPath(new URL('./serve-api.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
let next = 0;
try {
  const { url } = await ask(api, { type: 'start', info: backends.info }, 'listening');
  const viewer = { authorization: `Bearer ${backends.info.tokens.viewer}` };
  const operator = { authorization: `Bearer ${backends.info.tokens.operator}`, 'content-type': 'application/json' };
  for (let round = 0; round < ROUNDS; round++) {
    const records: StreamRecord[] = await backends.writeOrders(
      Array.from({ length: MESSAGES }, () => {
        next += 1;
        return {
          orderId: `rounds-${next}`,
          customerEmail: `customer-${next}@example.com`,
          orderAmount: 150 + next,
          orderStatus: 'pending',
          orderDate: '2026-11-24T10:00:00Z',
        };
      }),
    );
    await Promise.all(records.map((record) => backends.sendDlqMessage('standard', [record])));
    await ask(api, { type: 'calls' }, 'calls');
    const before = { api: cpuMs(api.pid), self: cpuMs(process.pid), jvm: cpuMs(jvm) };
    const job = await redriveAll(url, operator, viewer);
    const after = { api: cpuMs(api.pid), self: cpuMs(process.pid), jvm: cpuMs(jvm) };
    const seconds = (Date.parse(job.finishedAt ?? '') - Date.parse(job.createdAt)) / 1000;
    const redriven = job.results.filter((result) => result.outcome === 'redriven').length;
    const { stats } = await ask(api, { type: 'calls' }, 'calls');
    console.log(
      JSON.stringify({
        round,
        status: job.status,
        redriven,
        seconds,
        messagesPerSecond: Math.round(redriven / seconds),
        cpuMs: {
          api: after.api - before.api,
          backEnds: after.self - before.self,
          dynamodbLocal: after.jvm - before.jvm,
        },
        loadAverage1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
        calls: Object.fromEntries(
          Object.entries(stats).map(([name, entry]) => [name, `${entry.calls}x${entry.meanMs}`]),
        ),
      }),
    );
  }
} finally {
  await ask(api, { type: 'stop' }, 'stopped');
  await backends.stop();
}
