import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { PipeSourceSettings } from '@orderflow/pipeline/facts';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import type { PutMetric } from '../src/cloudwatch/metric-store.ts';
import { MetricStore } from '../src/cloudwatch/metric-store.ts';
import { CheckpointStore } from '../src/pipes/checkpoints.ts';
import { PipeEmulator, type TargetOutcome } from '../src/pipes/pipe-emulator.ts';
import { StreamsApi } from '../src/pipes/streams-api.ts';
import { type LocalRuntime, type LocalRuntimeOptions, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { type DynamoDbLocal, LOCAL_CREDENTIALS, startDynamoDbLocal } from '../src/services/dynamodb-local.ts';

export interface TestTable {
  readonly name: string;
  readonly streamArn: string;
  put(orderId: string, attributes?: Record<string, string | number>): Promise<void>;
}

export class DynamoFixture {
  private constructor(
    readonly local: DynamoDbLocal,
    readonly client: DynamoDBClient,
    readonly streams: StreamsApi,
  ) {}

  static async start(): Promise<DynamoFixture> {
    const local = await startDynamoDbLocal();
    const client = new DynamoDBClient({
      endpoint: local.endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    return new DynamoFixture(local, client, new StreamsApi(local.endpoint));
  }

  /** A fresh `orderId`-keyed table with a NEW_AND_OLD_IMAGES stream. */
  async table(): Promise<TestTable> {
    const name = `t${randomUUID().slice(0, 8)}`;
    const created = await this.client.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    const streamArn = created.TableDescription?.LatestStreamArn;
    if (!streamArn) throw new Error('table has no stream');
    const client = this.client;
    return {
      name,
      streamArn,
      async put(orderId, attributes = {}) {
        const item: Record<string, { S: string } | { N: string }> = { orderId: { S: orderId } };
        for (const [key, value] of Object.entries(attributes))
          item[key] = typeof value === 'number' ? { N: String(value) } : { S: value };
        await client.send(new PutItemCommand({ TableName: name, Item: item }));
      },
    };
  }

  async stop(): Promise<void> {
    this.client.destroy();
    await this.local.stop();
  }
}

export const FAST_SETTINGS: PipeSourceSettings = {
  batchSize: 10,
  maximumBatchingWindowInSeconds: 0,
  maximumRetryAttempts: 2,
  maximumRecordAgeInSeconds: -1,
  onPartialBatchItemFailure: undefined,
  parallelizationFactor: 1,
  startingPosition: 'TRIM_HORIZON',
};

export interface PipeHarness {
  readonly emulator: PipeEmulator;
  readonly store: MetricStore;
  readonly dlq: string[];
  readonly checkpoints: CheckpointStore;
}

/** A pipe emulator over `table` with an in-process target and an in-memory DLQ. */
export function pipeOver(
  fixture: DynamoFixture,
  table: TestTable,
  target: (batch: StreamRecord[]) => Promise<TargetOutcome> | TargetOutcome,
  overrides: {
    settings?: Partial<PipeSourceSettings>;
    filters?: Record<string, unknown>[];
    checkpoints?: CheckpointStore;
    streams?: StreamsApi;
    timing?: { pollIntervalMs?: number; activePollMs?: number; shardDiscoveryMs?: number };
  } = {},
): PipeHarness {
  const store = new MetricStore();
  const dlq: string[] = [];
  const checkpoints = overrides.checkpoints ?? new CheckpointStore(undefined);
  const emulator = new PipeEmulator({
    name: `pipe-${table.name}`,
    metricsPipe: 'standard',
    streamArn: table.streamArn,
    streams: overrides.streams ?? fixture.streams,
    settings: { ...FAST_SETTINGS, ...overrides.settings },
    filters: overrides.filters ?? [],
    target: async (batch) => target(batch),
    deadLetter: async (body) => void dlq.push(body),
    checkpoints,
    publish: (metrics: PutMetric[]) => {
      for (const metric of metrics) store.put(metric);
    },
    region: 'us-east-1',
    account: '000000000000',
    pollIntervalMs: 50,
    retryBaseDelayMs: 10,
    shardDiscoveryMs: 500,
    ...overrides.timing,
  });
  return { emulator, store, dlq, checkpoints };
}

export const ok: TargetOutcome = { kind: 'response', payload: null };

export const orderIdOf = (record: StreamRecord) => record.dynamodb.Keys.orderId?.S as string;

/** Sum of a local funnel or Pipes metric over all time. */
export function total(
  store: MetricStore,
  namespace: string,
  metricName: string,
  dimensions: Record<string, string>,
): number {
  const points = store.statistic(
    { namespace, metricName, dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })) },
    'Sum',
    3600,
    0,
    Date.now() + 3600_000,
  );
  return [...points.values()].reduce((a, b) => a + b, 0);
}

/**
 * A runtime of the synthesized template for one test file: `stack/cdk.out` built first if it is missing, a fresh
 * state directory (its name starting `prefix`); `stop()` stops the runtime and removes the directory.
 */
export async function startTemplateRuntime(
  prefix: string,
  options: Omit<LocalRuntimeOptions, 'stateDir'> = {},
): Promise<{ runtime: LocalRuntime; stateDir: string; stop(): Promise<void> }> {
  const templateDir = join(REPO_ROOT, 'stack/cdk.out');
  if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
    const synth = spawnSync('npm', ['run', 'build', '-w', 'stack'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`stack synth failed: ${synth.stderr}`);
  }
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  const runtime = await startLocalRuntime({ ...options, stateDir });
  return {
    runtime,
    stateDir,
    async stop() {
      await runtime.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
