/**
 * Dead-letter store reads (GET /api/dead-letters, /causes): with N dead letters seeded into DynamoDB Local as the
 * archiver writes them (default 20,000; `BENCH_DEAD_LETTERS`), the time of a first page, a deep page (by cursor), an
 * exact total from the counters, an exact total counted over a text search, a search by order id and the group by
 * cause. The API runs in this process (`app.inject`: the service and DynamoDB Local, no socket), over one DynamoDB
 * Local; each figure is the p50 and p99 of `BENCH_REPEATS` requests (default 30) after one warm-up. Prints one JSON
 * object. Reproduce: `npm run bench:dead-letters -w ops-api` (or `BENCH_DEAD_LETTERS=100000 npm run ...`).
 * Issue 16's targets are for 100,000 dead letters: a list page p99 <= 100 ms, a search by order id p99 <= 50 ms,
 * group by cause <= 500 ms, exact counts <= 200 ms.
 */
import os from 'node:os';
import { PIPE_KEYS } from '@orderflow/pipeline/facts';
import { positiveIntegerFromEnv, type SeedDeadLetter } from '@orderflow/pipeline/testing';
import { buildApp } from '../src/app.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import type { ListDeadLettersResponse } from '../src/schemas/index.ts';
import { startBackends } from '../test/helpers/backends.ts';
import { seedDeadLetters } from '../test/helpers/dead-letter-store.ts';

const N = positiveIntegerFromEnv('BENCH_DEAD_LETTERS', 20_000);
const REPEATS = positiveIntegerFromEnv('BENCH_REPEATS', 30);
const BASE = Date.parse('2026-11-24T10:00:00.000Z');
const CAUSES = [
  (i: number) => ({ errorName: 'Error', errorMessage: `connect ECONNREFUSED 10.0.${i % 250}.7:443` }),
  (i: number) => ({ errorName: 'TimeoutError', errorMessage: `notifications queue timed out after ${i}ms` }),
  () => ({ errorName: 'OrderValidationError', errorMessage: 'orderDate must be an ISO 8601 date' }),
  () => ({ errorName: 'ThrottlingException', errorMessage: 'Rate exceeded' }),
];

/** Most dead letters share one cause (an outage), a few others mix in. */
function causeOf(i: number): { errorName: string; errorMessage: string } {
  const which = i % 7 === 0 ? 1 : i % 13 === 0 ? 2 : i % 17 === 0 ? 3 : 0;
  return (CAUSES[which] ?? CAUSES[0] ?? (() => ({ errorName: 'Error', errorMessage: 'unknown' })))(i);
}

const letters: SeedDeadLetter[] = Array.from({ length: N }, (_, i) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  pipe: PIPE_KEYS[i % PIPE_KEYS.length] ?? 'standard',
  state: i % 10 === 0 ? 'redriven' : 'open',
  // 40 minutes of outage, evenly
  failedAt: new Date(BASE + Math.floor((i * 2_400_000) / N)).toISOString(),
  orderIds: [`ord-${i}`],
  emails: [`customer${i}@example.org`],
  cause: causeOf(i),
}));

const backends = await startBackends();
let peakRss = process.memoryUsage().rss;
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
try {
  const seedStart = performance.now();
  await seedDeadLetters(backends.dynamodb, backends.info.resources.deadLetterTable, letters);
  const seedMs = performance.now() - seedStart;
  const app = await buildApp(configFromRuntimeInfo(backends.info, { rateLimitPerMinute: 1_000_000 }));
  const headers = { authorization: `Bearer ${backends.info.tokens.viewer}` };
  const get = async (url: string) => {
    const answer = await app.inject({ method: 'GET', url, headers });
    if (answer.statusCode !== 200) throw new Error(`${url}: ${answer.statusCode} ${answer.body}`);
    sample();
    return answer.json() as unknown;
  };
  const timed = async (url: string) => {
    await get(url);
    const times: number[] = [];
    let last: unknown;
    for (let i = 0; i < REPEATS; i++) {
      const start = performance.now();
      last = await get(url);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) =>
      Number((times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] ?? 0).toFixed(1));
    return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1), last };
  };

  // A deep page: follow the cursor 40 pages (2,000 rows) into the open dead letters of the standard pipe.
  let cursor: string | null = null;
  for (let page = 0; page < 40; page++) {
    const answer = (await get(
      `/api/dead-letters?pipe=standard&state=open&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    )) as ListDeadLettersResponse;
    cursor = answer.cursor;
    if (!cursor) break;
  }
  const firstPage = await timed('/api/dead-letters?limit=50');
  const firstPageOnePipe = await timed('/api/dead-letters?pipe=standard&state=open&limit=50');
  const deepPage = cursor
    ? await timed(`/api/dead-letters?pipe=standard&state=open&limit=50&cursor=${encodeURIComponent(cursor)}`)
    : null;
  const countersTotal = await timed('/api/dead-letters?pipe=standard&state=open&limit=1');
  const searchTotal = await timed('/api/dead-letters?q=customer1234%40&limit=50');
  const byOrderId = await timed(`/api/dead-letters?orderId=ord-${Math.floor(N / 2)}`);
  const causes = await timed('/api/dead-letters/causes');
  const strip = ({ last: _last, ...figures }: { last: unknown }) => figures;
  console.log(
    JSON.stringify(
      {
        bench: 'dead-letter-reads',
        deadLetters: N,
        repeats: REPEATS,
        seedSeconds: Number((seedMs / 1000).toFixed(1)),
        firstPageAllPipes: strip(firstPage),
        firstPageOnePipeState: strip(firstPageOnePipe),
        deepPageAfter2000Rows: deepPage ? strip(deepPage) : 'fewer than 40 pages',
        exactTotalFromCounters: {
          ...strip(countersTotal),
          total: (countersTotal.last as ListDeadLettersResponse).total,
        },
        exactTotalOfTextSearch: { ...strip(searchTotal), total: (searchTotal.last as ListDeadLettersResponse).total },
        searchByOrderId: strip(byOrderId),
        groupByCause: { ...strip(causes), causes: (causes.last as { causes: unknown[] }).causes.length },
        peakRssMb: Math.round(peakRss / 1024 / 1024),
        machine: { cpus: os.cpus().length, node: process.version },
        note: 'in-process API (app.inject) over one DynamoDB Local; figures are the API and DynamoDB Local together',
        reproduce: `BENCH_DEAD_LETTERS=${N} BENCH_REPEATS=${REPEATS} npm run bench:dead-letters -w ops-api`,
      },
      null,
      2,
    ),
  );
  await app.close();
} finally {
  await backends.stop();
}
