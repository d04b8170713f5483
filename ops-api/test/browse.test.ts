import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { PipeKey } from '@orderflow/pipeline/facts';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { type AwsClients, createAwsClients } from '../src/clients.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import type { DlqMessageDetail, DlqsResponse, ListMessagesResponse } from '../src/schemas/index.ts';
import { TableStreamReadGate } from '../src/services/stream-gate.ts';
import { type Backends, startBackends } from './helpers/backends.ts';
import { aroundEachCall } from './helpers/sdk-calls.ts';

/**
 * Browsing must not disturb what it looks at: counts receive nothing, refreshes reuse one view of the queue (each
 * receive counts towards the three after which SQS leaves a message out of ApproximateAgeOfOldestMessage), and lists
 * never read the stream (the pipes are its two readers); the stream is read only for one message's detail, at most
 * one GetRecords a second per shard, backing off when throttled.
 */
let backends: Backends;
let clients: AwsClients;
let app: FastifyInstance;
let viewer: Record<string, string>;
/** AWS calls the API made, by command name, with when they were sent. */
let calls: { name: string; at: number }[] = [];
/** GetRecords calls to fail with this error before letting them through. */
let throttleNext: { count: number; name: string } = { count: 0, name: '' };
let seq = 0;

const order = (prefix: string) => {
  seq += 1;
  return {
    orderId: `${prefix}-${seq}`,
    customerEmail: `${prefix}-${seq}@example.com`,
    orderAmount: 250,
    orderStatus: 'pending',
    orderDate: '2026-11-24T10:00:00Z',
  };
};
const count = (name: string) => calls.filter((call) => call.name === name).length;
const get = async <T>(url: string): Promise<T> => {
  const answer = await app.inject({ method: 'GET', url, headers: viewer });
  expect(answer.statusCode, answer.body).toBe(200);
  return answer.json() as T;
};

/** The ids of a pipe's DLQ messages as one instance of the API lists them. */
async function messageIds(instance: FastifyInstance, pipe: PipeKey): Promise<string[]> {
  const answer = await instance.inject({ method: 'GET', url: `/api/dlqs/${pipe}/messages?limit=100`, headers: viewer });
  expect(answer.statusCode, answer.body).toBe(200);
  return (answer.json() as ListMessagesResponse).messages.map((message) => message.id);
}

/** Each message's ApproximateReceiveCount as SQS reports it to one receive of our own (which itself adds one). */
async function receiveCountsNow(): Promise<Map<string, number>> {
  const answer = await backends.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: backends.info.resources.pipes.standard.dlqUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  return new Map(
    (answer.Messages ?? []).map((message) => [
      message.MessageId ?? '',
      Number(message.Attributes?.ApproximateReceiveCount),
    ]),
  );
}

beforeAll(async () => {
  backends = await startBackends();
  // The default view interval: what production does.
  const config = configFromRuntimeInfo(backends.info, { rateLimitPerMinute: 1_000_000 });
  clients = createAwsClients(config);
  for (const client of [clients.sqs, clients.dynamodb, clients.streams, clients.cloudwatch]) {
    aroundEachCall(client as never, 'testCallRecorder', async (name, _input, send) => {
      calls.push({ name, at: Date.now() });
      if (name === 'GetRecords' && throttleNext.count > 0) {
        throttleNext.count--;
        throw Object.assign(new Error('Rate exceeded for shard'), {
          name: throttleNext.name,
          $metadata: { httpStatusCode: 400 },
        });
      }
      return send();
    });
  }
  app = await buildApp(config, { clients });
  viewer = { authorization: `Bearer ${backends.info.tokens.viewer}` };
}, 120_000);

afterAll(async () => {
  await app?.close();
  clients?.destroy();
  await backends?.stop();
});

beforeEach(() => {
  calls = [];
  throttleNext = { count: 0, name: '' };
});

describe('browsing a DLQ', () => {
  let journaled: string;
  let unjournaled: string;
  let records: StreamRecord[];

  it('counts from GetQueueAttributes and the oldest age from CloudWatch: GET /api/dlqs receives nothing', async () => {
    records = await backends.writeOrders([order('browse'), order('browse'), order('browse')]);
    await backends.journal('standard', records[0] as StreamRecord, { name: 'DownstreamError', message: 'refused' });
    await backends.sendDlqMessage('standard', [records[0] as StreamRecord]);
    await backends.sendDlqMessage('standard', records.slice(1));
    const dlqName = backends.info.resources.pipes.standard.dlqUrl.split('/').pop() as string;
    backends.cloudwatch.metrics.push({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: dlqName }],
      values: [
        { timestamp: new Date(Date.now() - 120_000), value: 30 },
        { timestamp: new Date(Date.now() - 60_000), value: 95 },
      ],
    });
    for (let i = 0; i < 5; i++) {
      const { dlqs } = await get<DlqsResponse>('/api/dlqs');
      expect(dlqs.find((dlq) => dlq.pipe === 'standard')).toMatchObject({
        visible: 2,
        inFlight: 0,
        delayed: 0,
        oldestMessageAgeSeconds: 95,
      });
      expect(dlqs.find((dlq) => dlq.pipe === 'premium')).toMatchObject({ visible: 0, oldestMessageAgeSeconds: null });
    }
    expect(count('ReceiveMessage')).toBe(0);
    expect(count('GetQueueAttributes')).toBe(10);
    // CloudWatch publishes SQS metrics once a minute: read once per pipe, not per request.
    expect(count('GetMetricData')).toBe(2);
  });

  it('serves refreshes from one view: each message is received once, however often the list and details are read', async () => {
    for (let i = 0; i < 6; i++) {
      const page = await get<ListMessagesResponse>('/api/dlqs/standard/messages?limit=100');
      expect(page.messages).toHaveLength(2);
      if (i === 0) {
        journaled = page.messages.find((m) => m.records.length === 1)?.id as string;
        unjournaled = page.messages.find((m) => m.records.length === 0)?.id as string;
      }
      await get<DlqsResponse>('/api/dlqs');
    }
    await get<DlqMessageDetail>(`/api/dlqs/standard/messages/${journaled}`);
    await get<DlqMessageDetail>(`/api/dlqs/standard/messages/${journaled}`);
    // One walk: one receive that found the two messages and one that found nothing.
    expect(count('ReceiveMessage')).toBeLessThanOrEqual(3);
    // 1 from the one view, 1 from this receive.
    expect(await receiveCountsNow()).toEqual(
      new Map([
        [journaled, 2],
        [unjournaled, 2],
      ]),
    );
  });

  it('never reads the stream to list: records come from the journal, and what it lacks is counted', async () => {
    const page = await get<ListMessagesResponse>('/api/dlqs/standard/messages?limit=100');
    await get<ListMessagesResponse>(`/api/dlqs/standard/messages?limit=100&q=${records[1]?.dynamodb.Keys.orderId?.S}`);
    expect(count('GetShardIterator') + count('GetRecords')).toBe(0);
    expect(page.messages.find((m) => m.id === journaled)).toMatchObject({
      records: [
        { orderId: records[0]?.dynamodb.Keys.orderId?.S, source: 'journal', error: { name: 'DownstreamError' } },
      ],
    });
    expect(page.messages.find((m) => m.id === unjournaled)).toMatchObject({ records: [], missingRecords: 2 });
    // A message whose records the journal has is opened without the stream, too.
    await get<DlqMessageDetail>(`/api/dlqs/standard/messages/${journaled}`);
    expect(count('GetShardIterator') + count('GetRecords')).toBe(0);
  });

  it("reads the stream for one message's detail when the journal lacks its records, backing off when throttled", async () => {
    throttleNext = { count: 2, name: 'LimitExceededException' };
    const detail = await get<DlqMessageDetail>(`/api/dlqs/standard/messages/${unjournaled}`);
    expect(detail.records.map((record) => [record.orderId, record.source])).toEqual(
      records.slice(1).map((record) => [record.dynamodb.Keys.orderId?.S, 'stream']),
    );
    expect(detail.missingRecords).toBeUndefined();
    const reads = calls.filter((call) => call.name === 'GetRecords').map((call) => call.at);
    expect(reads.length).toBeGreaterThanOrEqual(3);
    // At most one GetRecords a second on the shard, and after each throttling a longer wait: 1 s, then 2 s.
    const gaps = reads.slice(1).map((at, index) => at - (reads[index] as number));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(990);
    expect(gaps[1]).toBeGreaterThanOrEqual(1990);
    // Opened again: served from what was read (stream records never change), no new call.
    calls = [];
    await get<DlqMessageDetail>(`/api/dlqs/standard/messages/${unjournaled}`);
    expect(count('GetShardIterator') + count('GetRecords')).toBe(0);
  });

  it('still serves the same view seconds later, while the counts are unchanged', async () => {
    const first = await get<ListMessagesResponse>('/api/dlqs/standard/messages?limit=100');
    // The stream test above took seconds (its back-off); the view read in the second test is still the one served.
    expect(Date.now() - Date.parse(first.readAt)).toBeGreaterThan(2500);
    await get<DlqsResponse>('/api/dlqs');
    await get<ListMessagesResponse>('/api/dlqs/standard/messages?limit=5');
    expect(count('ReceiveMessage')).toBe(0);
    // 1 from the one view, 1 from the receive in the second test, 1 from this one.
    expect(await receiveCountsNow()).toEqual(
      new Map([
        [journaled, 3],
        [unjournaled, 3],
      ]),
    );
  });

  it('walks again once the minimum interval passed when its view missed a message another reader had hidden', async () => {
    // Another instance's walk (or a redrive's claim) hides a message while this instance walks: the counts include it
    // (in flight), the walk does not see it. Such a view must not be served for as long as the counts stay the same.
    const premiumDlq = backends.info.resources.pipes.premium.dlqUrl;
    const premiumRecords = await backends.writeOrders([order('hidden'), order('hidden')]);
    for (const record of premiumRecords) await backends.sendDlqMessage('premium', [record]);
    const hidden = await backends.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: premiumDlq, MaxNumberOfMessages: 1, VisibilityTimeout: 2 }),
    );
    const hiddenId = hidden.Messages?.[0]?.MessageId;
    expect(hiddenId).toBeDefined();
    const minIntervalMs = 300;
    const other = await buildApp(
      configFromRuntimeInfo(backends.info, { rateLimitPerMinute: 1_000_000, viewMinIntervalMs: minIntervalMs }),
      { clients },
    );
    try {
      const first = await messageIds(other, 'premium');
      expect(first).toHaveLength(1);
      expect(first).not.toContain(hiddenId);
      // The other reader's hold ends (2 s); the counts stay 2 all along: one visible and one in flight, then two visible.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const second = await messageIds(other, 'premium');
      expect(second).toHaveLength(2);
      expect(second).toContain(hiddenId);
    } finally {
      await other.close();
    }
  });

  it('shows a discard made through one instance in every other at once, even when another message arrived meanwhile', async () => {
    // In AWS each Lambda instance of the API keeps its own view; the counts cannot tell "one left, one arrived" from
    // "nothing happened".
    const operator = { authorization: `Bearer ${backends.info.tokens.operator}` };
    const other = await buildApp(configFromRuntimeInfo(backends.info, { rateLimitPerMinute: 1_000_000 }), { clients });
    try {
      const before = await messageIds(other, 'premium');
      expect(before.length).toBeGreaterThan(0);
      const [discarded] = before;
      const discard = await app.inject({
        method: 'DELETE',
        url: `/api/dlqs/premium/messages/${encodeURIComponent(discarded ?? '')}`,
        headers: operator,
        payload: { reason: 'browse test: a discard through another instance' },
      });
      expect(discard.statusCode, discard.body).toBe(200);
      const [arrived] = await backends.writeOrders([order('arrived')]);
      await backends.sendDlqMessage('premium', [arrived as StreamRecord]);
      // A page itself is shared by identical requests for a second (PAGE_TTL_MS).
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const after = await messageIds(other, 'premium');
      expect(after).not.toContain(discarded);
      expect(after).toHaveLength(before.length);
      expect(after.filter((id) => !before.includes(id))).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('spaces GetRecords a second apart per shard across instances, which share the gate in the jobs table', async () => {
    // Two processes' gates (in AWS two Lambda instances), each with callers of its own, on one shard.
    const gates = [0, 1].map(() => new TableStreamReadGate(backends.dynamodb, backends.info.resources.jobsTable));
    const shard = `arn:aws:dynamodb:ddblocal:000000000000:table/OrdersTable/stream/x shardId-${Date.now()}`;
    const granted: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async (caller) => {
        await gates[caller % 2]?.acquire(shard);
        granted.push(Date.now());
      }),
    );
    granted.sort((a, b) => a - b);
    const gaps = granted.slice(1).map((at, index) => at - (granted[index] as number));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(990);
    // Another shard is not held back by this one.
    const started = Date.now();
    await gates[0]?.acquire(`${shard}-other`);
    expect(Date.now() - started).toBeLessThan(900);
  });
});
