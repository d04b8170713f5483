import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEAD_LETTER_ARCHIVERS, LOGICAL_IDS, PIPE_KEYS, PIPES, STACK_NAME } from '@orderflow/pipeline/facts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CloudFormationServer, startCloudFormationServer } from '../src/cloudformation/server.ts';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { freePort } from '../src/services/ports.ts';
import { loadTemplate } from '../src/template/local-plan.ts';
import { awsClientEnv, boto3Call } from './aws-clients.ts';

/**
 * The local CloudFormation read API of the synthesized stack, driven with Debian's AWS CLI 2.9 and boto3 (the query
 * protocol): the runbooks' own `describe-stacks` / `describe-stack-resource` commands give the runtime's real local
 * values (queue URLs, table names, the event source mappings' UUIDs), AWS's errors for an unknown stack or logical
 * id, paging, and enforcement (a role of the template is refused, an unsigned request too).
 */
const execFileAsync = promisify(execFile);
const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-cloudformation-'));
let runtime: LocalRuntime;
let paged: CloudFormationServer | undefined;

const CLI_ENV = awsClientEnv(stateDir);

beforeAll(async () => {
  if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
    const synth = spawnSync('npm', ['run', 'build', '-w', 'stack'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`stack synth failed: ${synth.stderr}`);
  }
  runtime = await startLocalRuntime({ stateDir });
}, 120_000);

afterAll(async () => {
  await paged?.stop();
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const endpoint = () => runtime.info.endpoints.cloudformation as string;

/** Debian's CLI against an endpoint: stdout as text (the runbooks' `--output text`). */
async function aws(args: string[], env: Record<string, string> = CLI_ENV): Promise<string> {
  const { stdout } = await execFileAsync('/usr/bin/aws', args, { env });
  return stdout.trim();
}

const cloudformation = (...args: string[]) => aws(['--endpoint-url', endpoint(), 'cloudformation', ...args]);

/** A CLI call that must fail: its stderr. */
async function cliError(args: string[], env: Record<string, string> = CLI_ENV): Promise<string> {
  try {
    await aws(['--endpoint-url', endpoint(), 'cloudformation', ...args], env);
  } catch (error: unknown) {
    return String((error as { stderr?: string }).stderr);
  }
  throw new Error(`aws cloudformation ${args.join(' ')} succeeded`);
}

/** boto3 1.26 from Debian's python3: one call, its answer (without ResponseMetadata) or its error. */
const boto3 = (operation: string, params: Record<string, unknown> = {}, url = endpoint()) =>
  boto3Call(CLI_ENV, 'cloudformation', url, operation, params);

/** The runbooks' form: `describe-stack-resource ... --query StackResourceDetail.PhysicalResourceId --output text`. */
const physicalId = (logicalId: string) =>
  cloudformation(
    'describe-stack-resource',
    '--stack-name',
    STACK_NAME,
    '--logical-resource-id',
    logicalId,
    '--query',
    'StackResourceDetail.PhysicalResourceId',
    '--output',
    'text',
  );

/** The runbooks' form: `describe-stacks ... --query "Stacks[0].Outputs[?OutputKey=='KEY'].OutputValue"`. */
const output = (key: string) =>
  cloudformation(
    'describe-stacks',
    '--stack-name',
    STACK_NAME,
    '--query',
    `Stacks[0].Outputs[?OutputKey=='${key}'].OutputValue`,
    '--output',
    'text',
  );

describe('DescribeStacks', () => {
  it("gives each pipe's dead-letter queue URL output as the runtime's local queue URL (the runbooks' command)", async () => {
    for (const key of PIPE_KEYS)
      expect(await output(`${key}DeadLetterQueueUrl`)).toBe(runtime.info.resources.pipes[key].dlqUrl);
  });

  it('gives the table, topic and dashboard outputs their local values', async () => {
    expect(await output('OrdersTableName')).toBe(runtime.info.resources.ordersTable);
    const topics = runtime.sns.listTopics({}).Topics.map((t) => t.TopicArn);
    expect(topics).toContain(await output('AlarmTopicArn'));
    const dashboards = await aws([
      '--endpoint-url',
      runtime.info.endpoints.cloudwatch,
      'cloudwatch',
      'list-dashboards',
      '--query',
      'DashboardEntries[].DashboardName',
      '--output',
      'text',
    ]);
    expect(dashboards.split(/\s+/)).toContain(await output('DashboardName'));
  });

  it('leaves out the outputs the runtime has no value for (the front is not running), and lists them', async () => {
    const stacks = JSON.parse(await cloudformation('describe-stacks', '--output', 'json')) as {
      Stacks: { Outputs: { OutputKey: string }[] }[];
    };
    const keys = stacks.Stacks[0]?.Outputs.map((o) => o.OutputKey) ?? [];
    const unresolved = runtime.stack.unresolved.map((u) => u.key);
    expect(unresolved).toEqual(expect.arrayContaining(['ConsoleUrl', 'OpsApiUrl']));
    for (const key of unresolved) expect(keys).not.toContain(key);
    const template = loadTemplate(templateDir).template.Outputs ?? {};
    expect([...keys, ...unresolved].sort()).toEqual(Object.keys(template).sort());
  });

  it('describes the stack by name, by stack id and without a name, the same with the CLI and boto3', async () => {
    const byName = JSON.parse(await cloudformation('describe-stacks', '--stack-name', STACK_NAME, '--output', 'json'))
      .Stacks as Record<string, unknown>[];
    expect(byName).toHaveLength(1);
    const stack = byName[0] as Record<string, unknown>;
    expect(stack.StackName).toBe(STACK_NAME);
    expect(stack.StackId).toMatch(/^arn:aws:cloudformation:us-east-1:000000000000:stack\/Orderflow\/[0-9a-f-]{36}$/);
    expect(stack.StackStatus).toBe('CREATE_COMPLETE');
    expect(Date.parse(String(stack.CreationTime))).toBe(runtime.stack.created.getTime());
    expect(stack.Description).toBe((loadTemplate(templateDir).template as { Description?: string }).Description);
    expect(stack.Parameters).toEqual([
      expect.objectContaining({ ParameterKey: 'BootstrapVersion', ParameterValue: expect.any(String) }),
    ]);

    const byId = JSON.parse(
      await cloudformation('describe-stacks', '--stack-name', String(stack.StackId), '--output', 'json'),
    ).Stacks;
    expect(byId).toEqual(byName);
    const all = (await boto3('describe_stacks')) as { Stacks: Record<string, unknown>[] };
    expect(all.Stacks).toHaveLength(1);
    expect(all.Stacks[0]?.StackId).toBe(stack.StackId);
    expect(all.Stacks[0]?.Outputs).toEqual(stack.Outputs);
  });

  it('refuses an unknown stack as AWS does (ValidationError, 400)', async () => {
    expect(await cliError(['describe-stacks', '--stack-name', 'Nope'])).toContain(
      'An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id Nope does not exist',
    );
    expect(await boto3('describe_stacks', { StackName: 'Nope' })).toEqual({
      error: { Type: 'Sender', Code: 'ValidationError', Message: 'Stack with id Nope does not exist' },
      status: 400,
    });
  });
});

describe('DescribeStackResource', () => {
  it("names each runbook resource as the runtime does, and the runbooks' next command finds it", async () => {
    for (const key of PIPE_KEYS) {
      const { mappingId, unarchivableQueueId } = DEAD_LETTER_ARCHIVERS[key];
      const queueUrl = await physicalId(unarchivableQueueId);
      expect(queueUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      const depth = await aws([
        '--endpoint-url',
        runtime.info.endpoints.sqs,
        'sqs',
        'get-queue-attributes',
        '--queue-url',
        queueUrl,
        '--attribute-names',
        'ApproximateNumberOfMessages',
        '--query',
        'Attributes.ApproximateNumberOfMessages',
        '--output',
        'text',
      ]);
      expect(depth).toMatch(/^\d+$/);

      const uuid = await physicalId(mappingId);
      expect(uuid).toBe(runtime.eventSourceMappings.get(mappingId)?.describe().UUID);
      const mapping = await aws([
        '--endpoint-url',
        runtime.info.endpoints.lambda,
        'lambda',
        'get-event-source-mapping',
        '--uuid',
        uuid,
        '--query',
        'UUID',
        '--output',
        'text',
      ]);
      expect(mapping).toBe(uuid);

      expect(await physicalId(PIPES[key].dlqId)).toBe(runtime.info.resources.pipes[key].dlqUrl);
      expect(await physicalId(PIPES[key].pipeId)).toBe(runtime.info.resources.pipes[key].name);
      expect(await physicalId(PIPES[key].functionId)).toBe(runtime.info.resources.pipes[key].function);
    }
    const table = await physicalId(LOGICAL_IDS.deadLetterTable);
    const status = await aws([
      '--endpoint-url',
      runtime.info.endpoints.dynamodb,
      'dynamodb',
      'describe-table',
      '--table-name',
      table,
      '--query',
      'Table.TableStatus',
      '--output',
      'text',
    ]);
    expect(status).toBe('ACTIVE');
  });

  it('gives the detail in the shape of the model, with boto3 too', async () => {
    const out = (await boto3('describe_stack_resource', {
      StackName: STACK_NAME,
      LogicalResourceId: LOGICAL_IDS.ordersTable,
    })) as { StackResourceDetail: Record<string, unknown> };
    expect(out.StackResourceDetail).toMatchObject({
      StackName: STACK_NAME,
      StackId: runtime.stack.id,
      LogicalResourceId: LOGICAL_IDS.ordersTable,
      PhysicalResourceId: runtime.info.resources.ordersTable,
      ResourceType: 'AWS::DynamoDB::Table',
      ResourceStatus: 'CREATE_COMPLETE',
    });
    expect(Date.parse(String(out.StackResourceDetail.LastUpdatedTimestamp))).toBe(runtime.stack.created.getTime());
  });

  it('refuses an unknown logical id and an unknown stack as AWS does', async () => {
    expect(
      await cliError(['describe-stack-resource', '--stack-name', STACK_NAME, '--logical-resource-id', 'Nope']),
    ).toContain(
      'An error occurred (ValidationError) when calling the DescribeStackResource operation: Resource Nope does not exist for stack Orderflow',
    );
    expect(
      await boto3('describe_stack_resource', { StackName: 'Other', LogicalResourceId: LOGICAL_IDS.ordersTable }),
    ).toEqual({
      error: { Type: 'Sender', Code: 'ValidationError', Message: 'Stack with id Other does not exist' },
      status: 400,
    });
  });
});

describe('DescribeStackResources and ListStackResources', () => {
  it('list every resource of the stack, the same in both and with both clients', async () => {
    const described = JSON.parse(
      await cloudformation('describe-stack-resources', '--stack-name', STACK_NAME, '--output', 'json'),
    ).StackResources as { LogicalResourceId: string; PhysicalResourceId?: string }[];
    const listed = (await boto3('list_stack_resources', { StackName: STACK_NAME })) as {
      StackResourceSummaries: { LogicalResourceId: string; PhysicalResourceId?: string }[];
      NextToken?: string;
    };
    expect(listed.NextToken).toBeUndefined();
    const template = loadTemplate(templateDir).template.Resources;
    expect(described.map((r) => r.LogicalResourceId).sort()).toEqual(Object.keys(template).sort());
    expect(listed.StackResourceSummaries.map((r) => [r.LogicalResourceId, r.PhysicalResourceId])).toEqual(
      described.map((r) => [r.LogicalResourceId, r.PhysicalResourceId]),
    );
    const one = JSON.parse(
      await cloudformation(
        'describe-stack-resources',
        '--stack-name',
        STACK_NAME,
        '--logical-resource-id',
        LOGICAL_IDS.ordersTable,
        '--output',
        'json',
      ),
    ).StackResources;
    expect(one).toEqual([expect.objectContaining({ PhysicalResourceId: runtime.info.resources.ordersTable })]);
    // By physical id: the resources of the stack that holds it.
    const byPhysical = (await boto3('describe_stack_resources', {
      PhysicalResourceId: runtime.info.resources.ordersTable,
    })) as { StackResources: unknown[] };
    expect(byPhysical.StackResources).toHaveLength(described.length);
    expect(await boto3('describe_stack_resources', { PhysicalResourceId: 'no-such-table' })).toMatchObject({
      error: { Code: 'ValidationError' },
      status: 400,
    });
  });

  it('pages ListStackResources with NextToken (the CLI follows the tokens; a bad token is a ValidationError)', async () => {
    const port = await freePort();
    paged = await startCloudFormationServer({ stack: runtime.stack, pageSize: 7 }, port);
    const url = paged.endpoint;
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = (await boto3(
        'list_stack_resources',
        { StackName: STACK_NAME, ...(token ? { NextToken: token } : {}) },
        url,
      )) as { StackResourceSummaries: { LogicalResourceId: string }[]; NextToken?: string };
      expect(page.StackResourceSummaries.length).toBeLessThanOrEqual(7);
      seen.push(...page.StackResourceSummaries.map((r) => r.LogicalResourceId));
      token = page.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(Math.ceil(runtime.stack.resources.length / 7));
    expect(seen).toEqual(runtime.stack.resources.map((r) => r.logicalId));
    const viaCli = JSON.parse(
      await aws(['--endpoint-url', url, 'cloudformation', 'list-stack-resources', '--stack-name', STACK_NAME]),
    ) as { StackResourceSummaries: unknown[] };
    expect(viaCli.StackResourceSummaries).toHaveLength(runtime.stack.resources.length);
    expect(await boto3('list_stack_resources', { StackName: STACK_NAME, NextToken: 'bogus' }, url)).toMatchObject({
      error: { Code: 'ValidationError' },
      status: 400,
    });
  });
});

describe('authorization', () => {
  it('refuses a role of the template (its policies grant no CloudFormation action) and records the denial', async () => {
    const [roleId, keys] = Object.entries(runtime.info.principals ?? {})[0] ?? [];
    if (!roleId || !keys) throw new Error('the runtime has no role keys (is IAM enforcement on?)');
    const env = {
      ...CLI_ENV,
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      ...(keys.sessionToken ? { AWS_SESSION_TOKEN: keys.sessionToken } : {}),
    };
    const stderr = await cliError(['describe-stacks', '--stack-name', STACK_NAME], env);
    expect(stderr).toContain('An error occurred (AccessDenied) when calling the DescribeStacks operation');
    expect(stderr).toContain('cloudformation:DescribeStacks');
    const denial = runtime.denials.list({ role: roleId }).find((d) => d.endpoint === 'cloudformation');
    expect(denial).toMatchObject({ action: 'cloudformation:DescribeStacks', resource: runtime.stack.id });
    // Without a stack name DescribeStacks lists every stack: ListStacks (on `*`) is needed first, as in AWS.
    expect(await cliError(['describe-stacks'], env)).toContain('cloudformation:ListStacks');
    expect(runtime.denials.list({ role: roleId })[0]).toMatchObject({
      action: 'cloudformation:ListStacks',
      resource: '*',
      endpoint: 'cloudformation',
    });
  });

  it('refuses an unsigned request in the XML error shape', async () => {
    const response = await fetch(endpoint(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Action=DescribeStacks&Version=2010-05-15&StackName=${STACK_NAME}`,
    });
    expect(response.status).toBe(403);
    const body = await response.text();
    expect(body).toContain('<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">');
    expect(body).toContain('<Code>MissingAuthenticationToken</Code>');
  });

  it('refuses what it does not serve (no create, update or delete) with the InvalidAction error', async () => {
    const out = await boto3('delete_stack', { StackName: STACK_NAME });
    expect(out).toMatchObject({ error: { Code: 'InvalidAction' }, status: 400 });
    expect(String((out.error as { Message: string }).Message)).toContain('read-only');
  });
});
