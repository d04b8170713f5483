import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { RuntimeInfo } from '@orderflow/pipeline/schemas';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { configFromRuntimeInfo } from '../src/config.ts';
import { cognitoAuthenticator } from '../src/plugins/auth.ts';

/** Cognito tokens signed by a key of our own, whose JWKS the verifier is given instead of downloading it. */
describe('Cognito: access tokens only', () => {
  const auth = {
    mode: 'cognito' as const,
    userPoolId: 'eu-west-1_AbCdEf123',
    clientId: 'console-client',
    domain: 'orderflow.auth.eu-west-1.amazoncognito.com',
    region: 'eu-west-1',
  };
  const issuer = `https://cognito-idp.${auth.region}.amazonaws.com/${auth.userPoolId}`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'key-1', alg: 'RS256', use: 'sig' }] };
  const authenticate = cognitoAuthenticator(auth, { jwks: jwks as never });

  function jwt(claims: Record<string, unknown>, key: KeyObject = privateKey): string {
    const now = Math.floor(Date.now() / 1000);
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${part({ alg: 'RS256', kid: 'key-1', typ: 'JWT' })}.${part({ iss: issuer, iat: now, exp: now + 3600, ...claims })}`;
    return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), key).toString('base64url')}`;
  }
  const accessToken = (claims: Record<string, unknown> = {}) =>
    jwt({
      token_use: 'access',
      client_id: auth.clientId,
      username: 'alice',
      'cognito:groups': ['operators'],
      scope: 'openid email profile',
      ...claims,
    });

  it('accepts an access token of the app client: actor from `username`, role from `cognito:groups`', async () => {
    expect(await authenticate(accessToken())).toEqual({ name: 'alice', role: 'operator' });
    expect(await authenticate(accessToken({ username: 'bob', 'cognito:groups': ['viewers'] }))).toEqual({
      name: 'bob',
      role: 'viewer',
    });
  });

  it('refuses an ID token of the same user and app client (401)', async () => {
    const idToken = jwt({
      token_use: 'id',
      aud: auth.clientId,
      'cognito:username': 'alice',
      'cognito:groups': ['operators'],
      email: 'alice@example.com',
    });
    await expect(authenticate(idToken)).rejects.toMatchObject({ statusCode: 401, message: /Token use/ });
  });

  it('refuses an access token of another app client, without a username, or signed by another key', async () => {
    await expect(authenticate(accessToken({ client_id: 'other-client' }))).rejects.toMatchObject({ statusCode: 401 });
    await expect(authenticate(accessToken({ username: undefined }))).rejects.toMatchObject({
      statusCode: 401,
      message: /no username claim/,
    });
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await expect(
      authenticate(jwt({ token_use: 'access', client_id: auth.clientId, username: 'eve' }, stranger)),
    ).rejects.toMatchObject({ statusCode: 401 });
  });

  it('refuses a user in neither group (403)', async () => {
    await expect(authenticate(accessToken({ 'cognito:groups': ['admins'] }))).rejects.toMatchObject({
      statusCode: 403,
    });
  });
});

/** The rate limit keys on who is asking, never on headers the client writes. No AWS call is made by these routes. */
describe('rate limit', () => {
  const info: RuntimeInfo = {
    region: 'us-east-1',
    endpoints: {
      dynamodb: 'http://127.0.0.1:9',
      dynamodbStreams: 'http://127.0.0.1:9',
      sqs: 'http://127.0.0.1:9',
      lambda: 'http://127.0.0.1:9',
      cloudwatch: 'http://127.0.0.1:9',
    },
    tokens: { operator: 'o'.repeat(32), viewer: 'v'.repeat(32) },
    resources: {
      ordersTable: 'OrdersTable',
      journalTable: 'FailureJournalTable',
      idempotencyTable: 'IdempotencyTable',
      auditTable: 'AuditTable',
      jobsTable: 'OpsJobsTable',
      deadLetterTable: 'DeadLetterTable',
      priorityShipmentsTable: 'PriorityShipmentsTable',
      notificationQueueUrl: 'http://127.0.0.1:9/000000000000/OrderNotificationsQueue',
      accountManagerQueueUrl: 'http://127.0.0.1:9/000000000000/AccountManagerQueue',
      pipes: {
        standard: { name: 'orderflow-standard', function: 'OrderProcessorFunction', dlqUrl: 'http://127.0.0.1:9/0/a' },
        premium: {
          name: 'orderflow-premium',
          function: 'PremiumOrderProcessorFunction',
          dlqUrl: 'http://127.0.0.1:9/0/b',
        },
      },
    },
  } as RuntimeInfo;
  let app: FastifyInstance;
  const as = (token: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });

  beforeAll(async () => {
    app = await buildApp(configFromRuntimeInfo(info, { rateLimitPerMinute: 5, unauthenticatedRateLimitPerMinute: 3 }));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('counts per verified principal: a client rotating X-Forwarded-For gains nothing; another principal is not affected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const answer = await app.inject({
        method: 'GET',
        url: '/api/me',
        headers: as(info.tokens.operator, { 'x-forwarded-for': `203.0.113.${i}` }),
        remoteAddress: `198.51.100.${i}`,
      });
      statuses.push(answer.statusCode);
      if (answer.statusCode === 429) {
        expect(answer.json().message).toMatch(/more than 5 requests a minute for local-operator; retry in \d+ s/);
        expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      } else {
        expect(answer.headers['x-ratelimit-remaining']).toBe(String(4 - i));
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const viewer = await app.inject({ method: 'GET', url: '/api/me', headers: as(info.tokens.viewer) });
    expect(viewer.statusCode).toBe(200);
  });

  it('counts failed authentications per source address with a smaller budget, then answers 429 instead of 401', async () => {
    const attempt = (remoteAddress: string, forwardedFor: string) =>
      app.inject({
        method: 'GET',
        url: '/api/dlqs',
        headers: as(`guess-${forwardedFor}`, { 'x-forwarded-for': forwardedFor }),
        remoteAddress,
      });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await attempt('192.0.2.10', `203.0.113.${i}`)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const noToken = await app.inject({ method: 'GET', url: '/api/pipes', remoteAddress: '192.0.2.10' });
    expect(noToken.statusCode).toBe(429);
    expect(noToken.json().message).toContain('without a valid token from 192.0.2.10');
    // Another address has its own budget, and a valid token from the guessing address still works.
    expect((await attempt('192.0.2.11', '192.0.2.10')).statusCode).toBe(401);
    const valid = await app.inject({
      method: 'GET',
      url: '/api/me',
      headers: as(info.tokens.viewer),
      remoteAddress: '192.0.2.10',
    });
    expect(valid.statusCode).toBe(200);
  });

  it('never limits health', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await app.inject({ method: 'GET', url: '/api/health', remoteAddress: '192.0.2.99' })).statusCode).toBe(
        200,
      );
    }
  });
});
