import type { StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { type AwsClients, createAwsClients } from '../src/clients.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import { lambdaHandler } from '../src/lambda-handler.ts';
import { IMPACT_MAX_LIMIT, type ImpactJob } from '../src/schemas/index.ts';
import { IMPACT_RUNS_PER_MINUTE } from '../src/services/impact.ts';
import { STREAM_READ_INTERVAL_MS } from '../src/services/stream-gate.ts';
import { type Backends, startBackends } from './helpers/backends.ts';
import { aroundEachCall } from './helpers/sdk-calls.ts';

/**
 * Rule impact previews against the real local backends (DynamoDB Local and its stream, the SQS emulator): exact counts
 * on a known history, from the stream and from the dead letters, the changed records explained, bad input refused,
 * and the stream read as a third reader may read it: through the shared gate, at most one GetRecords a second per
 * shard, backing off when throttled, and stopping when cancelled.
 */
let backends: Backends;
let clients: AwsClients;
let app: FastifyInstance;
let config: ReturnType<typeof configFromRuntimeInfo>;
let operator: Record<string, string>;
let viewer: Record<string, string>;

/** Every GetRecords the API sent: the shard it read (tracked through the iterators) and when it was sent. */
let reads: { shard: string; at: number }[] = [];
/** AWS calls by command name. */
let calls = new Map<string, number>();
/** Make the next GetRecords calls fail as DynamoDB Streams does when a shard has too many readers. */
let throttleNext = 0;
/** While set, a GetRecords waits for it before going out (a test holds a scan mid-way). */
let holdReads: Promise<void> | undefined;
const iteratorShard = new Map<string, string>();

/** The candidate: the standard rule with delivered orders too, and a threshold of 200 instead of 100. */
const CANDIDATE = {
  dynamodb: {
    NewImage: {
      orderStatus: { S: ['pending', 'shipped', 'delivered'] },
      orderAmount: { N: [{ numeric: ['>', 200] }] },
      customerEmail: { S: [{ 'anything-but': { wildcard: '*test.com*' } }] },
    },
  },
};

/**
 * The history: seven orders, then one changed. Current (standard) rule: pending or shipped, over 100, not test.com.
 *   o1 pending 150   current yes, candidate no  (150 is not > 200)       changed
 *   o2 pending 250   yes, yes
 *   o3 shipped 90    no, no
 *   o4 delivered 500 no, yes                    (delivered)              changed
 *   o5 pending 300 at test.com: no, no
 *   o6 shipped 180   yes, no                                             changed
 *   o7 pending 1000  yes, yes
 *   o3 shipped 120 (MODIFY): yes, no                                     changed
 * So 8 records: current accepts 5, the candidate 3, and 4 change.
 */
const HISTORY = [
  { orderId: 'o1', orderStatus: 'pending', orderAmount: 150, customerEmail: 'a@example.com' },
  { orderId: 'o2', orderStatus: 'pending', orderAmount: 250, customerEmail: 'b@example.com' },
  { orderId: 'o3', orderStatus: 'shipped', orderAmount: 90, customerEmail: 'c@example.com' },
  { orderId: 'o4', orderStatus: 'delivered', orderAmount: 500, customerEmail: 'd@example.com' },
  { orderId: 'o5', orderStatus: 'pending', orderAmount: 300, customerEmail: 'e@test.com' },
  { orderId: 'o6', orderStatus: 'shipped', orderAmount: 180, customerEmail: 'f@example.com' },
  { orderId: 'o7', orderStatus: 'pending', orderAmount: 1000, customerEmail: 'g@example.com' },
  { orderId: 'o3', orderStatus: 'shipped', orderAmount: 120, customerEmail: 'c@example.com' },
].map((order) => ({ ...order, orderDate: '2026-11-24T10:00:00Z' }));
let records: StreamRecord[] = [];

function track(client: Parameters<typeof aroundEachCall>[0]): void {
  aroundEachCall(client, 'impactTestCalls', async (name, input, send) => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
    if (name !== 'GetRecords' && name !== 'GetShardIterator') return send();
    if (name === 'GetShardIterator') {
      const answer = (await send()) as { output: { ShardIterator?: string } };
      if (answer.output.ShardIterator) iteratorShard.set(answer.output.ShardIterator, String(input.ShardId));
      return answer;
    }
    const shard = iteratorShard.get(String(input.ShardIterator)) ?? 'unknown';
    reads.push({ shard, at: Date.now() });
    if (holdReads) await holdReads;
    if (throttleNext > 0) {
      throttleNext -= 1;
      throw Object.assign(new Error('Too many readers of this shard'), {
        name: 'LimitExceededException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const answer = (await send()) as { output: { NextShardIterator?: string } };
    if (answer.output.NextShardIterator) iteratorShard.set(answer.output.NextShardIterator, shard);
    return answer;
  });
}

async function start(payload: Record<string, unknown>, headers = operator): Promise<string> {
  const answer = await app.inject({ method: 'POST', url: '/api/filters/impact', headers, payload });
  expect(answer.statusCode, answer.body).toBe(202);
  return answer.json().jobId as string;
}

function finished(jobId: string): Promise<ImpactJob> {
  return until(
    async () => {
      const job = (await app.inject({ method: 'GET', url: `/api/filters/impact/${jobId}`, headers: operator })).json();
      return (job as ImpactJob).status !== 'running' && (job as ImpactJob);
    },
    `impact preview ${jobId} to end`,
    { timeoutMs: 60_000, intervalMs: 25 },
  );
}

/** The gaps between consecutive GetRecords calls on each shard, in ms. */
function gapsPerShard(): number[] {
  const byShard = new Map<string, number[]>();
  for (const read of reads) byShard.set(read.shard, [...(byShard.get(read.shard) ?? []), read.at]);
  return [...byShard.values()].flatMap((times) => times.slice(1).map((at, i) => at - (times[i] as number)));
}

beforeAll(async () => {
  backends = await startBackends();
  config = configFromRuntimeInfo(backends.info, {
    rateLimitPerMinute: 1_000_000,
    viewMinIntervalMs: 0,
    impactRunsPerMinute: 1_000_000,
  });
  clients = createAwsClients(config);
  for (const client of [clients.sqs, clients.dynamodb, clients.streams]) track(client as never);
  app = await buildApp(config, { clients });
  operator = { authorization: `Bearer ${backends.info.tokens.operator}` };
  viewer = { authorization: `Bearer ${backends.info.tokens.viewer}` };
  records = await backends.writeOrders(HISTORY);
  expect(records).toHaveLength(HISTORY.length);
}, 120_000);

afterAll(async () => {
  await app?.close();
  clients?.destroy();
  await backends?.stop();
});

beforeEach(() => {
  reads = [];
  calls = new Map();
  throttleNext = 0;
  holdReads = undefined;
});

describe('POST /api/filters/impact, source stream', () => {
  it('counts exactly what each rule accepts over the retained records, and explains each changed record', async () => {
    const answer = await app.inject({
      method: 'POST',
      url: '/api/filters/impact',
      headers: operator,
      payload: { pipe: 'standard', rule: CANDIDATE, source: 'stream', limit: 1000 },
    });
    expect(answer.statusCode, answer.body).toBe(202);
    // The derived pipe filter, as the pipe would get it: numbers and the wildcard exclusion weakened to presence.
    expect(answer.json().pipeFilter).toEqual({
      dynamodb: {
        NewImage: {
          orderStatus: { S: ['pending', 'shipped', 'delivered'] },
          orderAmount: { N: [{ exists: true }] },
          customerEmail: { S: [{ exists: true }] },
        },
      },
    });
    const job = await finished(answer.json().jobId);
    expect(job).toMatchObject({
      status: 'succeeded',
      complete: true,
      note: null,
      evaluated: 8,
      current: 5,
      candidate: 3,
      changedCount: 4,
      progress: { unit: 'shards', done: 1, total: 1 },
    });
    const byOrder = Object.fromEntries(
      job.changed.map((sample) => [`${sample.orderId} ${sample.eventName}`, sample] as const),
    );
    expect(Object.keys(byOrder).sort()).toEqual(['o1 INSERT', 'o3 MODIFY', 'o4 INSERT', 'o6 INSERT']);
    expect(byOrder['o1 INSERT']).toMatchObject({
      eventId: records[0]?.eventID,
      newImage: { orderId: 'o1', orderAmount: 150 },
      current: { accepted: true, failingClause: null, failures: [] },
      candidate: {
        accepted: false,
        failures: [{ path: 'dynamodb.NewImage.orderAmount.N', actual: 150 }],
      },
      explanation:
        'The current rule accepts the record and the candidate rejects it: dynamodb.NewImage.orderAmount.N is 150, which is not > 200.',
    });
    expect(byOrder['o4 INSERT']).toMatchObject({
      current: {
        accepted: false,
        failingClause: { id: 'status-pending-or-shipped' },
        failures: [{ path: 'dynamodb.NewImage.orderStatus.S', actual: 'delivered' }],
      },
      candidate: { accepted: true, failures: [] },
    });
    expect(byOrder['o4 INSERT']?.explanation).toMatch(
      /^The candidate accepts the record and the current rule rejects it at clause 'status-pending-or-shipped' \(new status is pending or shipped\): dynamodb\.NewImage\.orderStatus\.S is "delivered"/,
    );
    expect(byOrder['o3 MODIFY']).toMatchObject({ oldImage: { orderAmount: 90 }, newImage: { orderAmount: 120 } });
    // The shard was read from TRIM_HORIZON to its end: one page of records, then empty pages, one a second at most.
    expect(calls.get('DescribeTable')).toBe(1);
    expect(calls.get('DescribeStream')).toBe(1);
    expect(reads.length).toBeGreaterThanOrEqual(2);
    for (const gap of gapsPerShard()) expect(gap).toBeGreaterThanOrEqual(STREAM_READ_INTERVAL_MS - 5);
  }, 30_000);

  it('the same rule changes nothing; a limit stops the scan at exactly that many records', async () => {
    const same = await finished(
      await start({
        pipe: 'premium',
        rule: {
          eventName: ['MODIFY'],
          dynamodb: {
            OldImage: { orderStatus: { S: ['pending'] } },
            NewImage: { orderStatus: { S: ['shipped'] }, orderAmount: { N: [{ numeric: ['>', 1000] }] } },
          },
        },
        source: 'stream',
        limit: 1000,
      }),
    );
    expect(same).toMatchObject({ evaluated: 8, current: 0, candidate: 0, changedCount: 0, changed: [] });

    reads = [];
    const limited = await finished(await start({ pipe: 'standard', rule: CANDIDATE, source: 'stream', limit: 3 }));
    // o1, o2, o3: current accepts o1 and o2, the candidate o2; o1 changes.
    expect(limited).toMatchObject({
      status: 'succeeded',
      complete: false,
      evaluated: 3,
      current: 2,
      candidate: 1,
      changedCount: 1,
    });
    expect(limited.note).toMatch(/limit of 3 records was reached/);
    expect(reads).toHaveLength(1);
  }, 30_000);

  it('two scans at once share each shard’s read slot: never two GetRecords on a shard within a second', async () => {
    const [a, b] = await Promise.all([
      start({ pipe: 'standard', rule: CANDIDATE, source: 'stream', limit: 1000 }),
      start(
        {
          pipe: 'premium',
          rule: { dynamodb: { NewImage: { orderStatus: { S: ['shipped'] } } } },
          source: 'stream',
          limit: 1000,
        },
        viewer,
      ),
    ]);
    const [jobA, jobB] = await Promise.all([finished(a), finished(b)]);
    expect(jobA).toMatchObject({ evaluated: 8, current: 5, candidate: 3 });
    // Premium's rule accepts none of these; shipped new images: o3, o6, and o3's MODIFY.
    expect(jobB).toMatchObject({ evaluated: 8, current: 0, candidate: 3, changedCount: 3 });
    const shards = new Set(reads.map((read) => read.shard));
    expect(shards.size).toBe(1);
    expect(reads.length).toBeGreaterThanOrEqual(4);
    for (const gap of gapsPerShard()) expect(gap).toBeGreaterThanOrEqual(STREAM_READ_INTERVAL_MS - 5);
  }, 60_000);

  it('a throttled read (LimitExceededException) backs the shard off and the scan goes on, counts unchanged', async () => {
    throttleNext = 1;
    const job = await finished(await start({ pipe: 'standard', rule: CANDIDATE, source: 'stream', limit: 1000 }));
    expect(job).toMatchObject({ status: 'succeeded', complete: true, evaluated: 8, current: 5, candidate: 3 });
    expect(job.note).toMatch(/throttled 1 read/);
    // The throttled call, then the same page again a back-off later, then the rest.
    expect(reads.length).toBeGreaterThanOrEqual(3);
    for (const gap of gapsPerShard()) expect(gap).toBeGreaterThanOrEqual(STREAM_READ_INTERVAL_MS - 5);
  }, 30_000);

  it('cancel stops the scan between pages; the counts so far stay, marked incomplete', async () => {
    let release = () => {};
    holdReads = new Promise<void>((resolve) => {
      release = resolve;
    });
    const jobId = await start({ pipe: 'standard', rule: CANDIDATE, source: 'stream', limit: 1000 }, viewer);
    await until(() => reads.length === 1, 'the first GetRecords to be sent');
    // An operator may cancel anyone's preview (a viewer only their own, below).
    const cancel = await app.inject({ method: 'DELETE', url: `/api/filters/impact/${jobId}`, headers: operator });
    expect(cancel.statusCode, cancel.body).toBe(200);
    holdReads = undefined;
    release();
    const job = await finished(jobId);
    expect(job).toMatchObject({ status: 'cancelled', complete: false, evaluated: 8, current: 5, candidate: 3 });
    expect(job.note).toMatch(/^cancelled/);
    // The page in flight finished; no page after it.
    expect(reads).toHaveLength(1);
  }, 30_000);

  it('a viewer cannot cancel an operator’s preview', async () => {
    const jobId = await start({ pipe: 'standard', rule: CANDIDATE, source: 'stream', limit: 1 });
    const answer = await app.inject({ method: 'DELETE', url: `/api/filters/impact/${jobId}`, headers: viewer });
    expect(answer.statusCode).toBe(403);
    expect(answer.json().message).toMatch(/local-viewer may cancel only their own previews/);
    await finished(jobId);
  }, 30_000);
});

describe('on Lambda', () => {
  it('the POST answers 202 at once; the preview runs in an asynchronous invocation of the function itself', async () => {
    const SELF = 'orderflow-OpsApiFunction';
    const lambdaClients = createAwsClients(config);
    const invocations: { InvocationType: unknown; Payload: unknown }[] = [];
    aroundEachCall(lambdaClients.lambda as never, 'recordSelfInvocations', async (name, input, send) => {
      if (name !== 'Invoke' || input.FunctionName !== SELF) return send();
      invocations.push({
        InvocationType: input.InvocationType,
        Payload: JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array)),
      });
      return { output: { StatusCode: 202, $metadata: { httpStatusCode: 202 } }, response: {} };
    });
    track(lambdaClients.streams as never);
    const lambdaApp = await buildApp(
      { ...config, jobExecution: 'lambda-event', selfFunctionName: SELF },
      { clients: lambdaClients },
    );
    try {
      const answer = await lambdaApp.inject({
        method: 'POST',
        url: '/api/filters/impact',
        headers: viewer,
        payload: { pipe: 'standard', rule: CANDIDATE, source: 'stream', limit: 1000 },
      });
      expect(answer.statusCode, answer.body).toBe(202);
      const { jobId } = answer.json() as { jobId: string };
      expect(invocations).toEqual([{ InvocationType: 'Event', Payload: { orderflowImpactJob: { jobId } } }]);
      // Nothing was read in the request's invocation.
      expect(reads).toHaveLength(0);
      const handler = lambdaHandler(lambdaApp);
      const context = { awsRequestId: 'impact-test', getRemainingTimeInMillis: () => 900_000 };
      expect(await handler(invocations[0]?.Payload, context)).toEqual({ ran: true });
      const job = (
        await lambdaApp.inject({ method: 'GET', url: `/api/filters/impact/${jobId}`, headers: viewer })
      ).json() as ImpactJob;
      expect(job).toMatchObject({ status: 'succeeded', complete: true, evaluated: 8, current: 5, candidate: 3 });
      // Read back from the jobs table by another instance: the same job, rule and samples included.
      const stored = (await app.inject({ method: 'GET', url: `/api/filters/impact/${jobId}`, headers: viewer })).json();
      expect(stored).toEqual(job);
      // Lambda may deliver the event twice: a finished preview does not run again.
      const before = reads.length;
      expect(await handler(invocations[0]?.Payload, context)).toEqual({ ran: false });
      expect(reads).toHaveLength(before);
    } finally {
      await lambdaApp.close();
      lambdaClients.destroy();
    }
  }, 60_000);
});

describe('POST /api/filters/impact, source dead-letters', () => {
  it('evaluates the DLQ messages’ records (journal first, the stream for the rest), each message received once', async () => {
    const [o1, o2, , , , o6] = records as [StreamRecord, StreamRecord, ...StreamRecord[]];
    // o1 and o2 failed and were journaled; o6's batch failed before the handler ran (no journal entry).
    await backends.journal('standard', o1, { name: 'Error', message: 'payment service down' });
    await backends.journal('standard', o2, { name: 'Error', message: 'payment service down' });
    await backends.sendDlqMessage('standard', [o1, o2]);
    await backends.sendDlqMessage('standard', [o6 as StreamRecord]);
    await backends.sendRawDlqMessage('standard', '{"not":"a pipe dead letter"}');

    const job = await finished(
      await start({ pipe: 'standard', rule: CANDIDATE, source: 'dead-letters', limit: 1000 }, viewer),
    );
    // o1: yes/no, o2: yes/yes, o6: yes/no.
    expect(job).toMatchObject({
      status: 'succeeded',
      complete: false,
      evaluated: 3,
      current: 3,
      candidate: 1,
      changedCount: 2,
      progress: { unit: 'messages', done: 3, total: 3 },
    });
    expect(job.note).toMatch(/1 DLQ message\(s\) are not dead letters of this pipe/);
    expect(job.changed.map((sample) => sample.orderId).sort()).toEqual(['o1', 'o6']);
    expect(job.changed.find((sample) => sample.orderId === 'o6')?.candidate.failures[0]?.message).toBe(
      'dynamodb.NewImage.orderAmount.N is 180, which is not > 200',
    );
    // o6's records were read from the stream, through the gate; o1 and o2 came from the journal's text.
    expect(reads).toHaveLength(1);
    expect(calls.get('ReceiveMessage') ?? 0).toBeGreaterThan(0);

    // The queue is unchanged: a second preview uses the same view of it and receives no message again.
    calls = new Map();
    const again = await finished(await start({ pipe: 'standard', rule: CANDIDATE, source: 'dead-letters', limit: 2 }));
    expect(again).toMatchObject({ evaluated: 2, current: 2, candidate: 1, complete: false });
    expect(calls.get('ReceiveMessage') ?? 0).toBe(0);
  }, 60_000);
});

describe('bad input is a 400 naming what is wrong', () => {
  const post = (payload: unknown) =>
    app.inject({ method: 'POST', url: '/api/filters/impact', headers: operator, payload: payload as object });
  const valid = { pipe: 'standard', rule: CANDIDATE, source: 'stream', limit: 10 };

  it.each([
    [
      'an unknown pipe',
      { ...valid, pipe: 'gold' },
      /body\.pipe: unknown pipe "gold"; expected one of standard, premium/,
    ],
    ['an unknown source', { ...valid, source: 'kinesis' }, /body\.source: unknown source "kinesis"/],
    ['a limit of 0', { ...valid, limit: 0 }, /body\.limit: limit must be at least 1, got 0/],
    [
      'a limit over the maximum',
      { ...valid, limit: IMPACT_MAX_LIMIT + 1 },
      new RegExp(`body\\.limit: limit must be at most ${IMPACT_MAX_LIMIT}`),
    ],
    ['a missing rule', { pipe: 'standard', source: 'stream' }, /body\.rule: rule is required/],
    [
      'an invalid pattern (the engine’s message)',
      { ...valid, rule: { dynamodb: { NewImage: { orderAmount: { N: [{ numeric: ['>>', 1] }] } } } } },
      /^rule: Event pattern is not valid\. Reason: .* at \$\.dynamodb\.NewImage\.orderAmount\.N\[0\]\.numeric/,
    ],
    [
      'a rule that is not an object',
      { ...valid, rule: ['MODIFY'] },
      /^rule: Event pattern is not valid\. Reason: Filter is not an object/,
    ],
    [
      'a rule only on fields a pipe filter cannot use',
      { ...valid, rule: { eventName: ['MODIFY'] } },
      /^rule: the rule of pipe 'standard' has no constraint EventBridge Pipes can evaluate.*eventName is a field the Pipes poller adds/,
    ],
  ])('%s', async (_what, payload, message) => {
    const answer = await post(payload);
    expect(answer.statusCode, answer.body).toBe(400);
    expect(answer.json().message).toMatch(message);
  });

  it('an unknown job is a 404', async () => {
    const answer = await app.inject({
      method: 'GET',
      url: '/api/filters/impact/00000000-0000-0000-0000-000000000000',
      headers: operator,
    });
    expect(answer.statusCode).toBe(404);
  });
});

describe('rate limit', () => {
  it(`a principal may start ${IMPACT_RUNS_PER_MINUTE} previews a minute; the next is a 429`, async () => {
    // An app of its own, so that the previews started above do not count against this minute's budget.
    const { impactRunsPerMinute: _unlimited, ...defaults } = config;
    const fresh = await buildApp(defaults, { clients });
    try {
      const post = () =>
        fresh.inject({
          method: 'POST',
          url: '/api/filters/impact',
          headers: viewer,
          payload: { pipe: 'standard', rule: CANDIDATE, source: 'dead-letters', limit: 1 },
        });
      const started: string[] = [];
      for (let i = 0; i < IMPACT_RUNS_PER_MINUTE; i++) {
        const answer = await post();
        expect(answer.statusCode, answer.body).toBe(202);
        started.push(answer.json().jobId);
      }
      const refused = await post();
      expect(refused.statusCode).toBe(429);
      expect(refused.json().message).toMatch(
        new RegExp(`more than ${IMPACT_RUNS_PER_MINUTE} impact previews a minute for local-viewer`),
      );
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // Bad input does not count: it is refused before the budget is looked at.
      const bad = await fresh.inject({
        method: 'POST',
        url: '/api/filters/impact',
        headers: operator,
        payload: { pipe: 'standard', rule: CANDIDATE, source: 'stream', limit: 0 },
      });
      expect(bad.statusCode).toBe(400);
      await Promise.all(started.map((jobId) => fresh.ops.impact.settled(jobId)));
    } finally {
      await fresh.close();
    }
  }, 60_000);
});
