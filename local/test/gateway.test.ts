import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricStore } from '../src/cloudwatch/metric-store.ts';
import { awsShapedArn } from '../src/gateway/arns.ts';
import { DenialLog } from '../src/gateway/denials.ts';
import { Enforcer } from '../src/gateway/enforcer.ts';
import { dynamoDbInspector, sqsInspector } from '../src/gateway/listeners.ts';
import { PrincipalDirectory } from '../src/gateway/principals.ts';
import { type GatewayListener, startGatewayListener } from '../src/gateway/proxy.ts';
import { StreamsApi, StreamsApiError } from '../src/pipes/streams-api.ts';
import { type DynamoDbLocal, LOCAL_CREDENTIALS, startDynamoDbLocal } from '../src/services/dynamodb-local.ts';
import { freePort } from '../src/services/ports.ts';
import { type LocalSqs, startSqs } from '../src/services/sqs.ts';
import { fakeAuthorizer } from './fixtures/fake-authorizer.ts';
import { total } from './helpers.ts';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const scope = { region: REGION, account: ACCOUNT };
const table = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
const queue = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const role = (logicalId: string) => ({
  logicalId,
  roleArn: `arn:aws:iam::${ACCOUNT}:role/${logicalId}`,
  sessionName: `${logicalId}Session`,
});

const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-gateway-'));
const principals = new PrincipalDirectory([role('Writer'), role('Reader'), role('Nobody')]);
const authorizer = fakeAuthorizer({
  Writer: [
    { action: 'dynamodb:PutItem', resource: table('Alpha') },
    { action: 'dynamodb:UpdateItem', resource: table('Alpha') },
    { action: 'dynamodb:BatchWriteItem', resource: table('Alpha') },
    { action: 'sqs:SendMessage', resource: queue('allowed-queue') },
  ],
  // The gateway presents stream ARNs AWS-shaped (in REGION) and decides on that form (gateway/arns.ts).
  Reader: [
    { action: 'dynamodb:DescribeStream', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Alpha/stream/*` },
    { action: 'dynamodb:GetShardIterator', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Alpha/stream/*` },
    { action: 'dynamodb:GetRecords', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Alpha/stream/*` },
  ],
});
const denials = new DenialLog(join(stateDir, 'denials.ndjson'));
const enforcer = new Enforcer(authorizer, principals, denials);
const metrics = new MetricStore();
const WRITES = { namespace: 'AWS/DynamoDB', metricName: 'ConsumedWriteCapacityUnits' };

let dynamo: DynamoDbLocal;
let sqs: LocalSqs;
let dynamoGateway: GatewayListener;
let sqsGateway: GatewayListener;
let alphaStream: string;
let allowedQueueUrl: string;
let deniedQueueUrl: string;
const clients: { destroy(): void }[] = [];

const keysOf = (logicalId: string) => {
  const { accessKeyId, secretAccessKey, sessionToken } = principals.role(logicalId).credentials;
  return { accessKeyId, secretAccessKey, sessionToken };
};
const dynamoAs = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
  const client = new DynamoDBClient({ region: REGION, endpoint: dynamoGateway.endpoint, credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
};
const sqsAs = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
  const client = new SQSClient({ region: REGION, endpoint: sqsGateway.endpoint, credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
};
const item = (id: string) => ({ orderId: { S: id } });
const writesTo = (name: string) => total(metrics, 'AWS/DynamoDB', 'ConsumedWriteCapacityUnits', { TableName: name });

beforeAll(async () => {
  const [dynamoPort, sqsPort] = [await freePort(), await freePort()];
  [dynamo, sqs] = await Promise.all([
    startDynamoDbLocal(),
    startSqs({ region: REGION, queueUrlHost: `127.0.0.1:${sqsPort}` }),
  ]);
  dynamoGateway = await startGatewayListener(dynamoPort, {
    what: 'DynamoDB',
    backendPort: dynamo.port,
    inspect: dynamoDbInspector({
      enforcer,
      scope,
      publish: (list) => {
        for (const metric of list) metrics.put(metric);
      },
      writeMetric: WRITES,
    }),
  });
  sqsGateway = await startGatewayListener(sqsPort, {
    what: 'SQS',
    backendPort: sqs.port,
    inspect: sqsInspector({ enforcer, scope }),
  });
  const admin = new DynamoDBClient({ region: REGION, endpoint: dynamo.endpoint, credentials: LOCAL_CREDENTIALS });
  for (const name of ['Alpha', 'Beta']) {
    const created = await admin.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        ...(name === 'Alpha' ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } } : {}),
      }),
    );
    // Created on DynamoDB Local itself (its `ddblocal` form): clients of the gateway know the AWS-shaped ARN.
    if (name === 'Alpha') alphaStream = awsShapedArn(created.TableDescription?.LatestStreamArn ?? '', REGION);
  }
  admin.destroy();
  allowedQueueUrl = sqs.createQueue('allowed-queue').queueUrl;
  deniedQueueUrl = sqs.createQueue('denied-queue').queueUrl;
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await dynamoGateway?.stop();
  await sqsGateway?.stop();
  await Promise.all([dynamo?.stop(), sqs?.stop()]);
  denials.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('the DynamoDB gateway', () => {
  it("lets a role write where its policy allows and refuses it elsewhere with DynamoDB's error and AWS's message", async () => {
    const writer = dynamoAs(keysOf('Writer'));
    await writer.send(new PutItemCommand({ TableName: 'Alpha', Item: item('a1') }));
    const before = denials.count;
    const refused = await writer.send(new PutItemCommand({ TableName: 'Beta', Item: item('b1') })).catch((e) => e);
    const message = `User: arn:aws:sts::${ACCOUNT}:assumed-role/Writer/WriterSession is not authorized to perform: dynamodb:PutItem on resource: ${table('Beta')} because no identity-based policy allows the dynamodb:PutItem action`;
    expect(refused).toMatchObject({ name: 'AccessDeniedException', message, $metadata: { httpStatusCode: 400 } });
    expect(denials.count).toBe(before + 1);
    const [recorded] = denials.list({ limit: 1 });
    expect(recorded).toMatchObject({
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/Writer/WriterSession`,
      role: 'Writer',
      action: 'dynamodb:PutItem',
      resource: table('Beta'),
      reason: 'no-identity-allow',
      message,
      endpoint: 'dynamodb',
    });
    const lines = readFileSync(join(stateDir, 'denials.ndjson'), 'utf8').trim().split('\n');
    expect(JSON.parse(lines[lines.length - 1] as string)).toEqual(recorded);
  });

  it('needs the batch action on every table of a batch, and per item actions on every table of a transaction', async () => {
    const writer = dynamoAs(keysOf('Writer'));
    await writer.send(new BatchWriteItemCommand({ RequestItems: { Alpha: [{ PutRequest: { Item: item('a2') } }] } }));
    const batch = await writer
      .send(
        new BatchWriteItemCommand({
          RequestItems: { Alpha: [{ PutRequest: { Item: item('a3') } }], Beta: [{ PutRequest: { Item: item('b3') } }] },
        }),
      )
      .catch((e) => e);
    expect(batch).toMatchObject({ name: 'AccessDeniedException' });
    expect(batch.message).toContain(`dynamodb:BatchWriteItem on resource: ${table('Beta')}`);

    authorizer.requests.length = 0;
    const transaction = await writer
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'Alpha', Item: item('a4') } },
            {
              Update: {
                TableName: 'Alpha',
                Key: item('a1'),
                UpdateExpression: 'SET n = :n',
                ExpressionAttributeValues: { ':n': { N: '1' } },
              },
            },
            {
              ConditionCheck: { TableName: 'Alpha', Key: item('a1'), ConditionExpression: 'attribute_exists(orderId)' },
            },
          ],
        }),
      )
      .catch((e) => e);
    expect(authorizer.requests.map((r) => r.action)).toEqual([
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:ConditionCheckItem',
    ]);
    expect(transaction).toMatchObject({ name: 'AccessDeniedException' });
    expect(transaction.message).toContain(`dynamodb:ConditionCheckItem on resource: ${table('Alpha')}`);
  });

  it('counts ConsumedWriteCapacityUnits per table for the items of successful writes only', async () => {
    const admin = dynamoAs(LOCAL_CREDENTIALS);
    const [alpha, beta] = [writesTo('Alpha'), writesTo('Beta')];
    await admin.send(new PutItemCommand({ TableName: 'Beta', Item: item('w1') }));
    await admin.send(
      new BatchWriteItemCommand({
        RequestItems: {
          Alpha: [{ PutRequest: { Item: item('w2') } }, { PutRequest: { Item: item('w3') } }],
          Beta: [{ DeleteRequest: { Key: item('w1') } }],
        },
      }),
    );
    await admin.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: 'Alpha', Item: item('w4') } },
          {
            ConditionCheck: {
              TableName: 'Beta',
              Key: item('nothing'),
              ConditionExpression: 'attribute_not_exists(orderId)',
            },
          },
        ],
      }),
    );
    const failed = await admin
      .send(
        new PutItemCommand({
          TableName: 'Alpha',
          Item: item('w2'),
          ConditionExpression: 'attribute_not_exists(orderId)',
        }),
      )
      .catch((e) => e);
    expect(failed).toMatchObject({ name: 'ConditionalCheckFailedException' });
    await dynamoAs(keysOf('Writer'))
      .send(new PutItemCommand({ TableName: 'Beta', Item: item('refused') }))
      .catch(() => undefined);
    expect(writesTo('Alpha') - alpha).toBe(3);
    expect(writesTo('Beta') - beta).toBe(2);
  });

  it('authorizes stream reads on the stream, GetRecords on the stream its iterator belongs to', async () => {
    const reader = new StreamsApi(dynamoGateway.endpoint, REGION, keysOf('Reader').accessKeyId);
    const [shard] = await reader.listShards(alphaStream);
    const iterator = await reader.shardIterator(alphaStream, shard?.ShardId ?? '', 'TRIM_HORIZON');
    authorizer.requests.length = 0;
    const page = await reader.records(iterator ?? '');
    expect(page.records.length).toBeGreaterThan(0);
    expect(authorizer.requests).toMatchObject([{ action: 'dynamodb:GetRecords', resource: alphaStream }]);

    const nobody = new StreamsApi(dynamoGateway.endpoint, REGION, keysOf('Nobody').accessKeyId);
    const refused = await nobody.records(iterator ?? '').catch((e) => e);
    expect(refused).toBeInstanceOf(StreamsApiError);
    expect(refused).toMatchObject({ code: 'AccessDeniedException' });
    expect(refused.message).toContain(`dynamodb:GetRecords on resource: ${alphaStream}`);
    const listed = await fetch(dynamoGateway.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDBStreams_20120810.ListStreams',
        authorization: `AWS4-HMAC-SHA256 Credential=${keysOf('Reader').accessKeyId}/20260101/${REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: '{}',
    });
    expect(listed.status).toBe(400);
    expect(await listed.json()).toMatchObject({
      Message: expect.stringContaining('dynamodb:ListStreams on resource: *'),
    });
  });

  it('refuses an unsigned request and serves any other access key as the administrator', async () => {
    const unsigned = await fetch(dynamoGateway.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toEqual({
      __type: 'com.amazon.coral.service#MissingAuthenticationTokenException',
      Message: 'Request is missing Authentication Token',
    });
    expect(denials.list({ limit: 1 })[0]).toMatchObject({
      principal: 'anonymous',
      action: 'dynamodb:ListTables',
      reason: 'unsigned',
    });
    const stranger = dynamoAs({ accessKeyId: 'AKIASOMEONEELSE00000', secretAccessKey: 'x' });
    await expect(stranger.send(new PutItemCommand({ TableName: 'Beta', Item: item('admin') }))).resolves.toBeDefined();
  });

  it('reads the table of a single-item write without parsing only when the body names it once, unescaped', async () => {
    const send = (body: string) =>
      fetch(dynamoGateway.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.PutItem',
          authorization: `AWS4-HMAC-SHA256 Credential=${keysOf('Writer').accessKeyId}/20260101/${REGION}/dynamodb/aws4_request`,
        },
        body,
      });
    authorizer.requests.length = 0;
    expect((await send('{"TableName":"Alpha","Item":{"orderId":{"S":"fast"}}}')).status).toBe(200);
    // A second TableName (JSON.parse, like DynamoDB Local's parser, takes the last), spelled with an escape or not.
    const escaped = await send('{"TableName":"Alpha","Item":{"orderId":{"S":"x"}},"Table\\u004eame":"Beta"}');
    expect(escaped.status).toBe(400);
    expect(await escaped.json()).toMatchObject({ Message: expect.stringContaining(`on resource: ${table('Beta')}`) });
    const repeated = await send('{"TableName":"Alpha","Item":{"orderId":{"S":"y"}},"TableName":"Beta"}');
    expect(repeated.status).toBe(400);
    // An attribute named TableName is not the table.
    expect((await send('{"TableName":"Alpha","Item":{"orderId":{"S":"z"},"TableName":{"S":"Beta"}}}')).status).toBe(
      200,
    );
    expect(authorizer.requests.map((r) => r.resource)).toEqual([
      table('Alpha'),
      table('Beta'),
      table('Beta'),
      table('Alpha'),
    ]);
  });

  it('names what is wrong with a request it cannot read', async () => {
    const response = await fetch(dynamoGateway.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.BatchWriteItem',
        authorization: `AWS4-HMAC-SHA256 Credential=${keysOf('Writer').accessKeyId}/20260101/${REGION}/dynamodb/aws4_request`,
      },
      body: '{"RequestItems": []}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      __type: 'com.amazon.coral.validate#ValidationException',
      message: 'BatchWriteItem: RequestItems is missing or not a map of tables',
    });
    const notJson = await fetch(dynamoGateway.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.PutItem' },
      body: '{"TableName":',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ __type: 'com.amazon.coral.service#SerializationException' });
  });
});

/** Sends raw bytes on one connection and collects what comes back until `done` says the answer is complete. */
function exchange(port: number, parts: (string | Buffer)[], done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let text = '';
    let sent = 0;
    const sendNext = () => {
      const part = parts[sent++];
      if (part !== undefined) socket.write(part);
    };
    socket.on('connect', sendNext);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (text.startsWith('HTTP/1.1 100 Continue\r\n\r\n') && sent === 1) {
        text = text.slice('HTTP/1.1 100 Continue\r\n\r\n'.length);
        sendNext();
      }
      if (done(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
  });
}

describe('the gateway listener', () => {
  const signedHead = (target: string, extra: string) =>
    `POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-amz-json-1.0\r\nx-amz-target: ${target}\r\n` +
    `authorization: AWS4-HMAC-SHA256 Credential=local/20260101/${REGION}/dynamodb/aws4_request\r\n${extra}\r\n`;

  it('reads chunked bodies and answers a client that waits for 100 Continue', async () => {
    const body = JSON.stringify({ TableName: 'Alpha', Item: item('chunked') });
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const answer = await exchange(
      dynamoGateway.port,
      [signedHead('DynamoDB_20120810.PutItem', 'transfer-encoding: chunked\r\n') + chunked],
      (text) => text.endsWith('{}'),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    const continued = await exchange(
      dynamoGateway.port,
      [signedHead('DynamoDB_20120810.PutItem', `expect: 100-continue\r\ncontent-length: ${body.length}\r\n`), body],
      (text) => text.endsWith('{}'),
    );
    expect(continued).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('serves several requests on one connection, refusals and forwarded ones in turn', async () => {
    const put = (id: string) => JSON.stringify({ TableName: 'Beta', Item: item(id) });
    const head = (key: string, body: string) =>
      `POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-amz-json-1.0\r\nx-amz-target: DynamoDB_20120810.PutItem\r\n` +
      `authorization: AWS4-HMAC-SHA256 Credential=${key}/20260101/${REGION}/dynamodb/aws4_request\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    const responses: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ port: dynamoGateway.port, host: '127.0.0.1' });
      const requests = [
        head('local', put('k1')),
        head(keysOf('Writer').accessKeyId, put('k2')),
        head('local', put('k3')),
      ];
      let buffer = '';
      socket.on('connect', () => socket.write(requests.shift() as string));
      socket.on('data', (chunk) => {
        buffer += chunk.toString('latin1');
        const headEnd = buffer.indexOf('\r\n\r\n');
        const length = Number(/content-length: (\d+)/i.exec(buffer)?.[1]);
        if (headEnd < 0 || buffer.length < headEnd + 4 + length) return;
        responses.push(buffer.slice(0, headEnd + 4 + length));
        buffer = buffer.slice(headEnd + 4 + length);
        const next = requests.shift();
        if (next) socket.write(next);
        else {
          socket.destroy();
          resolve();
        }
      });
      socket.on('error', reject);
    });
    expect(responses.map((r) => r.slice(9, 12))).toEqual(['200', '400', '200']);
    expect(responses[1]).toContain('AccessDeniedException');
  });

  it('passes a body of several hundred kilobytes through unchanged', async () => {
    const big = 'x'.repeat(350_000);
    const admin = dynamoAs(LOCAL_CREDENTIALS);
    await admin.send(new PutItemCommand({ TableName: 'Alpha', Item: { ...item('big'), blob: { S: big } } }));
    const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const read = await admin.send(new GetItemCommand({ TableName: 'Alpha', Key: item('big') }));
    expect(read.Item?.blob?.S).toBe(big);
  });
});

describe('the SQS gateway', () => {
  it('names queues with its own address, so clients reach them through it', () => {
    expect(allowedQueueUrl).toBe(`${sqsGateway.endpoint}/${ACCOUNT}/allowed-queue`);
  });

  it("refuses a send the role's policy does not allow with SQS's AccessDenied, batch sends as SendMessage", async () => {
    const writer = sqsAs(keysOf('Writer'));
    await writer.send(new SendMessageCommand({ QueueUrl: allowedQueueUrl, MessageBody: 'hello' }));
    const refused = await writer
      .send(new SendMessageCommand({ QueueUrl: deniedQueueUrl, MessageBody: 'no' }))
      .catch((e) => e);
    const message = `User: arn:aws:sts::${ACCOUNT}:assumed-role/Writer/WriterSession is not authorized to perform: sqs:SendMessage on resource: ${queue('denied-queue')} because no identity-based policy allows the sqs:SendMessage action`;
    expect(refused).toMatchObject({ name: 'AccessDenied', message, $metadata: { httpStatusCode: 403 } });
    expect(denials.list({ limit: 1 })[0]).toMatchObject({
      action: 'sqs:SendMessage',
      resource: queue('denied-queue'),
      endpoint: 'sqs',
    });
    const batch = await writer
      .send(new SendMessageBatchCommand({ QueueUrl: deniedQueueUrl, Entries: [{ Id: '1', MessageBody: 'no' }] }))
      .catch((e) => e);
    expect(batch).toMatchObject({ name: 'AccessDenied' });
    expect(batch.message).toContain('sqs:SendMessage on resource');
  });

  it('answers the query protocol with its XML error document', async () => {
    const response = await fetch(sqsGateway.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `AWS4-HMAC-SHA256 Credential=${keysOf('Writer').accessKeyId}/20260101/${REGION}/sqs/aws4_request`,
      },
      body: new URLSearchParams({ Action: 'SendMessage', QueueUrl: deniedQueueUrl, MessageBody: 'x' }).toString(),
    });
    expect(response.status).toBe(403);
    const text = await response.text();
    expect(text).toContain('<Code>AccessDenied</Code>');
    expect(text).toContain(`sqs:SendMessage on resource: ${queue('denied-queue')}`);
  });

  it('keeps the emulator inspection routes to the administrator', async () => {
    const asRole = await fetch(`${sqsGateway.endpoint}/_fauxqs/queues`, {
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=${keysOf('Writer').accessKeyId}/20260101/${REGION}/sqs/aws4_request`,
      },
    });
    expect(asRole.status).toBe(400);
    expect(await asRole.text()).toContain('serves SQS and SNS API calls');
    const asAdmin = await fetch(`${sqsGateway.endpoint}/_fauxqs/queues`);
    expect(asAdmin.status).toBe(200);
  });
});
