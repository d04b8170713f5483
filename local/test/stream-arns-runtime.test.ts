/**
 * The runtime presents the orders stream's ARN as AWS does, in its region (gateway/arns.ts), with enforcement on and
 * off: DescribeTable through its endpoint, the records the pipe delivers, and the DLQ messages it writes, which the ops
 * API's origin check accepts as deployed (mode `aws`: the stream must be in this stack's region). The synthesized
 * template, the real handler bundles, DynamoDB Local and fauxqs; the ops API's own `DlqOrigin`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
// The check the ops API makes of every DLQ message (not exported by the package; local depends on ops-api).
import { DlqOrigin } from '@orderflow/ops-api';
import { PIPES } from '@orderflow/pipeline/facts';
import { DlqMessageError, type StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_LOCAL_REGION } from '../src/gateway/arns.ts';
import { LOCAL_REGION, type LocalRuntime, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';

describe.each(['on', 'off'] as const)('with --iam %s', (iam) => {
  const stateDir = mkdtempSync(join(tmpdir(), `orderflow-stream-arns-${iam}-`));
  const delivered: StreamRecord[] = [];
  let runtime: LocalRuntime;
  let dynamo: DynamoDBClient;
  let sqs: SQSClient;

  beforeAll(async () => {
    runtime = await startLocalRuntime({
      stateDir,
      iam,
      writeRuntimeFile: false,
      pipeTiming: { pollIntervalMs: 50, retryBaseDelayMs: 20 },
      onInvoke: (functionName, event) => {
        if (functionName === PIPES.standard.functionId && Array.isArray(event))
          delivered.push(...(event as StreamRecord[]));
      },
    });
    const aws = { region: runtime.info.region, credentials: LOCAL_CREDENTIALS };
    dynamo = new DynamoDBClient({ ...aws, endpoint: runtime.info.endpoints.dynamodb });
    sqs = new SQSClient({ ...aws, endpoint: runtime.info.endpoints.sqs });
  }, 180_000);
  afterAll(async () => {
    dynamo?.destroy();
    sqs?.destroy();
    await runtime?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('a DLQ message of the standard pipe names the AWS-shaped stream and passes the ops API’s origin check', async () => {
    const { resources } = runtime.info;
    const table = await dynamo.send(new DescribeTableCommand({ TableName: resources.ordersTable }));
    const streamArn = table.Table?.LatestStreamArn as string;
    expect(streamArn).toMatch(
      new RegExp(`^arn:aws:dynamodb:${LOCAL_REGION}:000000000000:table/${resources.ordersTable}/stream/`),
    );

    // Every invocation of the standard processor fails: the pipe retries, then sends the batch to its DLQ.
    const fault = await fetch(`${runtime.info.endpoints.lambda}/_local/faults/${PIPES.standard.functionId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ failureRate: 1, mode: 'throw' }),
    });
    expect(fault.status).toBe(200);
    const orderId = `arn-origin-${iam}`;
    await dynamo.send(
      new PutItemCommand({
        TableName: resources.ordersTable,
        Item: {
          orderId: { S: orderId },
          customerEmail: { S: 'ada@example.com' },
          orderAmount: { N: '150' },
          orderStatus: { S: 'pending' },
          orderDate: { S: new Date().toISOString() },
        },
      }),
    );
    const body = await until(
      async () => {
        const received = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: resources.pipes.standard.dlqUrl, WaitTimeSeconds: 1 }),
        );
        const message = received.Messages?.[0];
        if (!message) return undefined;
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: resources.pipes.standard.dlqUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        return message.Body;
      },
      'the standard pipe to dead-letter the order',
      { timeoutMs: 60_000, intervalMs: 100 },
    );

    // The records the processor was given name the same stream, and the table's region.
    const records = delivered.filter((record) => record.dynamodb.Keys.orderId?.S === orderId);
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) {
      expect(record.eventSourceARN).toBe(streamArn);
      expect(record.awsRegion).toBe(LOCAL_REGION);
    }

    // The ops API as deployed (`mode: aws`) checks the stream's region too (ops-api/src/plugins/services.ts).
    const origin = new DlqOrigin({
      region: runtime.info.region,
      streamRegion: runtime.info.region,
      ordersTable: resources.ordersTable,
      pipeNames: { standard: resources.pipes.standard.name, premium: resources.pipes.premium.name },
      dlqUrls: { standard: resources.pipes.standard.dlqUrl, premium: resources.pipes.premium.dlqUrl },
    });
    const message = await origin.parse('standard', body);
    expect(message.DDBStreamBatchInfo.streamArn).toBe(streamArn);
    // What the runtime wrote before: DynamoDB Local's own ARN, which that check refuses.
    const local = body.replaceAll(`:dynamodb:${LOCAL_REGION}:`, `:dynamodb:${DYNAMODB_LOCAL_REGION}:`);
    await expect(origin.parse('standard', local)).rejects.toBeInstanceOf(DlqMessageError);
  }, 90_000);
});
