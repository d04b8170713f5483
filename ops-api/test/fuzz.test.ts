import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import { type Backends, startBackends } from './helpers/backends.ts';

let backends: Backends;
let app: FastifyInstance;

beforeAll(async () => {
  backends = await startBackends();
  app = await buildApp(
    configFromRuntimeInfo(backends.info, {
      rateLimitPerMinute: 100_000,
      unauthenticatedRateLimitPerMinute: 100_000,
    }),
  );
}, 120_000);

afterAll(async () => {
  await app?.close();
  await backends?.stop();
});

const junk = fc.oneof(
  fc.string(),
  fc.constantFrom('', '{', '{"a":', 'null', '[]', '"x"', '{"messageIds":5}', '{"all":false}', '{"reason":""}'),
  fc.json(),
  fc.jsonValue().map((value) => JSON.stringify(value)),
);
const pathPart = fc.oneof(
  fc.constantFrom(
    'standard',
    'premium',
    'nope',
    '..',
    '%00',
    'a'.repeat(300),
    '%7B%7D',
    '00000000-0000-0000-0000-00000000000g',
  ),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);
const query = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(
      fc.constantFrom('limit', 'cursor', 'q', 'from', 'to', 'pipe', 'period', 'actor'),
      fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('-1', '1e9', 'NaN', '2026-13-40T99:99:99Z', 'eyJ2IjoxfQ')),
    )
    .map((params) => `?${new URLSearchParams(params).toString()}`),
);
const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH'),
  route: fc.constantFrom(
    (p: string) => `/api/dlqs/${p}/messages`,
    (p: string) => `/api/dlqs/${p}/messages/${p}`,
    (p: string) => `/api/dlqs/${p}/redrive`,
    (p: string) => `/api/redrives/${p}`,
    () => '/api/metrics/filter',
    () => '/api/filters/test',
    () => '/api/audit',
    (p: string) => `/api/${p}`,
  ),
  part: pathPart,
  query,
  body: junk,
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', undefined),
  auth: fc.constantFrom('operator', 'viewer', 'none', 'garbage'),
});

it('answers 1,000 malformed requests without a 5xx and keeps answering', async () => {
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const token =
        r.auth === 'operator'
          ? backends.info.tokens.operator
          : r.auth === 'viewer'
            ? backends.info.tokens.viewer
            : r.auth === 'garbage'
              ? 'x'
              : undefined;
      const answer = await app.inject({
        method: r.method as 'GET',
        url: `${r.route(r.part)}${r.query}`,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(r.contentType ? { 'content-type': r.contentType } : {}),
        },
        ...(r.method === 'GET' ? {} : { payload: r.body }),
      });
      statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
      expect(answer.statusCode, `${r.method} ${r.route(r.part)}${r.query} ${r.body}: ${answer.body}`).toBeLessThan(500);
      if (answer.statusCode >= 400) expect(answer.json().message).toEqual(expect.any(String));
    }),
    { numRuns: 1000 },
  );
  expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(1000);
  expect([...statuses.keys()].some((status) => status >= 400)).toBe(true);
  const health = await app.inject({ method: 'GET', url: '/api/health' });
  expect(health.statusCode).toBe(200);
}, 300_000);
