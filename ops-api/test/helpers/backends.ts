import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  AUDIT_KEYS,
  IDEMPOTENCY_KEYS,
  JOBS_KEYS,
  JOURNAL_KEYS,
  journalRecordKey,
  LOGICAL_IDS,
  ORDERS_PARTITION_KEY,
  PIPES,
  type PipeKey,
} from '@orderflow/pipeline/facts';
import type { JournalEntry, PipeDlqMessage, RuntimeInfo, StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import { startFauxqs } from 'fauxqs';
import { LOCAL_CREDENTIALS, startDynamoDbLocal } from '../../../local/src/services/dynamodb-local.ts';
import { freePort } from '../../../local/src/services/ports.ts';
import { createDeadLetterTable } from './dead-letter-store.ts';

const REGION = 'us-east-1';

/** A processor stand-in: answers like a pipe target (partial batch response keyed by eventID). */
export type Processor = (records: StreamRecord[]) => Promise<unknown>;

export interface Backends {
  readonly info: RuntimeInfo;
  readonly dynamodb: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  /** The process started for DynamoDB Local (its JVM runs at or below it); fauxqs and the Lambda stand-in run here. */
  readonly dynamodbPid: number | undefined;
  /** Replace what the Lambda endpoint runs for a function. */
  setProcessor(pipe: PipeKey, processor: Processor): void;
  /** Writes orders and answers the stream records they produced, as Pipes would deliver them. */
  writeOrders(orders: readonly Record<string, unknown>[]): Promise<StreamRecord[]>;
  /** Sends a pipe DLQ message describing these records (same shard); answers the message body. */
  sendDlqMessage(pipe: PipeKey, records: readonly StreamRecord[]): Promise<PipeDlqMessage>;
  sendRawDlqMessage(pipe: PipeKey, body: string): Promise<void>;
  journal(pipe: PipeKey, record: StreamRecord, error: { name: string; message: string }): Promise<void>;
  /** Metric data and alarms the CloudWatch stand-in answers with. */
  cloudwatch: { metrics: CloudWatchMetric[]; alarms: Record<string, unknown>[] };
  stop(): Promise<void>;
}

export interface CloudWatchMetric {
  MetricName: string;
  Dimensions: { Name: string; Value: string }[];
  values: { timestamp: Date; value: number }[];
}

export async function startBackends(): Promise<Backends> {
  const dynamo = await startDynamoDbLocal();
  // fauxqs started with a `host` (as local's launcher does) names queues `http://sqs.<region>.127.0.0.1:<port>/...`,
  // which WHATWG URL parsing rejects (a numeric last label must be an IPv4 address); without one it uses the request's
  // host, so queues created through the API get `http://127.0.0.1:<port>/...` URLs.
  const sqsPort = await freePort();
  const fauxqs = await startFauxqs({ port: sqsPort, logger: false, defaultRegion: REGION } as Parameters<
    typeof startFauxqs
  >[0]);
  const sqsServer = { endpoint: `http://127.0.0.1:${sqsPort}`, stop: () => fauxqs.stop() };
  const raw = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
  const dynamodb = DynamoDBDocumentClient.from(raw);
  const streams = new DynamoDBStreamsClient({
    endpoint: dynamo.endpoint,
    region: REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const sqs = new SQSClient({ endpoint: sqsServer.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });

  const orders = await raw.send(
    new CreateTableCommand({
      TableName: LOGICAL_IDS.ordersTable,
      KeySchema: [{ AttributeName: ORDERS_PARTITION_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: ORDERS_PARTITION_KEY, AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const streamArn = orders.TableDescription?.LatestStreamArn ?? '';
  const simpleTable = (name: string, key: string, sortKey?: string) =>
    raw.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [
          { AttributeName: key, KeyType: 'HASH' },
          ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
        ],
        AttributeDefinitions: [
          { AttributeName: key, AttributeType: 'S' },
          ...(sortKey ? [{ AttributeName: sortKey, AttributeType: 'S' as const }] : []),
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  await simpleTable(LOGICAL_IDS.journalTable, JOURNAL_KEYS.partitionKey);
  await simpleTable(LOGICAL_IDS.idempotencyTable, IDEMPOTENCY_KEYS.partitionKey);
  await simpleTable(LOGICAL_IDS.auditTable, AUDIT_KEYS.partitionKey, AUDIT_KEYS.sortKey);
  await simpleTable(LOGICAL_IDS.jobsTable, JOBS_KEYS.partitionKey);
  await createDeadLetterTable(raw, LOGICAL_IDS.deadLetterTable);
  await raw.send(
    new UpdateTimeToLiveCommand({
      TableName: LOGICAL_IDS.jobsTable,
      TimeToLiveSpecification: { AttributeName: JOBS_KEYS.ttlAttribute, Enabled: true },
    }),
  );
  const queue = async (name: string) => {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    return { queueUrl: created.QueueUrl ?? '' };
  };
  const dlq = { standard: await queue(PIPES.standard.dlqId), premium: await queue(PIPES.premium.dlqId) };
  const notifications = await queue(LOGICAL_IDS.notificationQueue);
  const accountManagers = await queue(LOGICAL_IDS.accountManagerQueue);

  const processors: Record<string, Processor> = {};
  const functionPipe: Record<string, PipeKey> = {
    [PIPES.standard.functionId]: 'standard',
    [PIPES.premium.functionId]: 'premium',
  };
  const lambda = await startHttp(async (method, url, body) => {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url);
    const pipe = match?.[1] ? functionPipe[decodeURIComponent(match[1])] : undefined;
    if (method !== 'POST' || !pipe) return { status: 404, body: { message: `Function not found: ${url}` } };
    const processor = processors[pipe];
    if (!processor) return { status: 200, body: { batchItemFailures: [] } };
    try {
      return { status: 200, body: await processor(JSON.parse(body) as StreamRecord[]) };
    } catch (error: unknown) {
      return {
        status: 200,
        headers: { 'x-amz-function-error': 'Unhandled' },
        body: { errorType: 'Error', errorMessage: (error as Error).message },
      };
    }
  });

  const cloudwatch: Backends['cloudwatch'] = { metrics: [], alarms: [] };
  const cloudwatchServer = await startHttp(async (_method, _url, body, headers) => {
    const target = String(headers['x-amz-target'] ?? '')
      .split('.')
      .pop();
    const request = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    if (target === 'ListMetrics') {
      const wanted = (request.Dimensions ?? []) as { Name: string; Value: string }[];
      return {
        status: 200,
        body: {
          Metrics: cloudwatch.metrics
            .filter((metric) =>
              wanted.every((d) => metric.Dimensions.some((m) => m.Name === d.Name && m.Value === d.Value)),
            )
            .map(({ MetricName, Dimensions }) => ({ Namespace: 'Orderflow', MetricName, Dimensions })),
        },
      };
    }
    if (target === 'GetMetricData') {
      const queries = (request.MetricDataQueries ?? []) as {
        Id: string;
        MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] } };
      }[];
      return {
        status: 200,
        body: {
          MetricDataResults: queries.flatMap((query) => {
            const metric = cloudwatch.metrics.find(
              (candidate) =>
                candidate.MetricName === query.MetricStat?.Metric.MetricName &&
                JSON.stringify(candidate.Dimensions) === JSON.stringify(query.MetricStat?.Metric.Dimensions),
            );
            if (!metric) return [];
            return [
              {
                Id: query.Id,
                StatusCode: 'Complete',
                Timestamps: metric.values.map((point) => point.timestamp.getTime() / 1000),
                Values: metric.values.map((point) => point.value),
              },
            ];
          }),
        },
      };
    }
    if (target === 'DescribeAlarms')
      return { status: 200, body: { MetricAlarms: cloudwatch.alarms, CompositeAlarms: [] } };
    return { status: 400, body: { __type: 'InvalidAction', message: `unsupported ${target}` } };
  });

  const info: RuntimeInfo = {
    region: REGION,
    endpoints: {
      dynamodb: dynamo.endpoint,
      dynamodbStreams: dynamo.endpoint,
      sqs: sqsServer.endpoint,
      lambda: lambda.url,
      cloudwatch: cloudwatchServer.url,
    },
    tokens: { operator: randomBytes(24).toString('hex'), viewer: randomBytes(24).toString('hex') },
    resources: {
      ordersTable: LOGICAL_IDS.ordersTable,
      journalTable: LOGICAL_IDS.journalTable,
      idempotencyTable: LOGICAL_IDS.idempotencyTable,
      auditTable: LOGICAL_IDS.auditTable,
      jobsTable: LOGICAL_IDS.jobsTable,
      deadLetterTable: LOGICAL_IDS.deadLetterTable,
      priorityShipmentsTable: LOGICAL_IDS.priorityShipmentsTable,
      notificationQueueUrl: notifications.queueUrl,
      accountManagerQueueUrl: accountManagers.queueUrl,
      pipes: {
        standard: { name: 'orderflow-standard', function: PIPES.standard.functionId, dlqUrl: dlq.standard.queueUrl },
        premium: { name: 'orderflow-premium', function: PIPES.premium.functionId, dlqUrl: dlq.premium.queueUrl },
      },
    },
  };

  // Stream position: every writeOrders call reads on from where the previous one stopped.
  const shardIterators = new Map<string, string | undefined>();
  async function readNewRecords(expected: number): Promise<StreamRecord[]> {
    const out: StreamRecord[] = [];
    const readOnce = async () => {
      const description = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
      for (const shard of description.StreamDescription?.Shards ?? []) {
        const shardId = shard.ShardId ?? '';
        if (!shardIterators.has(shardId)) {
          const iterator = await streams.send(
            new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
          );
          shardIterators.set(shardId, iterator.ShardIterator);
        }
        const iterator = shardIterators.get(shardId);
        if (!iterator) continue;
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        shardIterators.set(shardId, page.NextShardIterator);
        for (const record of page.Records ?? []) {
          out.push({
            eventID: record.eventID ?? '',
            eventName: record.eventName as StreamRecord['eventName'],
            eventVersion: record.eventVersion ?? '1.1',
            eventSource: 'aws:dynamodb',
            awsRegion: record.awsRegion ?? REGION,
            eventSourceARN: streamArn,
            dynamodb: {
              Keys: record.dynamodb?.Keys as StreamRecord['dynamodb']['Keys'],
              ...(record.dynamodb?.NewImage
                ? { NewImage: record.dynamodb.NewImage as StreamRecord['dynamodb']['Keys'] }
                : {}),
              ...(record.dynamodb?.OldImage
                ? { OldImage: record.dynamodb.OldImage as StreamRecord['dynamodb']['Keys'] }
                : {}),
              SequenceNumber: record.dynamodb?.SequenceNumber ?? '0',
              SizeBytes: record.dynamodb?.SizeBytes ?? 0,
              StreamViewType: 'NEW_AND_OLD_IMAGES',
            },
            // Remember the shard for the DLQ message.
            ...({ shardId } as object),
          } as StreamRecord);
        }
      }
      return out.length >= expected;
    };
    await until(readOnce, `${expected} new stream records`, { timeoutMs: 10_000, intervalMs: 50 });
    return out;
  }

  return {
    info,
    dynamodb,
    sqs,
    dynamodbPid: dynamo.process.pid,
    cloudwatch,
    setProcessor(pipe, processor) {
      processors[pipe] = processor;
    },
    async writeOrders(items) {
      for (const item of items) await dynamodb.send(new PutCommand({ TableName: LOGICAL_IDS.ordersTable, Item: item }));
      return readNewRecords(items.length);
    },
    async sendDlqMessage(pipe, records) {
      const first = records[0];
      const last = records.at(-1);
      if (!first || !last) throw new Error('sendDlqMessage needs records');
      const now = new Date().toISOString();
      const body: PipeDlqMessage = {
        context: {
          partnerResourceArn: `arn:aws:pipes:${REGION}:000000000000:pipe/${info.resources.pipes[pipe].name}`,
          condition: 'RetryAttemptsExhausted',
        },
        version: '1.0',
        timestamp: now,
        DDBStreamBatchInfo: {
          shardId: (first as unknown as { shardId: string }).shardId,
          startSequenceNumber: first.dynamodb.SequenceNumber,
          endSequenceNumber: last.dynamodb.SequenceNumber,
          approximateArrivalOfFirstRecord: now,
          approximateArrivalOfLastRecord: now,
          batchSize: records.length,
          streamArn,
        },
      };
      await sqs.send(new SendMessageCommand({ QueueUrl: dlq[pipe].queueUrl, MessageBody: JSON.stringify(body) }));
      return body;
    },
    async sendRawDlqMessage(pipe, body) {
      await sqs.send(new SendMessageCommand({ QueueUrl: dlq[pipe].queueUrl, MessageBody: body }));
    },
    async journal(pipe, record, error) {
      const now = new Date().toISOString();
      const { shardId, ...clean } = record as StreamRecord & { shardId?: string };
      const entry: JournalEntry = {
        recordKey: journalRecordKey(pipe, record.eventID),
        pipe,
        eventId: record.eventID,
        sequenceNumber: record.dynamodb.SequenceNumber,
        ...(shardId ? { shardHint: shardId } : {}),
        orderId: String(record.dynamodb.Keys.orderId?.S),
        record: JSON.stringify(clean),
        recordTruncated: false,
        errorName: error.name,
        errorMessage: error.message,
        classification: 'transient',
        attempts: 4,
        firstFailureAt: now,
        lastFailureAt: now,
        expiresAt: Math.floor(Date.now() / 1000) + 86_400,
      };
      await dynamodb.send(new PutCommand({ TableName: LOGICAL_IDS.journalTable, Item: entry }));
    },
    async stop() {
      raw.destroy();
      streams.destroy();
      sqs.destroy();
      await Promise.all([lambda.close(), cloudwatchServer.close(), sqsServer.stop(), dynamo.stop()]);
    },
  };
}

type HttpHandler = (
  method: string,
  url: string,
  body: string,
  headers: Record<string, string | string[] | undefined>,
) => Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;

async function startHttp(handler: HttpHandler): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      handler(
        request.method ?? 'GET',
        request.url ?? '/',
        Buffer.concat(chunks).toString('utf8'),
        request.headers,
      ).then(
        (answer) => {
          response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0', ...answer.headers });
          response.end(JSON.stringify(answer.body));
        },
        (error: unknown) => {
          response.writeHead(500);
          response.end(String(error));
        },
      );
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
