import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { buildStreamRecord, guardFor, HANDLER_ENV, METRICS_NAMESPACE, PIPES } from '@orderflow/pipeline';
import { bundleProcessors } from '../scripts/bundle.ts';
import { processBatch } from '../src/processing/batch.ts';
import { maskingJsonReplacer } from '../src/processing/masking.ts';

/*
 * Processor benchmarks, one JSON object on stdout:
 * - bundle size of each function (target ≤ 300 KB minified);
 * - cold-init time: importing the bundle in a fresh Node process (target ≤ 200 ms), median of several processes,
 *   next to the import of an empty module in the same kind of process as a baseline;
 * - per-record overhead of the processor (envelope, guard, order schema, logging, metrics, batch bookkeeping) on a
 *   100-record batch with in-memory effects, as a ratio to the bare guard on the same records. AWS calls are not
 *   part of it: they depend on the network, not on this code.
 */
const TARGET_BUNDLE_BYTES = 300 * 1024;
const TARGET_COLD_INIT_MS = 200;
const COLD_INIT_RUNS = 7;
const BATCH_SIZE = 100;
const BATCH_ROUNDS = 30;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const initEnv = {
  ...process.env,
  AWS_REGION: 'us-east-1',
  [HANDLER_ENV.journalTable]: 'FailureJournalTable',
  [HANDLER_ENV.idempotencyTable]: 'IdempotencyTable',
  [HANDLER_ENV.priorityShipmentsTable]: 'PriorityShipmentsTable',
  [HANDLER_ENV.notificationQueueUrl]: 'http://127.0.0.1:9/000000000000/OrderNotificationsQueue',
  [HANDLER_ENV.accountManagerQueueUrl]: 'http://127.0.0.1:9/000000000000/AccountManagerQueue',
};

/**
 * Milliseconds to import `specifiers` in a fresh Node process, measured inside it (process start excluded). The
 * process runs in this package, so bare specifiers resolve the way the bundle's external imports do.
 */
function importTime(specifiers: readonly string[], pipe: string): number {
  const imports = specifiers.map((s) => `await import(${JSON.stringify(s)});`).join('');
  const script = `const t=performance.now();${imports}process.stdout.write(String(performance.now()-t));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...initEnv, [HANDLER_ENV.pipe]: pipe },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`importing ${specifiers.join(', ')} failed: ${run.stderr}`);
  return Number(run.stdout);
}

function silenceStdout<T>(fn: () => Promise<T>): Promise<T> {
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  return fn().finally(() => {
    process.stdout.write = original;
  });
}

async function perRecordOverhead() {
  const records = Array.from({ length: BATCH_SIZE }, (_, i) =>
    buildStreamRecord({
      eventName: 'INSERT',
      eventID: `bench-${i}`,
      sequenceNumber: String(100000000000000000000n + BigInt(i)),
      newImage: {
        orderId: `order-${i}`,
        customerEmail: `customer${i}@example.org`,
        // Two in three pass the rule; the rest are rejected by the amount clause, like real mixed traffic.
        orderAmount: i % 3 === 0 ? 80 : 150 + i,
        orderStatus: i % 2 === 0 ? 'pending' : 'shipped',
        orderDate: '2026-11-24T09:00:00Z',
      },
    }),
  );
  const guard = guardFor(PIPES.standard.rule);
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'orderflow-bench' });
  const deps = {
    pipe: 'standard' as const,
    guard,
    applyEffects: async () => ({ notificationId: 'n', notified: true }),
    journal: { recordFailure: async () => undefined },
    journalTtlDays: 14,
    logger: new Logger({ serviceName: 'orderflow-bench', jsonReplacerFn: maskingJsonReplacer }),
    metrics,
  };
  const baseline: number[] = [];
  const processor: number[] = [];
  await silenceStdout(async () => {
    for (let round = 0; round < BATCH_ROUNDS; round++) {
      let start = performance.now();
      for (const record of records) guard.check(record);
      baseline.push(performance.now() - start);
      start = performance.now();
      await processBatch(records, deps);
      metrics.publishStoredMetrics();
      processor.push(performance.now() - start);
    }
  });
  const guardPerRecord = (median(baseline) * 1000) / BATCH_SIZE;
  const processorPerRecord = (median(processor) * 1000) / BATCH_SIZE;
  return {
    batchSize: BATCH_SIZE,
    rounds: BATCH_ROUNDS,
    bareGuardMicrosPerRecord: Number(guardPerRecord.toFixed(1)),
    processorMicrosPerRecord: Number(processorPerRecord.toFixed(1)),
    overheadMicrosPerRecord: Number((processorPerRecord - guardPerRecord).toFixed(1)),
    ratioToBareGuard: Number((processorPerRecord / guardPerRecord).toFixed(2)),
  };
}

const bundles = await bundleProcessors();
const emptyModule = `data:text/javascript,export const handler = 1;`;
const coldInit = bundles.map((bundle) => {
  const pipe = bundle.functionId === 'OrderProcessorFunction' ? 'standard' : 'premium';
  const times = Array.from({ length: COLD_INIT_RUNS }, () => importTime([pathToFileURL(bundle.file).href], pipe));
  return { functionId: bundle.functionId, medianMs: Number(median(times).toFixed(1)), runs: times.length };
});
const baselineImportMs = median(Array.from({ length: COLD_INIT_RUNS }, () => importTime([emptyModule], 'standard')));
// The bundle keeps @aws-sdk/* external (the Lambda runtime provides it): loading those two clients from
// node_modules is part of the bundle's cold init, shown on its own so the bundle's share is visible.
const sdkClientsMs = median(
  Array.from({ length: COLD_INIT_RUNS }, () =>
    importTime(['@aws-sdk/client-dynamodb', '@aws-sdk/client-sqs'], 'standard'),
  ),
);
const overhead = await perRecordOverhead();

console.log(
  JSON.stringify(
    {
      benchmark: 'handlers',
      bundles: bundles.map((b) => ({
        functionId: b.functionId,
        bytes: b.bytes,
        kb: Number((b.bytes / 1024).toFixed(1)),
      })),
      coldInit: {
        perFunction: coldInit,
        emptyModuleBaselineMs: Number(baselineImportMs.toFixed(1)),
        externalSdkClientsMs: Number(sdkClientsMs.toFixed(1)),
      },
      perRecord: overhead,
      targets: {
        bundleAtMost300KB: bundles.every((b) => b.bytes <= TARGET_BUNDLE_BYTES),
        coldInitAtMost200ms: coldInit.every((c) => c.medianMs <= TARGET_COLD_INIT_MS),
      },
      machine: {
        // Two cores shared with other work: a high load average inflates every time here.
        loadAverage1m: Number(loadavg()[0]?.toFixed(2)),
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGB: Number((totalmem() / 2 ** 30).toFixed(1)),
      },
      reproduce: 'npm run bench -w handlers',
    },
    null,
    2,
  ),
);
