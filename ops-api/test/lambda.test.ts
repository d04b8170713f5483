import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { JOBS_KEYS } from '@orderflow/pipeline/facts';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { type AwsClients, createAwsClients } from '../src/clients.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import { type LambdaContextLike, lambdaHandler } from '../src/lambda-handler.ts';
import type { RedriveJob } from '../src/schemas/index.ts';
import { RUN_STOP_MARGIN_MS } from '../src/services/redrive.ts';
import { type Backends, startBackends } from './helpers/backends.ts';
import { aroundEachCall } from './helpers/sdk-calls.ts';

/**
 * The ops API as its Lambda function runs it: API Gateway HTTP API events (payload 2.0) through the handler of
 * `src/lambda.ts`, and the redrive job run by an asynchronous invocation of the function itself. Real AWS cannot run
 * here, so the self-invocation is recorded (the Lambda client answers it as Lambda does, 202, without running it) and
 * the test then runs the handler with the recorded payload, as Lambda would, against DynamoDB Local and fauxqs.
 */
const SELF = 'Orderflow-OpsApiFunction';
let backends: Backends;
let clients: AwsClients;
let app: FastifyInstance;
let handler: ReturnType<typeof lambdaHandler>;
/** Asynchronous invocations of the ops API function the API asked Lambda for. */
const selfInvocations: { InvocationType?: unknown; Payload: unknown }[] = [];
/** Processor invocations (synchronous, through the backends' Lambda stand-in). */
let processorInvocations = 0;
let applied: string[] = [];
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

function context(remainingMs: number): LambdaContextLike {
  const deadline = Date.now() + remainingMs;
  return { awsRequestId: `request-${++seq}`, getRemainingTimeInMillis: () => deadline - Date.now() };
}

/** An API Gateway HTTP API event, payload format 2.0, as the stack's HttpApi sends it to the function. */
function httpEvent(method: string, path: string, body?: unknown) {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {
      authorization: `Bearer ${backends.info.tokens.operator}`,
      'content-type': 'application/json',
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      'x-forwarded-for': '203.0.113.9, 198.51.100.7',
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'test' },
      requestId: `req-${now}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
  };
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

async function dlqOf(count: number, prefix: string): Promise<StreamRecord[]> {
  const records = await backends.writeOrders(Array.from({ length: count }, () => order(prefix)));
  for (const record of records) await backends.sendDlqMessage('standard', [record]);
  return records;
}

async function http(method: string, path: string, body?: unknown): Promise<{ statusCode: number; body: string }> {
  return (await handler(httpEvent(method, path, body), context(29_000))) as { statusCode: number; body: string };
}

async function jobOf(jobId: string): Promise<RedriveJob> {
  const answer = await http('GET', `/api/redrives/${jobId}`);
  expect(answer.statusCode).toBe(200);
  return JSON.parse(answer.body) as RedriveJob;
}

/** POSTs a redrive through the handler; answers the job id and the payload the API sent to its own function. */
async function startRedrive(body: Record<string, unknown>): Promise<{ jobId: string; payload: unknown }> {
  const before = selfInvocations.length;
  const started = Date.now();
  const answer = await http('POST', '/api/dlqs/standard/redrive', body);
  expect(answer.statusCode, answer.body).toBe(202);
  // At once: the request does not wait for the job (an HTTP API gives up after 30 s).
  expect(Date.now() - started).toBeLessThan(2000);
  const { jobId } = JSON.parse(answer.body) as { jobId: string };
  expect(selfInvocations).toHaveLength(before + 1);
  const invocation = selfInvocations.at(-1);
  expect(invocation?.InvocationType).toBe('Event');
  return { jobId, payload: invocation?.Payload };
}

beforeAll(async () => {
  backends = await startBackends();
  const config = {
    ...configFromRuntimeInfo(backends.info, { rateLimitPerMinute: 1_000_000, viewMinIntervalMs: 0 }),
    jobExecution: 'lambda-event' as const,
    selfFunctionName: SELF,
  };
  clients = createAwsClients(config);
  aroundEachCall(clients.lambda as never, 'recordSelfInvocations', async (name, input, send) => {
    if (name === 'Invoke' && input.FunctionName === SELF) {
      selfInvocations.push({
        InvocationType: input.InvocationType,
        Payload: JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array)),
      });
      return { output: { StatusCode: 202, $metadata: { httpStatusCode: 202 } }, response: {} };
    }
    if (name === 'Invoke') processorInvocations++;
    return send();
  });
  app = await buildApp(config, { clients });
  handler = lambdaHandler(app);
}, 120_000);

afterAll(async () => {
  await app?.close();
  clients?.destroy();
  await backends?.stop();
});

beforeEach(() => {
  processorInvocations = 0;
  applied = [];
  backends.setProcessor('standard', async (records: StreamRecord[]) => {
    for (const record of records) applied.push(record.eventID);
    return { batchItemFailures: [] };
  });
});

describe('redrive jobs on Lambda', () => {
  it('answers the POST with 202 at once and runs the job in its own asynchronous invocation', async () => {
    const records = await dlqOf(3, 'lambda');
    const { jobId, payload } = await startRedrive({ all: true, ratePerSecond: 100 });
    expect(payload).toEqual({ orderflowRedriveJob: { jobId } });
    // The request's invocation did nothing of the job: no processor call, no message claimed.
    expect(processorInvocations).toBe(0);
    expect(await dlqDepth()).toEqual({ visible: 3, hidden: 0 });
    expect((await jobOf(jobId)).status).toBe('running');

    // Lambda runs the queued event: the job runs to its end in that invocation.
    expect(await handler(payload, context(900_000))).toEqual({ ran: true });
    const job = await jobOf(jobId);
    expect(job.status).toBe('succeeded');
    expect(job.results.map((result) => result.outcome)).toEqual(['redriven', 'redriven', 'redriven']);
    expect(applied.sort()).toEqual(records.map((record) => record.eventID).sort());
    expect(await dlqDepth()).toEqual({ visible: 0, hidden: 0 });

    // Lambda may deliver an event twice, and retries: a second delivery of a finished job does nothing.
    expect(await handler(payload, context(900_000))).toEqual({ ran: false });
    expect(applied).toHaveLength(3);
  });

  it('does nothing for an event naming no stored job, and answers anything else as an HTTP request', async () => {
    expect(
      await handler({ orderflowRedriveJob: { jobId: '00000000-0000-4000-8000-000000000000' } }, context(900_000)),
    ).toEqual({ ran: false });
    // Not a job event (it says more than the job id), so handled as an HTTP event, which it is not either.
    const forged = (await handler(
      { orderflowRedriveJob: { jobId: 'x', pipe: 'standard', all: true } },
      context(900_000),
    )) as { statusCode: number };
    expect(forged.statusCode).toBeGreaterThanOrEqual(400);
    expect(processorInvocations).toBe(0);
  });

  it('stops a minute before the invocation ends: the job fails saying it ran out of time, the rest stays in the DLQ', async () => {
    backends.setProcessor('standard', async (records: StreamRecord[]) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const record of records) applied.push(record.eventID);
      return { batchItemFailures: [] };
    });
    const records = await dlqOf(20, 'deadline');
    const { jobId, payload } = await startRedrive({ all: true, ratePerSecond: 2 });
    // The invocation has just over the stop margin left: the job stops taking messages after about a second.
    expect(await handler(payload, context(RUN_STOP_MARGIN_MS + 1000))).toEqual({ ran: true });
    const job = await jobOf(jobId);
    expect(job.status).toBe('failed');
    expect(job.note).toContain('ran out of time');
    const redriven = job.results.filter((result) => result.outcome === 'redriven');
    expect(redriven.length).toBeGreaterThan(0);
    expect(redriven.length).toBeLessThan(records.length);
    // Nothing left hidden, nothing applied twice, every message not redriven still in the DLQ.
    expect(await dlqDepth()).toEqual({ visible: records.length - redriven.length, hidden: 0 });
    expect(new Set(applied).size).toBe(applied.length);
    expect(applied).toHaveLength(redriven.length);

    // The rest, by another redrive.
    backends.setProcessor('standard', async (batch: StreamRecord[]) => {
      for (const record of batch) applied.push(record.eventID);
      return { batchItemFailures: [] };
    });
    const rest = await startRedrive({ all: true, ratePerSecond: 100 });
    await handler(rest.payload, context(900_000));
    expect((await jobOf(rest.jobId)).status).toBe('succeeded');
    expect(applied.sort()).toEqual(records.map((record) => record.eventID).sort());
  });

  it('continues a job whose run died: a retried invocation takes it over and skips what was recorded', async () => {
    const records = await dlqOf(4, 'retry');
    const { jobId, payload } = await startRedrive({ all: true, ratePerSecond: 100 });
    // The run that dies: simulated by a runner that claimed the job and whose heartbeat stopped two minutes ago, with
    // one message already recorded (its checkpoint).
    const listed = await http('GET', '/api/dlqs/standard/messages');
    const ids = (JSON.parse(listed.body) as { messages: { id: string }[] }).messages.map((message) => message.id);
    expect(ids).toHaveLength(records.length);
    const recorded = {
      messageId: ids[0] as string,
      outcome: 'kept' as const,
      reason: 'recorded by the run that died',
      stale: false,
      records: [],
    };
    await clients.dynamodb.send(
      new UpdateCommand({
        TableName: backends.info.resources.jobsTable,
        Key: { [JOBS_KEYS.partitionKey]: `job#${jobId}` },
        UpdateExpression: 'SET runner = :runner, heartbeatAtMs = :old, #job.results = :results',
        ExpressionAttributeNames: { '#job': 'job' },
        ExpressionAttributeValues: {
          ':runner': 'lambda crashed-run',
          ':old': Date.now() - 120_000,
          ':results': [recorded],
        },
      }),
    );
    // How it reads while nobody runs it.
    expect((await jobOf(jobId)).note).toContain('the run of this job stopped');

    // Lambda's retry of the event takes the job over.
    expect(await handler(payload, context(900_000))).toEqual({ ran: true });
    const job = await jobOf(jobId);
    expect(job.status).toBe('partially-succeeded');
    expect(job.results[0]).toEqual(recorded);
    expect(job.results.filter((result) => result.outcome === 'redriven')).toHaveLength(records.length - 1);
    expect(job.results.map((result) => result.messageId).sort()).toEqual([...ids].sort());
    // The recorded message was not tried again: it is still in the DLQ, visible; the others were applied once.
    expect(await dlqDepth()).toEqual({ visible: 1, hidden: 0 });
    expect(applied).toHaveLength(records.length - 1);
    // The run that died cannot write over the job any more.
    expect(await app.ops.redrive.runJob(jobId, { runner: 'lambda crashed-run' })).toBe(false);
  });

  it('counts the rate limit in the jobs table, so that Lambda instances share one budget per principal', async () => {
    const limited = {
      ...configFromRuntimeInfo(backends.info, { rateLimitPerMinute: 5, rateLimitStore: 'table' }),
      jobExecution: 'lambda-event' as const,
      selfFunctionName: SELF,
    };
    // Two warm instances of the function: two processes, each with its own memory.
    const apps = [await buildApp(limited, { clients }), await buildApp(limited, { clients })];
    const instances = apps.map((instance) => lambdaHandler(instance));
    try {
      // The counters are per minute: start well inside one, so that all ten requests fall in the same window.
      await until(() => Date.now() % 60_000 < 50_000, 'a minute with ten seconds to go', 15_000);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const answer = (await (instances[i % 2] as typeof handler)(httpEvent('GET', '/api/me'), context(29_000))) as {
          statusCode: number;
        };
        statuses.push(answer.statusCode);
      }
      // Five per instance would pass an in-memory limit of five; shared, the sixth request of the principal is refused.
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
    } finally {
      await Promise.all(apps.map((instance) => instance.close()));
    }
  });
});
