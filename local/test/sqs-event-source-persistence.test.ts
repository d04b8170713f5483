import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, describe, expect, it } from 'vitest';
import type { SqsRecord } from '../src/lambda/sqs-event-source.ts';
import { type LocalRuntime, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { Gate, testTemplate } from './fixtures/sqs-esm-stack.ts';

/**
 * An SQS event source mapping across a stop and start of the runtime with `--data-dir`: the runtime stops while the
 * mapping is long-polling, what the mapping deleted stays deleted, and what was left in the queue is delivered after
 * the restart (SQS messages are journaled by local/src/services/sqs.ts; the mapping itself keeps no state).
 */
const work = mkdtempSync(join(tmpdir(), 'orderflow-sqs-esm-data-'));
const dataDir = mkdtempSync(join(work, 'data-'));
const gate = new Gate();
afterAll(async () => {
  await gate.close();
  rmSync(work, { recursive: true, force: true });
});

async function start(templateDir: string, delivered: string[]): Promise<{ runtime: LocalRuntime; sqs: SQSClient }> {
  const runtime = await startLocalRuntime({
    templateDir,
    dataDir,
    stateDir: mkdtempSync(join(work, 'state-')),
    writeRuntimeFile: false,
    onInvoke: (fn, event) => {
      if (fn === 'esm-consumer')
        for (const record of (event as { Records: SqsRecord[] }).Records) delivered.push(record.body);
    },
  });
  const sqs = new SQSClient({
    region: runtime.info.region,
    endpoint: runtime.info.endpoints.sqs,
    credentials: LOCAL_CREDENTIALS,
  });
  return { runtime, sqs };
}

async function depth(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

describe('an SQS event source mapping across a runtime restart with --data-dir', () => {
  it('delivers after the restart what was left in the queue, and never again what it deleted', async () => {
    const templateDir = testTemplate(work, await gate.listen());
    const before: string[] = [];
    const first = await start(templateDir, before);
    const queueUrl = `${first.runtime.info.endpoints.sqs}/000000000000/esm-LaterQueue`;
    const mapping = first.runtime.eventSourceMappings.get('LaterMapping');
    try {
      await first.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'handled before the stop' }));
      await mapping?.enable();
      await until(async () => {
        const { visible, inFlight } = await depth(first.sqs, queueUrl);
        return visible === 0 && inFlight === 0;
      }, 'the first message delivered and deleted');
      await mapping?.disable();
      await first.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'left for after the restart' }));
      // The other mappings are long-polling their queues as the runtime stops.
    } finally {
      first.sqs.destroy();
      await first.runtime.stop();
    }
    expect(before).toEqual(['handled before the stop']);

    const after: string[] = [];
    const second = await start(templateDir, after);
    const url = `${second.runtime.info.endpoints.sqs}/000000000000/esm-LaterQueue`;
    try {
      // The template's mapping is disabled again; the queue holds only the message that was not handled.
      expect(second.runtime.eventSourceMappings.get('LaterMapping')?.describe().State).toBe('Disabled');
      expect(await depth(second.sqs, url)).toEqual({ visible: 1, inFlight: 0 });
      await second.runtime.eventSourceMappings.get('LaterMapping')?.enable();
      await until(async () => {
        const { visible, inFlight } = await depth(second.sqs, url);
        return visible === 0 && inFlight === 0;
      }, 'the message left before the restart delivered and deleted');
      expect(after).toEqual(['left for after the restart']);
    } finally {
      second.sqs.destroy();
      await second.runtime.stop();
    }
  });
});
