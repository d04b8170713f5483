import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreatePipeCommand,
  DescribePipeCommand,
  ListPipesCommand,
  PipesClient,
  StartPipeCommand,
  StopPipeCommand,
} from '@aws-sdk/client-pipes';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenialLog } from '../src/gateway/denials.ts';
import { Enforcer } from '../src/gateway/enforcer.ts';
import { PrincipalDirectory } from '../src/gateway/principals.ts';
import { LambdaService } from '../src/lambda/lambda-service.ts';
import { type LambdaServer, startLambdaServer } from '../src/lambda/server.ts';
import { PipesApi } from '../src/pipes/api.ts';
import type { PipeDefinition } from '../src/pipes/api-definitions.ts';
import { pipesGate } from '../src/pipes/api-gate.ts';
import type { TargetOutcome } from '../src/pipes/pipe-emulator.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { freePort } from '../src/services/ports.ts';
import { fakeAuthorizer } from './fixtures/fake-authorizer.ts';
import { DynamoFixture, ok, orderIdOf, type PipeHarness, pipeOver, type TestTable } from './helpers.ts';

/**
 * The Pipes API over real pipe emulators reading DynamoDB Local streams, called with `@aws-sdk/client-pipes`: the
 * states and their transitions, the answers' shapes, the errors AWS's clients parse, and local IAM enforcement.
 * The same API in the runtime, with the template's pipes, the AWS CLI and boto3: pipes-api-runtime.test.ts.
 */
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const scope = { region: REGION, account: ACCOUNT };
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-pipes-api-'));
const arnOf = (name: string) => `arn:aws:pipes:${REGION}:${ACCOUNT}:pipe/${name}`;

const principals = new PrincipalDirectory(
  ['Operator', 'Lister'].map((logicalId) => ({
    logicalId,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/${logicalId}`,
    sessionName: logicalId.toLowerCase(),
  })),
);
const denials = new DenialLog(join(stateDir, 'denials.ndjson'));

let fixture: DynamoFixture;
let table: TestTable;
let watched: PipeHarness;
let witness: PipeHarness;
let server: LambdaServer;
let lambda: LambdaService;
const clients: PipesClient[] = [];
/** Order ids delivered per pipe, in order. */
const delivered = { watched: [] as string[], witness: [] as string[] };
/** While set, the watched pipe's target waits for it (an invocation in flight). */
let hold: Promise<void> | undefined;

const definition = (harness: PipeHarness, tableOf: TestTable): PipeDefinition => ({
  logicalId: harness.emulator.options.name,
  Name: harness.emulator.options.name,
  Description: 'test pipe',
  Source: tableOf.streamArn,
  SourceParameters: { DynamoDBStreamParameters: { StartingPosition: 'TRIM_HORIZON', BatchSize: 10 } },
  Target: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Target`,
  TargetParameters: { LambdaFunctionParameters: { InvocationType: 'REQUEST_RESPONSE' } },
  RoleArn: `arn:aws:iam::${ACCOUNT}:role/PipeRole`,
});

const deliverTo =
  (list: string[], held: boolean) =>
  async (batch: StreamRecord[]): Promise<TargetOutcome> => {
    if (held) await hold;
    list.push(...batch.map(orderIdOf));
    return ok;
  };

beforeAll(async () => {
  fixture = await DynamoFixture.start();
  table = await fixture.table();
  // Two pipes on one stream: the witness keeps reading while the watched pipe is stopped.
  watched = pipeOver(fixture, table, deliverTo(delivered.watched, true), { timing: { pollIntervalMs: 20 } });
  witness = pipeOver(fixture, table, deliverTo(delivered.witness, false), { timing: { pollIntervalMs: 20 } });
  // pipeOver names a pipe after its table; the witness reads the same table, so it is renamed (its ARN follows).
  Object.assign(witness.emulator.options, { name: `${watched.emulator.options.name}-witness` });
  const authorizer = fakeAuthorizer({
    Operator: ['DescribePipe', 'StartPipe', 'StopPipe'].map((action) => ({
      action: `pipes:${action}`,
      resource: arnOf(watched.emulator.options.name),
    })),
    Lister: [{ action: 'pipes:ListPipes', resource: '*' }],
  });
  const api = new PipesApi({ gate: pipesGate(new Enforcer(authorizer, principals, denials), scope) });
  api.add(watched.emulator, definition(watched, table));
  api.add(witness.emulator, definition(witness, table));
  lambda = new LambdaService([], { region: REGION, account: ACCOUNT, baseEnvironment: {}, publish: () => undefined });
  server = await startLambdaServer(lambda, await freePort(), { pipes: api });
  await Promise.all([watched.emulator.start(), witness.emulator.start()]);
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all([watched?.emulator.stop(), witness?.emulator.stop()]);
  await server?.stop();
  await lambda?.stop();
  await fixture?.stop();
  denials.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const pipesAs = (credentials: { accessKeyId: string; secretAccessKey: string } = LOCAL_CREDENTIALS) => {
  const client = new PipesClient({ region: REGION, endpoint: server.endpoint, credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
};
const keysOf = (logicalId: string) => {
  const { accessKeyId, secretAccessKey } = principals.role(logicalId).credentials;
  return { accessKeyId, secretAccessKey };
};
const name = () => watched.emulator.options.name;
const stateOf = async (pipe = name()) => (await pipesAs().send(new DescribePipeCommand({ Name: pipe }))).CurrentState;

describe('the Pipes API over the pipe emulators (JS SDK)', () => {
  it('DescribePipe: the state, the definition and the times, in the API shape', async () => {
    await until(async () => (await stateOf()) === 'RUNNING', 'the watched pipe running');
    const described = await pipesAs().send(new DescribePipeCommand({ Name: name() }));
    expect(described).toMatchObject({
      Arn: arnOf(name()),
      Name: name(),
      DesiredState: 'RUNNING',
      CurrentState: 'RUNNING',
      Description: 'test pipe',
      Source: table.streamArn,
      SourceParameters: { DynamoDBStreamParameters: { StartingPosition: 'TRIM_HORIZON', BatchSize: 10 } },
      Target: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Target`,
      TargetParameters: { LambdaFunctionParameters: { InvocationType: 'REQUEST_RESPONSE' } },
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/PipeRole`,
      $metadata: { httpStatusCode: 200 },
    });
    // Timestamps are epoch seconds on the wire; the SDK reads them as dates.
    expect(described.CreationTime).toBeInstanceOf(Date);
    expect(Math.abs((described.CreationTime as Date).getTime() - Date.now())).toBeLessThan(120_000);
    expect(described.LastModifiedTime?.getTime()).toBeGreaterThanOrEqual(described.CreationTime?.getTime() ?? 0);
    expect(described).not.toHaveProperty('logicalId');
  });

  it('ListPipes: name order, filters, and pages of Limit with a NextToken', async () => {
    const all = await pipesAs().send(new ListPipesCommand({}));
    expect(all.Pipes?.map((p) => p.Name)).toEqual([name(), `${name()}-witness`]);
    expect(all.Pipes?.[0]).toMatchObject({
      Arn: arnOf(name()),
      Source: table.streamArn,
      Target: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Target`,
      DesiredState: 'RUNNING',
    });
    expect(all.NextToken).toBeUndefined();
    const first = await pipesAs().send(new ListPipesCommand({ Limit: 1 }));
    expect(first.Pipes?.map((p) => p.Name)).toEqual([name()]);
    const second = await pipesAs().send(new ListPipesCommand({ Limit: 1, NextToken: first.NextToken }));
    expect(second.Pipes?.map((p) => p.Name)).toEqual([`${name()}-witness`]);
    expect(second.NextToken).toBeUndefined();
    const prefixed = await pipesAs().send(new ListPipesCommand({ NamePrefix: `${name()}-w` }));
    expect(prefixed.Pipes?.map((p) => p.Name)).toEqual([`${name()}-witness`]);
    const stopped = await pipesAs().send(new ListPipesCommand({ CurrentState: 'STOPPED' }));
    expect(stopped.Pipes).toEqual([]);
    const bad = await pipesAs()
      .send(new ListPipesCommand({ Limit: 101 }))
      .catch((e) => e);
    expect(bad).toMatchObject({
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
      fieldList: [{ name: 'limit' }],
    });
    expect(bad.message).toMatch(/'101' at 'limit' failed to satisfy constraint/);
  });

  it('StopPipe answers STOPPING, then the pipe is STOPPED and reads nothing; StartPipe resumes from its checkpoint, once', async () => {
    await table.put('before-stop');
    await until(() => delivered.watched.includes('before-stop'), 'the running pipe delivering');

    const stopping = await pipesAs().send(new StopPipeCommand({ Name: name() }));
    expect(stopping).toMatchObject({
      Arn: arnOf(name()),
      Name: name(),
      DesiredState: 'STOPPED',
      CurrentState: 'STOPPING',
      $metadata: { httpStatusCode: 200 },
    });
    await until(async () => (await stateOf()) === 'STOPPED', 'the pipe STOPPED');
    // Stopping a stopped pipe changes nothing.
    expect(await pipesAs().send(new StopPipeCommand({ Name: name() }))).toMatchObject({ CurrentState: 'STOPPED' });

    await table.put('while-stopped');
    // The witness, reading the same stream, has the record: a running pipe would have had it too.
    await until(() => delivered.witness.includes('while-stopped'), 'the witness delivering the record');
    expect(delivered.watched).not.toContain('while-stopped');

    const starting = await pipesAs().send(new StartPipeCommand({ Name: name() }));
    expect(starting).toMatchObject({ DesiredState: 'RUNNING', CurrentState: 'STARTING' });
    await until(() => delivered.watched.includes('while-stopped'), 'the restarted pipe delivering what was written');
    await until(async () => (await stateOf()) === 'RUNNING', 'the pipe RUNNING');
    await table.put('after-start');
    await until(() => delivered.watched.includes('after-start'), 'the next record');
    expect(delivered.watched.filter((id) => id === 'while-stopped')).toHaveLength(1);
    expect(delivered.watched.filter((id) => id === 'before-stop')).toHaveLength(1);
  });

  it('StartPipe on a pipe still STOPPING is a ConflictException naming the pipe', async () => {
    let release: () => void = () => undefined;
    hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await table.put('in-flight');
      await until(() => delivered.witness.includes('in-flight'), 'the record in the stream');
      // The watched pipe's invocation waits on `hold`: stopping waits for it (up to 3 s).
      await until(() => watched.emulator.currentState === 'RUNNING', 'running');
      const stopping = await pipesAs().send(new StopPipeCommand({ Name: name() }));
      expect(stopping.CurrentState).toBe('STOPPING');
      const conflict = await pipesAs()
        .send(new StartPipeCommand({ Name: name() }))
        .catch((e) => e);
      expect(conflict).toMatchObject({
        name: 'ConflictException',
        resourceId: name(),
        resourceType: 'pipe',
        $metadata: { httpStatusCode: 409 },
      });
      expect(conflict.message).toMatch(/is STOPPING: cannot start it now/);
    } finally {
      release();
      hold = undefined;
    }
    await until(async () => (await stateOf()) === 'STOPPED', 'STOPPED');
    await pipesAs().send(new StartPipeCommand({ Name: name() }));
    await until(() => delivered.watched.includes('in-flight'), 'the held record delivered after the restart');
  });

  it('NotFoundException for a pipe that does not exist, ValidationException for a name the model refuses', async () => {
    const missing = await pipesAs()
      .send(new DescribePipeCommand({ Name: 'no-such-pipe' }))
      .catch((e) => e);
    expect(missing).toMatchObject({
      name: 'NotFoundException',
      message: 'Pipe no-such-pipe does not exist.',
      $metadata: { httpStatusCode: 404 },
    });
    const invalid = await pipesAs()
      .send(new StopPipeCommand({ Name: 'not a name' }))
      .catch((e) => e);
    expect(invalid).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect(invalid.message).toMatch(/'not a name' at 'name' failed to satisfy constraint/);
  });

  it('refuses what the pipes are not: CreatePipe is authorized, then refused, naming the template', async () => {
    const created = await pipesAs()
      .send(
        new CreatePipeCommand({
          Name: 'new-pipe',
          RoleArn: 'arn:aws:iam::000000000000:role/x',
          Source: 'a',
          Target: 'b',
        }),
      )
      .catch((e) => e);
    expect(created).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect(created.message).toMatch(/CreatePipe is not emulated: the local runtime's pipes are the template's/);
  });
});

describe('the Pipes API under local IAM enforcement', () => {
  it("serves a role what it is granted on the pipe's ARN and refuses the rest with a 403 AccessDeniedException", async () => {
    const operator = pipesAs(keysOf('Operator'));
    expect((await operator.send(new DescribePipeCommand({ Name: name() }))).Name).toBe(name());
    const other = await operator.send(new DescribePipeCommand({ Name: `${name()}-witness` })).catch((e) => e);
    const message = `User: arn:aws:sts::${ACCOUNT}:assumed-role/Operator/operator is not authorized to perform: pipes:DescribePipe on resource: ${arnOf(`${name()}-witness`)} because no identity-based policy allows the pipes:DescribePipe action`;
    expect(other).toMatchObject({ name: 'AccessDeniedException', message, $metadata: { httpStatusCode: 403 } });
    expect(denials.list({ limit: 1 })[0]).toMatchObject({
      action: 'pipes:DescribePipe',
      resource: arnOf(`${name()}-witness`),
      endpoint: 'pipes',
      role: 'Operator',
    });
    // ListPipes has no resource type: only a grant on `*` allows it.
    const listed = await operator.send(new ListPipesCommand({})).catch((e) => e);
    expect(listed).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    expect(listed.message).toMatch(/pipes:ListPipes on resource: \*/);
    expect((await pipesAs(keysOf('Lister')).send(new ListPipesCommand({}))).Pipes).toHaveLength(2);
    // A refused StopPipe leaves the pipe as it was.
    const stop = await pipesAs(keysOf('Lister'))
      .send(new StopPipeCommand({ Name: name() }))
      .catch((e) => e);
    expect(stop).toMatchObject({ name: 'AccessDeniedException' });
    expect(watched.emulator.desiredState).toBe('RUNNING');
  });

  it('refuses an unsigned request with MissingAuthenticationTokenException before anything is read', async () => {
    const response = await fetch(`${server.endpoint}/v1/pipes/${name()}`);
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(denials.list({ limit: 1 })[0]).toMatchObject({ reason: 'unsigned', endpoint: 'pipes' });
  });
});
