import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../src/runtime.ts';
import { awsClientEnv, boto3Call } from './aws-clients.ts';
import { startTemplateRuntime } from './helpers.ts';

/**
 * CloudTrail's LookupEvents over the runtime's management trail (`endpoints.cloudtrail`, the CloudWatch endpoint):
 * who stopped and started a pipe, as pipe-stalled.md asks it, with Debian's AWS CLI 2.9 and boto3 1.26.
 */
const execFileAsync = promisify(execFile);
let fixture: Awaited<ReturnType<typeof startTemplateRuntime>> | undefined;
let runtime: LocalRuntime;
let stateDir: string;

beforeAll(async () => {
  fixture = await startTemplateRuntime('orderflow-cloudtrail-');
  ({ runtime, stateDir } = fixture);
}, 120_000);

afterAll(async () => {
  await fixture?.stop();
});

/** Debian's CLI with the administrator's keys, or a role's from runtime.json. */
async function cli(
  endpoint: string | undefined,
  args: string[],
  keys?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<string> {
  const env = {
    ...awsClientEnv(stateDir),
    ...(keys
      ? {
          AWS_ACCESS_KEY_ID: keys.accessKeyId,
          AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
          ...(keys.sessionToken ? { AWS_SESSION_TOKEN: keys.sessionToken } : {}),
        }
      : {}),
  };
  const { stdout } = await execFileAsync('/usr/bin/aws', ['--endpoint-url', endpoint ?? '', ...args], { env });
  return stdout;
}

const opsApiRole = () => {
  const entry = Object.entries(runtime.info.principals ?? {}).find(([id]) => id.startsWith('OpsToolkitOpsApi'));
  if (!entry) throw new Error('runtime.json lists no ops API role');
  return { logicalId: entry[0], keys: entry[1] };
};

describe("CloudTrail's LookupEvents over the runtime's management trail", () => {
  it('tells who stopped and started a pipe, newest first, as the pipe-stalled runbook asks', async () => {
    const pipe = runtime.info.resources.pipes.standard.name;
    const { endpoints } = runtime.info;
    await cli(endpoints.pipes, ['pipes', 'stop-pipe', '--name', pipe]);
    await cli(endpoints.pipes, ['pipes', 'start-pipe', '--name', pipe], opsApiRole().keys);
    const answer = JSON.parse(
      await cli(endpoints.cloudtrail, [
        'cloudtrail',
        'lookup-events',
        '--lookup-attributes',
        `AttributeKey=ResourceName,AttributeValue=${pipe}`,
        '--max-results',
        '20',
        '--query',
        'Events[].{time: EventTime, call: EventName, who: Username}',
        '--output',
        'json',
      ]),
    ) as { time: string; call: string; who: string }[];
    expect(answer.map((event) => event.call)).toEqual(['StartPipe', 'StopPipe']);
    expect(answer[1]?.who).toBe('root');
    // The role's session, as CloudTrail names an assumed role's caller.
    expect(answer[0]?.who).not.toBe('root');
    expect(Date.parse(answer[0]?.time ?? '')).toBeGreaterThan(Date.now() - 60_000);

    const full = await boto3Call(awsClientEnv(stateDir), 'cloudtrail', endpoints.cloudtrail ?? '', 'lookup_events', {
      LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'StartPipe' }],
    });
    const [started] = full.Events as { Username: string; CloudTrailEvent: string; Resources: unknown[] }[];
    expect(started?.Resources).toEqual([{ ResourceType: 'AWS::Pipes::Pipe', ResourceName: pipe }]);
    const record = JSON.parse(started?.CloudTrailEvent ?? '{}') as {
      userIdentity: { type: string; arn: string };
      eventSource: string;
      requestParameters: unknown;
    };
    expect(record.userIdentity.type).toBe('AssumedRole');
    expect(record.userIdentity.arn).toBe(
      `arn:aws:sts::000000000000:assumed-role/${opsApiRole().logicalId}/${started?.Username}`,
    );
    expect(record).toMatchObject({ eventSource: 'pipes.amazonaws.com', requestParameters: { name: pipe } });
  });

  it('pages with NextToken and answers bad lookups with CloudTrail’s errors', async () => {
    const { endpoints } = runtime.info;
    const call = (params: Record<string, unknown>) =>
      boto3Call(awsClientEnv(stateDir), 'cloudtrail', endpoints.cloudtrail ?? '', 'lookup_events', params);
    const first = await call({ MaxResults: 1 });
    expect(first.Events).toHaveLength(1);
    expect(typeof first.NextToken).toBe('string');
    const second = await call({ MaxResults: 1, NextToken: first.NextToken });
    expect((second.Events as { EventId: string }[])[0]?.EventId).not.toBe(
      (first.Events as { EventId: string }[])[0]?.EventId,
    );
    expect(
      await call({
        LookupAttributes: [
          { AttributeKey: 'EventName', AttributeValue: 'StopPipe' },
          { AttributeKey: 'Username', AttributeValue: 'root' },
        ],
      }),
    ).toMatchObject({ error: { Code: 'InvalidLookupAttributesException' }, status: 400 });
    // A key that is no attribute (an object's own property names included) is the same error, not a failure.
    for (const AttributeKey of ['Region', 'constructor'])
      expect(await call({ LookupAttributes: [{ AttributeKey, AttributeValue: 'x' }] })).toMatchObject({
        error: { Code: 'InvalidLookupAttributesException' },
      });
    expect(await call({ StartTime: 2_000_000_000, EndTime: 1_000_000_000 })).toMatchObject({
      error: { Code: 'InvalidTimeRangeException' },
    });
  });

  it('refuses a role the template grants no cloudtrail:LookupEvents, with the denial logged', async () => {
    const refused = await cli(runtime.info.endpoints.cloudtrail, ['cloudtrail', 'lookup-events'], opsApiRole().keys)
      .then(() => 'served')
      .catch((error: { stderr: string }) => error.stderr);
    expect(refused).toContain('AccessDeniedException');
    expect(runtime.denials.list({ limit: 1 })[0]).toMatchObject({
      action: 'cloudtrail:LookupEvents',
      endpoint: 'cloudtrail',
    });
  });
});
