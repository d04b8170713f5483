import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  DeleteMessageCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { type LocalSqs, startSqs } from '../src/services/sqs.ts';

const dirs: string[] = [];
const running: { sqs: LocalSqs; client: SQSClient }[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-sqs-'));
  dirs.push(dir);
  return dir;
};
afterEach(async () => {
  for (const { sqs, client } of running.splice(0)) {
    client.destroy();
    await sqs.stop();
  }
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const clientFor = (endpoint: string) =>
  new SQSClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });

async function start<Q extends string>(dir: string, queues: Record<Q, Record<string, string> | undefined>) {
  const sqs = await startSqs({ dataDir: dir });
  const client = clientFor(sqs.endpoint);
  running.push({ sqs, client });
  const urls = Object.fromEntries(
    Object.entries<Record<string, string> | undefined>(queues).map(([name, attributes]) => [
      name,
      sqs.createQueue(name, attributes).queueUrl,
    ]),
  ) as Record<Q, string>;
  return { sqs, client, urls, stop: () => stopOne(sqs) };
}

async function stopOne(sqs: LocalSqs) {
  const index = running.findIndex((r) => r.sqs === sqs);
  const [entry] = running.splice(index, 1);
  entry?.client.destroy();
  await sqs.stop();
}

async function receiveAll(client: SQSClient, queueUrl: string) {
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

const send = (client: SQSClient, queueUrl: string, body: string) =>
  client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageAttributes: { kind: { DataType: 'String', StringValue: `kind-${body}` } },
    }),
  );

describe('SQS persistence with a data dir', () => {
  it('gives back every message sent and not deleted, with its id, body, attributes and sent time', async () => {
    const dir = dataDir();
    const first = await start(dir, { work: undefined, purged: undefined });
    const ids: string[] = [];
    for (const body of ['a', 'b', 'c', 'd'])
      ids.push((await send(first.client, first.urls.work, body)).MessageId ?? '');
    await send(first.client, first.urls.purged, 'gone');
    await first.client.send(new PurgeQueueCommand({ QueueUrl: first.urls.purged }));
    const received = await receiveAll(first.client, first.urls.work);
    expect(received.map((m) => m.Body)).toEqual(['a', 'b', 'c', 'd']);
    // 'a' is deleted; 'b'..'d' stay received and in flight when the emulator stops.
    await first.client.send(
      new DeleteMessageCommand({ QueueUrl: first.urls.work, ReceiptHandle: received[0]?.ReceiptHandle }),
    );
    const sentAt = received.map((m) => m.Attributes?.SentTimestamp);
    await first.stop();

    const second = await start(dir, { work: undefined, purged: undefined });
    expect(second.urls.work).not.toBe(first.urls.work); // a new port: state follows the queue name
    const back = await receiveAll(second.client, second.urls.work);
    expect(back.map((m) => [m.MessageId, m.Body, m.Attributes?.SentTimestamp])).toEqual(
      [1, 2, 3].map((i) => [ids[i], received[i]?.Body, sentAt[i]]),
    );
    expect(back[0]?.MessageAttributes?.kind?.StringValue).toBe('kind-b');
    expect(await receiveAll(second.client, second.urls.purged)).toEqual([]);
  });

  it('keeps what a SIGKILLed emulator process acknowledged', async () => {
    const dir = dataDir();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fixtures/sqs-process.ts', import.meta.url)), dir, 'orders'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.once('exit', (_, signal) => resolve(signal)));
    let killed = false;
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const ready = JSON.parse(((await lines.next()).value as string | undefined) ?? 'null') as {
        endpoint: string;
        urls: { orders: string };
      };
      const client = clientFor(ready.endpoint);
      for (const body of ['one', 'two', 'three']) await send(client, ready.urls.orders, body);
      const [first] = await receiveAll(client, ready.urls.orders);
      await client.send(new DeleteMessageCommand({ QueueUrl: ready.urls.orders, ReceiptHandle: first?.ReceiptHandle }));
      client.destroy();
      child.kill('SIGKILL');
      killed = true;
      expect(await exited).toBe('SIGKILL');
    } finally {
      if (!killed) child.kill('SIGKILL');
    }
    const after = await start(dir, { orders: undefined });
    expect((await receiveAll(after.client, after.urls.orders)).map((m) => m.Body)).toEqual(['two', 'three']);
  });

  it('moves follow a RedrivePolicy: a message moved to the dead-letter queue comes back there only', async () => {
    const dir = dataDir();
    const attributes = (dlqArn: string) => ({
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }),
      VisibilityTimeout: '0',
    });
    const first = await start(dir, { dead: undefined });
    const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:dead';
    const source = first.sqs.createQueue('source', attributes(dlqArn)).queueUrl;
    await send(first.client, source, 'poison');
    expect((await receiveAll(first.client, source)).map((m) => m.Body)).toEqual(['poison']);
    // Second receive: over maxReceiveCount, fauxqs moves it to the dead-letter queue.
    expect(await receiveAll(first.client, source)).toEqual([]);
    await first.stop();

    const second = await start(dir, { dead: undefined });
    const sourceAgain = second.sqs.createQueue('source', attributes(dlqArn)).queueUrl;
    expect(await receiveAll(second.client, sourceAgain)).toEqual([]);
    expect((await receiveAll(second.client, second.urls.dead)).map((m) => m.Body)).toEqual(['poison']);
  });

  it('ignores a torn last line and stops with the file and line for damage elsewhere', async () => {
    const dir = dataDir();
    const first = await start(dir, { q: undefined });
    await send(first.client, first.urls.q, 'kept');
    await first.stop();
    const file = join(dir, 'sqs', 'q.ndjson');
    appendFileSync(file, '{"sent":{"messageId":"half');
    const second = await start(dir, { q: undefined });
    expect((await receiveAll(second.client, second.urls.q)).map((m) => m.Body)).toEqual(['kept']);
    await second.stop();

    writeFileSync(file, `not json\n${readFileSync(file, 'utf8')}`);
    const third = await startSqs({ dataDir: dir });
    try {
      expect(() => third.createQueue('q')).toThrow(`SQS journal ${file} line 1 is not JSON`);
    } finally {
      await third.stop();
    }
  });
});
