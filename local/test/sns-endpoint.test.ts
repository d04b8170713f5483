import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListSubscriptionsCommand,
  ListTopicsCommand,
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenialLog } from '../src/gateway/denials.ts';
import { Enforcer } from '../src/gateway/enforcer.ts';
import { PrincipalDirectory } from '../src/gateway/principals.ts';
import { buildPolicySet, createAuthorizer } from '../src/iam/index.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, REPO_ROOT } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { freePort } from '../src/services/ports.ts';
import type { SubscriptionSpec } from '../src/sns/model.ts';
import { Outbox } from '../src/sns/outbox.ts';
import { type SnsServer, startSnsServer } from '../src/sns/server.ts';
import { SnsService } from '../src/sns/sns-service.ts';
import type { LocalResourceValue } from '../src/template/intrinsics.ts';
import {
  keySpecs,
  loadTemplate,
  namedResources,
  subscriptionSpecs,
  topicAndKeyResources,
  topicSpecs,
} from '../src/template/local-plan.ts';

/**
 * The local SNS endpoint with the synthesized stack's alarm topic, driven by three clients we did not write: the AWS
 * SDK for JavaScript (3.1178, query protocol), Debian's AWS CLI 2.9 and boto3 1.26. They must read the same answers,
 * and each request is authorized as the gateway authorizes the other endpoints.
 */
const execFileAsync = promisify(execFile);
const names = { region: LOCAL_REGION, account: LOCAL_ACCOUNT, stackName: 'Orderflow' };
const dir = mkdtempSync(join(tmpdir(), 'orderflow-sns-endpoint-'));
const READER = 'OnCallReader';
let server: SnsServer;
let service: SnsService;
let outbox: Outbox;
let topicArn: string;
let principals: PrincipalDirectory;
let client: SNSClient;

const CLI_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: dir,
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  AWS_DEFAULT_REGION: LOCAL_REGION,
  AWS_CONFIG_FILE: join(dir, 'none'),
  AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
};

/** Debian's AWS CLI (not the pyenv aws-cli v1 that may come first on PATH). */
async function cli(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await execFileAsync(
    '/usr/bin/aws',
    ['--endpoint-url', server.endpoint, '--output', 'json', 'sns', ...args],
    { env: CLI_ENV },
  );
  return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
}

/** boto3 1.26 from Debian's python3: one call, its answer (without ResponseMetadata) or its error as JSON. */
async function boto3(operation: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const script = `
import json, sys, boto3, botocore
client = boto3.client('sns', endpoint_url=sys.argv[1], region_name='${LOCAL_REGION}')
try:
    out = getattr(client, sys.argv[2])(**json.loads(sys.argv[3]))
    out.pop('ResponseMetadata', None)
    print(json.dumps(out))
except botocore.exceptions.ClientError as e:
    print(json.dumps({'error': e.response['Error'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}))
`;
  const { stdout } = await execFileAsync(
    '/usr/bin/python3',
    ['-c', script, server.endpoint, operation, JSON.stringify(params)],
    { env: CLI_ENV },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** A query-protocol request without an SDK, signed (the credential is all the gateway reads) or not. */
async function raw(form: Record<string, string>, accessKeyId: string | null = 'AKIDLOCALADMIN') {
  const response = await fetch(server.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(accessKeyId
        ? {
            authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20261207/${LOCAL_REGION}/sns/aws4_request, SignedHeaders=host, Signature=0`,
          }
        : {}),
    },
    body: new URLSearchParams({ Version: '2010-03-31', ...form }),
  });
  return { status: response.status, body: await response.text() };
}

beforeAll(async () => {
  const loaded = loadTemplate(join(REPO_ROOT, 'stack/cdk.out'));
  const resources = new Map<string, LocalResourceValue>(topicAndKeyResources(loaded, names));
  for (const type of ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm'])
    for (const [id, name] of namedResources(loaded, names, type, 'AlarmName'))
      resources.set(id, {
        ref: name,
        attributes: { Arn: `arn:aws:cloudwatch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:alarm:${name}` },
      });
  const context = { ...names, resources };
  const policies = await buildPolicySet(loaded, context);
  const role = [...policies.roles.values()][0];
  if (!role) throw new Error('the template has no role');
  principals = new PrincipalDirectory([{ logicalId: role.logicalId, roleArn: role.arn, sessionName: READER }]);
  const enforcer = new Enforcer(createAuthorizer(policies), principals, new DenialLog(undefined));
  const topics = topicSpecs(loaded, context);
  topicArn = topics[0]?.arn ?? '';
  const subscriptions: SubscriptionSpec[] = [
    ...subscriptionSpecs(loaded, context),
    {
      logicalId: 'Reader',
      arn: `${topicArn}:00000000-0000-4000-8000-0000000000aa`,
      topicArn,
      protocol: 'email-json',
      endpoint: 'reader@orderflow.local',
      rawMessageDelivery: false,
    },
  ];
  outbox = new Outbox(join(dir, 'outbox'));
  const port = await freePort();
  service = new SnsService({
    ...names,
    endpoint: `http://127.0.0.1:${port}`,
    topics,
    subscriptions,
    keys: keySpecs(loaded, names),
    authorize: (principal, permission, endpoint) => enforcer.authorize(principal, permission, endpoint),
    targets: {},
    outbox,
  });
  server = await startSnsServer({ service, outbox, ...names, enforcer }, port);
  client = new SNSClient({ region: LOCAL_REGION, endpoint: server.endpoint, credentials: LOCAL_CREDENTIALS });
}, 60_000);
afterAll(async () => {
  client?.destroy();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the local SNS endpoint, through the JavaScript SDK, the AWS CLI and boto3', () => {
  it('lists the template’s topic alike in all three', async () => {
    const js = await client.send(new ListTopicsCommand({}));
    expect(js.Topics).toEqual([{ TopicArn: topicArn }]);
    expect(await cli('list-topics')).toEqual({ Topics: js.Topics });
    expect(await boto3('list_topics')).toEqual({ Topics: js.Topics });
  });

  it('answers GetTopicAttributes with the topic policy and the KMS key, alike in all three', async () => {
    const js = await client.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    const attributes = js.Attributes ?? {};
    expect(attributes).toMatchObject({
      TopicArn: topicArn,
      Owner: LOCAL_ACCOUNT,
      DisplayName: 'Orderflow alarms',
      SubscriptionsPending: '0',
      SubscriptionsDeleted: '0',
      KmsMasterKeyId: expect.stringMatching(/^arn:aws:kms:us-east-1:000000000000:key\//),
    });
    expect(Number(attributes.SubscriptionsConfirmed)).toBeGreaterThanOrEqual(1);
    const policy = JSON.parse(attributes.Policy ?? '{}') as { Statement: { Sid?: string; Effect: string }[] };
    expect(policy.Statement.map((s) => `${s.Effect} ${s.Sid}`)).toEqual([
      'Deny AllowPublishThroughSSLOnly',
      'Allow AllowAlarmsToPublish',
    ]);
    expect(JSON.parse(attributes.EffectiveDeliveryPolicy ?? '{}')).toHaveProperty('http.defaultHealthyRetryPolicy');
    expect(await cli('get-topic-attributes', '--topic-arn', topicArn)).toEqual({ Attributes: attributes });
    expect(await boto3('get_topic_attributes', { TopicArn: topicArn })).toEqual({ Attributes: attributes });
  });

  it('lists subscriptions alike in all three, in full and by topic', async () => {
    const js = await client.send(new ListSubscriptionsCommand({}));
    expect(js.Subscriptions).toContainEqual({
      SubscriptionArn: `${topicArn}:00000000-0000-4000-8000-0000000000aa`,
      Owner: LOCAL_ACCOUNT,
      Protocol: 'email-json',
      Endpoint: 'reader@orderflow.local',
      TopicArn: topicArn,
    });
    expect(await cli('list-subscriptions')).toEqual({ Subscriptions: js.Subscriptions });
    expect(await boto3('list_subscriptions')).toEqual({ Subscriptions: js.Subscriptions });
    const byTopic = await client.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    expect(byTopic.Subscriptions).toEqual(js.Subscriptions);
    expect(await cli('list-subscriptions-by-topic', '--topic-arn', topicArn)).toEqual({
      Subscriptions: js.Subscriptions,
    });
    expect(await boto3('list_subscriptions_by_topic', { TopicArn: topicArn })).toEqual({
      Subscriptions: js.Subscriptions,
    });
  });

  it('publishes from each client to the topic’s subscribers, subject and attributes included', async () => {
    const js = await client.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: 'from the JS SDK',
        Message: 'js <&> "quoted"',
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'high' } },
      }),
    );
    const viaCli = await cli('publish', '--topic-arn', topicArn, '--subject', 'from the CLI', '--message', 'cli');
    const viaBoto = await boto3('publish', { TopicArn: topicArn, Subject: 'from boto3', Message: 'boto3' });
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const id of [js.MessageId, viaCli.MessageId, viaBoto.MessageId]) expect(id).toMatch(uuid);
    await service.settled();
    const received = await until(() => {
      const list = outbox.list({ to: 'reader@orderflow.local' });
      return list.length >= 3 && list;
    }, 'three deliveries to the reader');
    const byId = new Map(received.map((m) => [m.notification.MessageId, m.notification]));
    expect(byId.get(js.MessageId ?? '')).toMatchObject({ Subject: 'from the JS SDK', Message: 'js <&> "quoted"' });
    expect(byId.get(String(viaCli.MessageId))).toMatchObject({ Subject: 'from the CLI', Message: 'cli' });
    expect(byId.get(String(viaBoto.MessageId))).toMatchObject({ Subject: 'from boto3', Message: 'boto3' });
    const listed = await fetch(`${server.endpoint}/_local/outbox?to=reader%40orderflow.local&limit=3`);
    expect(((await listed.json()) as { messages: unknown[] }).messages).toHaveLength(3);
  });

  it('answers a topic that does not exist with NotFound, alike in all three', async () => {
    const missing = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:no-such-topic`;
    const error = await client.send(new GetTopicAttributesCommand({ TopicArn: missing })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'NotFoundException', message: 'Topic does not exist' });
    expect((error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(404);
    const viaCli = await cli('get-topic-attributes', '--topic-arn', missing).catch((e: { stderr: string }) => e);
    expect((viaCli as { stderr: string }).stderr).toContain(
      '(NotFound) when calling the GetTopicAttributes operation: Topic does not exist',
    );
    expect(await boto3('get_topic_attributes', { TopicArn: missing })).toEqual({
      error: { Type: 'Sender', Code: 'NotFound', Message: 'Topic does not exist' },
      status: 404,
    });
  });

  it('refuses bad input with the query protocol’s error naming the parameter', async () => {
    const cases: [Record<string, string>, number, string, string][] = [
      [{ Action: 'Publish', TopicArn: topicArn }, 400, 'InvalidParameter', 'Invalid parameter: Empty message'],
      [
        { Action: 'Publish', Message: 'x' },
        400,
        'InvalidParameter',
        'Invalid parameter: TopicArn or TargetArn Reason: No value for required parameter',
      ],
      [
        { Action: 'Publish', TopicArn: 'not-an-arn', Message: 'x' },
        400,
        'InvalidParameter',
        'Invalid parameter: TopicArn',
      ],
      [
        { Action: 'Publish', TopicArn: topicArn, Message: 'x', Subject: 'two\nlines' },
        400,
        'InvalidParameter',
        'Invalid parameter: Subject',
      ],
      [
        { Action: 'Publish', TopicArn: topicArn, Message: '{"sms":"x"}', MessageStructure: 'json' },
        400,
        'InvalidParameter',
        'Invalid parameter: Message Structure - No default entry in JSON message body',
      ],
      [
        {
          Action: 'Publish',
          TopicArn: topicArn,
          Message: 'x',
          'MessageAttributes.entry.1.Name': 'n',
          'MessageAttributes.entry.1.Value.DataType': 'Number',
          'MessageAttributes.entry.1.Value.StringValue': 'ten',
        },
        400,
        'ParameterValueInvalid',
        "Could not cast message attribute 'n' value to number.",
      ],
      [{ Action: 'GetTopicAttributes' }, 400, 'InvalidParameter', 'Invalid parameter: TopicArn'],
      [{ Action: 'CreateTopic', Name: 'x' }, 400, 'InvalidAction', 'The action CreateTopic is not valid'],
    ];
    for (const [form, status, code, message] of cases) {
      const answer = await raw(form);
      expect({ form, status: answer.status }).toEqual({ form, status });
      expect(answer.body).toContain(`<Code>${code}</Code>`);
      expect(answer.body).toContain(
        `<Message>${message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;')}`,
      );
    }
  });

  it('answers an AWS JSON request, which no SNS client sends, with a JSON error naming the query protocol', async () => {
    const response = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AmazonSimpleNotificationService.ListTopics',
      },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      __type: 'com.amazon.coral.service#UnknownOperationException',
      message:
        'AmazonSimpleNotificationService.ListTopics: SNS speaks the AWS query protocol (a form-encoded Action=... body), not AWS JSON',
    });
  });

  it('authorizes each request: unsigned is refused, a role without SNS:Publish gets AuthorizationError', async () => {
    const unsigned = await raw({ Action: 'ListTopics' }, null);
    expect(unsigned.status).toBe(403);
    expect(unsigned.body).toContain('<Code>MissingAuthenticationToken</Code>');
    const role = principals.entries[0];
    if (!role) throw new Error('no role');
    const roleClient = new SNSClient({
      region: LOCAL_REGION,
      endpoint: server.endpoint,
      credentials: role.credentials,
    });
    const denied = await roleClient
      .send(new PublishCommand({ TopicArn: topicArn, Message: 'not mine to send' }))
      .catch((e: unknown) => e);
    roleClient.destroy();
    expect(denied).toMatchObject({ name: 'AuthorizationErrorException' });
    expect((denied as Error).message).toMatch(
      new RegExp(
        `^User: arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/[^/]+/${READER} is not authorized to perform: SNS:Publish on resource: ${topicArn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} because no identity-based policy allows the SNS:Publish action$`,
      ),
    );
    const local = await fetch(`${server.endpoint}/_local/outbox`, {
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=${role.credentials.accessKeyId}/20261207/${LOCAL_REGION}/sns/aws4_request, SignedHeaders=host, Signature=0`,
      },
    });
    expect(local.status).toBe(403);
  });
});
