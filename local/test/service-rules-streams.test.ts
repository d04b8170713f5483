/**
 * AWS's service rules the local runtime follows (docs/ARCHITECTURE.md, "AWS service rules the local runtime follows"):
 * DynamoDB Streams throttles a third reader of a shard with LimitExceededException.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBStreamsClient, GetRecordsCommand } from '@aws-sdk/client-dynamodb-streams';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PutMetric } from '../src/cloudwatch/metric-store.ts';
import { DenialLog } from '../src/gateway/denials.ts';
import { Enforcer } from '../src/gateway/enforcer.ts';
import { dynamoDbInspector } from '../src/gateway/listeners.ts';
import { PrincipalDirectory } from '../src/gateway/principals.ts';
import { type GatewayListener, startGatewayListener } from '../src/gateway/proxy.ts';
import {
  describeReader,
  MAX_READERS,
  READER_WINDOW_MS,
  StreamReaders,
  shardOfIterator,
  THIRD_READER_BACKOFF_MS,
} from '../src/gateway/stream-readers.ts';
import { CheckpointStore } from '../src/pipes/checkpoints.ts';
import { PipeEmulator, type TargetOutcome } from '../src/pipes/pipe-emulator.ts';
import { StreamsApi } from '../src/pipes/streams-api.ts';
import { freePort } from '../src/services/ports.ts';
import { fakeAuthorizer } from './fixtures/fake-authorizer.ts';
import { DynamoFixture, FAST_SETTINGS, ok, orderIdOf, type TestTable } from './helpers.ts';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const role = (logicalId: string) => ({
  logicalId,
  roleArn: `arn:aws:iam::${ACCOUNT}:role/${logicalId}`,
  sessionName: logicalId,
});
const principals = new PrincipalDirectory([role('StandardPipeRole'), role('PremiumPipeRole'), role('OpsApiRole')]);
const everyStreamCall = [{ action: 'dynamodb:*', resource: '*' }];
const authorizer = fakeAuthorizer({
  StandardPipeRole: everyStreamCall,
  PremiumPipeRole: everyStreamCall,
  OpsApiRole: everyStreamCall,
});
const denials = new DenialLog(undefined);
const streamReaders = new StreamReaders((key) => describeReader(principals.principalOf(key), key));

let fixture: DynamoFixture;
let gateway: GatewayListener;
const keyOf = (logicalId: string) => principals.role(logicalId).credentials;

beforeAll(async () => {
  fixture = await DynamoFixture.start();
  gateway = await startGatewayListener(await freePort(), {
    what: 'DynamoDB',
    backendPort: fixture.local.port,
    inspect: dynamoDbInspector({
      enforcer: new Enforcer(authorizer, principals, denials),
      scope: { region: REGION, account: ACCOUNT },
      publish: () => undefined,
      writeMetric: { namespace: 'AWS/DynamoDB', metricName: 'ConsumedWriteCapacityUnits' },
      streamReaders,
    }),
  });
}, 120_000);
afterAll(async () => {
  await gateway?.stop();
  await fixture?.stop();
  denials.close();
});

interface Harness {
  readonly emulator: PipeEmulator;
  readonly delivered: string[];
  readonly published: PutMetric[];
  readonly streams: StreamsApi;
}

/** A pipe over `table` reading through `streams`, recording what it delivers and every metric it publishes. */
function pipe(
  table: TestTable,
  streams: StreamsApi,
  target: (batch: StreamRecord[]) => Promise<TargetOutcome> | TargetOutcome = () => ok,
): Harness {
  const delivered: string[] = [];
  const published: PutMetric[] = [];
  const emulator = new PipeEmulator({
    name: `pipe-${randomUUID().slice(0, 8)}`,
    metricsPipe: 'standard',
    streamArn: table.streamArn,
    streams,
    settings: FAST_SETTINGS,
    filters: [],
    target: async (batch) => {
      const outcome = await target(batch);
      if (outcome.kind === 'response') delivered.push(...batch.map(orderIdOf));
      return outcome;
    },
    checkpoints: new CheckpointStore(undefined),
    publish: (metrics) => void published.push(...metrics),
    region: REGION,
    account: ACCOUNT,
    pollIntervalMs: 50,
    retryBaseDelayMs: 10,
    shardDiscoveryMs: 500,
  });
  return { emulator, delivered, published, streams };
}

describe('DynamoDB Streams: at most two readers per shard', () => {
  it('keeps a reader polling 4 times a second, throttles a third until it backs off, and frees a quiet place', () => {
    let now = 0;
    const readers = new StreamReaders(undefined, () => now);
    const shard = 'stream/shard-1';
    // Two pipes polling every 250 ms for ten seconds stay the shard's two readers.
    for (; now <= 10_000; now += 250) {
      expect(readers.admit('pipe-a', shard).throttled).toBe(false);
      expect(readers.admit('pipe-b', shard).throttled).toBe(false);
    }
    expect(readers.readersOf(shard).sort()).toEqual(['pipe-a', 'pipe-b']);
    expect(MAX_READERS).toBe(2);
    // A third reader is throttled, also when it retries at once; after backing off, one call is served.
    expect(readers.admit('ops', shard)).toEqual({ throttled: true, readers: ['pipe-a', 'pipe-b'] });
    now += THIRD_READER_BACKOFF_MS - 1;
    expect(readers.admit('ops', shard).throttled).toBe(true);
    now += THIRD_READER_BACKOFF_MS;
    expect(readers.admit('ops', shard).throttled).toBe(false);
    // Served without becoming a reader: its next call, straight after, is throttled again.
    expect(readers.admit('ops', shard).throttled).toBe(true);
    expect(readers.readersOf(shard).sort()).toEqual(['pipe-a', 'pipe-b']);
    // Another shard has places of its own.
    expect(readers.admit('ops', 'stream/shard-2').throttled).toBe(false);
    // pipe-b stops reading while pipe-a reads on: once pipe-b's last read is READER_WINDOW_MS old, its place goes to
    // the next reader, and pipe-b coming back is the third.
    for (const end = now + READER_WINDOW_MS + 250; now <= end; now += 250)
      expect(readers.admit('pipe-a', shard).throttled).toBe(false);
    expect(readers.admit('ops', shard).throttled).toBe(false);
    expect(readers.readersOf(shard).sort()).toEqual(['ops', 'pipe-a']);
    expect(readers.admit('pipe-b', shard).throttled).toBe(true);
    expect(readers.throttledCalls).toBe(4);
  });

  it('reads the shard from DynamoDB Local’s iterator', () => {
    const stream = 'arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/2026-12-07T06:52:47.032';
    const inner = Buffer.from('shardId-00000001796626367088-586db0e1|000000000000000000001|0000001').toString('base64');
    expect(shardOfIterator(`${stream}|001|${inner}`)).toBe(`${stream}/shardId-00000001796626367088-586db0e1`);
    expect(shardOfIterator(`${stream}|001|not-base64-of-a-shard`)).toBe(stream);
    expect(shardOfIterator('opaque')).toBe('opaque');
  });

  it('answers a third reader’s GetRecords with LimitExceededException through the gateway, while two pipes read on', async () => {
    const table = await fixture.table();
    const standard = pipe(table, new StreamsApi(gateway.endpoint, REGION, keyOf('StandardPipeRole').accessKeyId));
    const premium = pipe(table, new StreamsApi(gateway.endpoint, REGION, keyOf('PremiumPipeRole').accessKeyId));
    await Promise.all([standard.emulator.start(), premium.emulator.start()]);
    try {
      await table.put('reader-1');
      await until(
        () => standard.delivered.includes('reader-1') && premium.delivered.includes('reader-1'),
        'both pipes to deliver reader-1',
      );
      // The third reader: the ops API's role, reading for a redrive.
      const ops = new StreamsApi(gateway.endpoint, REGION, keyOf('OpsApiRole').accessKeyId);
      const [shard] = await ops.listShards(table.streamArn);
      const iterator = (await ops.shardIterator(table.streamArn, shard?.ShardId ?? '', 'TRIM_HORIZON')) ?? '';
      const shardKey = shardOfIterator(iterator);
      await until(() => streamReaders.readersOf(shardKey).length === 2, 'the two pipes to be the shard’s readers');
      expect(streamReaders.readersOf(shardKey).sort()).toEqual(
        [keyOf('StandardPipeRole').accessKeyId, keyOf('PremiumPipeRole').accessKeyId].sort(),
      );

      // What an SDK without retries sees: the service's error, by name, HTTP 400.
      const sdk = new DynamoDBStreamsClient({
        region: REGION,
        endpoint: gateway.endpoint,
        credentials: keyOf('OpsApiRole'),
        maxAttempts: 1,
      });
      const refused = await sdk.send(new GetRecordsCommand({ ShardIterator: iterator })).catch((e: unknown) => e);
      sdk.destroy();
      expect(refused).toMatchObject({ name: 'LimitExceededException', $metadata: { httpStatusCode: 400 } });
      expect((refused as Error).message).toContain('More than 2 processes are reading from the same streams shard');
      expect((refused as Error).message).toContain('assumed-role/StandardPipeRole/StandardPipeRole');
      // On the wire, retried at once (no back-off): throttled again, `__type` as DynamoDB Streams sends it.
      const raw = await fetch(gateway.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDBStreams_20120810.GetRecords',
          authorization: `AWS4-HMAC-SHA256 Credential=${keyOf('OpsApiRole').accessKeyId}/20260101/${REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: JSON.stringify({ ShardIterator: iterator }),
      });
      expect(raw.status).toBe(400);
      expect(await raw.json()).toMatchObject({ __type: 'com.amazonaws.dynamodb.v20120810#LimitExceededException' });

      // A reader that backs off is served: the local client retries the throttled read after a second.
      const page = await ops.records(iterator);
      expect(page.records.map((r) => r.dynamodb.Keys.orderId?.S)).toEqual(['reader-1']);
      // One back-off is enough (it is throttled once more only when it comes within half a second of the last refusal).
      expect(ops.throttledCalls).toBeLessThanOrEqual(1);

      // The pipes were never throttled and go on delivering.
      await table.put('reader-2');
      await until(
        () => standard.delivered.includes('reader-2') && premium.delivered.includes('reader-2'),
        'both pipes to deliver reader-2',
      );
      expect([standard.streams.throttledCalls, premium.streams.throttledCalls]).toEqual([0, 0]);
    } finally {
      await Promise.all([standard.emulator.stop(), premium.emulator.stop()]);
    }
  });
});
