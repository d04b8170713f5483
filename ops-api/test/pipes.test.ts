import { createServer, type Server } from 'node:http';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { LOGICAL_IDS, PIPE_KEYS, PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import type { RuntimeInfo, StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipesApi } from '../../local/src/pipes/api.ts';
import { CheckpointStore } from '../../local/src/pipes/checkpoints.ts';
import { PipeEmulator } from '../../local/src/pipes/pipe-emulator.ts';
import { StreamsApi } from '../../local/src/pipes/streams-api.ts';
import { freePort } from '../../local/src/services/ports.ts';
import { buildApp } from '../src/app.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import type { AuditEntry, PipesResponse } from '../src/schemas/index.ts';
import { type Backends, startBackends } from './helpers/backends.ts';

/**
 * Pausing and resuming a pipe from the ops API: StopPipe and StartPipe through `@aws-sdk/client-pipes` against the
 * local runtime's Pipes API over real pipe emulators reading the orders stream of DynamoDB Local; audited before the
 * call and after, operators only. (The ops API role's grants for these calls: local/test/pipes-api-runtime.test.ts.)
 */
let backends: Backends;
let app: FastifyInstance;
let pipesServer: Server;
const emulators = {} as Record<PipeKey, PipeEmulator>;
const delivered: Record<PipeKey, string[]> = { standard: [], premium: [] };
/** While set, the standard pipe's invocations wait for it. */
let hold: Promise<void> | undefined;
let seq = 0;

const headers = (role: 'operator' | 'viewer') => ({ authorization: `Bearer ${backends.info.tokens[role]}` });
const order = (prefix: string) => {
  seq += 1;
  return {
    orderId: `${prefix}-${seq}`,
    customerEmail: 'ada@example.com',
    orderAmount: 250,
    orderStatus: 'pending',
    orderDate: '2026-11-24T10:00:00Z',
  };
};
const pipesNow = async () =>
  (await app.inject({ method: 'GET', url: '/api/pipes', headers: headers('viewer') })).json() as PipesResponse;
const stateOf = async (pipe: PipeKey) => (await pipesNow()).pipes.find((p) => p.key === pipe)?.state?.current;
const audit = async () =>
  (await app.inject({ method: 'GET', url: '/api/audit', headers: headers('operator') })).json().entries as AuditEntry[];
const control = (
  pipe: PipeKey,
  change: 'stop' | 'start',
  role: 'operator' | 'viewer',
  reason = 'the processor fails',
) => app.inject({ method: 'POST', url: `/api/pipes/${pipe}/${change}`, headers: headers(role), payload: { reason } });

beforeAll(async () => {
  backends = await startBackends();
  const table = await backends.dynamodb.send(new DescribeTableCommand({ TableName: LOGICAL_IDS.ordersTable }));
  const streamArn = table.Table?.LatestStreamArn ?? '';
  const api = new PipesApi();
  for (const key of PIPE_KEYS) {
    const { name, function: functionName } = backends.info.resources.pipes[key];
    emulators[key] = new PipeEmulator({
      name,
      streamArn,
      streams: new StreamsApi(backends.info.endpoints.dynamodb, 'us-east-1'),
      settings: PIPES[key].source,
      filters: [],
      target: async (batch: StreamRecord[]) => {
        if (key === 'standard') await hold;
        delivered[key].push(...batch.map((record) => String(record.dynamodb.Keys.orderId?.S)));
        return { kind: 'response', payload: { batchItemFailures: [] } };
      },
      checkpoints: new CheckpointStore(undefined),
      publish: () => undefined,
      region: 'us-east-1',
      account: '000000000000',
      pollIntervalMs: 20,
    });
    api.add(emulators[key], {
      logicalId: PIPES[key].pipeId,
      Name: name,
      Source: streamArn,
      Target: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
      RoleArn: 'arn:aws:iam::000000000000:role/PipeRole',
    });
    await emulators[key].start();
  }
  pipesServer = createServer((request, response) => void api.handle(request, response));
  const port = await freePort();
  await new Promise<void>((resolve) => pipesServer.listen(port, '127.0.0.1', resolve));
  const info: RuntimeInfo = {
    ...backends.info,
    endpoints: { ...backends.info.endpoints, pipes: `http://127.0.0.1:${port}` },
  };
  app = await buildApp(configFromRuntimeInfo(info, { rateLimitPerMinute: 1_000_000 }), { server: { logger: false } });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await Promise.all(Object.values(emulators).map((emulator) => emulator.stop()));
  pipesServer?.closeAllConnections();
  await new Promise((resolve) => pipesServer?.close(resolve));
  await backends?.stop();
});

describe('pausing and resuming a pipe from the ops API', () => {
  it("GET /api/pipes shows each pipe's state as DescribePipe reports it", async () => {
    const { pipes } = await pipesNow();
    for (const pipe of pipes) {
      expect(pipe.state).toMatchObject({ desired: 'RUNNING', current: 'RUNNING', reason: null });
      expect(Date.parse(pipe.state?.lastModified ?? '')).not.toBeNaN();
      expect(pipe.stateError).toBeNull();
    }
  });

  it('an operator pauses the standard pipe (audited before and after); what is written meanwhile is processed once it resumes', async () => {
    const before = order('before');
    await backends.writeOrders([before]);
    await until(() => delivered.standard.includes(before.orderId), 'the running pipe processing');

    const stopped = await control('standard', 'stop', 'operator');
    expect(stopped.statusCode).toBe(200);
    expect(stopped.json()).toMatchObject({
      pipe: 'standard',
      pipeName: backends.info.resources.pipes.standard.name,
      state: { desired: 'STOPPED', current: 'STOPPING' },
    });
    const [outcome, attempted] = await audit();
    expect(attempted).toMatchObject({
      action: 'pipe-stop',
      pipe: 'standard',
      actor: 'local-operator',
      role: 'operator',
      outcome: 'attempted',
      detail: 'the processor fails',
    });
    expect(outcome).toMatchObject({ action: 'pipe-stop', outcome: 'stopping', id: stopped.json().auditId });
    await until(async () => (await stateOf('standard')) === 'STOPPED', 'the standard pipe STOPPED');

    const meanwhile = order('meanwhile');
    await backends.writeOrders([meanwhile]);
    // The premium pipe reads the same stream and still runs: the record is there to be read.
    await until(() => delivered.premium.includes(meanwhile.orderId), 'the premium pipe reading the record');
    expect(delivered.standard).not.toContain(meanwhile.orderId);

    const started = await control('standard', 'start', 'operator', 'processor fixed');
    expect(started.json()).toMatchObject({ state: { desired: 'RUNNING', current: 'STARTING' } });
    expect((await audit())[0]).toMatchObject({ action: 'pipe-start', outcome: 'starting', detail: 'processor fixed' });
    await until(() => delivered.standard.includes(meanwhile.orderId), 'the resumed pipe processing the record');
    await until(async () => (await stateOf('standard')) === 'RUNNING', 'RUNNING');
    const after = order('after');
    await backends.writeOrders([after]);
    await until(() => delivered.standard.includes(after.orderId), 'the next order');
    expect(delivered.standard.filter((id) => id === meanwhile.orderId)).toHaveLength(1);
    expect(delivered.standard.filter((id) => id === before.orderId)).toHaveLength(1);
  });

  it('refuses a viewer (403, nothing audited, the pipe unchanged) and a change without a reason (400)', async () => {
    const entries = (await audit()).length;
    const refused = await control('premium', 'stop', 'viewer');
    expect(refused.statusCode).toBe(403);
    expect(await audit()).toHaveLength(entries);
    expect(emulators.premium.desiredState).toBe('RUNNING');
    const bare = await app.inject({
      method: 'POST',
      url: '/api/pipes/premium/stop',
      headers: headers('operator'),
      payload: {},
    });
    expect(bare.statusCode).toBe(400);
    expect(bare.json().message).toMatch(/body\.reason/);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/pipes/other/stop',
          headers: headers('operator'),
          payload: { reason: 'why not' },
        })
      ).statusCode,
    ).toBe(400);
    expect(emulators.premium.desiredState).toBe('RUNNING');
  });

  it("answers 409 when Pipes refuses the change (StartPipe while STOPPING), and audits it as failed with Pipes' answer", async () => {
    let release: () => void = () => undefined;
    hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      const held = order('held');
      await backends.writeOrders([held]);
      await until(() => delivered.premium.includes(held.orderId), 'the record in the stream');
      expect((await control('standard', 'stop', 'operator')).json().state.current).toBe('STOPPING');
      const conflict = await control('standard', 'start', 'operator', 'too soon');
      expect(conflict.statusCode).toBe(409);
      expect(conflict.json().message).toMatch(/cannot start now: Pipe .* is STOPPING/);
      const [failed, attempted] = await audit();
      expect(attempted).toMatchObject({ action: 'pipe-start', outcome: 'attempted', detail: 'too soon' });
      expect(failed).toMatchObject({ action: 'pipe-start', outcome: 'failed' });
      expect(failed?.detail).toMatch(/^too soon \(EventBridge Pipes answered ConflictException: /);
    } finally {
      release();
      hold = undefined;
    }
    await until(async () => (await stateOf('standard')) === 'STOPPED', 'STOPPED');
    expect((await control('standard', 'start', 'operator')).statusCode).toBe(200);
    await until(async () => (await stateOf('standard')) === 'RUNNING', 'RUNNING');
  });

  it('shows why a state cannot be read, and answers 404 for a pipe Pipes does not know', async () => {
    const info: RuntimeInfo = {
      ...backends.info,
      endpoints: {
        ...backends.info.endpoints,
        pipes: `http://127.0.0.1:${(pipesServer.address() as { port: number }).port}`,
      },
      resources: {
        ...backends.info.resources,
        pipes: {
          ...backends.info.resources.pipes,
          premium: { ...backends.info.resources.pipes.premium, name: 'gone' },
        },
      },
    };
    const other = await buildApp(configFromRuntimeInfo(info), { server: { logger: false } });
    try {
      const { pipes } = (
        await other.inject({ method: 'GET', url: '/api/pipes', headers: headers('viewer') })
      ).json() as PipesResponse;
      expect(pipes.find((p) => p.key === 'standard')?.state?.current).toBe('RUNNING');
      expect(pipes.find((p) => p.key === 'premium')).toMatchObject({
        state: null,
        stateError: 'NotFoundException: Pipe gone does not exist.',
      });
      const missing = await other.inject({
        method: 'POST',
        url: '/api/pipes/premium/stop',
        headers: headers('operator'),
        payload: { reason: 'not there' },
      });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().message).toBe('pipe gone does not exist in EventBridge Pipes: Pipe gone does not exist.');
    } finally {
      await other.close();
    }
  });
});
