import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { guardFor } from '@orderflow/pipeline/engine';
import {
  DEAD_LETTER_ARCHIVER_ENV,
  HANDLER_ENV,
  LOGICAL_IDS,
  METRICS_NAMESPACE,
  PIPES,
} from '@orderflow/pipeline/facts';
import { buildStreamRecord } from '@orderflow/pipeline/schemas';
import { bundleProcessors } from '../scripts/bundle.ts';
import { processBatch } from '../src/processing/batch.ts';
import { maskEmail, maskForLog, maskingJsonReplacer } from '../src/processing/masking.ts';

/*
 * Processor benchmarks, one JSON object on stdout:
 * - bundle size of each function (target ≤ 300 KB minified) and its composition per source package;
 * - cold-init time: importing the bundle in a fresh Node process (target ≤ 200 ms), in ≥ 9 processes per case, as
 *   median and spread, once as the local runtime runs it (tracing off: the Tracer and X-Ray SDK are not loaded) and
 *   once as Lambda does (AWS_EXECUTION_ENV set: they are); next to an empty module's import and the external AWS SDK
 *   clients' load in the same kind of process. Cases run round-robin so a change of machine load hits all alike;
 *   the load average before and after is reported because two shared cores make every time here noisy;
 * - per-record overhead of the processor (envelope, guard, order schema, logging, metrics, batch bookkeeping) on a
 *   100-record batch with in-memory effects, as a ratio to the bare guard on the same records. AWS calls are not
 *   part of it: they depend on the network, not on this code;
 * - email masking of log strings: nanoseconds per character of `maskEmail` on a 1 KB and a 1 MB string (one word
 *   whose only `@` is at its end, the most work per character; and text without `@`), whose ratio is 1 for a linear
 *   scan (the former regular expression was quadratic: ~1,000 for these sizes), and one call of `maskForLog`, which
 *   bounds a 1 MB string before masking it.
 */
const TARGET_BUNDLE_BYTES = 300 * 1024;
const TARGET_COLD_INIT_MS = 200;
const COLD_INIT_RUNS = 11;
const BATCH_SIZE = 100;
const BATCH_ROUNDS = 30;

function median(values: number[]): number {
  return quantile(values, 0.5);
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.round((sorted.length - 1) * q)] ?? Number.NaN;
}

const round1 = (value: number) => Number(value.toFixed(1));

function spread(times: number[]) {
  return {
    medianMs: round1(median(times)),
    p25Ms: round1(quantile(times, 0.25)),
    p75Ms: round1(quantile(times, 0.75)),
    minMs: round1(Math.min(...times)),
    maxMs: round1(Math.max(...times)),
    runs: times.length,
  };
}

const initEnv: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_REGION: 'us-east-1',
  [HANDLER_ENV.journalTable]: LOGICAL_IDS.journalTable,
  [HANDLER_ENV.idempotencyTable]: LOGICAL_IDS.idempotencyTable,
  [HANDLER_ENV.priorityShipmentsTable]: LOGICAL_IDS.priorityShipmentsTable,
  [HANDLER_ENV.notificationQueueUrl]: `http://127.0.0.1:9/000000000000/${LOGICAL_IDS.notificationQueue}`,
  [HANDLER_ENV.accountManagerQueueUrl]: `http://127.0.0.1:9/000000000000/${LOGICAL_IDS.accountManagerQueue}`,
  // The SDK's notice that later versions need Node 22 is one more stderr write, not part of init.
  NODE_NO_WARNINGS: '1',
};
/** What the dead-letter archiver reads at init besides the processors' variables. */
const archiverEnv: NodeJS.ProcessEnv = {
  [DEAD_LETTER_ARCHIVER_ENV.deadLetterTable]: LOGICAL_IDS.deadLetterTable,
  [DEAD_LETTER_ARCHIVER_ENV.deadLetterQueueArn]: `arn:aws:sqs:us-east-1:000000000000:${PIPES.standard.dlqId}`,
  [DEAD_LETTER_ARCHIVER_ENV.pipeArn]: 'arn:aws:pipes:us-east-1:000000000000:pipe/orderflow-standard',
  [DEAD_LETTER_ARCHIVER_ENV.ordersStreamArn]: `arn:aws:dynamodb:us-east-1:000000000000:table/${LOGICAL_IDS.ordersTable}/stream/2026-01-01T00:00:00.000`,
};
delete initEnv.AWS_EXECUTION_ENV;
delete initEnv.POWERTOOLS_TRACE_ENABLED;

/** How the bundle is started: as the local runtime does, or as Lambda does (where the Tracer can be on). */
const TRACING_CASES = {
  tracingOff: {},
  tracingPossible: { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' },
} as const;

/**
 * Milliseconds to import `specifiers` in a fresh Node process, measured inside it (process start excluded). The
 * process runs in this package, so bare specifiers resolve the way the bundle's external imports do.
 */
function importTime(specifiers: readonly string[], env: NodeJS.ProcessEnv, preload: readonly string[] = []): number {
  const load = (list: readonly string[]) => list.map((s) => `await import(${JSON.stringify(s)});`).join('');
  const script = `${load(preload)}const t=performance.now();${load(specifiers)}process.stdout.write(String(performance.now()-t));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env,
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

const MASK_TARGET_RATIO = 2;

/** Median nanoseconds per character of `fn(text)` over rounds of enough calls to take ~20 ms each. */
function nanosPerChar(fn: (text: string) => string, text: string): number {
  const calls = Math.max(1, Math.round(2_000_000 / text.length));
  const rounds: number[] = [];
  let sink = 0;
  for (let round = 0; round < 9; round++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) sink += fn(text).length;
    rounds.push(((performance.now() - start) * 1e6) / (calls * text.length));
  }
  if (sink < 0) throw new Error('unreachable');
  return median(rounds);
}

function maskThroughput() {
  // Flat strings, as JSON.parse returns them (a concatenation is a V8 cons string, slower to read per character).
  const flat = (text: string): string => JSON.parse(JSON.stringify(text));
  const oneWord = (chars: number) => flat(`${'a'.repeat(chars - 12)}@example.org`);
  const noAt = (chars: number) => flat('lorem ipsum '.repeat(Math.ceil(chars / 12)).slice(0, chars));
  const round3 = (value: number) => Number(value.toFixed(3));
  const cases = Object.fromEntries(
    Object.entries({ wordEndingInAddress: oneWord, textWithoutAt: noAt }).map(([name, make]) => {
      const small = nanosPerChar(maskEmail, make(1024));
      const large = nanosPerChar(maskEmail, make(1024 * 1024));
      return [
        name,
        {
          nanosPerChar1KB: round3(small),
          nanosPerChar1MB: round3(large),
          megabytesPerSecond1MB: round1(1000 / large),
          ratio1MBTo1KB: Number((large / small).toFixed(2)),
        },
      ];
    }),
  );
  const huge = oneWord(1024 * 1024);
  const bounded: number[] = [];
  for (let round = 0; round < 9; round++) {
    const start = performance.now();
    maskForLog(huge);
    bounded.push((performance.now() - start) * 1000);
  }
  return { maskEmail: cases, maskForLog1MBMicros: round1(median(bounded)) };
}

const masking = maskThroughput();
const bundles = await bundleProcessors();
const loadBefore = loadavg()[0] ?? Number.NaN;
const emptyModule = 'data:text/javascript,export const handler = 1;';
// The bundle keeps @aws-sdk/* external (the Lambda runtime provides it): loading those two clients from
// node_modules is part of the bundle's cold init. It is also measured on its own, and the bundle is measured once
// more with the clients already loaded (`ownInit`), so the bundle's own share is visible.
const sdkClients = ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sqs'];
const cases = [
  ...bundles.flatMap((bundle) =>
    Object.entries(TRACING_CASES).flatMap(([tracing, extraEnv]) => {
      const env = {
        ...initEnv,
        ...(bundle.functionId === 'DeadLetterArchiverFunction' ? archiverEnv : {}),
        ...extraEnv,
        [HANDLER_ENV.pipe]: bundle.functionId === PIPES.premium.functionId ? 'premium' : 'standard',
      };
      const specifiers = [pathToFileURL(bundle.file).href];
      return [
        { key: `${bundle.functionId}/${tracing}`, specifiers, env, preload: [] },
        { key: `${bundle.functionId}/${tracing}/ownInit`, specifiers, env, preload: sdkClients },
      ];
    }),
  ),
  { key: 'emptyModule', specifiers: [emptyModule], env: initEnv, preload: [] },
  { key: 'externalSdkClients', specifiers: sdkClients, env: initEnv, preload: [] },
];
const times = new Map<string, number[]>(cases.map((c) => [c.key, []]));
for (let run = 0; run < COLD_INIT_RUNS; run++) {
  for (const c of cases) times.get(c.key)?.push(importTime(c.specifiers, c.env, c.preload));
}
const loadAfter = loadavg()[0] ?? Number.NaN;
const coldInit = bundles.map((bundle) => ({
  functionId: bundle.functionId,
  ...Object.fromEntries(
    Object.keys(TRACING_CASES).map((tracing) => [
      tracing,
      {
        ...spread(times.get(`${bundle.functionId}/${tracing}`) ?? []),
        ownInitWithSdkLoaded: spread(times.get(`${bundle.functionId}/${tracing}/ownInit`) ?? []),
      },
    ]),
  ),
}));
const overhead = await perRecordOverhead();

console.log(
  JSON.stringify(
    {
      benchmark: 'handlers',
      bundles: bundles.map((b) => ({
        functionId: b.functionId,
        bytes: b.bytes,
        kb: round1(b.bytes / 1024),
        composition: Object.fromEntries(b.composition.map(({ group, bytes }) => [group, round1(bytes / 1024)])),
      })),
      coldInit: {
        note: 'import of the bundle in a fresh Node process, external @aws-sdk clients included',
        perFunction: coldInit,
        emptyModuleBaseline: spread(times.get('emptyModule') ?? []),
        externalSdkClients: spread(times.get('externalSdkClients') ?? []),
      },
      perRecord: overhead,
      masking,
      targets: {
        maskingLinear: Object.values(masking.maskEmail).every((c) => c.ratio1MBTo1KB <= MASK_TARGET_RATIO),
        bundleAtMost300KB: bundles.every((b) => b.bytes <= TARGET_BUNDLE_BYTES),
        coldInitAtMost200ms: [...times]
          .filter(([key]) => key.includes('/') && !key.endsWith('/ownInit'))
          .every(([, values]) => median(values) <= TARGET_COLD_INIT_MS),
      },
      machine: {
        // Two cores shared with other work: a high load average inflates every time here.
        loadAverage1mBefore: Number(loadBefore.toFixed(2)),
        loadAverage1mAfter: Number(loadAfter.toFixed(2)),
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
