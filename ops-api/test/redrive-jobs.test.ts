import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { type AwsClients, createAwsClients } from '../src/clients.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import type { RedriveJob } from '../src/schemas/index.ts';
import { JobStore } from '../src/services/job-store.ts';
import { type Backends, startBackends } from './helpers/backends.ts';
import { aroundEachCall } from './helpers/sdk-calls.ts';

/**
 * Redrive jobs over many messages, where a job claims ahead of its work, combines its DynamoDB calls across batches
 * and reads each stretch of a shard once: the results must stay exact per message, effects applied once, and nothing
 * left hidden or lost when a job is cancelled mid-way.
 */
let backends: Backends;
let clients: AwsClients;
let app: FastifyInstance;
let operator: Record<string, string>;
/** eventIDs the stand-in processor applied (successfully), in order. */
let applied: string[] = [];
/** AWS calls the API made, by command name. */
let calls = new Map<string, number>();
/** The lease table takes this many more lease batches, then refuses (a DynamoDB outage in the middle of a job). */
let leaseBatchesBeforeOutage = Number.POSITIVE_INFINITY;
let orderSeq = 0;

const order = (prefix: string, overrides: Record<string, unknown> = {}) => {
  orderSeq += 1;
  return {
    orderId: `${prefix}-${orderSeq}`,
    customerEmail: `${prefix}-${orderSeq}@example.com`,
    orderAmount: 250,
    orderStatus: 'pending',
    orderDate: '2026-11-24T10:00:00Z',
    ...overrides,
  };
};

function countCalls(client: Parameters<typeof aroundEachCall>[0]): void {
  aroundEachCall(client, 'testCallCounter', async (name, input, send) => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
    const items = input.TransactItems as { Put?: unknown }[] | undefined;
    if (name === 'TransactWriteItems' && items?.some((item) => item.Put) && leaseBatchesBeforeOutage-- <= 0)
      throw Object.assign(new Error('Throughput exceeds the current capacity of your table'), {
        name: 'ProvisionedThroughputExceededException',
      });
    return send();
  });
}

/** Stand-in processor: fails records of customers whose email starts with `fail`, optionally slowly. */
function processor(delayMs = 0) {
  return async (records: StreamRecord[]) => {
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const failed = records.filter((record) => record.dynamodb.NewImage?.customerEmail?.S?.startsWith('fail'));
    for (const record of records) if (!failed.includes(record)) applied.push(record.eventID);
    return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.eventID })) };
  };
}

async function startJob(payload: Record<string, unknown>): Promise<string> {
  const answer = await app.inject({ method: 'POST', url: '/api/dlqs/standard/redrive', headers: operator, payload });
  expect(answer.statusCode).toBe(202);
  return answer.json().jobId as string;
}

function waitForJob(jobId: string, done = (job: RedriveJob) => job.status !== 'running'): Promise<RedriveJob> {
  return until(
    async () => {
      const job = (await app.inject({ method: 'GET', url: `/api/redrives/${jobId}`, headers: operator })).json();
      return done(job as RedriveJob) && (job as RedriveJob);
    },
    `redrive job ${jobId} to get there`,
    { timeoutMs: 60_000, intervalMs: 20 },
  );
}

async function dlqDepth(): Promise<{ visible: number; hidden: number }> {
  const answer = await backends.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: backends.info.resources.pipes.standard.dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(answer.Attributes?.ApproximateNumberOfMessages),
    hidden: Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

/** Writes orders and sends one DLQ message per `perMessage` consecutive records; answers the records per message. */
async function dlqOf(orders: Record<string, unknown>[], perMessage: number): Promise<StreamRecord[][]> {
  const records = await backends.writeOrders(orders);
  const messages: StreamRecord[][] = [];
  for (let i = 0; i < records.length; i += perMessage) messages.push(records.slice(i, i + perMessage));
  await Promise.all(messages.map((batch) => backends.sendDlqMessage('standard', batch)));
  return messages;
}

beforeAll(async () => {
  backends = await startBackends();
  const config = configFromRuntimeInfo(backends.info, { rateLimitPerMinute: 1_000_000, viewMinIntervalMs: 0 });
  clients = createAwsClients(config);
  for (const client of [clients.sqs, clients.dynamodb, clients.streams, clients.lambda]) countCalls(client as never);
  app = await buildApp(config, { clients });
  operator = { authorization: `Bearer ${backends.info.tokens.operator}` };
}, 120_000);

afterAll(async () => {
  await app?.close();
  clients?.destroy();
  await backends?.stop();
});

beforeEach(async () => {
  leaseBatchesBeforeOutage = Number.POSITIVE_INFINITY;
  // Each test starts from an empty DLQ (what a test leaves is discarded by a redrive-all of its own).
  expect(await dlqDepth()).toEqual({ visible: 0, hidden: 0 });
  applied = [];
  calls = new Map();
});

describe('redrive jobs over many messages', () => {
  it('reads a shard once for many messages and keeps every result exact (failed, stale, malformed)', async () => {
    backends.setProcessor('standard', processor());
    const ok = await dlqOf(
      Array.from({ length: 60 }, () => order('many')),
      2,
    );
    const failing = await dlqOf([order('many'), order('fail', { customerEmail: 'fail-x@example.com' })], 2);
    // A message whose shard the stream no longer has: replayed from the journal, flagged stale.
    const [gone] = await backends.writeOrders([order('stale')]);
    const goneRecord = { ...(gone as StreamRecord), shardId: 'shardId-gone' } as StreamRecord;
    await backends.journal('standard', goneRecord, { name: 'TimeoutError', message: 'SQS timed out' });
    await backends.sendDlqMessage('standard', [goneRecord]);
    await backends.sendRawDlqMessage('standard', '{"not":"a pipe message"}');
    calls = new Map();

    const job = await waitForJob(await startJob({ all: true, ratePerSecond: 1000 }));
    expect(job.results).toHaveLength(ok.length + 3);
    expect(new Set(job.results.map((result) => result.messageId)).size).toBe(job.results.length);
    const byOutcome = (outcome: string) => job.results.filter((result) => result.outcome === outcome);
    expect(byOutcome('redriven')).toHaveLength(ok.length + 1);
    expect(byOutcome('kept')).toHaveLength(2);
    const failed = byOutcome('kept').find((result) => result.records.length === 2);
    expect(failed?.reason).toBe('1 of 2 records failed again; the message stays in the DLQ');
    expect(failed?.records.map((record) => record.succeeded)).toEqual([true, false]);
    expect(byOutcome('kept').find((result) => result.records.length === 0)?.reason).toContain('discard it instead');
    const stale = job.results.find((result) => result.stale);
    expect(stale).toMatchObject({ outcome: 'redriven', records: [{ orderId: gone?.dynamodb.Keys.orderId?.S }] });
    expect(stale?.records[0]?.source).toBe('journal');
    for (const result of byOutcome('redriven').filter((result) => !result.stale)) {
      expect(result.records).toHaveLength(2);
      expect(result.records.every((record) => record.succeeded && record.source === 'stream')).toBe(true);
    }

    // Every successful record applied exactly once: the ok messages, the failing message's good record, the stale one.
    const expected = [...ok.flat(), failing[0]?.[0], gone].map((record) => record?.eventID);
    expect([...applied].sort()).toEqual([...expected].sort());
    // The 31 messages of the live shard (four receives) come from one read of the stretch they lie in (a second one
    // only if a later receive brought a message older than that stretch), plus two failed tries at the gone shard.
    expect(calls.get('GetRecords')).toBeLessThanOrEqual(2);
    expect(calls.get('GetShardIterator')).toBeLessThanOrEqual(4);
    expect(calls.get('Invoke')).toBe(ok.length + 2);
    // Only the two kept messages remain, visible.
    expect(await dlqDepth()).toEqual({ visible: 2, hidden: 0 });
    await discardAll();
  });

  it('applies effects once when two redrive-all jobs race over the same messages', async () => {
    backends.setProcessor('standard', processor(5));
    const messages = await dlqOf(
      Array.from({ length: 50 }, () => order('race')),
      1,
    );
    const [a, b] = await Promise.all([
      startJob({ all: true, ratePerSecond: 1000 }),
      startJob({ all: true, ratePerSecond: 1000 }),
    ]);
    const jobs = await Promise.all([waitForJob(a), waitForJob(b)]);
    const redriven = jobs.flatMap((job) => job.results.filter((result) => result.outcome === 'redriven'));
    expect(redriven).toHaveLength(messages.length);
    expect(new Set(redriven.map((result) => result.messageId)).size).toBe(messages.length);
    for (const result of jobs.flatMap((job) => job.results)) {
      expect(['redriven', 'already-being-redriven']).toContain(result.outcome);
    }
    expect([...applied].sort()).toEqual(
      messages
        .flat()
        .map((record) => record.eventID)
        .sort(),
    );
    expect(await dlqDepth()).toEqual({ visible: 0, hidden: 0 });
  });

  it('cancels mid-pipeline: nothing lost or left hidden, each message either redriven or cancelled', async () => {
    backends.setProcessor('standard', processor(150));
    const messages = await dlqOf(
      Array.from({ length: 120 }, () => order('cancel')),
      1,
    );
    const jobId = await startJob({ all: true, ratePerSecond: 40 });
    await waitForJob(jobId, (job) => job.progress.done >= 10);
    const cancel = await app.inject({ method: 'DELETE', url: `/api/redrives/${jobId}`, headers: operator });
    expect(cancel.statusCode).toBe(200);
    const job = await waitForJob(jobId);
    expect(job.status).toBe('cancelled');
    const redriven = job.results.filter((result) => result.outcome === 'redriven');
    const cancelled = job.results.filter((result) => result.outcome === 'cancelled');
    expect(redriven.length).toBeGreaterThanOrEqual(10);
    expect(redriven.length).toBeLessThan(messages.length);
    expect(redriven.length + cancelled.length).toBe(job.results.length);
    // What was redriven was applied once; everything else is back in the DLQ and visible at once (not hidden for the
    // claim's 120 s): messages claimed ahead of the work were given back.
    expect(applied).toHaveLength(redriven.length);
    expect(new Set(applied).size).toBe(applied.length);
    expect(await dlqDepth()).toEqual({ visible: messages.length - redriven.length, hidden: 0 });
    backends.setProcessor('standard', processor());
    await discardAll();
  });

  it('keeps the messages of batches that fail mid-job (lease table down): none lost, hidden or applied twice', async () => {
    backends.setProcessor('standard', processor(20));
    const messages = await dlqOf(
      Array.from({ length: 60 }, () => order('outage')),
      1,
    );
    // Claims paced at 30/s, so leases are taken batch by batch; the table takes the first batch's, then refuses.
    leaseBatchesBeforeOutage = 1;
    const job = await waitForJob(await startJob({ all: true, ratePerSecond: 30 }));
    leaseBatchesBeforeOutage = Number.POSITIVE_INFINITY;
    expect(job.status).toBe('partially-succeeded');
    const redriven = job.results.filter((result) => result.outcome === 'redriven');
    const kept = job.results.filter((result) => result.outcome === 'kept');
    expect(redriven.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    expect(redriven.length + kept.length).toBe(messages.length);
    for (const result of kept) expect(result.reason).toContain('Throughput exceeds the current capacity');
    // What was redriven was applied once and deleted; every kept message is back in the DLQ and visible at once.
    expect(applied).toHaveLength(redriven.length);
    expect(new Set(applied).size).toBe(applied.length);
    expect(await dlqDepth()).toEqual({ visible: kept.length, hidden: 0 });
    // Once the table is back, the rest is redriven and each record applied once over both jobs.
    backends.setProcessor('standard', processor());
    const retry = await waitForJob(await startJob({ all: true, ratePerSecond: 1000 }));
    expect(retry.status).toBe('succeeded');
    expect(retry.results.filter((result) => result.outcome === 'redriven')).toHaveLength(kept.length);
    expect(applied).toHaveLength(messages.length);
    expect(new Set(applied).size).toBe(messages.length);
    expect(await dlqDepth()).toEqual({ visible: 0, hidden: 0 });
  });

  it('tries every message once when every redrive fails: kept messages coming back do not end the job early', async () => {
    backends.setProcessor('standard', processor());
    const messages = await dlqOf(
      Array.from({ length: 60 }, () => order('fail', { customerEmail: 'fail-all@example.com' })),
      1,
    );
    const job = await waitForJob(await startJob({ all: true, ratePerSecond: 1000 }));
    expect(job.status).toBe('failed');
    expect(job.results).toHaveLength(messages.length);
    expect(new Set(job.results.map((result) => result.messageId)).size).toBe(messages.length);
    for (const result of job.results) expect(result.outcome).toBe('kept');
    expect(calls.get('Invoke')).toBe(messages.length);
    expect(applied).toEqual([]);
    expect(await dlqDepth()).toEqual({ visible: messages.length, hidden: 0 });
    await discardAll();
  });

  it('says why a redrive-all found nothing: messages held by another running job (named), or an empty DLQ', async () => {
    backends.setProcessor('standard', processor(200));
    const messages = await dlqOf(
      Array.from({ length: 6 }, () => order('held')),
      1,
    );
    // A slow job claims every message ahead of its work, so a second redrive-all finds none visible.
    const holder = await startJob({ all: true, ratePerSecond: 2 });
    await until(
      async () => {
        const depth = await dlqDepth();
        return depth.visible === 0 && depth.hidden === messages.length;
      },
      'every message claimed (hidden) by the slow job',
      5000,
    );
    const second = await waitForJob(await startJob({ all: true, ratePerSecond: 1000 }));
    expect(second.results).toEqual([]);
    expect(second.status).toBe('failed');
    expect(second.note).toContain('nothing was redriven');
    expect(second.note).toContain(`job ${holder} (local-operator)`);
    // The audit entry is written just after the job's end is visible.
    const auditDetail = async () => {
      const answer = await app.inject({ method: 'GET', url: '/api/audit', headers: operator });
      const entries = answer.json().entries as { jobId: string | null; outcome: string; detail: string | null }[];
      return entries.find((entry) => entry.jobId === second.jobId && entry.outcome === 'failed')?.detail;
    };
    await until(async () => (await auditDetail()) === second.note, "the failed job's audit entry", 5000);

    expect((await waitForJob(holder)).status).toBe('succeeded');
    expect(await dlqDepth()).toEqual({ visible: 0, hidden: 0 });
    const empty = await waitForJob(await startJob({ all: true, ratePerSecond: 1000 }));
    expect(empty.status).toBe('succeeded');
    expect(empty.note).toBe('the DLQ was empty: nothing to redrive');
  });

  it('stores a job whose results outgrow a DynamoDB item (400 KB): the job ends and reads back, results cut to fit', async () => {
    const reason = `downstream refused the order: ${'x'.repeat(1000)}`;
    backends.setProcessor('standard', async () => {
      throw new Error(reason);
    });
    const messages = await dlqOf(
      Array.from({ length: 400 }, () => order('big')),
      10,
    );
    const jobId = await startJob({ all: true, ratePerSecond: 1000 });
    const job = await waitForJob(jobId);
    expect(job.status).toBe('failed');
    expect(job.note ?? '').not.toContain('size');
    expect(job.results).toHaveLength(messages.length);
    expect(job.results.every((result) => result.outcome === 'kept' && result.records.length === 10)).toBe(true);
    // What another instance reads: the stored job, finished (written just after the local copy), with as many results
    // as fit in the item.
    const store = new JobStore(clients.dynamodb, backends.info.resources.jobsTable);
    await until(async () => (await store.load(jobId))?.job.status === 'failed', 'the stored job to fail', 5000);
    const stored = await store.load(jobId);
    expect(stored?.job.progress.done).toBe(messages.length);
    expect(stored?.job.results.length).toBeGreaterThan(0);
    expect(stored?.job.results.length).toBeLessThan(messages.length);
    expect(stored?.job.resultsOmitted).toBe(messages.length - (stored?.job.results.length ?? 0));
    expect(await dlqDepth()).toEqual({ visible: messages.length, hidden: 0 });
    await discardAll();
  });

  it('beats a stored job with its progress only, keeping its results, and reports a cancel requested elsewhere', async () => {
    const store = new JobStore(clients.dynamodb, backends.info.resources.jobsTable);
    const jobId = '00000000-0000-4000-8000-000000000001';
    const result = { messageId: 'm1', outcome: 'redriven' as const, reason: null, stale: false, records: [] };
    const job: RedriveJob = {
      jobId,
      pipe: 'standard',
      dryRun: false,
      ratePerSecond: 20,
      actor: 'test',
      status: 'running',
      createdAt: new Date().toISOString(),
      finishedAt: null,
      progress: { total: 3, done: 1 },
      note: null,
      results: [result],
    };
    await store.create(
      { ...job, results: [] },
      { pipe: 'standard', all: true, dryRun: false, ratePerSecond: 20 },
      {
        name: 'test',
        role: 'operator',
      },
    );
    const ok = { cancelRequested: false, lost: false };
    expect(await store.save(job)).toEqual(ok);
    const before = await store.load(jobId);
    expect(await store.beat({ jobId, progress: { total: 3, done: 2 } })).toEqual(ok);
    const after = await store.load(jobId);
    expect(after?.job).toEqual({ ...job, progress: { total: 3, done: 2 }, resultsOmitted: 0 });
    expect(after?.heartbeatAtMs).toBeGreaterThanOrEqual(before?.heartbeatAtMs ?? Number.POSITIVE_INFINITY);
    await store.requestCancel(jobId);
    expect(await store.beat({ jobId, progress: { total: 3, done: 3 } })).toEqual({
      cancelRequested: true,
      lost: false,
    });
    expect(await store.save({ ...job, status: 'cancelled' })).toEqual({ cancelRequested: true, lost: false });
    // A run that is not the job's runner writes nothing.
    expect(await store.save({ ...job, status: 'failed' }, 'some other run')).toEqual({
      cancelRequested: true,
      lost: true,
    });
    expect((await store.load(jobId))?.job.status).toBe('cancelled');
  });
});

/** Empties the DLQ with a redrive-all whose processor succeeds, then deletes what is still there (malformed, kept). */
async function discardAll(): Promise<void> {
  backends.setProcessor('standard', async () => ({ batchItemFailures: [] }));
  await waitForJob(await startJob({ all: true, ratePerSecond: 1000 }));
  for (const message of (
    await app.inject({ method: 'GET', url: '/api/dlqs/standard/messages?limit=100', headers: operator })
  ).json().messages as { id: string }[]) {
    await app.inject({
      method: 'DELETE',
      url: `/api/dlqs/standard/messages/${message.id}`,
      headers: operator,
      payload: { reason: 'test cleanup' },
    });
  }
}
