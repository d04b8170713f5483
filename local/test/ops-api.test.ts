/**
 * The ops API started by the real local runtime (`startLocalRuntime({ opsApi })`), over HTTP: the synthesized template,
 * the real handler bundles behind the local Lambda endpoint, the pipe emulator, DynamoDB Local and fauxqs. Nothing
 * here is a stand-in. It lives in `local/` because local depends on ops-api (the reverse would be a workspace cycle).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { buildApp, configFromRuntimeInfo } from '@orderflow/ops-api';
import type {
  DlqMessage,
  DlqMessageDetail,
  DlqsResponse,
  ListMessagesResponse,
  RedriveJob,
} from '@orderflow/ops-api/schemas';
import { PIPES } from '@orderflow/pipeline/facts';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';

const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-ops-api-'));
const ORDER_IDS = ['ops-it-1', 'ops-it-2', 'ops-it-3'];
const standardFunction = PIPES.standard.functionId;
let runtime: LocalRuntime;
let dynamo: DynamoDBClient;
let sqs: SQSClient;
let viewer: Record<string, string>;
let operator: Record<string, string>;

beforeAll(async () => {
  if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
    const synth = spawnSync('npm', ['run', 'build', '-w', 'stack'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`stack synth failed: ${synth.stderr}`);
  }
  runtime = await startLocalRuntime({
    templateDir,
    stateDir,
    traffic: 'off',
    writeRuntimeFile: false,
    pipeTiming: { pollIntervalMs: 100, retryBaseDelayMs: 20 },
    opsApi: { buildApp, configFromRuntimeInfo },
  });
  const aws = { region: runtime.info.region, credentials: LOCAL_CREDENTIALS };
  dynamo = new DynamoDBClient({ ...aws, endpoint: runtime.info.endpoints.dynamodb });
  sqs = new SQSClient({ ...aws, endpoint: runtime.info.endpoints.sqs });
  viewer = { authorization: `Bearer ${runtime.info.tokens.viewer}` };
  operator = { authorization: `Bearer ${runtime.info.tokens.operator}` };
}, 180_000);

afterAll(async () => {
  dynamo?.destroy();
  sqs?.destroy();
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const fault = (method: 'PUT' | 'DELETE', body?: unknown) =>
  fetch(`${runtime.info.endpoints.lambda}/_local/faults/${standardFunction}`, {
    method,
    ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });

/** A request to the ops API the runtime started, answered in the shape of Fastify's `inject`. */
async function api(request: {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  payload?: unknown;
}) {
  const response = await fetch(`${runtime.info.opsApi}${request.url}`, {
    method: request.method,
    headers: {
      ...request.headers,
      ...(request.payload === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(request.payload === undefined ? {} : { body: JSON.stringify(request.payload) }),
  });
  const text = await response.text();
  return { statusCode: response.status, json: () => JSON.parse(text) as unknown };
}

const listStandard = async () =>
  (
    (
      await api({ method: 'GET', url: '/api/dlqs/standard/messages?limit=100', headers: viewer })
    ).json() as ListMessagesResponse
  ).messages;
const ordersIn = (messages: readonly DlqMessage[]) =>
  messages.flatMap((message) => message.records.map((record) => record.orderId)).sort();
/** Records of the listed messages, whether the list shows them (from the journal) or counts them as missing. */
const recordsIn = (messages: readonly DlqMessage[]) =>
  messages.reduce((sum, message) => sum + message.records.length + (message.missingRecords ?? 0), 0);
const detailOf = async (id: string) =>
  (await api({ method: 'GET', url: `/api/dlqs/standard/messages/${id}`, headers: viewer })).json() as DlqMessageDetail;
/** Waits until the standard DLQ's messages satisfy `done`, and answers them. */
const standardDlq = (what: string, done: (messages: DlqMessage[]) => boolean, timeoutMs = 60_000) =>
  until(
    async () => {
      const messages = await listStandard();
      return done(messages) && messages;
    },
    what,
    { timeoutMs, intervalMs: 250 },
  );
/** Waits until the redrive job has ended, and answers it. */
const endedJob = (jobId: string) =>
  until(
    async () => {
      const job = (await api({ method: 'GET', url: `/api/redrives/${jobId}`, headers: viewer })).json() as RedriveJob;
      return job.status !== 'running' && job;
    },
    `redrive job ${jobId} to end`,
    { timeoutMs: 60_000, intervalMs: 250 },
  );

describe('the ops API on the real local runtime', () => {
  it('shows a broken processor’s batches in the DLQ, each one resolved from the stream when opened, and redrives them exactly once', async () => {
    expect((await fault('PUT', { failureRate: 1, mode: 'throw' })).status).toBe(200);
    for (const orderId of ORDER_IDS) {
      await dynamo.send(
        new PutItemCommand({
          TableName: runtime.info.resources.ordersTable,
          Item: {
            orderId: { S: orderId },
            customerEmail: { S: `${orderId}@example.com` },
            orderAmount: { N: '250' },
            orderStatus: { S: 'pending' },
            orderDate: { S: new Date().toISOString() },
          },
        }),
      );
    }

    // The pipe retries, bisects and finally dead-letters the batches. The invocations failed before the handler ran,
    // so the journal has nothing: a list (which never reads the stream) counts the records as missing...
    const messages = await standardDlq('the three orders in the DLQ', (m) => recordsIn(m) === 3);
    for (const message of messages) {
      expect(message).toMatchObject({
        condition: 'RetryAttemptsExhausted',
        stale: false,
        malformed: null,
        records: [],
      });
      expect(message.missingRecords).toBe(message.batch?.batchSize);
    }
    // ...and opening a message reads its records from the stream (past the pipes, the stream's two readers, through
    // the local gateway's throttling of a third reader, which the API backs off from).
    const details = await Promise.all(messages.map((message) => detailOf(message.id)));
    expect(ordersIn(details)).toEqual(ORDER_IDS);
    for (const message of details) {
      expect(message.batch?.batchSize).toBe(message.records.length);
      for (const record of message.records) {
        expect(record).toMatchObject({ source: 'stream', eventName: 'INSERT' });
        expect(record.newImage).toMatchObject({ orderId: record.orderId, orderAmount: 250 });
        expect(record.currentItem).toMatchObject({ orderId: record.orderId });
      }
    }
    const dlqs = (await api({ method: 'GET', url: '/api/dlqs', headers: viewer })).json() as DlqsResponse;
    expect(dlqs.dlqs.find((dlq) => dlq.pipe === 'standard')?.visible).toBe(messages.length);

    const redrive = async (dryRun: boolean) => {
      const answer = await api({
        method: 'POST',
        url: '/api/dlqs/standard/redrive',
        headers: operator,
        payload: { all: true, dryRun, ratePerSecond: 50 },
      });
      expect(answer.statusCode).toBe(202);
      return endedJob((answer.json() as { jobId: string }).jobId);
    };

    const dryRun = await redrive(true);
    expect(dryRun.status).toBe('succeeded');
    expect(dryRun.results.map((result) => result.outcome)).toEqual(messages.map(() => 'would-redrive'));
    const previewed = dryRun.results.flatMap((result) => result.records);
    expect(previewed.map((record) => record.orderId).sort()).toEqual(ORDER_IDS);
    expect(previewed.every((record) => record.ruleVerdict === 'pass' && !record.alreadyProcessed)).toBe(true);
    // A dry run changes nothing.
    expect((await listStandard()).map((message) => message.id).sort()).toEqual(messages.map((m) => m.id).sort());

    expect((await fault('DELETE')).status).toBeLessThan(300);
    const real = await redrive(false);
    expect(real.status).toBe('succeeded');
    expect(real.results.every((result) => result.outcome === 'redriven')).toBe(true);
    await standardDlq('an empty DLQ', (m) => m.length === 0, 10_000);

    // Each order was announced exactly once: the redrive applied the effects the failed deliveries never did. The job
    // ended after its invocations returned, and the processor sends before it returns: every notification, a
    // duplicate included, is in the queue now, so the queue is read to its end instead of waiting for late ones.
    const notified: string[] = [];
    for (;;) {
      const answer = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: runtime.info.resources.notificationQueueUrl, MaxNumberOfMessages: 10 }),
      );
      if (!answer.Messages?.length) break;
      for (const message of answer.Messages) {
        notified.push(String(JSON.parse(message.Body ?? '{}').order?.orderId));
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: runtime.info.resources.notificationQueueUrl,
            ReceiptHandle: message.ReceiptHandle,
          }),
        );
      }
    }
    expect(notified.sort()).toEqual(ORDER_IDS);
  }, 180_000);

  it('shows the error the real handler wrote to the failure journal, and redrives once the cause is fixed', async () => {
    // A genuine processor failure: its downstream queue is gone, so the handler journals the error and fails the record.
    const queueUrl = runtime.info.resources.notificationQueueUrl;
    const queueName = queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    await dynamo.send(
      new PutItemCommand({
        TableName: runtime.info.resources.ordersTable,
        Item: {
          orderId: { S: 'ops-it-journal' },
          customerEmail: { S: 'journal@example.com' },
          orderAmount: { N: '300' },
          orderStatus: { S: 'pending' },
          orderDate: { S: new Date().toISOString() },
        },
      }),
    );
    const [message] = await standardDlq('the order in the DLQ', (m) => ordersIn(m).includes('ops-it-journal'));
    const record = message?.records.find((candidate) => candidate.orderId === 'ops-it-journal');
    expect(record?.error?.message).toMatch(/queue/i);
    expect(record?.error?.attempts).toBeGreaterThanOrEqual(1);

    await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
    const started = await api({
      method: 'POST',
      url: '/api/dlqs/standard/redrive',
      headers: operator,
      payload: { messageIds: [message?.id], ratePerSecond: 10 },
    });
    const { jobId } = started.json() as { jobId: string };
    const job = await endedJob(jobId);
    expect(job.results.map((result) => result.outcome)).toEqual(['redriven']);
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
    );
    expect((received.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}').order?.orderId)).toEqual(['ops-it-journal']);
  }, 120_000);
});
