/**
 * The ops API reads the dead-letter store under the local IAM enforcement with exactly the template's grants: the
 * runtime as `npm start` runs it (`opsApi: 'lambda'`: the bundled OpsApiFunction behind the HTTP API front, its calls
 * signed with its role's keys and evaluated against the synthesized template's policies). Every read route and each
 * index path (byPipeState, byCause, order links, counters, a dead letter's items, BatchGetItem of a page) answers, and
 * nothing is denied. The routes' behaviour in detail is in ops-api/test/dead-letters.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DeadLetterCausesResponse, DeadLetterDetail, ListDeadLettersResponse } from '@orderflow/ops-api/schemas';
import { causeSignature } from '@orderflow/pipeline/facts';
import { deadLetterSeedItems, type SeedDeadLetter, seedCounterUpdate } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';

const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-dead-letter-reads-'));
let runtime: LocalRuntime;

const BASE = Date.parse('2026-11-24T10:00:00.000Z');
const letters: SeedDeadLetter[] = Array.from({ length: 24 }, (_, i) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  pipe: i % 2 === 0 ? 'standard' : 'premium',
  failedAt: new Date(BASE + i * 1000).toISOString(),
  orderIds: [`iam-ord-${i}`],
  emails: [`iam${i}@example.org`],
  cause: { errorName: 'Error', errorMessage: `connect ECONNREFUSED 10.0.0.${i}:443` },
  records: [{ eventId: `ev-${i}`, sequenceNumber: `1000000000000000000${10 + i}`, json: `{"eventID":"ev-${i}"}` }],
}));

beforeAll(async () => {
  if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
    const synth = spawnSync('npm', ['run', 'build', '-w', 'stack'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`stack synth failed: ${synth.stderr}`);
  }
  runtime = await startLocalRuntime({
    templateDir,
    stateDir,
    traffic: 'off',
    writeRuntimeFile: false,
    opsApi: 'lambda',
  });
  // Seeded as the archiver writes them (its capture is deployed disabled), with the administrator's keys.
  const dynamodb = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: runtime.info.endpoints.dynamodb,
      region: runtime.info.region,
      credentials: LOCAL_CREDENTIALS,
    }),
  );
  const table = runtime.info.resources.deadLetterTable;
  const { items, counters } = deadLetterSeedItems(letters);
  for (let i = 0; i < items.length; i += 25) {
    const answer = await dynamodb.send(
      new BatchWriteCommand({
        RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
    expect(answer.UnprocessedItems?.[table] ?? []).toEqual([]);
  }
  for (const counter of counters) await dynamodb.send(new UpdateCommand(seedCounterUpdate(table, counter)));
  dynamodb.destroy();
}, 180_000);

afterAll(async () => {
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function get<T>(path: string): Promise<T> {
  const response = await fetch(`${runtime.info.opsApi}${path}`, {
    headers: { authorization: `Bearer ${runtime.info.tokens.viewer}` },
  });
  const text = await response.text();
  expect(response.status, `${path}: ${text}`).toBe(200);
  return JSON.parse(text) as T;
}

describe('the ops API as deployed reads the dead-letter store with exactly its grants', () => {
  it('lists, searches, counts, groups and opens dead letters with nothing denied', async () => {
    expect(runtime.info.iam?.enforcement).toBe('on');
    const since = Date.now();
    const before = runtime.denials.count;

    const page = await get<ListDeadLettersResponse>('/api/dead-letters?limit=5');
    expect(page.total).toBe(letters.length);
    expect(page.deadLetters.map((row) => row.id)).toEqual(
      letters
        .map((l) => l.id)
        .reverse()
        .slice(0, 5),
    );
    const next = await get<ListDeadLettersResponse>(
      `/api/dead-letters?limit=5&cursor=${encodeURIComponent(page.cursor ?? '')}`,
    );
    expect(next.deadLetters[0]?.id).toBe(letters[letters.length - 6]?.id);

    const signature = causeSignature(letters[0]?.cause ?? { errorName: '', errorMessage: '' });
    const byCause = await get<ListDeadLettersResponse>(
      `/api/dead-letters?state=open&cause=${encodeURIComponent(signature)}&pipe=standard`,
    );
    expect(byCause.total).toBe(12);
    const windowed = await get<ListDeadLettersResponse>(
      `/api/dead-letters?pipe=premium&from=${new Date(BASE).toISOString()}&to=${new Date(BASE + 5000).toISOString()}`,
    );
    expect(windowed.total).toBe(3);
    const byOrder = await get<ListDeadLettersResponse>('/api/dead-letters?orderId=iam-ord-7');
    expect(byOrder.deadLetters.map((row) => row.id)).toEqual([letters[7]?.id]);
    const byEmail = await get<ListDeadLettersResponse>('/api/dead-letters?q=IAM13%40');
    expect(byEmail.deadLetters.map((row) => row.id)).toEqual([letters[13]?.id]);

    const { causes } = await get<DeadLetterCausesResponse>('/api/dead-letters/causes?state=open');
    expect(causes).toEqual([
      expect.objectContaining({
        signature,
        count: letters.length,
        firstAt: letters[0]?.failedAt,
        lastAt: letters.at(-1)?.failedAt,
        pipes: ['standard', 'premium'],
      }),
    ]);
    const detail = await get<DeadLetterDetail>(`/api/dead-letters/${letters[3]?.id}`);
    expect(detail.streamRecords).toEqual([{ eventId: 'ev-3', json: '{"eventID":"ev-3"}' }]);

    expect(runtime.denials.list({ since, limit: 1000 })).toEqual([]);
    expect(runtime.denials.count).toBe(before);
  });
});
