/**
 * The gateway presents DynamoDB Local's ARNs AWS-shaped (gateway/arns.ts): real DynamoDB Local behind the real
 * gateway listener, read with the AWS SDK for JavaScript and Debian's AWS CLI, with enforcement on (IAM decided on the AWS-shaped ARN) and off (nothing authorized, ARNs still
 * translated).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_LOCAL_REGION, DynamoDbLocalArns } from '../src/gateway/arns.ts';
import { DenialLog } from '../src/gateway/denials.ts';
import { Enforcer } from '../src/gateway/enforcer.ts';
import { dynamoDbInspector } from '../src/gateway/listeners.ts';
import { PrincipalDirectory } from '../src/gateway/principals.ts';
import { type GatewayListener, startGatewayListener } from '../src/gateway/proxy.ts';
import { type DynamoDbLocal, LOCAL_CREDENTIALS, startDynamoDbLocal } from '../src/services/dynamodb-local.ts';
import { freePort } from '../src/services/ports.ts';
import { fakeAuthorizer } from './fixtures/fake-authorizer.ts';

const execFileAsync = promisify(execFile);
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const scope = { region: REGION, account: ACCOUNT };
/** `arn:aws:dynamodb:us-east-1:000000000000:table/<name>/stream/<label>`, as AWS shapes a stream ARN. */
const AWS_STREAM = /^arn:aws:dynamodb:us-east-1:000000000000:table\/[\w.-]+\/stream\/[\w:.-]+$/;
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-gateway-arns-'));

const role = (logicalId: string) => ({
  logicalId,
  roleArn: `arn:aws:iam::${ACCOUNT}:role/${logicalId}`,
  sessionName: logicalId,
});
const principals = new PrincipalDirectory([role('StreamReader'), role('LegacyReader')]);
const streamActions = ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'];
const authorizer = fakeAuthorizer({
  // The template's policies name the table's StreamArn, which the runtime resolves AWS-shaped.
  StreamReader: streamActions.map((action) => ({
    action,
    resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/*/stream/*`,
  })),
  // A grant on DynamoDB Local's form of the ARN no longer matches anything a request is decided on.
  LegacyReader: streamActions.map((action) => ({
    action,
    resource: `arn:aws:dynamodb:${DYNAMODB_LOCAL_REGION}:${ACCOUNT}:table/*/stream/*`,
  })),
});
const denials = new DenialLog(undefined);

let dynamo: DynamoDbLocal;
const gateways: { on?: GatewayListener; off?: GatewayListener } = {};
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  dynamo = await startDynamoDbLocal();
  const common = {
    scope,
    publish: () => undefined,
    writeMetric: { namespace: 'AWS/DynamoDB', metricName: 'ConsumedWriteCapacityUnits' },
  };
  gateways.on = await startGatewayListener(await freePort(), {
    what: 'DynamoDB',
    backendPort: dynamo.port,
    inspect: dynamoDbInspector({ ...common, enforcer: new Enforcer(authorizer, principals, denials) }),
  });
  gateways.off = await startGatewayListener(await freePort(), {
    what: 'DynamoDB',
    backendPort: dynamo.port,
    inspect: dynamoDbInspector({ ...common, enforcer: undefined }),
  });
}, 120_000);
afterAll(async () => {
  for (const client of clients) client.destroy();
  await gateways.on?.stop();
  await gateways.off?.stop();
  await dynamo?.stop();
  denials.close();
  rmSync(stateDir, { recursive: true, force: true });
});

function sdk(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string } = LOCAL_CREDENTIALS) {
  const config = { region: REGION, endpoint, credentials, maxAttempts: 1 };
  const clientsOf = { dynamodb: new DynamoDBClient(config), streams: new DynamoDBStreamsClient(config) };
  clients.push(clientsOf.dynamodb, clientsOf.streams);
  return clientsOf;
}

let tables = 0;
/** A fresh table with a stream and one item in it, created through `endpoint`. */
async function tableWithItem(endpoint: string) {
  const { dynamodb } = sdk(endpoint);
  const name = `arns-${++tables}-${Date.now()}`;
  const created = await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    }),
  );
  await dynamodb.send(new PutItemCommand({ TableName: name, Item: { pk: { S: `${name}-item` } } }));
  return { name, created: created.TableDescription };
}

describe.each(['on', 'off'] as const)('with enforcement %s, clients see AWS-shaped ARNs and read by them', (mode) => {
  const endpoint = () => (gateways[mode] as GatewayListener).endpoint;

  it('CreateTable, DescribeTable, UpdateTable and DeleteTable name the table and stream in the runtime’s region', async () => {
    const { name, created } = await tableWithItem(endpoint());
    expect(created?.TableArn).toBe(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`);
    expect(created?.LatestStreamArn).toMatch(AWS_STREAM);
    const { dynamodb } = sdk(endpoint());
    const described = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
    expect(described.Table?.TableArn).toBe(created?.TableArn);
    expect(described.Table?.LatestStreamArn).toBe(created?.LatestStreamArn);
    // DynamoDB Local itself still says `ddblocal`: the gateway translates.
    const direct = sdk(dynamo.endpoint).dynamodb;
    const raw = await direct.send(new DescribeTableCommand({ TableName: name }));
    expect(raw.Table?.LatestStreamArn).toBe(created?.LatestStreamArn?.replace(REGION, DYNAMODB_LOCAL_REGION));
    const updated = await dynamodb.send(
      new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: false } }),
    );
    expect(updated.TableDescription?.LatestStreamArn).toBe(created?.LatestStreamArn);
    const deleted = await dynamodb.send(new DeleteTableCommand({ TableName: name }));
    expect(deleted.TableDescription?.TableArn).toBe(created?.TableArn);
  });

  it('ListStreams, DescribeStream, GetShardIterator and GetRecords work with the AWS-shaped stream ARN', async () => {
    const first = await tableWithItem(endpoint());
    const second = await tableWithItem(endpoint());
    const { streams } = sdk(endpoint());
    const listed = await streams.send(new ListStreamsCommand({ TableName: first.name }));
    expect(listed.Streams).toEqual([
      { StreamArn: first.created?.LatestStreamArn, TableName: first.name, StreamLabel: expect.any(String) },
    ]);
    // Paging by an AWS-shaped ExclusiveStartStreamArn: the page after the first stream does not hold it again.
    const all = (await streams.send(new ListStreamsCommand({}))).Streams ?? [];
    for (const stream of all) expect(stream.StreamArn).toMatch(AWS_STREAM);
    expect(all.map((s) => s.StreamArn)).toEqual(
      expect.arrayContaining([first.created?.LatestStreamArn, second.created?.LatestStreamArn]),
    );
    const page = await streams.send(new ListStreamsCommand({ Limit: 1 }));
    expect(page.LastEvaluatedStreamArn).toMatch(AWS_STREAM);
    const next = await streams.send(new ListStreamsCommand({ ExclusiveStartStreamArn: page.LastEvaluatedStreamArn }));
    expect(next.Streams?.map((s) => s.StreamArn)).toEqual(
      all.map((s) => s.StreamArn).filter((arn) => arn !== page.LastEvaluatedStreamArn),
    );

    const streamArn = first.created?.LatestStreamArn as string;
    const described = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    expect(described.StreamDescription?.StreamArn).toBe(streamArn);
    const shardId = described.StreamDescription?.Shards?.[0]?.ShardId;
    const iterator = await streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const records = await streams.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }));
    expect(records.Records?.map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual([`${first.name}-item`]);
  });

  it('a rewritten response is re-framed: its Content-Length and x-amz-crc32 are the new body’s', async () => {
    const { name } = await tableWithItem(endpoint());
    const response = await fetch(endpoint(), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.DescribeTable',
        authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_CREDENTIALS.accessKeyId}/20260101/${REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify({ TableName: name }),
    });
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.status).toBe(200);
    expect(body.toString()).toContain(`"TableArn":"arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}"`);
    expect(body.toString()).not.toContain(DYNAMODB_LOCAL_REGION);
    expect(response.headers.get('content-length')).toBe(String(body.length));
    // The AWS SDKs (botocore for one) check DynamoDB's CRC32 of the body and retry a response that does not match.
    expect(response.headers.get('x-amz-crc32')).toBe(String(crc32(body)));
  });

  it('a stream that is not there is not found, and the error names the ARN as the client sent it', async () => {
    const { created } = await tableWithItem(endpoint());
    const { streams } = sdk(endpoint());
    const missing = created?.LatestStreamArn?.replace(/stream\/.*$/, 'stream/2000-01-01T00:00:00.000') as string;
    const error = await streams.send(new DescribeStreamCommand({ StreamArn: missing })).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ResourceNotFoundException' });
    expect((error as Error).message).toContain(missing);
    const shardError = await streams
      .send(new GetShardIteratorCommand({ StreamArn: missing, ShardId: 'shardId-1', ShardIteratorType: 'LATEST' }))
      .catch((e: Error) => e);
    // (DynamoDB Local's GetShardIterator says "Stream does not exist" without naming it.)
    expect(shardError).toMatchObject({ name: 'ResourceNotFoundException' });
    // Another region's ARN of the same stream is not this endpoint's, as in AWS.
    const elsewhere = created?.LatestStreamArn?.replace(REGION, 'eu-west-1') as string;
    await expect(streams.send(new DescribeStreamCommand({ StreamArn: elsewhere }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});

describe('Debian’s AWS CLI through the gateway', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-arns-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: join(dir, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
  const cli = async (...args: string[]) => {
    const { stdout } = await execFileAsync(
      '/usr/bin/aws',
      ['--endpoint-url', (gateways.on as GatewayListener).endpoint, '--output', 'json', ...args],
      { env },
    );
    return JSON.parse(stdout) as Record<string, unknown>;
  };

  it('sees AWS-shaped ARNs from describe-table, list-streams and describe-stream, and reads the stream by them', async () => {
    const { name } = await tableWithItem((gateways.on as GatewayListener).endpoint);
    const table = (await cli('dynamodb', 'describe-table', '--table-name', name)).Table as {
      TableArn: string;
      LatestStreamArn: string;
    };
    expect(table.TableArn).toBe(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`);
    expect(table.LatestStreamArn).toMatch(AWS_STREAM);
    const listed = (await cli('dynamodbstreams', 'list-streams', '--table-name', name)).Streams as {
      StreamArn: string;
    }[];
    expect(listed.map((s) => s.StreamArn)).toEqual([table.LatestStreamArn]);
    const stream = (await cli('dynamodbstreams', 'describe-stream', '--stream-arn', table.LatestStreamArn))
      .StreamDescription as { StreamArn: string; Shards: { ShardId: string }[] };
    expect(stream.StreamArn).toBe(table.LatestStreamArn);
    const { ShardIterator } = (await cli(
      'dynamodbstreams',
      'get-shard-iterator',
      '--stream-arn',
      table.LatestStreamArn,
      '--shard-id',
      stream.Shards[0]?.ShardId as string,
      '--shard-iterator-type',
      'TRIM_HORIZON',
    )) as { ShardIterator: string };
    const records = (await cli('dynamodbstreams', 'get-records', '--shard-iterator', ShardIterator)).Records as {
      dynamodb: { Keys: { pk: { S: string } } };
    }[];
    expect(records.map((r) => r.dynamodb.Keys.pk.S)).toEqual([`${name}-item`]);
  });
});

describe('IAM decides on the AWS-shaped stream ARN', () => {
  const keys = (logicalId: string) => {
    const { accessKeyId, secretAccessKey, sessionToken } = principals.role(logicalId).credentials;
    return { accessKeyId, secretAccessKey, sessionToken };
  };

  it('a grant on the AWS-shaped ARN reads the stream; one on DynamoDB Local’s form is refused', async () => {
    const endpoint = (gateways.on as GatewayListener).endpoint;
    const { name, created } = await tableWithItem(endpoint);
    const streamArn = created?.LatestStreamArn as string;
    // An administrator's iterator, for the refused reader's GetRecords.
    const admin = sdk(endpoint).streams;
    const shardId = (await admin.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription
      ?.Shards?.[0]?.ShardId;
    const adminIterator = (
      await admin.send(
        new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
      )
    ).ShardIterator;

    const reader = sdk(endpoint, keys('StreamReader')).streams;
    await reader.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const iterator = await reader.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const records = await reader.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }));
    expect(records.Records?.map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual([`${name}-item`]);
    // Each of the three was decided on the AWS-shaped ARN (GetRecords: the iterator's stream, translated).
    const decided = authorizer.requests.filter(
      (r) => r.principal.kind === 'role' && r.principal.logicalId === 'StreamReader',
    );
    expect(decided.map((r) => [r.action, r.resource])).toEqual(streamActions.map((action) => [action, streamArn]));

    const legacy = sdk(endpoint, keys('LegacyReader')).streams;
    for (const call of [
      () => legacy.send(new DescribeStreamCommand({ StreamArn: streamArn })),
      () =>
        legacy.send(
          new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
        ),
      () => legacy.send(new GetRecordsCommand({ ShardIterator: adminIterator })),
    ])
      await expect(call()).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const refused = denials.list().filter((d) => d.role === 'LegacyReader');
    expect(refused.map((d) => d.resource).sort()).toEqual([streamArn, streamArn, streamArn]);
  });
});

describe('DynamoDbLocalArns', () => {
  const arns = new DynamoDbLocalArns(scope);
  const local = 'arn:aws:dynamodb:ddblocal:000000000000:table/OrdersTable/stream/2026-12-07T12:20:39.919';
  const aws = 'arn:aws:dynamodb:us-east-1:000000000000:table/OrdersTable/stream/2026-12-07T12:20:39.919';

  it('swaps the region both ways for the runtime’s account only', () => {
    expect(arns.toAws(local)).toBe(aws);
    expect(arns.toLocal(aws)).toBe(local);
    expect(arns.toLocal(local)).toBe(local);
    expect(arns.toAws(aws)).toBe(aws);
    // Another region or account is neither form: left as it is (DynamoDB Local does not find it).
    for (const other of [aws.replace('us-east-1', 'eu-west-1'), aws.replace('000000000000', '123456789012')])
      expect(arns.toLocal(other)).toBe(other);
    expect(arns.toAwsText(`{"A":"${local}","B":"${local}/x"}`)).toBe(`{"A":"${aws}","B":"${aws}/x"}`);
  });
});
