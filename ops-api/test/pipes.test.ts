import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PipeKey } from '@orderflow/pipeline/facts';
import type { RuntimeInfo } from '@orderflow/pipeline/schemas';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import type { AuditEntry, PipesResponse } from '../src/schemas/index.ts';
import { type Backends, startBackends } from './helpers/backends.ts';

/**
 * Pausing and resuming a pipe from the ops API: StopPipe, StartPipe and DescribePipe sent by `@aws-sdk/client-pipes`
 * to a stand-in of the Pipes API (REST JSON as the service model and the API reference define it), audited before
 * the call and after, operators only. The local runtime's Pipes API over the real pipe emulators, and the ops API's
 * grants for these calls: local/test/pipes-api*.test.ts; the whole path from the console: e2e/tests/pipe-pause.spec.ts.
 */
interface StandInPipe {
  DesiredState: 'RUNNING' | 'STOPPED';
  CurrentState: string;
  StateReason?: string;
  LastModifiedTime: number;
}

let backends: Backends;
let app: FastifyInstance;
let standIn: Server;
const pipes = new Map<string, StandInPipe>();
/** The requests the stand-in served: operation, pipe name, the service the request was signed for. */
const served: { operation: string; name: string; service: string | undefined }[] = [];
/** Called as the stand-in receives a StopPipe or StartPipe, before it answers. */
let onChange: (operation: string) => Promise<void> = async () => undefined;

const headers = (role: 'operator' | 'viewer') => ({ authorization: `Bearer ${backends.info.tokens[role]}` });
const audit = async () =>
  (await app.inject({ method: 'GET', url: '/api/audit', headers: headers('operator') })).json().entries as AuditEntry[];
const pipeChanges = async () => (await audit()).filter((e) => e.action === 'pipe-stop' || e.action === 'pipe-start');
const control = (pipe: string, change: 'stop' | 'start', role: 'operator' | 'viewer', reason = 'the processor fails') =>
  app.inject({ method: 'POST', url: `/api/pipes/${pipe}/${change}`, headers: headers(role), payload: { reason } });
const nameOf = (pipe: PipeKey) => backends.info.resources.pipes[pipe].name;

function send(response: import('node:http').ServerResponse, status: number, body: unknown, errorType?: string) {
  response.writeHead(status, {
    'content-type': 'application/json',
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(JSON.stringify(body));
}

/** The Pipes API's answers for DescribePipe, StopPipe and StartPipe (https://docs.aws.amazon.com/eventbridge/latest/pipes-reference/). */
async function startStandIn(): Promise<Server> {
  const server = createServer(async (request, response) => {
    for await (const _ of request);
    const match = /^\/v1\/pipes\/([^/]+)(?:\/(stop|start))?$/.exec(request.url ?? '');
    const name = decodeURIComponent(match?.[1] ?? '');
    const change = match?.[2];
    const operation = change ? (change === 'stop' ? 'StopPipe' : 'StartPipe') : 'DescribePipe';
    const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(request.headers.authorization ?? '')?.[1];
    served.push({ operation, name, service });
    const pipe = pipes.get(name);
    if (!match || (change ? request.method !== 'POST' : request.method !== 'GET'))
      return send(response, 404, { message: 'unknown operation' }, 'UnknownOperationException');
    if (!pipe) return send(response, 404, { message: `Pipe ${name} does not exist.` }, 'NotFoundException');
    const shape = () => ({
      Arn: `arn:aws:pipes:us-east-1:000000000000:pipe/${name}`,
      Name: name,
      DesiredState: pipe.DesiredState,
      CurrentState: pipe.CurrentState,
      CreationTime: 1_796_000_000,
      LastModifiedTime: pipe.LastModifiedTime,
    });
    if (!change)
      return send(response, 200, { ...shape(), ...(pipe.StateReason ? { StateReason: pipe.StateReason } : {}) });
    await onChange(operation);
    if (change === 'start' && pipe.CurrentState === 'STOPPING')
      return send(
        response,
        409,
        { message: `Pipe ${name} is STOPPING.`, resourceId: name, resourceType: 'pipe' },
        'ConflictException',
      );
    const settled = change === 'stop' ? 'STOPPED' : 'RUNNING';
    pipe.DesiredState = settled;
    if (pipe.CurrentState !== settled) pipe.CurrentState = change === 'stop' ? 'STOPPING' : 'STARTING';
    pipe.LastModifiedTime = Date.now() / 1000;
    return send(response, 200, shape());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

beforeAll(async () => {
  backends = await startBackends();
  standIn = await startStandIn();
  const endpoint = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
  const info: RuntimeInfo = { ...backends.info, endpoints: { ...backends.info.endpoints, pipes: endpoint } };
  app = await buildApp(configFromRuntimeInfo(info, { rateLimitPerMinute: 1_000_000 }), { server: { logger: false } });
}, 120_000);

afterAll(async () => {
  await app?.close();
  standIn?.closeAllConnections();
  await new Promise((resolve) => standIn?.close(resolve));
  await backends?.stop();
});

beforeEach(() => {
  for (const pipe of ['standard', 'premium'] as const)
    pipes.set(nameOf(pipe), { DesiredState: 'RUNNING', CurrentState: 'RUNNING', LastModifiedTime: 1_796_000_000 });
  onChange = async () => undefined;
});

describe('pausing and resuming a pipe from the ops API', () => {
  it("GET /api/pipes adds each pipe's state as DescribePipe answers it, signed for the pipes service", async () => {
    pipes.set(nameOf('premium'), {
      DesiredState: 'RUNNING',
      CurrentState: 'START_FAILED',
      StateReason: 'role cannot read the stream',
      LastModifiedTime: 1_796_000_100,
    });
    const answer = await app.inject({ method: 'GET', url: '/api/pipes', headers: headers('viewer') });
    expect(answer.statusCode).toBe(200);
    const byKey = Object.fromEntries((answer.json() as PipesResponse).pipes.map((p) => [p.key, p]));
    expect(byKey.standard).toMatchObject({
      pipeName: nameOf('standard'),
      state: { desired: 'RUNNING', current: 'RUNNING', reason: null, lastModified: '2026-11-30T00:53:20.000Z' },
      stateError: null,
    });
    expect(byKey.premium?.state).toMatchObject({ current: 'START_FAILED', reason: 'role cannot read the stream' });
    expect(served.at(-1)).toMatchObject({ operation: 'DescribePipe', service: 'pipes' });
  });

  it('an operator pauses and resumes: the reason is audited before the call, then the state Pipes answered', async () => {
    const before = (await pipeChanges()).length;
    let auditedFirst: AuditEntry | undefined;
    onChange = async () => {
      auditedFirst = (await pipeChanges())[0];
    };
    const stopped = await control('standard', 'stop', 'operator', 'processor keeps failing');
    expect(stopped.statusCode).toBe(200);
    expect(stopped.json()).toMatchObject({
      pipe: 'standard',
      pipeName: nameOf('standard'),
      state: { desired: 'STOPPED', current: 'STOPPING' },
    });
    // When StopPipe arrived, its `attempted` entry was already written.
    expect(auditedFirst).toMatchObject({
      action: 'pipe-stop',
      pipe: 'standard',
      actor: 'local-operator',
      role: 'operator',
      outcome: 'attempted',
      detail: 'processor keeps failing',
      messageIds: [],
    });
    const afterStop = await pipeChanges();
    expect(afterStop.length).toBe(before + 2);
    const outcome = afterStop.find((e) => e.outcome !== 'attempted');
    expect(outcome).toMatchObject({ action: 'pipe-stop', outcome: 'stopping', id: stopped.json().auditId });

    pipes.set(nameOf('standard'), {
      DesiredState: 'STOPPED',
      CurrentState: 'STOPPED',
      LastModifiedTime: 1_796_000_200,
    });
    const started = await control('standard', 'start', 'operator', 'fixed');
    expect(started.json()).toMatchObject({ state: { desired: 'RUNNING', current: 'STARTING' } });
    expect(
      (await pipeChanges())
        .filter((e) => e.action === 'pipe-start')
        .map((e) => e.outcome)
        .sort(),
    ).toEqual(['attempted', 'starting']);
  });

  it('refuses a viewer (403: no call, no audit entry) and a change without a reason or for another pipe (400)', async () => {
    const before = { audit: (await pipeChanges()).length, calls: served.length };
    expect((await control('premium', 'stop', 'viewer')).statusCode).toBe(403);
    const bare = await app.inject({
      method: 'POST',
      url: '/api/pipes/premium/stop',
      headers: headers('operator'),
      payload: {},
    });
    expect(bare.statusCode).toBe(400);
    expect(bare.json().message).toMatch(/body\.reason/);
    expect((await control('premium', 'stop', 'operator', 'no')).statusCode).toBe(400);
    expect((await control('other', 'stop', 'operator')).statusCode).toBe(400);
    expect((await pipeChanges()).length).toBe(before.audit);
    expect(served.length).toBe(before.calls);
    expect(pipes.get(nameOf('premium'))?.DesiredState).toBe('RUNNING');
  });

  it("answers 409 when Pipes refuses the change (StartPipe while STOPPING) and audits it as failed with Pipes' answer", async () => {
    pipes.set(nameOf('standard'), {
      DesiredState: 'STOPPED',
      CurrentState: 'STOPPING',
      LastModifiedTime: 1_796_000_300,
    });
    const conflict = await control('standard', 'start', 'operator', 'too soon');
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().message).toBe(
      `pipe ${nameOf('standard')} cannot start now: Pipe ${nameOf('standard')} is STOPPING.`,
    );
    const [failed, attempted] = (await pipeChanges()).filter((e) => e.detail?.startsWith('too soon'));
    expect([failed?.outcome, attempted?.outcome].sort()).toEqual(['attempted', 'failed']);
    const failure = failed?.outcome === 'failed' ? failed : attempted;
    expect(failure?.detail).toBe(
      `too soon (EventBridge Pipes answered ConflictException: Pipe ${nameOf('standard')} is STOPPING.)`,
    );
  });

  it('shows why a state cannot be read, and answers 404 for a pipe Pipes does not know', async () => {
    pipes.delete(nameOf('premium'));
    const { pipes: summaries } = (
      await app.inject({ method: 'GET', url: '/api/pipes', headers: headers('viewer') })
    ).json() as PipesResponse;
    expect(summaries.find((p) => p.key === 'standard')?.state?.current).toBe('RUNNING');
    expect(summaries.find((p) => p.key === 'premium')).toMatchObject({
      state: null,
      stateError: `NotFoundException: Pipe ${nameOf('premium')} does not exist.`,
    });
    const missing = await control('premium', 'stop', 'operator', 'not there');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toBe(
      `pipe ${nameOf('premium')} does not exist in EventBridge Pipes: Pipe ${nameOf('premium')} does not exist.`,
    );
  });
});
