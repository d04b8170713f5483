import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PIPES } from '@orderflow/pipeline/facts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogEventStore } from '../src/logs/log-events.ts';
import { type LocalRuntime, REPO_ROOT } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { localLogGroupName } from '../src/template/described-resources.ts';
import { loadTemplate } from '../src/template/local-plan.ts';
import { awsClientEnv, boto3Call } from './aws-clients.ts';
import { startTemplateRuntime } from './helpers.ts';

/**
 * The CloudWatch Logs API on the CloudWatch endpoint (`endpoints.logs`): the functions' log events in the log group
 * each function's `LoggingConfig` names (the stack's own groups, not `/aws/lambda/<name>`), read with Debian's AWS CLI
 * 2.9 (`filter-log-events`, `tail`, `describe-log-groups`) and boto3 1.26, authorized like every endpoint.
 */
const execFileAsync = promisify(execFile);
const templateDir = join(REPO_ROOT, 'stack/cdk.out');
let fixture: Awaited<ReturnType<typeof startTemplateRuntime>> | undefined;
let runtime: LocalRuntime;
let stateDir: string;
let lambda: LambdaClient;

const env = () => awsClientEnv(stateDir);

beforeAll(async () => {
  fixture = await startTemplateRuntime('orderflow-logs-api-');
  ({ runtime, stateDir } = fixture);
  lambda = new LambdaClient({
    region: runtime.info.region,
    endpoint: runtime.info.endpoints.lambda,
    credentials: LOCAL_CREDENTIALS,
  });
}, 120_000);

afterAll(async () => {
  lambda?.destroy();
  await fixture?.stop();
});

/** The log group the template gives a function (`LoggingConfig.LogGroup`, a Ref to its own `AWS::Logs::LogGroup`). */
function logGroupOf(functionId: string): string {
  const resources = loadTemplate(templateDir).template.Resources;
  const ref = (resources[functionId]?.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)
    ?.LogGroup?.Ref;
  if (!ref) throw new Error(`${functionId} names no log group of the template`);
  return localLogGroupName(ref, resources[ref]?.Properties);
}

async function cli(...args: string[]): Promise<string> {
  const endpoint = runtime.info.endpoints.logs;
  if (!endpoint) throw new Error('runtime.json lists no logs endpoint');
  const { stdout } = await execFileAsync('/usr/bin/aws', ['--endpoint-url', endpoint, 'logs', ...args], { env: env() });
  return stdout;
}

const boto3 = (operation: string, params: Record<string, unknown>) =>
  boto3Call(env(), 'logs', runtime.info.endpoints.logs ?? '', operation, params);

describe('the CloudWatch Logs API of the local runtime', () => {
  it("filter-log-events and tail read a function's events from the log group its LoggingConfig names", async () => {
    const group = logGroupOf(PIPES.standard.functionId);
    expect(group).not.toMatch(/^\/aws\/lambda\//);
    const before = Date.now();
    for (let i = 0; i < 3; i++)
      await lambda.send(
        new InvokeCommand({ FunctionName: runtime.info.resources.pipes.standard.function, Payload: '[]' }),
      );
    const filtered = JSON.parse(
      await cli(
        'filter-log-events',
        '--log-group-name',
        group,
        '--filter-pattern',
        '"START RequestId"',
        '--start-time',
        String(before - 1000),
        '--output',
        'json',
      ),
    ) as { events: { message: string; logStreamName: string; timestamp: number }[] };
    expect(filtered.events).toHaveLength(3);
    for (const event of filtered.events) {
      expect(event.message).toMatch(/^START RequestId: [0-9a-f-]{36} Version: \$LATEST$/);
      expect(event.logStreamName).toMatch(/^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
      expect(event.timestamp).toBeGreaterThanOrEqual(before);
    }
    // Excluded terms and ?alternatives.
    const reports = JSON.parse(
      await cli('filter-log-events', '--log-group-name', group, '--filter-pattern', 'RequestId -START -END'),
    ) as { events: { message: string }[] };
    expect(reports.events.length).toBeGreaterThanOrEqual(3);
    expect(reports.events.every((event) => event.message.startsWith('REPORT '))).toBe(true);
    const tail = await cli('tail', group, '--since', '5m');
    expect(tail.match(/START RequestId/g)?.length).toBeGreaterThanOrEqual(3);
  });

  it('pages with nextToken (boto3), describes the groups, and answers errors as CloudWatch Logs does', async () => {
    const group = logGroupOf(PIPES.standard.functionId);
    const first = await boto3('filter_log_events', { logGroupName: group, limit: 2 });
    const firstEvents = first.events as { eventId: string }[];
    expect(firstEvents).toHaveLength(2);
    expect(typeof first.nextToken).toBe('string');
    const second = await boto3('filter_log_events', { logGroupName: group, limit: 2, nextToken: first.nextToken });
    const ids = [...firstEvents, ...(second.events as { eventId: string }[])].map((event) => event.eventId);
    expect(new Set(ids).size).toBe(ids.length);

    const groups = JSON.parse(await cli('describe-log-groups', '--output', 'json')) as {
      logGroups: { logGroupName: string; arn: string }[];
    };
    const names = groups.logGroups.map((g) => g.logGroupName);
    expect(names).toContain(group);
    // The pipes' log groups exist (the template's), empty: the emulator writes no pipe execution logs.
    expect(names).toContain(`/aws/vendedlogs/pipes/${runtime.info.resources.pipes.standard.name}`);

    expect(await boto3('filter_log_events', { logGroupName: '/aws/lambda/missing' })).toMatchObject({
      error: { Code: 'ResourceNotFoundException', Message: 'The specified log group does not exist.' },
      status: 400,
    });
    const json = await boto3('filter_log_events', { logGroupName: group, filterPattern: '{ $.level = "ERROR" }' });
    expect(json).toMatchObject({ error: { Code: 'InvalidParameterException' }, status: 400 });
    expect(String((json.error as { Message: string }).Message)).toContain('not emulated');
    expect(await boto3('filter_log_events', { logGroupName: group, nextToken: 'not-a-token' })).toMatchObject({
      error: { Code: 'InvalidParameterException', Message: 'The specified nextToken is invalid.' },
    });
  });

  it("refuses a role the template grants no logs:FilterLogEvents, on the group's ARN", async () => {
    const group = logGroupOf(PIPES.standard.functionId);
    const role = Object.entries(runtime.info.principals ?? {}).find(([id]) => id.includes('OrderProcessor'))?.[1];
    if (!role) throw new Error('no processor role in runtime.json principals');
    const { stdout } = await execFileAsync(
      '/usr/bin/aws',
      ['--endpoint-url', runtime.info.endpoints.logs ?? '', 'logs', 'filter-log-events', '--log-group-name', group],
      {
        env: {
          ...env(),
          AWS_ACCESS_KEY_ID: role.accessKeyId,
          AWS_SECRET_ACCESS_KEY: role.secretAccessKey,
          AWS_SESSION_TOKEN: role.sessionToken,
        },
      },
    ).catch((error: { stderr: string }) => ({ stdout: error.stderr }));
    expect(stdout).toContain('AccessDeniedException');
    expect(stdout).toContain(
      `logs:FilterLogEvents on resource: arn:aws:logs:us-east-1:000000000000:log-group:${group}`,
    );
    expect(runtime.denials.list({ limit: 1 })[0]).toMatchObject({ action: 'logs:FilterLogEvents', endpoint: 'logs' });
  });
});

describe('the log event store', () => {
  it('keeps the most recent messages of a group within its byte bound, dropping the oldest quarter at once', () => {
    const store = new LogEventStore(() => 1_000, 1000);
    for (let i = 0; i < 100; i++) store.append('group', 'fn', `${String(i).padStart(3, '0')}${'x'.repeat(47)}`);
    const kept = store.filter({ group: 'group', matches: () => true, limit: 10_000 })?.events ?? [];
    const bytes = kept.reduce((sum, event) => sum + event.message.length, 0);
    expect(bytes).toBeLessThanOrEqual(1000);
    expect(bytes).toBeGreaterThanOrEqual(700);
    // The newest is kept, in order, and the described size is what is kept.
    expect(kept.at(-1)?.message.startsWith('099')).toBe(true);
    expect(kept.map((event) => event.sequence)).toEqual([...kept.map((event) => event.sequence)].sort((a, b) => a - b));
    expect(store.describe()[0]?.storedBytes).toBe(bytes);
  });
});
