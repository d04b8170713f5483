import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { pipeFilterOf } from '@orderflow/pipeline/engine';
import { IDEMPOTENCY_KEYS, PIPES } from '@orderflow/pipeline/facts';
import { IDEMPOTENCY_STATUS, idempotencyRecordId, type StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import {
  type DlqMessage,
  type DlqMessageDetail,
  type ListMessagesResponse,
  METRICS_MAX_DATAPOINTS,
  type RedriveJob,
} from '../src/schemas/index.ts';
import { type Backends, startBackends } from './helpers/backends.ts';

let backends: Backends;
let app: FastifyInstance;
let operator: Record<string, string>;
let viewer: Record<string, string>;
/** eventIDs the stand-in processor applied, in order (to prove a redrive applies effects once). */
const applied: string[] = [];

const order = (id: string, overrides: Record<string, unknown> = {}) => ({
  orderId: id,
  customerEmail: `${id}@example.com`,
  orderAmount: 250,
  orderStatus: 'pending',
  orderDate: '2026-11-24T10:00:00Z',
  ...overrides,
});

async function jobOf(jobId: string): Promise<RedriveJob> {
  return (await app.inject({ method: 'GET', url: `/api/redrives/${jobId}`, headers: viewer })).json() as RedriveJob;
}

function waitForJob(jobId: string): Promise<RedriveJob> {
  return until(
    async () => {
      const job = await jobOf(jobId);
      return job.status !== 'running' && job;
    },
    `redrive job ${jobId} to end`,
    { timeoutMs: 30_000, intervalMs: 50 },
  );
}

/** Lists until a search finds something: the API reuses one walk of a DLQ for 2 seconds. */
function listUntilFound(pipe: string, query: string): Promise<DlqMessage[]> {
  return until(
    async () => {
      const found = await listAll(pipe, query);
      return found.length > 0 && found;
    },
    `a message found by ${query}`,
    { timeoutMs: 10_000, intervalMs: 100 },
  );
}

async function listAll(pipe: string, query = ''): Promise<DlqMessage[]> {
  const answer = await app.inject({
    method: 'GET',
    url: `/api/dlqs/${pipe}/messages?limit=100${query}`,
    headers: viewer,
  });
  expect(answer.statusCode).toBe(200);
  return (answer.json() as ListMessagesResponse).messages;
}

beforeAll(async () => {
  backends = await startBackends();
  backends.setProcessor('standard', async (records: StreamRecord[]) => {
    const failed = records.filter((record) => record.dynamodb.NewImage?.customerEmail?.S?.startsWith('fail'));
    for (const record of records) if (!failed.includes(record)) applied.push(record.eventID);
    return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.eventID })) };
  });
  // Messages are sent one after another here: each list must see the last one at once.
  app = await buildApp(
    configFromRuntimeInfo(backends.info, { consoleUrl: 'http://127.0.0.1:5173', viewMinIntervalMs: 0 }),
  );
  operator = { authorization: `Bearer ${backends.info.tokens.operator}` };
  viewer = { authorization: `Bearer ${backends.info.tokens.viewer}` };
}, 120_000);

afterAll(async () => {
  await app?.close();
  await backends?.stop();
});

describe('auth and plumbing', () => {
  it('answers health without a token, with helmet headers', async () => {
    const answer = await app.inject({ method: 'GET', url: '/api/health' });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ status: 'ok', mode: 'local' });
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it.each([
    ['GET', '/api/me'],
    ['GET', '/api/pipes'],
    ['GET', '/api/dlqs'],
    ['GET', '/api/dlqs/standard/messages'],
    ['GET', '/api/alarms'],
    ['GET', '/api/audit'],
    ['POST', '/api/filters/test'],
  ] as const)('%s %s needs a token (401), and rejects a wrong one', async (method, url) => {
    const none = await app.inject({ method, url });
    expect(none.statusCode).toBe(401);
    expect(none.json().message).toContain('Authorization: Bearer');
    const wrong = await app.inject({ method, url, headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.statusCode).toBe(401);
  });

  it('says who the token stands for and with what role (GET /api/me)', async () => {
    const asOperator = await app.inject({ method: 'GET', url: '/api/me', headers: operator });
    expect(asOperator.statusCode).toBe(200);
    expect(asOperator.json()).toEqual({ actor: 'local-operator', role: 'operator' });
    const asViewer = await app.inject({ method: 'GET', url: '/api/me', headers: viewer });
    expect(asViewer.json()).toEqual({ actor: 'local-viewer', role: 'viewer' });
  });

  it('lets viewers read but not redrive or discard (403)', async () => {
    const redrive = await app.inject({
      method: 'POST',
      url: '/api/dlqs/standard/redrive',
      headers: viewer,
      payload: { all: true, dryRun: true },
    });
    expect(redrive.statusCode).toBe(403);
    const discard = await app.inject({
      method: 'DELETE',
      url: '/api/dlqs/standard/messages/abc',
      headers: viewer,
      payload: { reason: 'duplicate' },
    });
    expect(discard.statusCode).toBe(403);
    const cancel = await app.inject({
      method: 'DELETE',
      url: '/api/redrives/00000000-0000-0000-0000-000000000000',
      headers: viewer,
    });
    expect(cancel.statusCode).toBe(403);
  });

  it('allows CORS only from the console origin', async () => {
    const allowed = await app.inject({
      method: 'OPTIONS',
      url: '/api/pipes',
      headers: { origin: 'http://127.0.0.1:5173', 'access-control-request-method': 'GET' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('http://127.0.0.1:5173');
    const other = await app.inject({
      method: 'OPTIONS',
      url: '/api/pipes',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('rejects bad input with a 4xx naming the problem', async () => {
    const cases = [
      { url: '/api/dlqs/nope/messages', status: 400, text: 'unknown pipe "nope"' },
      { url: '/api/dlqs/standard/messages?limit=0', status: 400, text: 'limit must be at least 1' },
      { url: '/api/dlqs/standard/messages?cursor=%7B', status: 400, text: 'cursor is not valid' },
      { url: '/api/metrics/filter?pipe=standard&period=61', status: 400, text: 'multiple of 60' },
      { url: '/api/audit?from=yesterday', status: 400, text: 'ISO 8601' },
      { url: '/api/redrives/not-a-job', status: 400, text: 'must be a job id' },
      { url: '/api/nowhere', status: 404, text: 'no route GET /api/nowhere' },
    ];
    for (const { url, status, text } of cases) {
      const answer = await app.inject({ method: 'GET', url, headers: viewer });
      expect(answer.statusCode, url).toBe(status);
      expect(answer.json().message, url).toContain(text);
    }
    const malformed = await app.inject({
      method: 'POST',
      url: '/api/filters/test',
      headers: { ...viewer, 'content-type': 'application/json' },
      payload: '{"eventName":',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().message).toMatch(/JSON/i);
    const huge = await app.inject({
      method: 'POST',
      url: '/api/filters/test',
      headers: { ...viewer, 'content-type': 'application/json' },
      payload: JSON.stringify({ record: { padding: 'x'.repeat(100_000) } }),
    });
    expect(huge.statusCode).toBe(413);
    const both = await app.inject({
      method: 'POST',
      url: '/api/dlqs/standard/redrive',
      headers: operator,
      payload: { all: true, messageIds: ['a'] },
    });
    expect(both.statusCode).toBe(400);
    expect(both.json().message).toContain('either messageIds or all');
  });

  it('checks a time range against now when only one end is given', async () => {
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const cases = [
      // `to` defaults to now: a `from` after it is an empty range, which CloudWatch refuses (was a 500).
      { url: `/api/metrics/filter?pipe=standard&from=${future}`, text: 'from must be before to' },
      // The audit's 31-day cap held only when both ends were given: this read 20,000 day partitions (was a 200).
      { url: '/api/audit?from=1970-01-01T00:00:00Z', text: 'at most 31 days' },
      // The other routes refuse a reversed range; this one answered an empty page as if the DLQ had nothing then.
      {
        url: '/api/dlqs/standard/messages?from=2026-11-25T00:00:00Z&to=2026-11-24T00:00:00Z',
        text: 'from must be before to',
      },
    ];
    for (const { url, text } of cases) {
      const answer = await app.inject({ method: 'GET', url, headers: viewer });
      expect(answer.statusCode, url).toBe(400);
      expect(answer.json().message, url).toContain(text);
    }
  });

  it('takes numeric query parameters only as decimal digits, naming the parameter and what was given', async () => {
    const cases = [
      // Number('') is 0: an empty limit said "must be at least 1"; hex and exponent forms were accepted.
      {
        url: '/api/dlqs/standard/messages?limit=',
        text: 'querystring.limit: limit must be a whole number in decimal digits, got ""',
      },
      {
        url: '/api/dlqs/standard/messages?limit=0x10',
        text: 'limit must be a whole number in decimal digits, got "0x10"',
      },
      {
        url: '/api/dlqs/standard/messages?limit=1e1',
        text: 'limit must be a whole number in decimal digits, got "1e1"',
      },
      { url: '/api/dlqs/standard/messages?limit=2.5', text: 'got "2.5"' },
      { url: '/api/dlqs/standard/messages?limit=%201', text: 'got " 1"' },
      { url: '/api/dlqs/standard/messages?limit=1&limit=2', text: 'limit must be given once' },
      { url: '/api/dlqs/standard/messages?limit=101', text: 'limit must be at most 100, got 101' },
      {
        url: '/api/metrics/filter?pipe=standard&period=0x3c',
        text: 'period must be a whole number in decimal digits, got "0x3c"',
      },
      { url: '/api/metrics/filter?pipe=standard&period=6e1', text: 'got "6e1"' },
      {
        url: '/api/audit?limit=1e2',
        text: 'querystring.limit: limit must be a whole number in decimal digits, got "1e2"',
      },
    ];
    for (const { url, text } of cases) {
      const answer = await app.inject({ method: 'GET', url, headers: viewer });
      expect(answer.statusCode, url).toBe(400);
      expect(answer.json().message, url).toContain(text);
    }
    // premium: a list of the standard DLQ here would be the walk later tests of it are served (for 2 s, then stale).
    for (const url of [
      '/api/dlqs/premium/messages?limit=007',
      '/api/metrics/filter?pipe=standard&period=60',
      '/api/audit?limit=5',
    ]) {
      expect((await app.inject({ method: 'GET', url, headers: viewer })).statusCode, url).toBe(200);
    }
  });

  it('refuses a metrics range of more datapoints per series than the maximum, suggesting a period that fits', async () => {
    const to = '2026-11-24T00:00:00Z';
    const ninetyDaysBefore = '2026-08-26T00:00:00Z';
    const tooMany = await app.inject({
      method: 'GET',
      url: `/api/metrics/filter?pipe=standard&from=${ninetyDaysBefore}&to=${to}&period=60`,
      headers: viewer,
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().message).toBe(
      `querystring: the range ${ninetyDaysBefore}..${to} (90 days) at period 60 s is 129600 datapoints per series, more than the maximum of ${METRICS_MAX_DATAPOINTS}; use period=5400 or more, or a shorter range`,
    );
    // The default range (3 hours) is counted too: 3 hours at 60 s fits, and so does exactly the maximum.
    expect(
      (await app.inject({ method: 'GET', url: '/api/metrics/filter?pipe=standard&period=60', headers: viewer }))
        .statusCode,
    ).toBe(200);
    const oneDay = await app.inject({
      method: 'GET',
      url: `/api/metrics/filter?pipe=standard&from=2026-11-23T00:00:00Z&to=${to}&period=60`,
      headers: viewer,
    });
    expect(oneDay.statusCode).toBe(200);
    // No period up to the largest (86400 s) fits: then only a shorter range helps.
    const years = await app.inject({
      method: 'GET',
      url: `/api/metrics/filter?pipe=standard&from=2020-01-01T00:00:00Z&to=${to}&period=86400`,
      headers: viewer,
    });
    expect(years.statusCode).toBe(400);
    expect(years.json().message).toContain(`use a range of at most ${METRICS_MAX_DATAPOINTS} days`);
  });

  it('names what is wrong in a filter-lab body, a missing pipe and an unsupported content type', async () => {
    const filterTest = async (payload: unknown) =>
      app.inject({ method: 'POST', url: '/api/filters/test', headers: viewer, payload: payload as object });
    const badEvent = await filterTest({ eventName: 'UPSERT', newImage: {}, oldImage: null });
    expect(badEvent.statusCode).toBe(400);
    expect(badEvent.json().message).toContain('body.eventName');
    const noOldImage = await filterTest({ eventName: 'INSERT', newImage: { orderId: 'o1' } });
    expect(noOldImage.statusCode).toBe(400);
    expect(noOldImage.json().message).toContain('body.oldImage');

    const noPipe = await app.inject({ method: 'GET', url: '/api/metrics/filter', headers: viewer });
    expect(noPipe.statusCode).toBe(400);
    expect(noPipe.json().message).toContain('pipe is required');

    const form = await app.inject({
      method: 'POST',
      url: '/api/dlqs/standard/redrive',
      headers: { ...operator, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'all=true',
    });
    expect(form.statusCode).toBe(415);
    expect(form.json().message).toContain('application/json');
  });

  it('refuses a redrive naming a message twice and a discard with fields it does not know', async () => {
    const twice = await app.inject({
      method: 'POST',
      url: '/api/dlqs/standard/redrive',
      headers: operator,
      payload: { messageIds: ['m-1', 'm-2', 'm-1'] },
    });
    expect(twice.statusCode).toBe(400);
    expect(twice.json().message).toContain("'m-1' more than once");
    // `dryRun` means nothing to a discard: accepting it would delete a message its sender meant only to preview.
    const discard = await app.inject({
      method: 'DELETE',
      url: '/api/dlqs/standard/messages/m-1',
      headers: operator,
      payload: { reason: 'just looking', dryRun: true },
    });
    expect(discard.statusCode).toBe(400);
    expect(discard.json().message).toContain('dryRun');
  });

  it('serves OpenAPI at /docs and the console config', async () => {
    const spec = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(spec.statusCode).toBe(200);
    expect(Object.keys(spec.json().paths)).toEqual(
      expect.arrayContaining(['/api/dlqs/{pipe}/messages', '/api/dlqs/{pipe}/redrive', '/api/filters/test']),
    );
    const config = await app.inject({ method: 'GET', url: '/config.json' });
    expect(config.json()).toEqual({ apiBaseUrl: '', auth: { mode: 'local' } });
  });
});

describe('pipes, filter lab, metrics, alarms', () => {
  it('lists both pipes with rule, derived filter and settings', async () => {
    const answer = await app.inject({ method: 'GET', url: '/api/pipes', headers: viewer });
    const pipes = answer.json().pipes as { key: string; pipeFilter: unknown; functionName: string }[];
    expect(pipes.map((pipe) => pipe.key)).toEqual(['standard', 'premium']);
    expect(pipes[0]?.pipeFilter).toEqual(pipeFilterOf('standard'));
    expect(pipes[0]?.functionName).toBe(PIPES.standard.functionId);
  });

  it('explains both input forms, naming the failing clause', async () => {
    const plain = await app.inject({
      method: 'POST',
      url: '/api/filters/test',
      headers: viewer,
      payload: { eventName: 'INSERT', newImage: order('lab-1', { orderAmount: 100 }), oldImage: null },
    });
    expect(plain.statusCode).toBe(200);
    const standard = plain.json().results.standard;
    const amountClause = PIPES.standard.rule.clauses.find((clause) => clause.id === 'amount-over-100');
    expect(standard).toMatchObject({
      rule: false,
      pipeFilter: true,
      failingClause: { id: 'amount-over-100', description: amountClause?.description },
    });
    expect(standard.explanation).toContain('amount-over-100');
    const [record] = await backends.writeOrders([order('lab-2', { orderAmount: 5000, orderStatus: 'shipped' })]);
    const raw = await app.inject({ method: 'POST', url: '/api/filters/test', headers: viewer, payload: { record } });
    expect(raw.json().results.standard).toMatchObject({ rule: true, pipeFilter: true, failingClause: null });
    expect(raw.json().results.premium.failingClause.id).toBe('event-is-modify');
    expect(raw.json().results.premium.explanation).toContain('event-is-modify');
    const broken = await app.inject({
      method: 'POST',
      url: '/api/filters/test',
      headers: viewer,
      payload: { record: { eventName: 'INSERT' } },
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().message).toContain('eventID');
  });

  it('builds the filter funnel from CloudWatch, with clauses', async () => {
    const at = new Date(Date.now() - 600_000);
    const dims = (extra: { Name: string; Value: string }[] = []) => [{ Name: 'Pipe', Value: 'standard' }, ...extra];
    backends.cloudwatch.metrics.push(
      { MetricName: 'RecordsPolled', Dimensions: dims(), values: [{ timestamp: at, value: 40 }] },
      { MetricName: 'RecordsMatchedByFilter', Dimensions: dims(), values: [{ timestamp: at, value: 30 }] },
      { MetricName: 'RecordsFilteredOut', Dimensions: dims(), values: [{ timestamp: at, value: 10 }] },
      {
        MetricName: 'GuardRejected',
        Dimensions: dims([
          { Name: 'Clause', Value: 'email-not-test-com' },
          { Name: 'service', Value: 'orderflow' },
        ]),
        values: [{ timestamp: at, value: 4 }],
      },
    );
    const answer = await app.inject({ method: 'GET', url: '/api/metrics/filter?pipe=standard', headers: viewer });
    expect(answer.statusCode).toBe(200);
    const body = answer.json();
    expect(body.exact).toBe(true);
    expect(body.funnel.polled.value).toBe(40);
    expect(body.funnel.matchedByPipeFilter.value).toBe(30);
    expect(body.funnel.filteredOut.value).toBe(10);
    expect(body.funnel.guardRejected.value).toBe(4);
    expect(body.funnel.guardRejectedByClause).toContainEqual({
      clause: 'email-not-test-com',
      description: 'customer email does not contain test.com',
      value: 4,
    });
    // Stages the processors count per delivery say so, since a retried record makes them exceed the filter's matches.
    for (const stage of ['guardPassed', 'failed'] as const)
      expect(body.funnel[stage].label).toContain('each retry counts');
    expect(body.funnel.processed.label).toContain('counts again');
  });

  it('lists alarms with runbook and console deep links', async () => {
    backends.cloudwatch.alarms.push({
      AlarmName: 'orderflow-standard-dlq-has-messages',
      StateValue: 'ALARM',
      StateReason: 'Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0).',
      StateUpdatedTimestamp: Date.now() / 1000,
    });
    const answer = await app.inject({ method: 'GET', url: '/api/alarms', headers: viewer });
    const [alarm] = answer.json().alarms;
    expect(alarm).toMatchObject({ pipe: 'standard', slug: 'dlq-has-messages', state: 'ALARM' });
    expect(alarm.runbookUrl).toMatch(/docs\/runbooks\/dlq-has-messages\.md$/);
    expect(alarm.consoleUrl).toBe('http://127.0.0.1:5173/dlqs?pipe=standard&window=3600');
  });
});

describe('DLQ browsing, redrive, discard, audit', () => {
  let okMessage: DlqMessage;
  let okMessageBody: string;
  let okEventIds: string[];

  it('lists DLQ messages with the records, errors and current items the journal has, without consuming them', async () => {
    const records = await backends.writeOrders([order('ok-1'), order('ok-2'), order('ok-3', { orderAmount: 50 })]);
    // ok-3 is below the pipe filter? No: the pipe filter cannot check amounts, so all three were delivered. Only ok-1
    // is in the journal (as if the invocations that failed ok-2 and ok-3 died before the handler ran).
    await backends.journal('standard', records[0] as StreamRecord, { name: 'TimeoutError', message: 'SQS timed out' });
    okMessageBody = JSON.stringify(await backends.sendDlqMessage('standard', records));
    okEventIds = records.map((record) => record.eventID);
    const failing = await backends.writeOrders([order('fail-1', { customerEmail: 'fail-1@example.com' })]);
    await backends.journal('standard', failing[0] as StreamRecord, { name: 'DownstreamError', message: 'refused' });
    await backends.sendDlqMessage('standard', failing);
    await backends.sendRawDlqMessage('standard', '{"not":"a pipe message"}');

    const messages = await listAll('standard');
    expect(messages).toHaveLength(3);
    const resolved = messages.find((message) => message.records.some((record) => record.orderId === 'ok-1'));
    expect(resolved?.stale).toBe(false);
    // A list reads the journal only: the records it lacks are counted and explained, not read from the stream.
    expect(resolved?.records.map((record) => [record.orderId, record.source])).toEqual([['ok-1', 'journal']]);
    expect(resolved?.missingRecords).toBe(2);
    expect(resolved?.recordsNote).toContain("holds 1 of the batch's 3 records");
    expect(resolved?.records[0]?.error).toMatchObject({ name: 'TimeoutError', message: 'SQS timed out' });
    expect(resolved?.records[0]?.currentItem).toMatchObject({ orderId: 'ok-1', orderAmount: 250 });
    expect(resolved?.records[0]?.newImage).toMatchObject({ orderAmount: 250 });
    const failed = messages.find((message) => message.records.some((record) => record.orderId === 'fail-1'));
    expect(failed?.missingRecords).toBeUndefined();
    expect(messages.find((message) => message.malformed)?.malformed).toContain('not a pipe dead-letter message');
    okMessage = resolved as DlqMessage;

    // Browsing left every message visible.
    const dlqs = await app.inject({ method: 'GET', url: '/api/dlqs', headers: viewer });
    expect(dlqs.json().dlqs[0]).toMatchObject({ pipe: 'standard', visible: 3, inFlight: 0 });
    // The oldest age is CloudWatch's (none published here): browsing never receives to find it.
    expect(dlqs.json().dlqs[0]).toMatchObject({ delayed: 0, oldestMessageAgeSeconds: null });
  });

  it('pages with a cursor and searches by email, order id and error text', async () => {
    const first = await app.inject({ method: 'GET', url: '/api/dlqs/standard/messages?limit=2', headers: viewer });
    const page1 = first.json() as ListMessagesResponse;
    expect(page1.messages).toHaveLength(2);
    expect(page1.cursor).toEqual(expect.any(String));
    const second = await app.inject({
      method: 'GET',
      url: `/api/dlqs/standard/messages?limit=2&cursor=${page1.cursor}`,
      headers: viewer,
    });
    const page2 = second.json() as ListMessagesResponse;
    expect(page2.messages).toHaveLength(1);
    expect(page2.cursor).toBeNull();
    expect(new Set([...page1.messages, ...page2.messages].map((message) => message.id)).size).toBe(3);
    const foreign = await app.inject({
      method: 'GET',
      url: `/api/dlqs/premium/messages?cursor=${page1.cursor}`,
      headers: viewer,
    });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().message).toContain('belongs to the standard DLQ');

    expect((await listAll('standard', '&q=FAIL-1@example')).map((m) => m.records[0]?.orderId)).toEqual(['fail-1']);
    expect((await listAll('standard', '&q=ok-1@')).map((m) => m.id)).toEqual([okMessage.id]);
    expect((await listAll('standard', '&q=timed%20out')).map((m) => m.id)).toEqual([okMessage.id]);
    expect(await listAll('standard', `&to=${encodeURIComponent('2000-01-01T00:00:00Z')}`)).toEqual([]);
  });

  it('shows one message with its raw body and a filter explanation per record, reading the stream for what the journal lacks', async () => {
    const answer = await app.inject({
      method: 'GET',
      url: `/api/dlqs/standard/messages/${okMessage.id}`,
      headers: viewer,
    });
    expect(answer.statusCode).toBe(200);
    const detail = answer.json() as DlqMessageDetail;
    expect(detail.body).toBe(okMessageBody);
    const records = detail.records;
    expect(records.map((record) => [record.orderId, record.source])).toEqual([
      ['ok-1', 'stream'],
      ['ok-2', 'stream'],
      ['ok-3', 'stream'],
    ]);
    expect(detail.missingRecords).toBeUndefined();
    expect(records[0]?.error).toMatchObject({ name: 'TimeoutError' });
    expect(records[2]?.explanation).toMatchObject({
      rule: false,
      pipeFilter: true,
      failingClause: { id: 'amount-over-100' },
    });
    expect(records[2]?.explanation?.explanation).toContain('amount-over-100');
    expect(records.map((record) => record.alreadyProcessed)).toEqual([false, false, false]);
    const missing = await app.inject({ method: 'GET', url: '/api/dlqs/standard/messages/nope-123', headers: viewer });
    expect(missing.statusCode).toBe(404);
  });

  it("says which of a message's records the processor already applied (idempotency record COMPLETED)", async () => {
    const first = okMessage.records[0]?.eventId as string;
    const key = { [IDEMPOTENCY_KEYS.partitionKey]: idempotencyRecordId('standard', first) };
    const table = backends.info.resources.idempotencyTable;
    const expiry = Math.floor(Date.now() / 1000) + 3600;
    await backends.dynamodb.send(
      new PutCommand({
        TableName: table,
        Item: { ...key, status: IDEMPOTENCY_STATUS.completed, [IDEMPOTENCY_KEYS.ttlAttribute]: expiry },
      }),
    );
    try {
      const detail = (
        await app.inject({ method: 'GET', url: `/api/dlqs/standard/messages/${okMessage.id}`, headers: viewer })
      ).json() as DlqMessageDetail;
      expect(detail.records.map((record) => record.alreadyProcessed)).toEqual([true, false, false]);
    } finally {
      await backends.dynamodb.send(new DeleteCommand({ TableName: table, Key: key }));
    }
  });

  it('dry-runs a redrive without changing anything', async () => {
    const start = await app.inject({
      method: 'POST',
      url: '/api/dlqs/standard/redrive',
      headers: operator,
      payload: { messageIds: [okMessage.id, 'missing-1'], dryRun: true },
    });
    expect(start.statusCode).toBe(202);
    const job = await waitForJob(start.json().jobId);
    expect(job.status).toBe('partially-succeeded');
    const result = job.results.find((r) => r.messageId === okMessage.id);
    expect(result?.outcome).toBe('would-redrive');
    expect(result?.records.map((r) => r.ruleVerdict)).toEqual(['pass', 'pass', 'reject']);
    expect(result?.records[2]?.ruleExplanation).toContain('order amount is greater than 100');
    expect(result?.records.every((r) => r.alreadyProcessed === false && r.succeeded === null)).toBe(true);
    expect(job.results.find((r) => r.messageId === 'missing-1')?.outcome).toBe('not-found');
    expect(applied).toEqual([]);
    expect(await listAll('standard')).toHaveLength(3);
  });

  it('redrives: deletes a fully successful message, keeps a failing one and says why', async () => {
    const failing = (await listAll('standard', '&q=fail-1'))[0] as DlqMessage;
    const start = await app.inject({
      method: 'POST',
      url: '/api/dlqs/standard/redrive',
      headers: operator,
      payload: { messageIds: [okMessage.id, failing.id], ratePerSecond: 50 },
    });
    const job = await waitForJob(start.json().jobId);
    expect(job.status).toBe('partially-succeeded');
    expect(job.progress).toEqual({ total: 2, done: 2 });
    const ok = job.results.find((r) => r.messageId === okMessage.id);
    expect(ok?.outcome).toBe('redriven');
    expect(ok?.records.every((r) => r.succeeded)).toBe(true);
    const kept = job.results.find((r) => r.messageId === failing.id);
    expect(kept?.outcome).toBe('kept');
    expect(kept?.reason).toContain('1 of 1 records failed again');
    expect(applied).toEqual(okEventIds);
    const remaining = await listAll('standard');
    expect(remaining.map((m) => m.id).sort()).toEqual(
      [failing.id, ...remaining.filter((m) => m.malformed).map((m) => m.id)].sort(),
    );
  });

  it('runs two concurrent redrives of one message once; the second says it is already being redriven', async () => {
    const records = await backends.writeOrders([order('twice-1')]);
    await backends.journal('standard', records[0] as StreamRecord, { name: 'Error', message: 'failed once' });
    await backends.sendDlqMessage('standard', records);
    const target = (await listUntilFound('standard', '&q=twice-1'))[0] as DlqMessage;
    // The processor is held until one job has ended: the job that claimed the message is still redriving it then.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    backends.setProcessor('standard', async (batch: StreamRecord[]) => {
      await held;
      for (const record of batch) applied.push(record.eventID);
      return { batchItemFailures: [] };
    });
    const [a, b] = await Promise.all(
      [0, 1].map(() =>
        app.inject({
          method: 'POST',
          url: '/api/dlqs/standard/redrive',
          headers: operator,
          payload: { messageIds: [target.id] },
        }),
      ),
    );
    const ids: string[] = [a?.json().jobId, b?.json().jobId];
    await until(
      async () => (await Promise.all(ids.map(jobOf))).some((job) => job.status !== 'running'),
      'one of the two jobs to end while the other is held in the processor',
      30_000,
    );
    release();
    const jobs = await Promise.all(ids.map(waitForJob));
    const outcomes = jobs.map((job) => job.results[0]?.outcome).sort();
    expect(outcomes).toEqual(['already-being-redriven', 'redriven']);
    expect(jobs.find((job) => job.results[0]?.outcome === 'already-being-redriven')?.results[0]?.reason).toContain(
      'already being redriven by job',
    );
    expect(applied.filter((id) => id === records[0]?.eventID)).toHaveLength(1);
  });

  it('falls back to the journal when the stream no longer holds the records (stale)', async () => {
    const records = await backends.writeOrders([order('stale-1'), order('stale-2')]);
    const gone = records.map((record) => ({ ...record, shardId: 'shardId-gone' }) as StreamRecord);
    await backends.journal('standard', gone[0] as StreamRecord, {
      name: 'DownstreamError',
      message: 'notification queue unavailable',
    });
    await backends.sendDlqMessage('standard', gone);
    const [message] = await listUntilFound('standard', '&q=stale-1');
    expect(message?.missingRecords).toBe(1);
    // Opening it tries the stream for the record the journal lacks; the shard is gone, so it says so.
    const detail = (
      await app.inject({ method: 'GET', url: `/api/dlqs/standard/messages/${message?.id}`, headers: viewer })
    ).json() as DlqMessageDetail;
    expect(detail.stale).toBe(true);
    expect(detail.recordsNote).toContain('the stream no longer holds these records');
    expect(detail.records).toHaveLength(1);
    expect(detail.records[0]).toMatchObject({
      orderId: 'stale-1',
      source: 'journal',
      error: { name: 'DownstreamError' },
    });
  });

  it("shows a message naming another pipe or another account's stream as malformed, and never replays it", async () => {
    const records = await backends.writeOrders([order('foreign-1')]);
    await backends.journal('standard', records[0] as StreamRecord, { name: 'Error', message: 'failed' });
    const genuine = await backends.sendDlqMessage('standard', records);
    await listUntilFound('standard', '&q=foreign-1');
    const [, partition, region, account] = /^arn:([\w-]+):dynamodb:([\w-]*):(\d*):/.exec(
      genuine.DDBStreamBatchInfo.streamArn,
    ) as RegExpExecArray;
    const otherAccount = account === '111122223333' ? '444455556666' : '111122223333';
    const forged = {
      otherAccountStream: {
        ...genuine,
        DDBStreamBatchInfo: {
          ...genuine.DDBStreamBatchInfo,
          streamArn: genuine.DDBStreamBatchInfo.streamArn.replace(`:${account}:`, `:${otherAccount}:`),
        },
      },
      otherPipe: {
        ...genuine,
        context: { ...genuine.context, partnerResourceArn: `arn:${partition}:pipes:us-east-1:${account}:pipe/evil` },
      },
      premiumPipe: {
        ...genuine,
        context: {
          ...genuine.context,
          partnerResourceArn: `arn:${partition}:pipes:us-east-1:${account}:pipe/${backends.info.resources.pipes.premium.name}`,
        },
      },
    };
    expect(region).toBeTruthy();
    for (const body of Object.values(forged)) await backends.sendRawDlqMessage('standard', JSON.stringify(body));
    const bodies = new Map<string, string>();
    const malformed = await until(
      async () => {
        const found = (await listAll('standard')).filter((m) => m.malformed?.includes('this stack'));
        return found.length >= 3 && found;
      },
      'the three forged messages listed as malformed',
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(malformed).toHaveLength(3);
    for (const message of malformed) {
      expect(message).toMatchObject({ batch: null, records: [] });
      const detail = (
        await app.inject({ method: 'GET', url: `/api/dlqs/standard/messages/${message.id}`, headers: viewer })
      ).json() as DlqMessageDetail;
      bodies.set(message.id, detail.body);
      expect(detail.records).toEqual([]);
    }
    const reasons = malformed.map((m) => m.malformed).join('\n');
    expect(reasons).toContain(`is not a stream of this stack's orders table`);
    expect(reasons).toContain(`pipe/evil is not this stack's standard pipe`);
    expect(reasons).toContain(`pipe/${backends.info.resources.pipes.premium.name} is not this stack's standard pipe`);

    const before = applied.length;
    const start = await app.inject({
      method: 'POST',
      url: '/api/dlqs/standard/redrive',
      headers: operator,
      payload: { messageIds: malformed.map((m) => m.id), ratePerSecond: 50 },
    });
    const job = await waitForJob(start.json().jobId);
    expect(job.results.map((r) => r.outcome)).toEqual(['kept', 'kept', 'kept']);
    for (const result of job.results) expect(result.reason).toContain('discard it instead');
    expect(applied.length).toBe(before);
    for (const message of malformed) {
      await app.inject({
        method: 'DELETE',
        url: `/api/dlqs/standard/messages/${message.id}`,
        headers: operator,
        payload: { reason: 'forged by the test' },
      });
    }
    const genuineMessage = (await listAll('standard', '&q=foreign-1'))[0] as DlqMessage;
    expect(genuineMessage.malformed).toBeNull();
    await app.inject({
      method: 'DELETE',
      url: `/api/dlqs/standard/messages/${genuineMessage.id}`,
      headers: operator,
      payload: { reason: 'test cleanup' },
    });
  });

  it('discards with a required reason, audited; cancels jobs; lists the audit', async () => {
    const malformed = (await listAll('standard')).find((m) => m.malformed) as DlqMessage;
    const noReason = await app.inject({
      method: 'DELETE',
      url: `/api/dlqs/standard/messages/${malformed.id}`,
      headers: operator,
      payload: {},
    });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().message).toContain('reason');
    const discard = await app.inject({
      method: 'DELETE',
      url: `/api/dlqs/standard/messages/${malformed.id}`,
      headers: operator,
      payload: { reason: 'test message, not a real batch' },
    });
    expect(discard.statusCode).toBe(200);
    expect(discard.json()).toMatchObject({ discarded: true, id: malformed.id });
    const again = await app.inject({
      method: 'DELETE',
      url: `/api/dlqs/standard/messages/${malformed.id}`,
      headers: operator,
      payload: { reason: 'test message, not a real batch' },
    });
    expect(again.statusCode).toBe(404);

    const slow = await app.inject({
      method: 'POST',
      url: '/api/dlqs/standard/redrive',
      headers: operator,
      payload: { all: true, dryRun: true, ratePerSecond: 1 },
    });
    const cancel = await app.inject({ method: 'DELETE', url: `/api/redrives/${slow.json().jobId}`, headers: operator });
    expect(cancel.statusCode).toBe(200);
    expect((await waitForJob(slow.json().jobId)).status).toBe('cancelled');

    const audit = await app.inject({ method: 'GET', url: '/api/audit?actor=local-operator', headers: viewer });
    const entries = audit.json().entries as {
      action: string;
      outcome: string;
      detail: string | null;
      messageIds: string[];
    }[];
    expect(entries.find((entry) => entry.action === 'discard' && entry.outcome === 'discarded')).toMatchObject({
      detail: 'test message, not a real batch',
      messageIds: [malformed.id],
    });
    expect(entries.some((entry) => entry.action === 'redrive' && entry.outcome === 'partially-succeeded')).toBe(true);
    expect(entries.some((entry) => entry.action === 'redrive-cancel')).toBe(true);
  });
});
