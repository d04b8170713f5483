import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { PIPES } from '@orderflow/pipeline/facts';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';

/**
 * `--data-dir` across a full stop and start of the runtime (DynamoDB Local, fauxqs, pipes, workers): the orders are
 * still in the table, and each pipe resumes after its checkpoint, so the standard processor receives every record
 * exactly once over both runs (a clean stop has nothing in flight to redeliver). Checkpoints are keyed by the stream's
 * AWS-shaped ARN; a data dir of an older runtime, keyed by DynamoDB Local's form (`ddblocal`), resumes as well.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'orderflow-data-'));
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-state-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
});

/** Starts the runtime on the data dir; `delivered` collects the orderIds of every record the standard processor gets. */
async function start(delivered: string[]): Promise<{ runtime: LocalRuntime; dynamo: DynamoDBClient }> {
  const runtime = await startLocalRuntime({
    dataDir,
    stateDir,
    writeRuntimeFile: false,
    pipeTiming: { pollIntervalMs: 50, retryBaseDelayMs: 20 },
    onInvoke: (functionName, event) => {
      if (functionName !== PIPES.standard.functionId || !Array.isArray(event)) return;
      for (const record of event as StreamRecord[]) delivered.push(record.dynamodb.Keys.orderId?.S ?? '?');
    },
  });
  const dynamo = new DynamoDBClient({
    region: runtime.info.region,
    credentials: LOCAL_CREDENTIALS,
    endpoint: runtime.info.endpoints.dynamodb,
  });
  return { runtime, dynamo };
}

async function writeOrders(dynamo: DynamoDBClient, table: string, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
  for (const orderId of ids)
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          orderId: { S: orderId },
          customerEmail: { S: 'ada@example.com' },
          orderAmount: { N: '150' },
          orderStatus: { S: 'pending' },
          orderDate: { S: new Date().toISOString() },
        },
      }),
    );
  return ids;
}

describe('--data-dir keeps data and pipe checkpoints across a full stop and start', () => {
  it('resumes after the checkpoint: nothing lost, nothing delivered twice', async () => {
    const first: string[] = [];
    const before = await start(first);
    const table = before.runtime.info.resources.ordersTable;
    const firstIds = await writeOrders(before.dynamo, table, 'before', 15);
    // Stop as soon as the last batch is handed to the processor: a clean stop lets it finish and checkpoints it.
    await until(() => first.length >= firstIds.length, 'the first run to deliver its orders', 30_000);
    before.dynamo.destroy();
    await before.runtime.stop();
    expect([...first].sort()).toEqual(firstIds);
    expect(readdirSync(join(dataDir, 'checkpoints')).sort()).toEqual(
      [`${PIPES.premium.key}`, `${PIPES.standard.key}`].map((key) => `orderflow-${key}.json`),
    );
    const standardFile = join(dataDir, 'checkpoints', `orderflow-${PIPES.standard.key}.json`);
    const streamKeys = () => Object.keys(JSON.parse(readFileSync(standardFile, 'utf8')) as object);
    const awsShaped = new RegExp(`^arn:aws:dynamodb:${before.runtime.info.region}:000000000000:table/${table}/stream/`);
    expect(streamKeys()).toEqual([expect.stringMatching(awsShaped)]);
    // As an older runtime left it: the standard pipe's checkpoints keyed by DynamoDB Local's form of the same ARN.
    const [streamArn] = streamKeys();
    writeFileSync(
      standardFile,
      readFileSync(standardFile, 'utf8').replaceAll(
        streamArn as string,
        (streamArn as string).replace(`:${before.runtime.info.region}:`, ':ddblocal:'),
      ),
    );
    expect(streamKeys()).toEqual([expect.stringContaining(':ddblocal:')]);

    const second: string[] = [];
    const after = await start(second);
    try {
      const scanned = await after.dynamo.send(new ScanCommand({ TableName: table, Select: 'COUNT' }));
      expect(scanned.Count).toBe(firstIds.length);
      const secondIds = await writeOrders(after.dynamo, table, 'after', 15);
      // Had the checkpoint been lost, the first run's records would be read again from the start of the stream, ahead
      // of these: each lane delivers in stream order (and both of the standard pipe's lanes carry some of these keys),
      // so they would arrive before the second run's records do.
      await until(() => secondIds.every((id) => second.includes(id)), 'the second run to deliver its orders', 30_000);
      expect([...second].sort()).toEqual(secondIds);
    } finally {
      after.dynamo.destroy();
      await after.runtime.stop();
    }
    // The older key was read as the stream's AWS-shaped ARN, and written back so.
    expect(streamKeys()).toEqual([streamArn]);
  });
});
