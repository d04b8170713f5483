import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { processGroupAlive as alive, LOCAL_CREDENTIALS, startDynamoDbLocal } from '../src/services/dynamodb-local.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'orderflow-ddb-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const clientFor = (endpoint: string) =>
  new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });

describe('DynamoDB Local lives no longer than its launcher', () => {
  it('dies with a SIGKILLed launcher, and the data dir opens again with its tables', async () => {
    const launcher = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fixtures/dynamodb-process.ts', import.meta.url)), dataDir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let group: number | undefined;
    try {
      const lines = createInterface({ input: launcher.stdout })[Symbol.asyncIterator]();
      const ready = JSON.parse(((await lines.next()).value as string | undefined) ?? 'null') as {
        endpoint: string;
        group: number;
      };
      group = ready.group;
      const client = clientFor(ready.endpoint);
      await client.send(
        new CreateTableCommand({
          TableName: 'Survivor',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      client.destroy();
      expect(existsSync(join(dataDir, 'dynamodb-local.pid'))).toBe(true);
      launcher.kill('SIGKILL');
      const watched = group;
      await until(() => !alive(watched), 'the JVM to exit after its launcher was killed', 10_000);
    } finally {
      launcher.kill('SIGKILL');
      if (group !== undefined && alive(group)) process.kill(-group, 'SIGKILL');
    }

    const again = await startDynamoDbLocal({ dataDir });
    try {
      const client = clientFor(again.endpoint);
      expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(['Survivor']);
      client.destroy();
    } finally {
      await again.stop();
    }
    expect(existsSync(join(dataDir, 'dynamodb-local.pid'))).toBe(false);
  });
});
