import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { METRICS_NAMESPACE, PROCESSOR_METRICS } from '@orderflow/pipeline';
import { startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';

/**
 * `npm run bench -w local`: (1) sustained orders/s through table → pipes → handlers as a ratio to DynamoDB Local's raw
 * PutItem rate in the same run, (2) PutItem → handler start latency at 100 orders/s, (3) RSS of this process (the
 * runtime without Java) after 10,000 orders, (4) start-up time. Prints one JSON object.
 */
const ORDERS = Number(process.env.BENCH_ORDERS ?? 10_000);
const CONCURRENCY = 16;
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-bench-'));
const putTimes = new Map<string, number>();
const latencies: number[] = [];
let measuringLatency = false;

const started = performance.now();
const runtime = await startLocalRuntime({
  stateDir,
  writeRuntimeFile: false,
  onInvoke: (functionName, event) => {
    if (!measuringLatency || functionName !== 'OrderProcessorFunction' || !Array.isArray(event)) return;
    const now = performance.now();
    for (const record of event as { dynamodb?: { Keys?: { orderId?: { S?: string } } } }[]) {
      const at = putTimes.get(record.dynamodb?.Keys?.orderId?.S ?? '');
      if (at !== undefined) latencies.push(now - at);
    }
  },
});
const startupMs = performance.now() - started;
const client = new DynamoDBClient({ endpoint: runtime.info.endpoints.dynamodb, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });

const item = (orderId: string) => ({
  orderId: { S: orderId },
  customerEmail: { S: 'bench@example.com' },
  orderAmount: { N: '150' },
  orderStatus: { S: 'pending' },
  orderDate: { S: new Date().toISOString() },
});

async function putMany(table: string, count: number, onPut?: (id: string) => void): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        next++;
        const id = `bench-${randomUUID()}`;
        await client.send(new PutItemCommand({ TableName: table, Item: item(id) }));
        onPut?.(id);
      }
    }),
  );
  return count / ((performance.now() - t0) / 1000);
}

const processed = () => {
  const points = runtime.metrics.statistic(
    {
      namespace: METRICS_NAMESPACE,
      metricName: PROCESSOR_METRICS.recordsProcessed.name,
      dimensions: [
        { Name: 'Pipe', Value: 'standard' },
        { Name: 'service', Value: 'orderflow' },
      ],
    },
    'Sum',
    3600,
    0,
    Date.now() + 3600_000,
  );
  return [...points.values()].reduce((a, b) => a + b, 0);
};

// (1) Raw PutItem rate: same item shape, a table with the same key schema and stream, nothing reading it.
const rawTable = 'BenchRawPutItem';
await client.send(
  new CreateTableCommand({
    TableName: rawTable,
    KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  }),
);
const rawPutsPerSecond = await putMany(rawTable, 2000);

// Pipeline: write ORDERS orders as fast as raw, then wait until the standard processor has processed them all.
const t0 = performance.now();
await putMany(runtime.info.resources.ordersTable, ORDERS);
while (processed() < ORDERS && performance.now() - t0 < 300_000) await new Promise((r) => setTimeout(r, 50));
const pipelineSeconds = (performance.now() - t0) / 1000;
const pipelineOrdersPerSecond = processed() / pipelineSeconds;
global.gc?.();
const rssMb = process.memoryUsage().rss / 1024 / 1024;

// (2) Latency at 100 orders/s for 10 s.
measuringLatency = true;
const base = processed();
for (let i = 0; i < 1000; i++) {
  const tick = performance.now();
  const id = `lat-${i}-${randomUUID()}`;
  putTimes.set(id, performance.now());
  void client.send(new PutItemCommand({ TableName: runtime.info.resources.ordersTable, Item: item(id) }));
  const wait = 10 - (performance.now() - tick);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
while (processed() < base + 1000 && latencies.length < 1000) await new Promise((r) => setTimeout(r, 50));
latencies.sort((a, b) => a - b);
const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? Number.NaN);

client.destroy();
await runtime.stop();
rmSync(stateDir, { recursive: true, force: true });

const ratio = pipelineOrdersPerSecond / rawPutsPerSecond;
console.log(
  JSON.stringify(
    {
      benchmark: 'local runtime: table → pipes → handlers',
      results: {
        rawPutItemPerSecond: Math.round(rawPutsPerSecond),
        pipelineOrdersPerSecond: Math.round(pipelineOrdersPerSecond),
        throughputRatio: Number(ratio.toFixed(3)),
        orders: ORDERS,
        latencyAt100PerSecondMs: { p50: pct(50), p99: pct(99), samples: latencies.length },
        rssMbAfterOrders: Math.round(rssMb),
        startupMs: Math.round(startupMs),
      },
      targets: {
        throughputRatio: { target: '>= 0.9', met: ratio >= 0.9 },
        latencyP50: { target: '<= 50 ms', met: pct(50) <= 50 },
        latencyP99: { target: '<= 250 ms', met: pct(99) <= 250 },
        rss: { target: '<= 300 MB', met: rssMb <= 300 },
      },
      notes:
        'Latency is PutItem completion to the pipe invoking the processor, with the template settings (standard pipe: BatchSize 10, MaximumBatchingWindowInSeconds 1, ParallelizationFactor 2).',
      machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30) },
      reproduce: 'npm run bench -w local',
    },
    null,
    2,
  ),
);
