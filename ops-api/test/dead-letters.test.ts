import { causeSignature, PIPE_KEYS } from '@orderflow/pipeline/facts';
import { deadLetterCauseKey } from '@orderflow/pipeline/schemas';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import type { DeadLetterCausesResponse, DeadLetterDetail, ListDeadLettersResponse } from '../src/schemas/index.ts';
import { type Backends, startBackends } from './helpers/backends.ts';
import { type SeedDeadLetter, seedDeadLetters } from './helpers/dead-letter-store.ts';

let backends: Backends;
let app: FastifyInstance;
let viewer: Record<string, string>;

const BASE = Date.parse('2026-11-24T10:00:00.000Z');
const CAUSES = [
  (i: number) => ({ errorName: 'Error', errorMessage: `connect ECONNREFUSED 10.0.${i % 200}.7:${400 + i}` }),
  (i: number) => ({ errorName: 'TimeoutError', errorMessage: `notifications queue timed out after ${1000 + i}ms` }),
  () => ({ errorName: 'OrderValidationError', errorMessage: 'orderDate must be an ISO 8601 date' }),
];
/** 150 dead letters over both pipes, three causes, two states, one a second apart: every index shard holds some. */
const seeded: SeedDeadLetter[] = Array.from({ length: 150 }, (_, i) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  pipe: PIPE_KEYS[i % 2] ?? 'standard',
  state: i % 5 === 0 ? 'redriven' : 'open',
  failedAt: new Date(BASE + i * 1000).toISOString(),
  orderIds: [`ord-${i}`],
  emails: [`cust${i}@example.org`],
  cause: (CAUSES[i % 3] ?? (CAUSES[0] as (i: number) => { errorName: string; errorMessage: string }))(i),
}));
/** One dead letter with records of several parts each and a DLQ body kept in parts. */
const record = (n: number) =>
  JSON.stringify({
    eventID: `ev-${n}`,
    dynamodb: { SequenceNumber: `10000000000000000000${n}`, note: 'é'.repeat(300) },
  });
const multi: SeedDeadLetter = {
  id: 'ffffffff-0000-4000-8000-000000000001',
  pipe: 'premium',
  failedAt: new Date(BASE - 3600_000).toISOString(),
  orderIds: ['ord-multi'],
  emails: ['multi@example.org'],
  cause: { errorName: 'Error', errorMessage: 'downstream said 503' },
  records: [1, 2].map((n) => ({ eventId: `ev-${n}`, sequenceNumber: `10000000000000000000${n}`, json: record(n) })),
  body: JSON.stringify({ big: 'b'.repeat(5000), end: '✓' }),
};
const all = [...seeded, multi];
const newestFirst = (letters: readonly SeedDeadLetter[]) =>
  [...letters].sort((a, b) => (`${a.failedAt}#${a.id}` < `${b.failedAt}#${b.id}` ? 1 : -1)).map((letter) => letter.id);
const causeKeyOf = (letter: SeedDeadLetter) => deadLetterCauseKey(causeSignature(letter.cause));

beforeAll(async () => {
  backends = await startBackends();
  app = await buildApp(configFromRuntimeInfo(backends.info, { consoleUrl: 'http://127.0.0.1:5173' }));
  viewer = { authorization: `Bearer ${backends.info.tokens.viewer}` };
  const table = backends.info.resources.deadLetterTable;
  await seedDeadLetters(backends.dynamodb, table, seeded);
  await seedDeadLetters(backends.dynamodb, table, [multi], { partBytes: 100, inlineBodyBytes: 1000 });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await backends?.stop();
});

async function list(query: Record<string, string>): Promise<ListDeadLettersResponse> {
  const answer = await app.inject({ method: 'GET', url: '/api/dead-letters', query, headers: viewer });
  expect(answer.statusCode, answer.body).toBe(200);
  return answer.json() as ListDeadLettersResponse;
}

/** Every page of a listing: the ids in order, each page's total. */
async function listAll(query: Record<string, string>): Promise<{ ids: string[]; totals: number[]; pages: number }> {
  const ids: string[] = [];
  const totals: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: ListDeadLettersResponse = await list({ ...query, ...(cursor ? { cursor } : {}) });
    ids.push(...page.deadLetters.map((row) => row.id));
    totals.push(page.total);
    cursor = page.cursor;
    pages++;
  } while (cursor && pages < 200);
  return { ids, totals, pages };
}

describe('GET /api/dead-letters', () => {
  it('pages through every index shard newest first, no row twice or missing, the exact total from the counters', async () => {
    const { ids, totals, pages } = await listAll({ limit: '7' });
    expect(ids).toEqual(newestFirst(all));
    expect(new Set(ids).size).toBe(all.length);
    expect(pages).toBe(Math.ceil(all.length / 7));
    expect(new Set(totals)).toEqual(new Set([all.length]));
    const first = await list({ limit: '1' });
    expect(first.totalFrom).toBe('counters');
    expect(first.deadLetters[0]).toMatchObject({
      id: newestFirst(all)[0],
      pipe: 'premium',
      state: 'open',
      orderIds: ['ord-149'],
      cause: { signature: causeSignature(seeded[149]?.cause ?? multi.cause) },
      dlqBody: JSON.stringify({ seeded: newestFirst(all)[0] }),
    });
  });

  it('filters by pipe and state (byPipeState), totals from the counters', async () => {
    for (const [pipe, state] of [
      ['standard', 'open'],
      ['premium', 'redriven'],
    ] as const) {
      const expected = newestFirst(all.filter((l) => l.pipe === pipe && (l.state ?? 'open') === state));
      const { ids, totals } = await listAll({ pipe, state, limit: '9' });
      expect(ids).toEqual(expected);
      expect(totals.every((total) => total === expected.length)).toBe(true);
    }
    const byState = await listAll({ state: 'redriven', limit: '50' });
    expect(byState.ids).toEqual(newestFirst(all.filter((l) => l.state === 'redriven')));
  });

  it('filters by cause, given as its signature or its key (byCause), with a pipe counted over what it reads', async () => {
    const first = seeded[0] as SeedDeadLetter;
    const signature = causeSignature(first.cause);
    expect(signature).toBe('Error: connect ECONNREFUSED <ip>:<port>');
    const expected = newestFirst(all.filter((l) => causeKeyOf(l) === causeKeyOf(first)));
    expect(expected.length).toBe(50);
    const bySignature = await listAll({ cause: signature, limit: '8' });
    expect(bySignature.ids).toEqual(expected);
    expect(bySignature.totals.every((total) => total === 50)).toBe(true);
    expect((await listAll({ cause: causeKeyOf(first), limit: '50' })).ids).toEqual(expected);

    const withPipe = await list({ cause: signature, pipe: 'standard', state: 'open', limit: '200' });
    const wanted = newestFirst(
      all.filter((l) => causeKeyOf(l) === causeKeyOf(first) && l.pipe === 'standard' && (l.state ?? 'open') === 'open'),
    );
    expect(withPipe.deadLetters.map((row) => row.id)).toEqual(wanted);
    expect(withPipe).toMatchObject({ total: wanted.length, totalFrom: 'counters', cursor: null });
  });

  it('finds an order by id (its order links), and by q: an order id, an email or error text in any case', async () => {
    const byOrder = await list({ orderId: 'ord-42' });
    expect(byOrder.deadLetters.map((row) => row.id)).toEqual([seeded[42]?.id]);
    expect(byOrder).toMatchObject({ total: 1, totalFrom: 'query', cursor: null });
    expect((await list({ orderId: 'ord-42', pipe: 'premium' })).total).toBe(0);
    expect((await list({ orderId: 'ord-none' })).deadLetters).toEqual([]);

    const byEmail = await list({ q: 'CUST12@Example' });
    expect(byEmail.deadLetters.map((row) => row.id)).toEqual([seeded[12]?.id]);
    expect(byEmail.total).toBe(1);

    const byText = await listAll({ q: 'timed OUT', limit: '11' });
    const timeouts = newestFirst(all.filter((l) => l.cause.errorMessage.includes('timed out')));
    expect(byText.ids).toEqual(timeouts);
    expect(byText.totals.every((total) => total === timeouts.length)).toBe(true);

    const byOrderText = await list({ q: 'ord-14', limit: '200' });
    expect(byOrderText.deadLetters.map((row) => row.id)).toEqual(
      newestFirst(all.filter((l) => l.orderIds.some((id) => id.includes('ord-14')))),
    );
  });

  it('limits to a failedAt window (from and to inclusive), counted over what it reads', async () => {
    const from = new Date(BASE + 20_000).toISOString();
    const to = new Date(BASE + 60_000).toISOString();
    const expected = newestFirst(all.filter((l) => l.failedAt >= from && l.failedAt <= to && l.pipe === 'standard'));
    const { ids, totals } = await listAll({ from, to, pipe: 'standard', limit: '4' });
    expect(ids).toEqual(expected);
    expect(totals.every((total) => total === expected.length)).toBe(true);
    const first = await list({ from: '2026-11-24T11:00:20+01:00', to: '2026-11-24T10:00:20Z' });
    expect(first.deadLetters.map((row) => row.id)).toEqual(newestFirst(seeded.filter((l) => l.failedAt === from)));
    expect(first.totalFrom).toBe('query');
  });

  it('answers 400 naming the parameter for each bad one', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ pipe: 'gold' }, /pipe.*unknown pipe "gold"; expected one of standard, premium/],
      [{ state: 'lost' }, /state.*unknown state "lost"/],
      [{ from: 'yesterday' }, /from must be an ISO 8601 date-time/],
      [{ to: '2026-13-01T00:00:00Z' }, /to must be an ISO 8601 date-time/],
      [{ from: '2026-11-24T11:00:00Z', to: '2026-11-24T10:00:00Z' }, /from must be at or before to/],
      [{ limit: '0' }, /limit must be at least 1, got 0/],
      [{ limit: '201' }, /limit must be at most 200, got 201/],
      [{ limit: '1e2' }, /limit must be a whole number/],
      [{ cursor: 'not-a-cursor' }, /cursor is not a cursor this API gave out/],
      [{ q: '' }, /q is empty/],
    ];
    for (const [query, message] of cases) {
      const answer = await app.inject({ method: 'GET', url: '/api/dead-letters', query, headers: viewer });
      expect(answer.statusCode, JSON.stringify(query)).toBe(400);
      expect(answer.json().message).toMatch(message);
    }
    const page = await list({ pipe: 'standard', limit: '2' });
    const other = await app.inject({
      method: 'GET',
      url: '/api/dead-letters',
      query: { pipe: 'premium', limit: '2', cursor: page.cursor ?? '' },
      headers: viewer,
    });
    expect(other.statusCode).toBe(400);
    expect(other.json().message).toMatch(/cursor was given for other filters/);
    expect((await app.inject({ method: 'GET', url: '/api/dead-letters' })).statusCode).toBe(401);
  });
});

describe('OpenAPI', () => {
  it('documents the three read routes with their parameters', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, { get?: { parameters?: { name: string }[] } }>;
    };
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/api/dead-letters', '/api/dead-letters/{id}', '/api/dead-letters/causes']),
    );
    expect(spec.paths['/api/dead-letters']?.get?.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['pipe', 'state', 'orderId', 'q', 'cause', 'from', 'to', 'limit', 'cursor']),
    );
  });
});

describe('GET /api/dead-letters/{id}', () => {
  it('answers the whole dead letter: records joined from their parts, the body exactly as sent from its parts', async () => {
    const answer = await app.inject({ method: 'GET', url: `/api/dead-letters/${multi.id}`, headers: viewer });
    expect(answer.statusCode, answer.body).toBe(200);
    const detail = answer.json() as DeadLetterDetail;
    expect(detail.dlqBody).toBe(multi.body);
    expect(detail.dlqBodyParts).toBeGreaterThan(1);
    expect(detail.streamRecords).toEqual(multi.records?.map((r) => ({ eventId: r.eventId, json: r.json })));
    expect(detail).toMatchObject({ id: multi.id, pipe: 'premium', orderIds: ['ord-multi'], recordCount: 2 });
    // In a list, a body kept in parts is null (a pipe's ~1 KB body is always inline).
    const row = (await list({ orderId: 'ord-multi' })).deadLetters[0];
    expect(row).toMatchObject({ id: multi.id, dlqBody: null });
  });

  it('404 for an unknown id, 400 for a malformed one', async () => {
    const unknown = await app.inject({ method: 'GET', url: '/api/dead-letters/no-such-id', headers: viewer });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toMatch(/no dead letter with id "no-such-id"/);
    const bad = await app.inject({ method: 'GET', url: '/api/dead-letters/a%20b', headers: viewer });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/id must be a dead letter id/);
  });
});

describe('GET /api/dead-letters/causes', () => {
  it('groups by cause from the counters, largest first, with first and last failure and pipes', async () => {
    const answer = await app.inject({ method: 'GET', url: '/api/dead-letters/causes', headers: viewer });
    expect(answer.statusCode, answer.body).toBe(200);
    const { causes } = answer.json() as DeadLetterCausesResponse;
    const groups = new Map<string, SeedDeadLetter[]>();
    for (const letter of all) groups.set(causeKeyOf(letter), [...(groups.get(causeKeyOf(letter)) ?? []), letter]);
    expect(causes.map((c) => c.count)).toEqual([...groups.values()].map((g) => g.length).sort((a, b) => b - a));
    for (const cause of causes) {
      const letters = groups.get(cause.key) ?? [];
      const times = letters.map((l) => l.failedAt).sort();
      expect(cause).toMatchObject({
        count: letters.length,
        signature: causeSignature(letters[0]?.cause ?? multi.cause),
        firstAt: times[0],
        lastAt: times.at(-1),
        pipes: PIPE_KEYS.filter((pipe) => letters.some((l) => l.pipe === pipe)),
      });
    }
  });

  it('of one pipe and state', async () => {
    const answer = await app.inject({
      method: 'GET',
      url: '/api/dead-letters/causes',
      query: { pipe: 'standard', state: 'redriven' },
      headers: viewer,
    });
    const { causes } = answer.json() as DeadLetterCausesResponse;
    const letters = all.filter((l) => l.pipe === 'standard' && l.state === 'redriven');
    expect(causes.reduce((sum, c) => sum + c.count, 0)).toBe(letters.length);
    for (const cause of causes) {
      const times = letters
        .filter((l) => causeKeyOf(l) === cause.key)
        .map((l) => l.failedAt)
        .sort();
      expect(cause).toMatchObject({
        count: times.length,
        firstAt: times[0],
        lastAt: times.at(-1),
        pipes: ['standard'],
      });
    }
    const bad = await app.inject({ method: 'GET', url: '/api/dead-letters/causes?state=lost', headers: viewer });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/state.*unknown state "lost"/);
  });
});
