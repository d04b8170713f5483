import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  GetEventSourceMappingCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { DEAD_LETTER_ARCHIVERS, DEAD_LETTER_CAPTURE_ENABLED, HANDLER_ENV, PIPES } from '@orderflow/pipeline/facts';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { loadTemplate } from '../src/template/local-plan.ts';

/**
 * The Lambda API of the local runtime beyond Invoke, with the synthesized template's functions, through the AWS SDK
 * for JavaScript, Debian's AWS CLI 2.9 and boto3: GetFunction, GetFunctionConfiguration, ListFunctions,
 * ListEventSourceMappings, Get/UpdateEventSourceMapping, and Invoke's three invocation types; each authorized as the template grants.
 */
const execFileAsync = promisify(execFile);
const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-lambda-api-'));
let runtime: LocalRuntime;
const clients: LambdaClient[] = [];
/** Every invocation the runtime started: function and event. */
const invocations: { functionName: string; event: unknown }[] = [];

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
  runtime = await startLocalRuntime({
    stateDir,
    onInvoke: (functionName, event) => void invocations.push({ functionName, event }),
  });
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await execFileAsync(
    '/usr/bin/aws',
    ['--endpoint-url', runtime.info.endpoints.lambda, '--output', 'json', 'lambda', ...args],
    { env: CLI_ENV },
  );
  return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
}

async function boto3(operation: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const script = `
import json, sys, boto3, botocore
client = boto3.client('lambda', endpoint_url=sys.argv[1], region_name='us-east-1')
try:
    out = getattr(client, sys.argv[2])(**json.loads(sys.argv[3]))
    out.pop('ResponseMetadata', None)
    if 'Payload' in out: out['Payload'] = out['Payload'].read().decode()
    print(json.dumps(out, default=str))
except botocore.exceptions.ClientError as e:
    print(json.dumps({'error': e.response['Error'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}))
`;
  const { stdout } = await execFileAsync(
    '/usr/bin/python3',
    ['-c', script, runtime.info.endpoints.lambda, operation, JSON.stringify(params)],
    { env: CLI_ENV },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

const lambdaAs = (credentials: { accessKeyId: string; secretAccessKey: string } = LOCAL_CREDENTIALS) => {
  const client = new LambdaClient({
    region: runtime.info.region,
    endpoint: runtime.info.endpoints.lambda,
    credentials,
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
};
const template = () => loadTemplate(templateDir).template.Resources;
function roleOf(logicalId: string): string {
  const role = (template()[logicalId]?.Properties?.Role as { 'Fn::GetAtt'?: [string] } | undefined)?.[
    'Fn::GetAtt'
  ]?.[0];
  if (!role) throw new Error(`${logicalId} has no role of the template`);
  return role;
}
const keysOf = (roleLogicalId: string) => {
  const principal = runtime.info.principals?.[roleLogicalId];
  if (!principal) throw new Error(`runtime.json lists no principal ${roleLogicalId}`);
  return { accessKeyId: principal.accessKeyId, secretAccessKey: principal.secretAccessKey };
};
const standard = () => runtime.info.resources.pipes.standard.function;
const functionIds = () =>
  Object.entries(template())
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([id]) => id);

describe('the Lambda API reads of the template functions', () => {
  it('GetFunctionConfiguration: the template properties resolved, without the keys the runtime hands the function', async () => {
    const configuration = await lambdaAs().send(new GetFunctionConfigurationCommand({ FunctionName: standard() }));
    const properties = template()[PIPES.standard.functionId]?.Properties ?? {};
    expect(configuration).toMatchObject({
      FunctionName: standard(),
      FunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${standard()}`,
      Runtime: properties.Runtime,
      Handler: properties.Handler,
      Timeout: properties.Timeout,
      MemorySize: properties.MemorySize,
      Architectures: properties.Architectures,
      TracingConfig: { Mode: 'Active' },
      Role: runtime.info.principals?.[roleOf(PIPES.standard.functionId)]?.roleArn,
      Version: '$LATEST',
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
      EphemeralStorage: { Size: 512 },
    });
    expect(configuration.Environment?.Variables?.[HANDLER_ENV.pipe]).toBe('standard');
    expect(configuration.Environment?.Variables?.[HANDLER_ENV.ordersTable]).toBe(runtime.info.resources.ordersTable);
    expect(configuration.Environment?.Variables).not.toHaveProperty('AWS_ACCESS_KEY_ID');
    // The Lambda Insights layer, written by CDK as Fn::FindInMap.
    expect(configuration.Layers?.[0]?.Arn).toMatch(
      /^arn:aws:lambda:us-east-1:\d{12}:layer:LambdaInsightsExtension-Arm64:\d+$/,
    );
    expect(configuration.CodeSize).toBeGreaterThan(1000);
    expect(configuration.CodeSha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(configuration.LastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
  });

  it('GetFunction adds the code repository, CloudFormation tags and reserved concurrency; a version is not found', async () => {
    const got = await lambdaAs().send(new GetFunctionCommand({ FunctionName: standard() }));
    expect(got.Configuration?.FunctionName).toBe(standard());
    expect(got.Code).toEqual({ RepositoryType: 'S3' });
    expect(got.Tags).toMatchObject({
      'aws:cloudformation:logical-id': PIPES.standard.functionId,
      'aws:cloudformation:stack-name': 'Orderflow',
    });
    // The stack id DescribeStacks reports (a stable UUID), not a placeholder.
    expect(got.Tags?.['aws:cloudformation:stack-id']).toMatch(
      /^arn:aws:cloudformation:us-east-1:000000000000:stack\/Orderflow\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    const byArn = await lambdaAs().send(new GetFunctionCommand({ FunctionName: got.Configuration?.FunctionArn }));
    expect(byArn.Configuration?.FunctionName).toBe(standard());
    const version = await lambdaAs()
      .send(new GetFunctionCommand({ FunctionName: standard(), Qualifier: '7' }))
      .catch((e) => e);
    expect(version).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    expect(version.message).toBe(`Function not found: arn:aws:lambda:us-east-1:000000000000:function:${standard()}:7`);
    const missing = await lambdaAs()
      .send(new GetFunctionConfigurationCommand({ FunctionName: 'missing' }))
      .catch((e) => e);
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('ListFunctions: every function of the template, in pages of MaxItems; ListEventSourceMappings: none (the pipes are not mappings)', async () => {
    const all = await lambdaAs().send(new ListFunctionsCommand({}));
    expect(all.Functions).toHaveLength(functionIds().length);
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const page = await lambdaAs().send(new ListFunctionsCommand({ MaxItems: 2, Marker: marker }));
      expect(page.Functions?.length).toBeLessThanOrEqual(2);
      names.push(...(page.Functions ?? []).map((f) => String(f.FunctionName)));
      marker = page.NextMarker;
    } while (marker);
    expect(names).toEqual(all.Functions?.map((f) => f.FunctionName));
    // The CDK custom resource provider in Python is listed as AWS lists it, though it does not run locally.
    expect(all.Functions?.some((f) => f.Runtime?.startsWith('python'))).toBe(true);
    const mappings = await lambdaAs().send(new ListEventSourceMappingsCommand({ FunctionName: standard() }));
    expect(mappings.EventSourceMappings).toEqual([]);
    const bad = await lambdaAs()
      .send(new ListFunctionsCommand({ MaxItems: 0 }))
      .catch((e) => e);
    expect(bad).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
  });

  it("ListEventSourceMappings: the archivers' SQS mappings, in the state they are in now, not the template's", async () => {
    const { functionId, mappingId } = DEAD_LETTER_ARCHIVERS.standard;
    const listed = async () =>
      (await lambdaAs().send(new ListEventSourceMappingsCommand({ FunctionName: functionId }))).EventSourceMappings ??
      [];
    const mapping = runtime.eventSourceMappings.get(mappingId);
    if (!mapping) throw new Error(`no event source mapping ${mappingId}`);
    const [before] = await listed();
    expect(before).toMatchObject({
      UUID: mapping.describe().UUID,
      EventSourceArn: mapping.describe().EventSourceArn,
      State: DEAD_LETTER_CAPTURE_ENABLED ? 'Enabled' : 'Disabled',
    });
    if (DEAD_LETTER_CAPTURE_ENABLED) await mapping.disable();
    else await mapping.enable();
    try {
      const [after] = await listed();
      expect(after?.State).toBe(DEAD_LETTER_CAPTURE_ENABLED ? 'Disabled' : 'Enabled');
      expect(after?.LastModified?.getTime()).toBeGreaterThanOrEqual(before?.LastModified?.getTime() ?? 0);
    } finally {
      if (DEAD_LETTER_CAPTURE_ENABLED) await mapping.enable();
      else await mapping.disable();
    }
  });

  it('GetEventSourceMapping: one mapping by UUID, live like the list, through the SDK, the CLI and boto3', async () => {
    const { functionId, mappingId } = DEAD_LETTER_ARCHIVERS.standard;
    const [listed] =
      (await lambdaAs().send(new ListEventSourceMappingsCommand({ FunctionName: functionId }))).EventSourceMappings ??
      [];
    const uuid = listed?.UUID;
    if (!uuid) throw new Error(`no mapping listed for ${functionId}`);
    const { $metadata: _, ...got } = await lambdaAs().send(new GetEventSourceMappingCommand({ UUID: uuid }));
    expect(got).toEqual(listed);
    expect(got.UUID).toBe(runtime.eventSourceMappings.get(mappingId)?.describe().UUID);
    expect(await cli('get-event-source-mapping', '--uuid', uuid)).toMatchObject({
      UUID: uuid,
      EventSourceArn: got.EventSourceArn,
      State: got.State,
    });
    expect(await boto3('get_event_source_mapping', { UUID: uuid })).toMatchObject({ UUID: uuid, State: got.State });
    const unknown = '00000000-0000-4000-8000-000000000000';
    const missing = await lambdaAs()
      .send(new GetEventSourceMappingCommand({ UUID: unknown }))
      .catch((e) => e);
    expect(missing).toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'The resource you requested does not exist.',
      $metadata: { httpStatusCode: 404 },
    });
    expect(await boto3('get_event_source_mapping', { UUID: unknown })).toMatchObject({
      error: { Code: 'ResourceNotFoundException' },
      status: 404,
    });
    // A role the template grants no GetEventSourceMapping is refused on the mapping's ARN.
    const refused = await lambdaAs(keysOf(roleOf(PIPES.standard.functionId)))
      .send(new GetEventSourceMappingCommand({ UUID: uuid }))
      .catch((e) => e);
    expect(refused).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    expect(refused.message).toContain(
      `lambda:GetEventSourceMapping on resource: arn:aws:lambda:us-east-1:000000000000:event-source-mapping:${uuid}`,
    );
  });

  it("UpdateEventSourceMapping: Enabled turns the runtime's mapping on and off; the template's settings are refused", async () => {
    const { mappingId } = DEAD_LETTER_ARCHIVERS.standard;
    const mapping = runtime.eventSourceMappings.get(mappingId);
    if (!mapping) throw new Error(`no event source mapping ${mappingId}`);
    const uuid = mapping.describe().UUID;
    const initially = DEAD_LETTER_CAPTURE_ENABLED;
    const flipped = await lambdaAs().send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: !initially }));
    expect(flipped).toMatchObject({ UUID: uuid, $metadata: { httpStatusCode: 202 } });
    await until(() => mapping.currentState === (initially ? 'Disabled' : 'Enabled'), 'the mapping flipped');
    // Debian's CLI, as the runbook writes it, puts it back.
    await cli('update-event-source-mapping', '--uuid', uuid, initially ? '--enabled' : '--no-enabled');
    await until(() => mapping.currentState === (initially ? 'Enabled' : 'Disabled'), 'the mapping restored');
    expect((await lambdaAs().send(new GetEventSourceMappingCommand({ UUID: uuid }))).State).toBe(
      initially ? 'Enabled' : 'Disabled',
    );
    const batch = await lambdaAs()
      .send(new UpdateEventSourceMappingCommand({ UUID: uuid, BatchSize: 5 }))
      .catch((e) => e);
    expect(batch).toMatchObject({ name: 'InvalidParameterValueException', $metadata: { httpStatusCode: 400 } });
    expect(batch.message).toContain('BatchSize');
    expect(mapping.describe().BatchSize).not.toBe(5);
    const missing = await lambdaAs()
      .send(new UpdateEventSourceMappingCommand({ UUID: '00000000-0000-4000-8000-000000000000', Enabled: true }))
      .catch((e) => e);
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    const refused = await lambdaAs(keysOf(roleOf(PIPES.standard.functionId)))
      .send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: !initially }))
      .catch((e) => e);
    expect(refused).toMatchObject({ name: 'AccessDeniedException' });
    expect(refused.message).toContain(
      `lambda:UpdateEventSourceMapping on resource: arn:aws:lambda:us-east-1:000000000000:event-source-mapping:${uuid}`,
    );
    expect(mapping.currentState).toBe(initially ? 'Enabled' : 'Disabled');
  });

  it('answers the AWS CLI and boto3 as it answers the JS SDK', async () => {
    const js = await lambdaAs().send(new GetFunctionConfigurationCommand({ FunctionName: standard() }));
    const { $metadata: _, ...configuration } = js;
    expect(await cli('get-function-configuration', '--function-name', standard())).toMatchObject({
      FunctionName: configuration.FunctionName,
      Role: configuration.Role,
      Environment: configuration.Environment,
      CodeSha256: configuration.CodeSha256,
    });
    const listed = await cli('list-functions');
    expect((listed.Functions as unknown[]).length).toBe(functionIds().length);
    // The template's mappings (none of the pipes: they are not mappings), the same through the CLI.
    const mappings = await lambdaAs().send(new ListEventSourceMappingsCommand({}));
    const viaCli = (await cli('list-event-source-mappings')).EventSourceMappings as { UUID: string }[];
    expect(viaCli.map((m) => m.UUID)).toEqual(mappings.EventSourceMappings?.map((m) => m.UUID));
    const viaBoto = await boto3('get_function', { FunctionName: standard() });
    expect(viaBoto).toMatchObject({ Configuration: { FunctionName: standard(), Handler: configuration.Handler } });
    expect(await boto3('get_function', { FunctionName: 'missing' })).toMatchObject({
      error: { Code: 'ResourceNotFoundException' },
      status: 404,
    });
  });
});

describe('Invoke with each invocation type', () => {
  it('Event: 202 at once, then the function runs; DryRun: 204, nothing runs; RequestResponse: the result', async () => {
    const marker = { batch: 'event-invocation' };
    const queued = await lambdaAs().send(
      new InvokeCommand({ FunctionName: standard(), InvocationType: 'Event', Payload: JSON.stringify([]) }),
    );
    expect(queued.StatusCode).toBe(202);
    await until(
      () => invocations.some((i) => i.functionName === standard() && JSON.stringify(i.event) === '[]'),
      'the queued event invoking the processor',
    );
    const before = invocations.length;
    const dry = await lambdaAs().send(
      new InvokeCommand({ FunctionName: standard(), InvocationType: 'DryRun', Payload: JSON.stringify(marker) }),
    );
    expect(dry.StatusCode).toBe(204);
    const result = await lambdaAs().send(
      new InvokeCommand({ FunctionName: standard(), InvocationType: 'RequestResponse', Payload: JSON.stringify([]) }),
    );
    expect(result.StatusCode).toBe(200);
    expect(JSON.parse(Buffer.from(result.Payload ?? new Uint8Array()).toString())).toEqual({ batchItemFailures: [] });
    // Only the RequestResponse call ran, after the DryRun was answered.
    expect(invocations.slice(before).map((i) => i.event)).toEqual([[]]);
    const bogus = await lambdaAs()
      .send(new InvokeCommand({ FunctionName: standard(), InvocationType: 'Bogus' as 'Event' }))
      .catch((e) => e);
    expect(bogus).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
  });

  it('the AWS CLI and boto3: Event and DryRun', async () => {
    const out = join(stateDir, 'out.json');
    expect(
      await cli('invoke', '--function-name', standard(), '--invocation-type', 'DryRun', '--payload', '{}', out),
    ).toMatchObject({ StatusCode: 204 });
    expect(
      await cli(
        'invoke',
        '--function-name',
        standard(),
        '--invocation-type',
        'Event',
        '--cli-binary-format',
        'raw-in-base64-out',
        '--payload',
        '[]',
        out,
      ),
    ).toMatchObject({ StatusCode: 202 });
    expect(await boto3('invoke', { FunctionName: standard(), InvocationType: 'DryRun' })).toMatchObject({
      StatusCode: 204,
    });
  });

  it('a function of the template that does not run locally is described, and its invocation refused as such', async () => {
    const python = (await lambdaAs().send(new ListFunctionsCommand({}))).Functions?.find((f) =>
      f.Runtime?.startsWith('python'),
    );
    const refused = await lambdaAs()
      .send(new InvokeCommand({ FunctionName: python?.FunctionName, Payload: '{}' }))
      .catch((e) => e);
    expect(refused).toMatchObject({ name: 'ServiceException', $metadata: { httpStatusCode: 500 } });
    expect(refused.message).toMatch(/is part of the template but does not run locally: runtime python/);
  });
});

describe("the Lambda API holds each role to the template's grants", () => {
  it('refuses GetFunction, ListFunctions and a DryRun to a role granted none of them', async () => {
    const processor = lambdaAs(keysOf(roleOf(PIPES.standard.functionId)));
    const get = await processor.send(new GetFunctionCommand({ FunctionName: standard() })).catch((e) => e);
    expect(get).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    expect(get.message).toMatch(/is not authorized to perform: lambda:GetFunction on resource: arn:aws:lambda:/);
    const list = await processor.send(new ListFunctionsCommand({})).catch((e) => e);
    expect(list).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    expect(list.message).toMatch(/is not authorized to perform: lambda:ListFunctions because/);
    const premium = runtime.info.resources.pipes.premium.function;
    const dry = await processor
      .send(new InvokeCommand({ FunctionName: premium, InvocationType: 'DryRun' }))
      .catch((e) => e);
    expect(dry).toMatchObject({ name: 'AccessDeniedException' });
    expect(runtime.denials.list({ limit: 1 })[0]).toMatchObject({
      action: 'lambda:InvokeFunction',
      endpoint: 'lambda',
    });
  });
});
