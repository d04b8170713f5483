import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricStore } from '../src/cloudwatch/metric-store.ts';
import { LambdaService } from '../src/lambda/lambda-service.ts';
import { type LambdaServer, startLambdaServer } from '../src/lambda/server.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { freePort } from '../src/services/ports.ts';
import { total } from './helpers.ts';

const codeDir = fileURLToPath(new URL('./fixtures/template/asset.abc123', import.meta.url));
const store = new MetricStore();
const logs: string[] = [];
let service: LambdaService;
let server: LambdaServer;
let client: LambdaClient;
/** Stand-ins for the SQS and DynamoDB endpoints a function is given, to see which calls a `downstream` fault breaks. */
const dependencies: Server[] = [];

const listen = async (): Promise<string> => {
  const dependency = createServer((_, response) => response.end('ok'));
  dependencies.push(dependency);
  await new Promise<void>((resolve) => dependency.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(dependency.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  const [sqsEndpoint, dynamodbEndpoint] = [await listen(), await listen()];
  service = new LambdaService(
    [
      {
        name: 'Echo',
        codeDir,
        handler: 'index.handler',
        timeoutSeconds: 1,
        memoryMb: 128,
        environment: { CUSTOM_SETTING: 'from-template' },
      },
    ],
    {
      region: 'us-east-1',
      account: '000000000000',
      baseEnvironment: {
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_SQS: sqsEndpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
      },
      publish: (metrics) => {
        for (const m of metrics) store.put(m);
      },
      log: (_, line) => logs.push(line),
      random: () => 0.5,
    },
  );
  server = await startLambdaServer(service, await freePort());
  client = new LambdaClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
  await service?.stop();
  for (const dependency of dependencies) dependency.close();
});

const invoke = async (payload: unknown) => {
  const result = await client.send(new InvokeCommand({ FunctionName: 'Echo', Payload: JSON.stringify(payload) }));
  return { error: result.FunctionError, body: JSON.parse(Buffer.from(result.Payload ?? []).toString() || 'null') };
};

describe('Lambda endpoint, called by @aws-sdk/client-lambda', () => {
  it('runs the handler with the template environment and a Lambda-like context', async () => {
    const { error, body } = await invoke({ hello: 'world' });
    expect(error).toBeUndefined();
    expect(body).toMatchObject({
      echo: { hello: 'world' },
      functionName: 'Echo',
      region: 'us-east-1',
      custom: 'from-template',
    });
    expect(body.remainingMs).toBeGreaterThan(500);
    expect(body.remainingMs).toBeLessThanOrEqual(1000);
  });

  it('answers a function error as Lambda does: 200, FunctionError Unhandled, the error as payload', async () => {
    const { error, body } = await invoke({ action: 'throw', value: 7 });
    expect(error).toBe('Unhandled');
    expect(body).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad input 7' });
  });

  it('enforces the timeout, then starts a fresh environment', async () => {
    const { error, body } = await invoke({ action: 'sleep', ms: 5000 });
    expect(error).toBe('Unhandled');
    expect(body.errorMessage).toMatch(/Task timed out after 1.00 seconds/);
    expect((await invoke({ after: 'timeout' })).error).toBeUndefined();
  });

  it('captures the log and turns EMF lines into metrics, and publishes AWS/Lambda metrics', async () => {
    await invoke({ action: 'emf' });
    // The function's output reaches the log and the metric store after its answer: wait for the EMF line's metric.
    await until(() => total(store, 'Orderflow', 'RecordsProcessed', { Pipe: 'standard' }) === 3, 'the EMF metric');
    expect(logs.some((line) => line.startsWith('handled '))).toBe(true);
    expect(logs.some((line) => line.startsWith('REPORT RequestId:'))).toBe(true);
    expect(total(store, 'AWS/Lambda', 'Errors', { FunctionName: 'Echo' })).toBe(2);
    expect(total(store, 'AWS/Lambda', 'Invocations', { FunctionName: 'Echo' })).toBe(5);
  });

  it('injects and clears faults over HTTP', async () => {
    const url = `${server.endpoint}/_local/faults/Echo`;
    const put = await fetch(url, { method: 'PUT', body: JSON.stringify({ failureRate: 1, mode: 'throw' }) });
    expect(put.status).toBe(200);
    expect((await invoke({})).body.errorType).toBe('InjectedFault');
    const partial = await fetch(url, { method: 'PUT', body: JSON.stringify({ failureRate: 0.6, mode: 'partial' }) });
    expect(partial.status).toBe(200);
    // random() is 0.5 < 0.6, so every record of the batch is reported failed and withheld from the handler.
    expect((await invoke([{ eventID: 'e1' }, { eventID: 'e2' }])).body).toEqual({
      batchItemFailures: [{ itemIdentifier: 'e1' }, { itemIdentifier: 'e2' }],
    });
    await fetch(url, { method: 'DELETE' });
    // A call without the fault first, so that the fault must also stop a request on a kept-alive socket.
    expect((await invoke({ action: 'call' })).body).toEqual({ sqs: 200, dynamodb: 200 });
    const downstream = await fetch(url, {
      method: 'PUT',
      body: JSON.stringify({ failureRate: 0.6, mode: 'downstream' }),
    });
    expect(downstream.status).toBe(200);
    // The handler runs; only its calls to the SQS endpoint fail, before connecting, as in an SQS outage.
    const { error, body } = await invoke({ action: 'call' });
    expect(error).toBeUndefined();
    expect(body.sqs).toMatch(
      /^ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(fault injected by the local runtime/,
    );
    expect(body.dynamodb).toBe(200);
    const unknownMode = await fetch(url, { method: 'PUT', body: JSON.stringify({ failureRate: 1, mode: 'crash' }) });
    expect(unknownMode.status).toBe(400);
    expect(await unknownMode.text()).toContain('mode for Echo must be throw, timeout, partial, downstream, got crash');
    const bad = await fetch(url, { method: 'PUT', body: JSON.stringify({ failureRate: 2, mode: 'throw' }) });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('failureRate for Echo must be between 0 and 1');
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(204);
    expect((await invoke({ ok: true })).error).toBeUndefined();
    expect((await invoke({ action: 'call' })).body).toEqual({ sqs: 200, dynamodb: 200 });
  });

  it('reports an unknown function as ResourceNotFoundException', async () => {
    await expect(client.send(new InvokeCommand({ FunctionName: 'Nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
