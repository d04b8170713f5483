import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';

/**
 * The runtime's SQS endpoint (the IAM gateway in front of fauxqs) with the three kinds of client operators use:
 * Debian's AWS CLI 2.9 and boto3 1.26, which speak SQS's query protocol (form-encoded `Action=...`, XML answers; the
 * gateway translates, gateway/sqs-query.ts), and the AWS SDK for JavaScript v3, which speaks AWS JSON. Each runs the
 * same calls on a queue of its own: create, list, get URL, send, receive, change visibility, delete, read attributes;
 * a missing queue is the query protocol's `AWS.SimpleQueueService.NonExistentQueue`; a role without `sqs:PurgeQueue` is
 * refused by the gateway's IAM check as AWS refuses it.
 */
const execFileAsync = promisify(execFile);
const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-sqs-clients-'));
let runtime: LocalRuntime;
const clients: SQSClient[] = [];

interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}
const envOf = (keys: Keys) => ({
  PATH: '/usr/bin:/bin',
  HOME: stateDir,
  AWS_ACCESS_KEY_ID: keys.accessKeyId,
  AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: join(stateDir, 'none'),
  AWS_SHARED_CREDENTIALS_FILE: join(stateDir, 'none'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
});

beforeAll(async () => {
  if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
    const synth = spawnSync('npm', ['run', 'build', '-w', 'stack'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`stack synth failed: ${synth.stderr}`);
  }
  runtime = await startLocalRuntime({ stateDir });
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** A role of the template (any: none of them may purge a queue). */
const roleKeys = (): Keys => {
  const [principal] = Object.values(runtime.info.principals ?? {});
  if (!principal) throw new Error('runtime.json lists no principals');
  return { accessKeyId: principal.accessKeyId, secretAccessKey: principal.secretAccessKey };
};

type Answer = { ok: true; out: Record<string, unknown> } | { ok: false; error: string };

async function cli(keys: Keys, ...args: string[]): Promise<Answer> {
  try {
    const { stdout } = await execFileAsync(
      '/usr/bin/aws',
      ['--endpoint-url', runtime.info.endpoints.sqs, '--output', 'json', 'sqs', ...args],
      { env: envOf(keys) },
    );
    return { ok: true, out: stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>) };
  } catch (error: unknown) {
    return { ok: false, error: String((error as { stderr?: string }).stderr ?? error) };
  }
}

async function boto3(keys: Keys, operation: string, params: Record<string, unknown> = {}): Promise<Answer> {
  const script = `
import json, sys, boto3, botocore
client = boto3.client('sqs', endpoint_url=sys.argv[1], region_name='us-east-1')
try:
    out = getattr(client, sys.argv[2])(**json.loads(sys.argv[3]))
    out.pop('ResponseMetadata', None)
    print(json.dumps({'ok': True, 'out': out}, default=str))
except botocore.exceptions.ClientError as e:
    print(json.dumps({'ok': False, 'error': '%s: %s' % (e.response['Error']['Code'], e.response['Error'].get('Message'))}))
`;
  const { stdout } = await execFileAsync(
    '/usr/bin/python3',
    ['-c', script, runtime.info.endpoints.sqs, operation, JSON.stringify(params)],
    { env: envOf(keys) },
  );
  return JSON.parse(stdout) as Answer;
}

const outOf = (answer: Answer): Record<string, unknown> => {
  if (!answer.ok) throw new Error(`expected success, got ${answer.error}`);
  return answer.out;
};

describe("Debian's AWS CLI 2.9 (query protocol)", () => {
  it('creates, lists, sends, receives, changes visibility, deletes and reads attributes', async () => {
    const admin = LOCAL_CREDENTIALS;
    const created = outOf(
      await cli(admin, 'create-queue', '--queue-name', 'cli-queue', '--attributes', 'VisibilityTimeout=45'),
    );
    const queueUrl = created.QueueUrl as string;
    expect(queueUrl).toMatch(/\/000000000000\/cli-queue$/);
    expect(outOf(await cli(admin, 'list-queues')).QueueUrls).toContain(queueUrl);
    expect(outOf(await cli(admin, 'get-queue-url', '--queue-name', 'cli-queue')).QueueUrl).toBe(queueUrl);

    const sent = outOf(
      await cli(
        admin,
        'send-message',
        '--queue-url',
        queueUrl,
        '--message-body',
        'order <42> & more',
        '--message-attributes',
        '{"tenant":{"DataType":"String","StringValue":"acme"}}',
      ),
    );
    expect(sent.MessageId).toEqual(expect.any(String));
    expect(sent.MD5OfMessageBody).toMatch(/^[0-9a-f]{32}$/);

    const received = outOf(
      await cli(
        admin,
        'receive-message',
        '--queue-url',
        queueUrl,
        '--attribute-names',
        'All',
        '--message-attribute-names',
        'All',
        '--max-number-of-messages',
        '10',
      ),
    );
    const messages = received.Messages as {
      Body: string;
      MessageId: string;
      ReceiptHandle: string;
      Attributes: Record<string, string>;
      MessageAttributes: Record<string, { DataType: string; StringValue: string }>;
    }[];
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      Body: 'order <42> & more',
      MessageId: sent.MessageId,
      Attributes: { ApproximateReceiveCount: '1' },
      MessageAttributes: { tenant: { DataType: 'String', StringValue: 'acme' } },
    });
    const handle = messages[0]?.ReceiptHandle as string;

    expect(
      await cli(
        admin,
        'change-message-visibility',
        '--queue-url',
        queueUrl,
        '--receipt-handle',
        handle,
        '--visibility-timeout',
        '0',
      ),
    ).toEqual({ ok: true, out: {} });
    const attributes = outOf(
      await cli(admin, 'get-queue-attributes', '--queue-url', queueUrl, '--attribute-names', 'All'),
    ).Attributes as Record<string, string>;
    // Visible again after ChangeMessageVisibility 0; the attribute set at creation came through the form's map.
    expect(attributes).toMatchObject({ VisibilityTimeout: '45', ApproximateNumberOfMessages: '1' });

    const again = outOf(await cli(admin, 'receive-message', '--queue-url', queueUrl)).Messages as {
      ReceiptHandle: string;
    }[];
    expect(
      await cli(admin, 'delete-message', '--queue-url', queueUrl, '--receipt-handle', again[0]?.ReceiptHandle ?? ''),
    ).toEqual({ ok: true, out: {} });
    const after = outOf(
      await cli(
        admin,
        'get-queue-attributes',
        '--queue-url',
        queueUrl,
        '--attribute-names',
        'ApproximateNumberOfMessages',
      ),
    );
    expect(after.Attributes).toEqual({ ApproximateNumberOfMessages: '0' });
  });

  it('a missing queue is the query protocol error AWS.SimpleQueueService.NonExistentQueue', async () => {
    const answer = await cli(LOCAL_CREDENTIALS, 'get-queue-url', '--queue-name', 'no-such-queue');
    expect(answer.ok).toBe(false);
    expect(!answer.ok && answer.error).toMatch(/AWS\.SimpleQueueService\.NonExistentQueue/);
  });

  it('PurgeQueue by a role without sqs:PurgeQueue is refused with AccessDenied', async () => {
    const queueUrl = outOf(await cli(LOCAL_CREDENTIALS, 'create-queue', '--queue-name', 'cli-purge'))
      .QueueUrl as string;
    const answer = await cli(roleKeys(), 'purge-queue', '--queue-url', queueUrl);
    expect(answer.ok).toBe(false);
    expect(!answer.ok && answer.error).toMatch(/\(AccessDenied\).*not authorized to perform: sqs:PurgeQueue/s);
    expect(await cli(LOCAL_CREDENTIALS, 'purge-queue', '--queue-url', queueUrl)).toEqual({ ok: true, out: {} });
  });
});

describe("Debian's boto3 1.26 (query protocol)", () => {
  it('the same calls, with a batch send and the modelled exception of a missing queue', async () => {
    const admin = LOCAL_CREDENTIALS;
    const queueUrl = outOf(await boto3(admin, 'create_queue', { QueueName: 'boto3-queue' })).QueueUrl as string;
    expect(outOf(await boto3(admin, 'list_queues', { QueueNamePrefix: 'boto3-' })).QueueUrls).toEqual([queueUrl]);
    expect(outOf(await boto3(admin, 'get_queue_url', { QueueName: 'boto3-queue' })).QueueUrl).toBe(queueUrl);
    const batch = outOf(
      await boto3(admin, 'send_message_batch', {
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'first' },
          {
            Id: 'b',
            MessageBody: 'second',
            MessageAttributes: { kind: { DataType: 'Number', StringValue: '7' } },
          },
        ],
      }),
    );
    expect((batch.Successful as { Id: string }[]).map((entry) => entry.Id).sort()).toEqual(['a', 'b']);
    expect(outOf(await boto3(admin, 'send_message', { QueueUrl: queueUrl, MessageBody: 'third' })).MessageId).toEqual(
      expect.any(String),
    );
    const received = outOf(
      await boto3(admin, 'receive_message', {
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    ).Messages as { Body: string; ReceiptHandle: string; MessageAttributes?: Record<string, unknown> }[];
    expect(received.map((message) => message.Body).sort()).toEqual(['first', 'second', 'third']);
    expect(received.find((message) => message.Body === 'second')?.MessageAttributes).toEqual({
      kind: { DataType: 'Number', StringValue: '7' },
    });
    const [first, ...rest] = received;
    expect(
      await boto3(admin, 'change_message_visibility', {
        QueueUrl: queueUrl,
        ReceiptHandle: first?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    ).toEqual({ ok: true, out: {} });
    for (const message of rest)
      expect(
        await boto3(admin, 'delete_message', { QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      ).toEqual({ ok: true, out: {} });
    const attributes = outOf(
      await boto3(admin, 'get_queue_attributes', {
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(attributes.Attributes).toEqual({
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
    expect(await boto3(admin, 'get_queue_url', { QueueName: 'boto3-missing' })).toEqual({
      ok: false,
      error: expect.stringMatching(/^AWS\.SimpleQueueService\.NonExistentQueue: /),
    });
    expect(await boto3(roleKeys(), 'purge_queue', { QueueUrl: queueUrl })).toEqual({
      ok: false,
      error: expect.stringMatching(/^AccessDenied: .*not authorized to perform: sqs:PurgeQueue/),
    });
  });
});

describe('the AWS SDK for JavaScript v3 (AWS JSON), for comparison', () => {
  it('the same calls', async () => {
    const sqsAs = (credentials: Keys) => {
      const client = new SQSClient({
        region: runtime.info.region,
        endpoint: runtime.info.endpoints.sqs,
        credentials,
        maxAttempts: 1,
      });
      clients.push(client);
      return client;
    };
    const admin = sqsAs(LOCAL_CREDENTIALS);
    const { QueueUrl } = await admin.send(new CreateQueueCommand({ QueueName: 'js-queue' }));
    expect((await admin.send(new ListQueuesCommand({ QueueNamePrefix: 'js-' }))).QueueUrls).toEqual([QueueUrl]);
    expect((await admin.send(new GetQueueUrlCommand({ QueueName: 'js-queue' }))).QueueUrl).toBe(QueueUrl);
    await admin.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
    const { Messages } = await admin.send(new ReceiveMessageCommand({ QueueUrl }));
    expect(Messages?.map((message) => message.Body)).toEqual(['hello']);
    const ReceiptHandle = Messages?.[0]?.ReceiptHandle;
    await admin.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle, VisibilityTimeout: 5 }));
    await admin.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle }));
    const { Attributes } = await admin.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Attributes).toEqual({ ApproximateNumberOfMessages: '0' });
    await expect(admin.send(new GetQueueUrlCommand({ QueueName: 'js-missing' }))).rejects.toMatchObject({
      name: 'QueueDoesNotExist',
    });
    await expect(sqsAs(roleKeys()).send(new PurgeQueueCommand({ QueueUrl }))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringMatching(/not authorized to perform: sqs:PurgeQueue/),
    });
  });
});
