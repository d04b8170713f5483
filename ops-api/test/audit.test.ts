import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { JOBS_KEYS } from '@orderflow/pipeline/facts';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { type AwsClients, createAwsClients } from '../src/clients.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import type { AuditEntry, DlqMessage, RedriveJob } from '../src/schemas/index.ts';
import { LEASE_SECONDS } from '../src/services/leases.ts';
import { type Backends, startBackends } from './helpers/backends.ts';
import { aroundEachCall } from './helpers/sdk-calls.ts';

/**
 * The audit log is append-only (PutItem of a new key, Query; never an update or delete), while jobs and leases live in
 * the ops jobs table; and a discard is audited before the message is deleted, so an accepted discard is never
 * missing from the log and the log never claims one that did not happen.
 */
let backends: Backends;
let clients: AwsClients;
let app: FastifyInstance;
let operator: Record<string, string>;
/** DynamoDB and SQS calls the API made, in order, with the table they named. */
let calls: { name: string; table?: string; input: Record<string, unknown> }[] = [];
/** Fail the next call of this name (on this table), once. */
let failNext: { name: string; table?: string } | undefined;
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

function tablesOf(name: string, input: Record<string, unknown>): string[] {
  if (typeof input.TableName === 'string') return [input.TableName];
  if (name === 'TransactWriteItems') {
    return (input.TransactItems as Record<string, { TableName: string }>[]).flatMap((item) =>
      Object.values(item).map((action) => action.TableName),
    );
  }
  if (input.RequestItems) return Object.keys(input.RequestItems as object);
  return [];
}

function waitForJob(jobId: string): Promise<RedriveJob> {
  return until(
    async () => {
      const job = (await app.inject({ method: 'GET', url: `/api/redrives/${jobId}`, headers: operator })).json();
      return (job as RedriveJob).status !== 'running' && (job as RedriveJob);
    },
    `redrive job ${jobId} to finish`,
    { timeoutMs: 10_000, intervalMs: 25 },
  );
}

async function audit(): Promise<AuditEntry[]> {
  return (await app.inject({ method: 'GET', url: '/api/audit', headers: operator })).json().entries as AuditEntry[];
}

async function messageFor(orderId: string): Promise<DlqMessage> {
  const page = (
    await app.inject({ method: 'GET', url: `/api/dlqs/standard/messages?q=${orderId}`, headers: operator })
  ).json();
  const [message] = page.messages as DlqMessage[];
  if (!message) throw new Error(`no DLQ message for ${orderId}`);
  return message;
}

async function failedOrderInDlq(prefix: string): Promise<{ orderId: string; message: DlqMessage }> {
  const [record] = await backends.writeOrders([order(prefix)]);
  await backends.journal('standard', record as StreamRecord, { name: 'Error', message: 'failed' });
  await backends.sendDlqMessage('standard', [record as StreamRecord]);
  const orderId = String(record?.dynamodb.Keys.orderId?.S);
  return { orderId, message: await messageFor(orderId) };
}

beforeAll(async () => {
  backends = await startBackends();
  const config = configFromRuntimeInfo(backends.info, { rateLimitPerMinute: 1_000_000, viewMinIntervalMs: 0 });
  clients = createAwsClients(config);
  for (const client of [clients.dynamodb, clients.sqs]) {
    aroundEachCall(client as never, 'testCallRecorder', async (name, input, send) => {
      const tables = tablesOf(name, input);
      calls.push({ name, ...(tables[0] ? { table: tables[0] } : {}), input });
      if (failNext && failNext.name === name && (!failNext.table || tables.includes(failNext.table))) {
        failNext = undefined;
        throw Object.assign(new Error('Service unavailable'), { name: 'InternalServerError', $fault: 'server' });
      }
      return send();
    });
  }
  // Some tests make the API fail on purpose: its error log would only be noise here.
  app = await buildApp(config, { clients, server: { logger: false } });
  operator = { authorization: `Bearer ${backends.info.tokens.operator}` };
  backends.setProcessor('standard', async () => ({ batchItemFailures: [] }));
}, 120_000);

afterAll(async () => {
  await app?.close();
  clients?.destroy();
  await backends?.stop();
});

beforeEach(() => {
  calls = [];
  failNext = undefined;
});

describe('the audit table is append-only; jobs and leases are in the jobs table', () => {
  it('gets only conditional PutItems of new entries and Queries, across redrives, a cancel and a discard', async () => {
    const { jobsTable, auditTable } = backends.info.resources;
    const one = await failedOrderInDlq('append');
    const two = await failedOrderInDlq('append');
    const byIds = await app.inject({
      method: 'POST',
      url: '/api/dlqs/standard/redrive',
      headers: operator,
      payload: { messageIds: [one.message.id] },
    });
    expect((await waitForJob(byIds.json().jobId)).status).toBe('succeeded');
    const slow = await app.inject({
      method: 'POST',
      url: '/api/dlqs/standard/redrive',
      headers: operator,
      payload: { all: true, dryRun: true, ratePerSecond: 1 },
    });
    await app.inject({ method: 'DELETE', url: `/api/redrives/${slow.json().jobId}`, headers: operator });
    await waitForJob(slow.json().jobId);
    const discard = await app.inject({
      method: 'DELETE',
      url: `/api/dlqs/standard/messages/${two.message.id}`,
      headers: operator,
      payload: { reason: 'a test order' },
    });
    expect(discard.statusCode).toBe(200);
    const all = await app.inject({
      method: 'POST',
      url: '/api/dlqs/standard/redrive',
      headers: operator,
      payload: { all: true },
    });
    await waitForJob(all.json().jobId);
    await audit();

    const onAudit = calls.filter((call) => call.table === auditTable);
    expect(new Set(onAudit.map((call) => call.name))).toEqual(new Set(['PutItem', 'Query']));
    for (const put of onAudit.filter((call) => call.name === 'PutItem')) {
      expect(put.input.ConditionExpression).toMatch(/^attribute_not_exists\(/);
    }
    const onJobs = calls.filter((call) => call.table === jobsTable);
    const jobCalls = new Set(onJobs.map((call) => call.name));
    for (const name of ['PutItem', 'UpdateItem', 'TransactWriteItems']) expect(jobCalls).toContain(name);
    for (const name of jobCalls) {
      expect(['PutItem', 'UpdateItem', 'GetItem', 'DeleteItem', 'TransactWriteItems']).toContain(name);
    }
    // Leases and jobs are keyed by `pk`; a lease expires by TTL (`expiresAt`, seconds) as well as by its own check.
    const lease = onJobs.find(
      (call) => call.name === 'PutItem' && String((call.input.Item as { pk: string }).pk).startsWith('lease#'),
    );
    const item = lease?.input.Item as Record<string, number>;
    expect(item[JOBS_KEYS.ttlAttribute]).toBe(Math.ceil((item.expiresAtMs as number) / 1000));
    expect((item.expiresAtMs as number) - Date.now()).toBeLessThanOrEqual(LEASE_SECONDS * 1000);
    const stored = await backends.dynamodb.send(
      new GetCommand({ TableName: jobsTable, Key: { [JOBS_KEYS.partitionKey]: `job#${byIds.json().jobId}` } }),
    );
    expect(stored.Item?.job.status).toBe('succeeded');
    expect(stored.Item?.[JOBS_KEYS.ttlAttribute]).toBeGreaterThan(Date.now() / 1000);
  });
});

describe('a discard is audited before the message is deleted', () => {
  it('writes `attempted` before DeleteMessage and `discarded` after it', async () => {
    const { message } = await failedOrderInDlq('discard');
    const answer = await app.inject({
      method: 'DELETE',
      url: `/api/dlqs/standard/messages/${message.id}`,
      headers: operator,
      payload: { reason: 'duplicate order' },
    });
    expect(answer.statusCode).toBe(200);
    const auditTable = backends.info.resources.auditTable;
    const order = calls
      .filter((call) => call.name === 'DeleteMessage' || (call.name === 'PutItem' && call.table === auditTable))
      .map((call) => (call.name === 'PutItem' ? (call.input.Item as { outcome: string }).outcome : 'DeleteMessage'));
    expect(order).toEqual(['attempted', 'DeleteMessage', 'discarded']);
    const entries = (await audit()).filter((entry) => entry.messageIds.includes(message.id));
    expect(entries.map((entry) => entry.outcome)).toEqual(['discarded', 'attempted']);
    expect(answer.json().auditId).toBe(entries[0]?.id);
    expect(entries.every((entry) => entry.detail === 'duplicate order' && entry.actor === 'local-operator')).toBe(true);
  });

  it('does not discard when the audit entry cannot be written: the message stays, visible', async () => {
    const { orderId, message } = await failedOrderInDlq('unaudited');
    failNext = { name: 'PutItem', table: backends.info.resources.auditTable };
    const answer = await app.inject({
      method: 'DELETE',
      url: `/api/dlqs/standard/messages/${message.id}`,
      headers: operator,
      payload: { reason: 'should not happen' },
    });
    expect(answer.statusCode).toBe(500);
    expect(answer.json().message).not.toContain('Service unavailable');
    expect(calls.some((call) => call.name === 'DeleteMessage')).toBe(false);
    // Given back at once (not left hidden for the claim's 120 s), and its lease released: a retry works.
    expect((await messageFor(orderId)).id).toBe(message.id);
    const retry = await app.inject({
      method: 'DELETE',
      url: `/api/dlqs/standard/messages/${message.id}`,
      headers: operator,
      payload: { reason: 'the audit is back' },
    });
    expect(retry.statusCode).toBe(200);
  });

  it('records the failed delete after `attempted` when SQS does not delete: the message stays, the log says so', async () => {
    const { orderId, message } = await failedOrderInDlq('undeleted');
    failNext = { name: 'DeleteMessage' };
    const answer = await app.inject({
      method: 'DELETE',
      url: `/api/dlqs/standard/messages/${message.id}`,
      headers: operator,
      payload: { reason: 'customer cancelled' },
    });
    expect(answer.statusCode).toBe(500);
    const entries = (await audit()).filter((entry) => entry.messageIds.includes(message.id));
    expect(entries.map((entry) => entry.outcome)).toEqual(['delete-failed', 'attempted']);
    expect(entries[0]?.detail).toContain('customer cancelled');
    expect(entries[0]?.detail).toContain('it stays in the DLQ');
    expect((await messageFor(orderId)).id).toBe(message.id);
  });
});
