import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { LAMBDA_METRICS, LAMBDA_NAMESPACE } from '@orderflow/pipeline/facts';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqsRecord } from '../src/lambda/sqs-event-source.ts';
import { type LocalRuntime, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { Gate, testTemplate } from './fixtures/sqs-esm-stack.ts';
import { total } from './helpers.ts';

/**
 * SQS event source mappings on the whole local runtime: the synthesized template plus test queues, functions (the
 * fixture handler in fixtures/sqs-consumer) and mappings, polled with the functions' execution roles through the IAM
 * gateway. Every outcome is read from SQS with the AWS SDK (what is left in a queue or its DLQ) and from the
 * invocations the Lambda runtime started.
 */
const work = mkdtempSync(join(tmpdir(), 'orderflow-sqs-esm-'));

let runtime: LocalRuntime;
let sqs: SQSClient;
const gate = new Gate();
const invocations: { fn: string; records: SqsRecord[] }[] = [];
const errors: string[] = [];

beforeAll(async () => {
  const gateUrl = await gate.listen();
  runtime = await startLocalRuntime({
    templateDir: testTemplate(work, gateUrl),
    stateDir: mkdtempSync(join(work, 'state-')),
    observeIntervalMs: 300,
    eventSourceTiming: { failureBackoffMs: 50, throttleRetryMs: 20, pollErrorBackoffMs: 100 },
    onInvoke: (fn, event) => {
      const records = (event as { Records?: SqsRecord[] }).Records;
      if (fn.startsWith('esm-') && records) invocations.push({ fn, records });
    },
    onError: (error) => errors.push(String((error as Error).message ?? error)),
  });
  sqs = new SQSClient({
    region: runtime.info.region,
    endpoint: runtime.info.endpoints.sqs,
    credentials: LOCAL_CREDENTIALS,
  });
}, 120_000);
afterAll(async () => {
  sqs?.destroy();
  await runtime?.stop();
  await gate.close();
  rmSync(work, { recursive: true, force: true });
});

const queueUrl = (id: string) => `${runtime.info.endpoints.sqs}/000000000000/esm-${id}`;
const queueArn = (id: string) => `arn:aws:sqs:${runtime.info.region}:000000000000:esm-${id}`;
const send = (id: string, bodies: unknown[]) =>
  sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl(id),
      Entries: bodies.map((body, i) => ({
        Id: String(i),
        MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
      })),
    }),
  );
/** Visible and in-flight messages, as GetQueueAttributes reports them. */
async function depth(id: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl(id),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}
const empty = async (id: string) => {
  const { visible, inFlight } = await depth(id);
  return visible === 0 && inFlight === 0;
};
const deliveriesOf = (queue: string) =>
  invocations.filter((i) => i.records[0]?.eventSourceARN === queueArn(queue)).map((i) => i.records);
const bodiesOf = (batch: SqsRecord[]) => batch.map((record) => JSON.parse(record.body) as Record<string, unknown>);

describe('SQS event source mappings on the local runtime', () => {
  it('creates each mapping of the template in the state its Enabled says, with its settings', () => {
    const batch = runtime.eventSourceMappings.get('BatchMapping')?.describe();
    expect(batch).toMatchObject({
      EventSourceArn: queueArn('BatchQueue'),
      FunctionArn: `arn:aws:lambda:${runtime.info.region}:000000000000:function:esm-consumer`,
      BatchSize: 20,
      MaximumBatchingWindowInSeconds: 3,
      FunctionResponseTypes: [],
      State: 'Enabled',
    });
    expect(batch?.UUID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(runtime.eventSourceMappings.get('GateMapping')?.describe().ScalingConfig).toEqual({ MaximumConcurrency: 2 });
    expect(runtime.eventSourceMappings.get('LaterMapping')?.describe().State).toBe('Disabled');
    expect(runtime.summary.supported['AWS::Lambda::EventSourceMapping']).toBeGreaterThanOrEqual(9);
  });

  it('hands the function records as Lambda shapes them, and deletes the batch when it succeeds', async () => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl('PartialQueue'),
        MessageBody: '{"order":"o-1"}',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'order' } },
      }),
    );
    const [batch] = await until(
      () => deliveriesOf('PartialQueue').length > 0 && deliveriesOf('PartialQueue'),
      'a delivery',
    );
    const record = batch?.[0] as SqsRecord;
    expect(record).toMatchObject({
      body: '{"order":"o-1"}',
      md5OfBody: createHash('md5').update('{"order":"o-1"}').digest('hex'),
      messageAttributes: {
        kind: { stringValue: 'order', stringListValues: [], binaryListValues: [], dataType: 'String' },
      },
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn('PartialQueue'),
      awsRegion: runtime.info.region,
      attributes: { ApproximateReceiveCount: '1', SenderId: expect.any(String) },
    });
    expect(record.messageId).toMatch(/\S/);
    expect(record.receiptHandle).toMatch(/\S/);
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(
      Number(record.attributes.SentTimestamp),
    );
    await until(() => empty('PartialQueue'), 'the message deleted');
  });

  it('fills a batch for up to MaximumBatchingWindowInSeconds and never beyond BatchSize', async () => {
    await send('BatchQueue', [{ n: 1 }, { n: 2 }]);
    // The mapping holds the two while its window runs (in flight, not yet invoked); two more join the same batch.
    await until(async () => (await depth('BatchQueue')).inFlight === 2, 'two messages received into the window');
    expect(deliveriesOf('BatchQueue')).toEqual([]);
    await send('BatchQueue', [{ n: 3 }, { n: 4 }]);
    const [first] = await until(() => deliveriesOf('BatchQueue').length === 1 && deliveriesOf('BatchQueue'), 'a batch');
    expect(bodiesOf(first as SqsRecord[]).map((b) => b.n)).toEqual([1, 2, 3, 4]);
    await until(() => empty('BatchQueue'), 'the batch deleted');

    // 25 messages: a full batch of 20 at once, the other 5 when the window has passed.
    for (let start = 0; start < 25; start += 10)
      await send(
        'BatchQueue',
        Array.from({ length: Math.min(10, 25 - start) }, (_, i) => ({ n: 100 + start + i })),
      );
    await until(() => deliveriesOf('BatchQueue').length === 3, 'two more batches', 20_000);
    const sizes = deliveriesOf('BatchQueue')
      .slice(1)
      .map((records) => records.length);
    expect(sizes.sort((a, b) => b - a)).toEqual([20, 5]);
    await until(() => empty('BatchQueue'), 'all deleted');
  });

  it('with ReportBatchItemFailures deletes the rest of the batch and receives only the failed message again', async () => {
    await send('PartialQueue', [{ id: 'a' }, { id: 'b', failUntil: 1 }, { id: 'c' }]);
    const tried = () => deliveriesOf('PartialQueue').filter((batch) => bodiesOf(batch).some((b) => b.id));
    await until(() => tried().length >= 2, 'the failed message received again');
    const [first, second] = tried();
    expect(bodiesOf(first as SqsRecord[]).map((b) => b.id)).toEqual(['a', 'b', 'c']);
    expect(bodiesOf(second as SqsRecord[]).map((b) => b.id)).toEqual(['b']);
    expect(second?.[0]?.attributes.ApproximateReceiveCount).toBe('2');
    await until(() => empty('PartialQueue'), 'every message deleted');
    expect(tried()).toHaveLength(2);
  });

  it('fails the whole batch when the function throws or names a message that is not in the batch', async () => {
    for (const mode of ['throw', 'invalid']) {
      const before = deliveriesOf('WholeQueue').length;
      await send('WholeQueue', [{ id: `${mode}-a` }, { id: `${mode}-b`, failUntil: 1, mode }]);
      await until(() => empty('WholeQueue'), `the ${mode} batch delivered again and deleted`);
      const [first, ...again] = deliveriesOf('WholeQueue').slice(before);
      expect(bodiesOf(first as SqsRecord[]).map((b) => b.id)).toEqual([`${mode}-a`, `${mode}-b`]);
      // Both messages come back, the one that succeeded too, each received a second time (and then deleted).
      const second = again.flat();
      expect(second.map((record) => JSON.parse(record.body).id).sort()).toEqual([`${mode}-a`, `${mode}-b`]);
      expect(second.map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['2', '2']);
    }
  });

  it("moves a message that keeps failing to the queue's dead-letter queue after maxReceiveCount receives", async () => {
    await send('PoisonQueue', [{ id: 'poison', failUntil: 99, mode: 'throw' }]);
    const received = await until(async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl('PoisonDlq'),
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      return Messages.length > 0 && Messages;
    }, 'the poison message in the DLQ');
    expect(JSON.parse(received[0]?.Body ?? '{}')).toEqual({ id: 'poison', failUntil: 99, mode: 'throw' });
    expect(await empty('PoisonQueue')).toBe(true);
    // maxReceiveCount 2: the function saw it twice; the third receive moved it instead of returning it.
    expect(deliveriesOf('PoisonQueue').map((batch) => batch[0]?.attributes.ApproximateReceiveCount)).toEqual([
      '1',
      '2',
    ]);
  });

  it('invokes the function only with messages a filter matches, and deletes the others', async () => {
    await send('FilterQueue', [
      { kind: 'keep', n: 1 },
      { kind: 'skip', n: 2 },
      'plain keep 3',
      'plain skip 4',
      { n: 5 },
    ]);
    await until(() => empty('FilterQueue'), 'every message gone from the queue');
    const delivered = deliveriesOf('FilterQueue')
      .flat()
      .map((record) => record.body)
      .sort();
    expect(delivered).toEqual(['plain keep 3', JSON.stringify({ kind: 'keep', n: 1 })].sort());
  });

  it('runs at most ScalingConfig.MaximumConcurrency invocations at once, and reads no more meanwhile', async () => {
    await send(
      'GateQueue',
      Array.from({ length: 6 }, (_, i) => ({ n: i, gate: true })),
    );
    let delivered = 0;
    while (delivered < 6) {
      await until(() => gate.heldOf('esm-gated').length === Math.min(2, 6 - delivered), 'invocations held at the gate');
      // The two slots are taken: the mapping holds no message beyond the two it is processing.
      expect((await depth('GateQueue')).inFlight).toBe(Math.min(2, 6 - delivered));
      delivered += gate.heldOf('esm-gated').length;
      gate.release('esm-gated');
    }
    await until(() => empty('GateQueue'), 'every gated message deleted');
    expect(gate.maxHeld.get('esm-gated')).toBe(2);
  });

  it("is throttled by the function's reserved concurrency and retries the throttled batch", async () => {
    const throttles = () =>
      total(runtime.metrics, LAMBDA_NAMESPACE, LAMBDA_METRICS.throttles, { FunctionName: 'esm-throttled' });
    await send('ThrottleQueue', [
      { n: 1, gate: true },
      { n: 2, gate: true },
    ]);
    // ReservedConcurrentExecutions 1: the first invocation is held, the second batch is throttled and retried.
    await until(() => gate.heldOf('esm-throttled').length === 1 && throttles() > 0, 'a held invocation and a throttle');
    // Released, the held invocation finishes and the throttled batch gets through (and is held and released too).
    await until(async () => {
      gate.release('esm-throttled');
      return empty('ThrottleQueue');
    }, 'both messages delivered and deleted');
    expect(gate.maxHeld.get('esm-throttled')).toBe(1);
  });

  it('publishes AWS/Lambda metrics for the invocations it makes, as for any other', () => {
    const invocationsOf = total(runtime.metrics, LAMBDA_NAMESPACE, LAMBDA_METRICS.invocations, {
      FunctionName: 'esm-consumer',
    });
    expect(invocationsOf).toBe(invocations.filter((i) => i.fn === 'esm-consumer').length);
    expect(
      total(runtime.metrics, LAMBDA_NAMESPACE, LAMBDA_METRICS.errors, { FunctionName: 'esm-consumer' }),
    ).toBeGreaterThan(0);
  });

  it('polls a disabled mapping only once it is enabled', async () => {
    const later = runtime.eventSourceMappings.get('LaterMapping');
    await send('LaterQueue', [{ id: 'later' }]);
    expect(await depth('LaterQueue')).toEqual({ visible: 1, inFlight: 0 });
    expect(deliveriesOf('LaterQueue')).toEqual([]);
    await later?.enable();
    expect(later?.describe().State).toBe('Enabled');
    await until(() => empty('LaterQueue'), 'the message delivered and deleted');
    expect(
      deliveriesOf('LaterQueue')
        .flat()
        .map((r) => r.body),
    ).toEqual(['{"id":"later"}']);
    await later?.disable();
    expect(later?.describe().State).toBe('Disabled');
  });

  it('creates no poller for a function whose role may not receive from the queue, and records the denial', async () => {
    const denied = runtime.eventSourceMappings.get('DeniedMapping')?.describe();
    expect(denied).toMatchObject({
      State: 'CreateFailed',
      StateTransitionReason: 'The function execution role does not have permissions to call ReceiveMessage on SQS',
    });
    expect(runtime.denials.list({ role: 'DeniedRole' })).toEqual([
      expect.objectContaining({
        action: 'sqs:ReceiveMessage',
        resource: queueArn('DeniedQueue'),
        reason: 'no-identity-allow',
        endpoint: 'lambda',
      }),
    ]);
    expect(errors).toContainEqual(expect.stringContaining('event source mapping DeniedMapping'));
    await send('DeniedQueue', [{ id: 'never' }]);
    expect(await depth('DeniedQueue')).toEqual({ visible: 1, inFlight: 0 });
    expect(invocations.filter((i) => i.fn === 'esm-denied')).toEqual([]);
  });
});
