/**
 * AWS's SQS rules the local runtime follows (docs/ARCHITECTURE.md, "AWS service rules the local runtime follows"):
 * `ApproximateAgeOfOldestMessage` leaves out a message received three or more times on a standard queue.
 */
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { AGE_RECEIVE_LIMIT, type LocalSqs, oldestCounted, startSqs } from '../src/services/sqs.ts';

const REGION = 'us-east-1';
let sqs: LocalSqs;
let client: SQSClient;

beforeAll(async () => {
  sqs = await startSqs({ region: REGION });
  client = new SQSClient({ region: REGION, endpoint: sqs.endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
});
afterAll(async () => {
  client?.destroy();
  await sqs?.stop();
});

/** Receives one message and makes it visible again at once (visibility timeout 0), as a consumer that fails does. */
async function receiveAndGiveBack(queueUrl: string): Promise<{ body: string; receiveCount: number }> {
  const answer = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 1,
      VisibilityTimeout: 0,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  const [message] = answer.Messages ?? [];
  if (!message) throw new Error(`no message received from ${queueUrl}`);
  return { body: message.Body ?? '', receiveCount: Number(message.Attributes?.ApproximateReceiveCount) };
}

describe('ApproximateAgeOfOldestMessage as SQS computes it', () => {
  it('leaves out a message received three or more times on a standard queue and shows the next one', async () => {
    const { queueUrl } = sqs.createQueue('age-standard');
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison' }));
    const poisonSentAt = sqs.inspect('age-standard')?.oldestSentAt;
    expect(poisonSentAt).toEqual(expect.any(Number));

    // Received twice: still counted.
    for (let i = 1; i < AGE_RECEIVE_LIMIT; i++) {
      expect(await receiveAndGiveBack(queueUrl)).toEqual({ body: 'poison', receiveCount: i });
      expect(sqs.inspect('age-standard')).toMatchObject({ oldestSentAt: poisonSentAt, leftOutOfAge: 0 });
    }
    // The third receive moves it out of the metric; its visibility timeout of 0 has run out, so it is visible.
    expect(await receiveAndGiveBack(queueUrl)).toEqual({ body: 'poison', receiveCount: AGE_RECEIVE_LIMIT });
    const afterThird = sqs.inspect('age-standard');
    expect(afterThird).toMatchObject({ visible: 1, notVisible: 0, leftOutOfAge: 1 });
    expect(afterThird?.oldestSentAt).toBeUndefined();

    // A younger message is now the oldest the metric shows, though the poison pill is older.
    await until(() => Date.now() > (poisonSentAt as number), 'the clock to pass the poison message’s sent time');
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'fresh' }));
    const withFresh = sqs.inspect('age-standard');
    expect(withFresh).toMatchObject({ visible: 2, leftOutOfAge: 1 });
    expect(withFresh?.oldestSentAt).toBeGreaterThan(poisonSentAt as number);
  });

  it('keeps every message in the figure on a FIFO queue, which does not reorder', () => {
    const sentAt = 1_000;
    const messages = [
      { sentTimestamp: sentAt, approximateReceiveCount: 7 },
      { sentTimestamp: sentAt + 5, approximateReceiveCount: 0 },
    ];
    expect(oldestCounted(messages, true)).toEqual({ oldestSentAt: sentAt, leftOut: 0 });
    expect(oldestCounted(messages, false)).toEqual({ oldestSentAt: sentAt + 5, leftOut: 1 });
    expect(oldestCounted([{ sentTimestamp: sentAt, approximateReceiveCount: AGE_RECEIVE_LIMIT - 1 }], false)).toEqual({
      oldestSentAt: sentAt,
      leftOut: 0,
    });
  });
});
