import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribePipeCommand, ListPipesCommand, PipesClient, StopPipeCommand } from '@aws-sdk/client-pipes';
import { OPS_API_ENV, PIPES } from '@orderflow/pipeline/facts';
import { runtimeInfoSchema } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { loadTemplate } from '../src/template/local-plan.ts';

/**
 * The Pipes API of the local runtime, with the synthesized template's two pipes, through the three clients we did not
 * write: the AWS SDK for JavaScript, Debian's AWS CLI 2.9 (`/usr/bin/aws pipes ...`) and boto3; and enforced with the
 * template's grants: the ops API's role may describe, stop and start the two pipes, and nothing else of Pipes.
 */
const execFileAsync = promisify(execFile);
const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-pipes-runtime-'));
let runtime: LocalRuntime;
const clients: PipesClient[] = [];

const CLI_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: stateDir,
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: join(stateDir, 'none'),
  AWS_SHARED_CREDENTIALS_FILE: join(stateDir, 'none'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
};

beforeAll(async () => {
  if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
    const synth = spawnSync('npm', ['run', 'build', '-w', 'stack'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`stack synth failed: ${synth.stderr}`);
  }
  runtime = await startLocalRuntime({ stateDir, pipeTiming: { pollIntervalMs: 100 } });
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** Debian's AWS CLI (not an `aws` earlier on PATH). */
async function cli(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await execFileAsync(
    '/usr/bin/aws',
    ['--endpoint-url', String(runtime.info.endpoints.pipes), '--output', 'json', 'pipes', ...args],
    { env: CLI_ENV },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** boto3 from Debian's python3: one call, its answer (timestamps as epoch seconds) or its error. */
async function boto3(operation: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const script = `
import json, sys, boto3, botocore, datetime
client = boto3.client('pipes', endpoint_url=sys.argv[1], region_name='us-east-1')
try:
    out = getattr(client, sys.argv[2])(**json.loads(sys.argv[3]))
    out.pop('ResponseMetadata', None)
    print(json.dumps(out, default=lambda v: v.timestamp() if isinstance(v, datetime.datetime) else str(v)))
except botocore.exceptions.ClientError as e:
    print(json.dumps({'error': e.response['Error'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}))
`;
  const { stdout } = await execFileAsync(
    '/usr/bin/python3',
    ['-c', script, String(runtime.info.endpoints.pipes), operation, JSON.stringify(params)],
    { env: CLI_ENV },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

const pipesAs = (credentials: { accessKeyId: string; secretAccessKey: string } = LOCAL_CREDENTIALS) => {
  const client = new PipesClient({
    region: runtime.info.region,
    endpoint: runtime.info.endpoints.pipes,
    credentials,
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
};

/** The role a template resource runs with (`Role` / `RoleArn` → Fn::GetAtt). */
function roleOf(logicalId: string): string {
  const resource = loadTemplate(templateDir).template.Resources[logicalId];
  const property = resource?.Properties?.Role ?? resource?.Properties?.RoleArn;
  const role = (property as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
  if (!role) throw new Error(`${logicalId} has no role of the template`);
  return role;
}
const opsApiRole = () => {
  const resources = loadTemplate(templateDir).template.Resources;
  const id = Object.keys(resources).find(
    (key) =>
      resources[key]?.Type === 'AWS::Lambda::Function' &&
      OPS_API_ENV.standardPipeName in
        ((resources[key]?.Properties?.Environment as { Variables?: object } | undefined)?.Variables ?? {}),
  );
  if (!id) throw new Error('the template has no ops API function');
  return roleOf(id);
};
const keysOf = (roleLogicalId: string) => {
  const principal = runtime.info.principals?.[roleLogicalId];
  if (!principal) throw new Error(`runtime.json lists no principal ${roleLogicalId}`);
  return { accessKeyId: principal.accessKeyId, secretAccessKey: principal.secretAccessKey };
};

describe("the runtime's Pipes API with the template's pipes", () => {
  it('is listed in runtime.json (served on the Lambda endpoint) and describes each pipe as its template defines it', async () => {
    const info = runtimeInfoSchema.parse(JSON.parse(readFileSync(join(stateDir, 'runtime.json'), 'utf8')));
    expect(info.endpoints.pipes).toBe(info.endpoints.lambda);
    const { standard } = runtime.info.resources.pipes;
    const described = await pipesAs().send(new DescribePipeCommand({ Name: standard.name }));
    const pipeRole = roleOf(PIPES.standard.pipeId);
    expect(described).toMatchObject({
      Name: standard.name,
      Arn: `arn:aws:pipes:${runtime.info.region}:000000000000:pipe/${standard.name}`,
      CurrentState: 'RUNNING',
      DesiredState: 'RUNNING',
      Target: `arn:aws:lambda:${runtime.info.region}:000000000000:function:${standard.function}`,
      RoleArn: runtime.info.principals?.[pipeRole]?.roleArn,
      SourceParameters: {
        DynamoDBStreamParameters: {
          BatchSize: PIPES.standard.source.batchSize,
          ParallelizationFactor: PIPES.standard.source.parallelizationFactor,
          StartingPosition: PIPES.standard.source.startingPosition,
        },
      },
      TargetParameters: { LambdaFunctionParameters: { InvocationType: 'REQUEST_RESPONSE' } },
      LogConfiguration: { Level: 'ERROR' },
    });
    expect(described.Source).toMatch(/^arn:aws:dynamodb:us-east-1:\d{12}:table\/.+\/stream\//);
    expect(described.SourceParameters?.FilterCriteria?.Filters).toHaveLength(1);
  });

  it('answers the AWS CLI and boto3 as it answers the JS SDK', async () => {
    const js = await pipesAs().send(new ListPipesCommand({}));
    const names = [runtime.info.resources.pipes.premium.name, runtime.info.resources.pipes.standard.name].sort();
    expect(js.Pipes?.map((p) => p.Name)).toEqual(names);
    const viaCli = await cli('list-pipes');
    expect((viaCli.Pipes as { Name: string }[]).map((p) => p.Name)).toEqual(names);
    const viaBoto = await boto3('list_pipes');
    expect((viaBoto.Pipes as { Name: string; Source: string }[]).map((p) => [p.Name, p.Source])).toEqual(
      js.Pipes?.map((p) => [p.Name, p.Source]),
    );
    const name = runtime.info.resources.pipes.premium.name;
    const jsDescribed = await pipesAs().send(new DescribePipeCommand({ Name: name }));
    const { $metadata: _, CreationTime, LastModifiedTime, ...jsRest } = jsDescribed;
    // CLI 2.9's and boto3 1.26's service model predates LogConfiguration (botocore drops members its model lacks).
    const { LogConfiguration, ...withoutLogs } = jsRest;
    expect(LogConfiguration?.CloudwatchLogsLogDestination?.LogGroupArn).toBe(
      `arn:aws:logs:us-east-1:000000000000:log-group:/aws/vendedlogs/pipes/${name}:*`,
    );
    const cliDescribed = await cli('describe-pipe', '--name', name);
    expect(cliDescribed).toMatchObject(withoutLogs);
    const botoDescribed = await boto3('describe_pipe', { Name: name });
    expect(botoDescribed).toMatchObject({ ...withoutLogs, CreationTime: (CreationTime as Date).getTime() / 1000 });
    expect(await boto3('describe_pipe', { Name: 'missing' })).toEqual({
      error: { Code: 'NotFoundException', Message: 'Pipe missing does not exist.' },
      status: 404,
    });
  });

  it('stops with `aws pipes stop-pipe` and starts with boto3: STOPPING then STOPPED, STARTING then RUNNING', async () => {
    const name = runtime.info.resources.pipes.premium.name;
    expect(await cli('stop-pipe', '--name', name)).toMatchObject({
      Name: name,
      DesiredState: 'STOPPED',
      CurrentState: 'STOPPING',
    });
    await until(
      async () => (await cli('describe-pipe', '--name', name)).CurrentState === 'STOPPED',
      'the pipe STOPPED (aws pipes describe-pipe)',
    );
    expect(runtime.pipes.get(name)?.currentState).toBe('STOPPED');
    expect(await boto3('start_pipe', { Name: name })).toMatchObject({
      DesiredState: 'RUNNING',
      CurrentState: 'STARTING',
    });
    await until(async () => (await boto3('describe_pipe', { Name: name })).CurrentState === 'RUNNING', 'RUNNING');
  });
});

describe("the Pipes API holds each role to the template's grants", () => {
  it('lets the ops API describe, stop and start the two pipes, and list none', async () => {
    const opsApi = pipesAs(keysOf(opsApiRole()));
    for (const { name } of Object.values(runtime.info.resources.pipes))
      expect((await opsApi.send(new DescribePipeCommand({ Name: name }))).Name).toBe(name);
    const listed = await opsApi.send(new ListPipesCommand({})).catch((e) => e);
    expect(listed).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    const { standard } = runtime.info.resources.pipes;
    expect((await opsApi.send(new StopPipeCommand({ Name: standard.name }))).DesiredState).toBe('STOPPED');
    await until(
      async () => (await opsApi.send(new DescribePipeCommand({ Name: standard.name }))).CurrentState === 'STOPPED',
      'STOPPED',
    );
    const started = await cli('start-pipe', '--name', standard.name);
    expect(started.DesiredState).toBe('RUNNING');
    await until(() => runtime.pipes.get(standard.name)?.currentState === 'RUNNING', 'RUNNING');
  });

  it("refuses a processor's role and records the denial", async () => {
    const processor = pipesAs(keysOf(roleOf(PIPES.standard.functionId)));
    const { standard } = runtime.info.resources.pipes;
    const refused = await processor.send(new StopPipeCommand({ Name: standard.name })).catch((e) => e);
    expect(refused).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    expect(refused.message).toMatch(/is not authorized to perform: pipes:StopPipe on resource: arn:aws:pipes:/);
    expect(runtime.denials.list({ limit: 1 })[0]).toMatchObject({ action: 'pipes:StopPipe', endpoint: 'pipes' });
    expect(runtime.pipes.get(standard.name)?.desiredState).toBe('RUNNING');
  });
});
