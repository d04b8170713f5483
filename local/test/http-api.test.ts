/**
 * The ops API as deployed, on the real local runtime (`startLocalRuntime({ opsApi: 'lambda' })`, what `npm start` runs):
 * the synthesized template's HTTP API with its JWT authorizer in front of the bundled OpsApiFunction running in the
 * local Lambda runtime, tokens of the local Cognito issuer, and the console served from the template's console asset
 * as CloudFront serves it. One runtime for the file; the front's finer rules on a template of their own are in
 * `http-api-front.test.ts`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { ListMessagesResponse, RedriveJob } from '@orderflow/ops-api/schemas';
import { OPS_API_GROUPS, PIPES } from '@orderflow/pipeline/facts';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenIssuer } from '../src/http-api/issuer.ts';
import { HTTP_API_MAX_INTEGRATION_TIMEOUT_MS } from '../src/http-api/template.ts';
import { LOCAL_ACCOUNT, LOCAL_USERS, type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';

const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-http-api-'));
const template = () =>
  JSON.parse(readFileSync(join(templateDir, 'Orderflow.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  };
/** The properties of the template's only resource of a type. */
function propertiesOf(type: string): Record<string, unknown> {
  const matching = Object.values(template().Resources).filter((resource) => resource.Type === type);
  if (matching.length !== 1) throw new Error(`the template has ${matching.length} ${type}, not one`);
  return matching[0]?.Properties ?? {};
}
let runtime: LocalRuntime;
let opsApiFunction: string;
/** Every event the ops API function received, in order. */
const events: Record<string, unknown>[] = [];

beforeAll(async () => {
  if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
    const synth = spawnSync('npm', ['run', 'build', '-w', 'stack'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`stack synth failed: ${synth.stderr}`);
  }
  // The function the template's integration invokes (a function without a FunctionName runs under its logical id).
  const uri = propertiesOf('AWS::ApiGatewayV2::Integration').IntegrationUri as { 'Fn::GetAtt': string[] };
  opsApiFunction = String(uri['Fn::GetAtt'][0]);
  runtime = await startLocalRuntime({
    templateDir,
    stateDir,
    traffic: 'off',
    writeRuntimeFile: false,
    opsApi: 'lambda',
    pipeTiming: { pollIntervalMs: 100, retryBaseDelayMs: 20 },
    onInvoke: (name, event) => {
      if (name === opsApiFunction) events.push(event as Record<string, unknown>);
    },
  });
}, 180_000);

afterAll(async () => {
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const front = () => {
  const [api] = runtime.front?.apis.values() ?? [];
  if (!api) throw new Error('the runtime runs no HTTP API');
  return api;
};
const consoleOrigin = () => new URL(runtime.info.console ?? '').origin;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function call(path: string, init: RequestInit = {}, base = runtime.info.opsApi) {
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

describe('the template’s HTTP API in front of the bundled ops API function', () => {
  it('is the runtime’s ops API: the template’s route, authorizer, integration, limits and stage', () => {
    const { endpoint, front: api } = front();
    const { spec } = api;
    expect(runtime.info.opsApi).toBe(endpoint);
    expect(spec.routes.map((route) => route.routeKey)).toEqual(['$default']);
    const [route] = spec.routes;
    expect(route?.authorization).toMatchObject({
      type: 'JWT',
      authorizer: { header: 'authorization', issuer: expect.stringMatching(/^https:\/\/cognito-idp\.us-east-1\./) },
    });
    expect(route?.integration.functionName).toBe(opsApiFunction);
    expect(runtime.lambda.names).toContain(opsApiFunction);
    // The template sets no TimeoutInMillis: the integration waits AWS's 30 s, the most an HTTP API allows
    // (docs/AWS-FACTS.md, fact 14).
    expect(propertiesOf('AWS::ApiGatewayV2::Integration')).not.toHaveProperty('TimeoutInMillis');
    expect(route?.integration.timeoutMs).toBe(HTTP_API_MAX_INTEGRATION_TIMEOUT_MS);
    const settings = propertiesOf('AWS::ApiGatewayV2::Stage').DefaultRouteSettings as Record<string, number>;
    expect(spec.stage.throttle).toEqual({
      rateLimit: settings.ThrottlingRateLimit,
      burstLimit: settings.ThrottlingBurstLimit,
    });
  });

  it('answers an operator’s and a viewer’s token of the local issuer, and serves the OpenAPI document', async () => {
    expect(await call('/api/me', { headers: bearer(runtime.info.tokens.operator) })).toMatchObject({
      status: 200,
      text: JSON.stringify({ actor: LOCAL_USERS.operator, role: 'operator' }),
    });
    expect(await call('/api/me', { headers: bearer(runtime.info.tokens.viewer) })).toMatchObject({
      status: 200,
      text: JSON.stringify({ actor: LOCAL_USERS.viewer, role: 'viewer' }),
    });
    const openApi = await call('/docs/json', { headers: bearer(runtime.info.tokens.viewer) });
    expect(openApi.status).toBe(200);
    expect(JSON.parse(openApi.text)).toMatchObject({ openapi: expect.stringMatching(/^3\./) });
    expect(await call('/docs/json')).toMatchObject({ status: 401, text: '{"message":"Unauthorized"}' });
  });

  it('takes a token the local issuer signs for any user of the pool’s groups, and refuses groups the pool lacks', async () => {
    const cognito = runtime.front?.cognito.endpoint;
    const issue = (body: unknown) =>
      fetch(`${cognito}/_local/tokens`, { method: 'POST', body: JSON.stringify(body) }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as { accessToken?: string; expiresAt?: string; message?: string },
      }));
    const ana = await issue({ username: 'ana', groups: [OPS_API_GROUPS.viewer] });
    expect(ana.status).toBe(200);
    expect(Date.parse(ana.body.expiresAt ?? '') - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(await call('/api/me', { headers: bearer(ana.body.accessToken ?? '') })).toMatchObject({
      status: 200,
      text: JSON.stringify({ actor: 'ana', role: 'viewer' }),
    });
    expect(await issue({ username: 'ana', groups: ['admins'] })).toEqual({
      status: 400,
      body: { message: expect.stringMatching(/has no group admins$/) },
    });
    // A user in neither group passes the authorizer (it checks the token, not the groups); the ops API refuses it.
    const nobody = await issue({ username: 'nobody', groups: [] });
    expect((await call('/api/me', { headers: bearer(nobody.body.accessToken ?? '') })).status).toBe(403);
  });

  it('lets a viewer read but not act: the app answers 403 to a viewer’s redrive', async () => {
    const answer = await call('/api/dlqs/standard/redrive', {
      method: 'POST',
      headers: { ...bearer(runtime.info.tokens.viewer), 'content-type': 'application/json' },
      body: JSON.stringify({ all: true, dryRun: true }),
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.text)).toMatchObject({
      message: `${LOCAL_USERS.viewer} is a viewer; only operators may do this`,
    });
  });
});

describe('the JWT authorizer, as API Gateway answers', () => {
  const issuer = () => runtime.front?.issuer as TokenIssuer;
  /** 401 {"message":"Unauthorized"} from the front, without the function having been invoked. */
  async function refusedByTheFront(headers: Record<string, string>) {
    const before = events.length;
    const answer = await call('/api/dlqs', { headers });
    expect({ status: answer.status, text: answer.text }).toEqual({ status: 401, text: '{"message":"Unauthorized"}' });
    expect(answer.headers.get('apigw-requestid')).toBeTruthy();
    expect(events.length).toBe(before);
    return answer.headers.get('www-authenticate');
  }
  const invalid = (description: string | RegExp) =>
    typeof description === 'string'
      ? `Bearer scope="" error="invalid_token" error_description="${description}"`
      : expect.stringMatching(description);

  it('refuses a request without a token with a bare Bearer challenge', async () => {
    expect(await refusedByTheFront({})).toBe('Bearer');
  });

  it('refuses a malformed token, a bad signature, an expired token and another issuer’s token', async () => {
    expect(await refusedByTheFront(bearer('abc.def'))).toBe(invalid('token contains an invalid number of segments'));
    const operator = runtime.info.tokens.operator.split('.');
    const viewer = runtime.info.tokens.viewer.split('.');
    // The operator's header and claims with the viewer token's signature.
    expect(await refusedByTheFront(bearer(`${operator[0]}.${operator[1]}.${viewer[2]}`))).toBe(
      invalid('the token signature is invalid'),
    );
    const expired = issuer().issue(
      { username: LOCAL_USERS.operator, groups: [OPS_API_GROUPS.operator] },
      Date.now() - 2 * 3600_000,
    );
    expect(await refusedByTheFront(bearer(expired.token))).toBe(invalid('the token has expired'));
    // Another user pool (another issuer and its own keys), with the same app client id.
    const foreign = new TokenIssuer(
      issuer().userPools.map((pool) => ({
        ...pool,
        userPoolId: 'us-east-1_Elsewhere',
        issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Elsewhere',
      })),
      'us-east-1',
    );
    const elsewhere = foreign.issue({ username: LOCAL_USERS.operator, groups: [OPS_API_GROUPS.operator] });
    expect(await refusedByTheFront(bearer(elsewhere.token))).toEqual(invalid(/^Bearer scope="" error="invalid_token"/));
  });

  it('lets an ID token of the console client through, as API Gateway does, and the ops API refuses it', async () => {
    // The authorizer checks `aud` (an ID token's is the app client) and cannot tell an ID token from an access token
    // (API Gateway developer guide, "Control access to HTTP APIs with JWT authorizers"); the ops API verifies
    // `token_use: access` itself.
    const id = issuer().issueIdToken({ username: LOCAL_USERS.operator, groups: [OPS_API_GROUPS.operator] });
    const before = events.length;
    const answer = await call('/api/dlqs', { headers: bearer(id.token) });
    expect(events.length).toBe(before + 1);
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBeNull();
    expect(JSON.parse(answer.text).message).toMatch(/^the bearer token was rejected: Token use not allowed: id\b/);
  });
});

describe('the payload format 2.0 event the function receives', () => {
  it('carries the raw path and query, cookies, lower-case headers and the verified claims as strings', async () => {
    const before = events.length;
    const answer = await call('/api/dlqs/standard/messages?limit=5&limit=6', {
      headers: { ...bearer(runtime.info.tokens.viewer), Cookie: 'a=1; b=2', 'X-Trace-Me': 'yes' },
    });
    expect(answer.status).toBe(400); // Two limits are not one number: the app saw both, joined with a comma.
    const event = events[before] as Record<string, unknown>;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/api/dlqs/standard/messages',
      rawQueryString: 'limit=5&limit=6',
      queryStringParameters: { limit: '5,6' },
      cookies: ['a=1', 'b=2'],
      isBase64Encoded: false,
    });
    const headers = event.headers as Record<string, string>;
    expect(Object.keys(headers).filter((name) => name !== name.toLowerCase())).toEqual([]);
    expect(headers['x-trace-me']).toBe('yes');
    const pool = runtime.front?.issuer.userPools[0];
    expect(event.requestContext).toMatchObject({
      accountId: LOCAL_ACCOUNT,
      apiId: front().front.spec.apiId,
      stage: '$default',
      routeKey: '$default',
      requestId: answer.headers.get('apigw-requestid'),
      http: { method: 'GET', path: '/api/dlqs/standard/messages', sourceIp: '127.0.0.1' },
      authorizer: {
        jwt: {
          claims: {
            username: LOCAL_USERS.viewer,
            'cognito:groups': `[${OPS_API_GROUPS.viewer}]`,
            token_use: 'access',
            client_id: pool?.clients[0]?.clientId,
            iss: pool?.issuer,
            exp: expect.stringMatching(/^\d+$/),
          },
          scopes: null,
        },
      },
    });
  });

  it('carries a JSON body as text', async () => {
    const before = events.length;
    const body = JSON.stringify({ messageIds: ['none'], dryRun: true });
    await call('/api/dlqs/standard/redrive', {
      method: 'POST',
      headers: { ...bearer(runtime.info.tokens.operator), 'content-type': 'application/json' },
      body,
    });
    expect(events[before]).toMatchObject({ body, isBase64Encoded: false });
  });
});

describe('CORS, answered by the API before the authorizer', () => {
  it('answers the console’s preflight without a token and without invoking the function', async () => {
    const before = events.length;
    const answer = await call('/api/dlqs/standard/redrive', {
      method: 'OPTIONS',
      headers: {
        origin: consoleOrigin(),
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(consoleOrigin());
    expect(answer.headers.get('access-control-allow-methods')).toBe('GET,POST,PUT,DELETE');
    expect(answer.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect(answer.headers.get('access-control-max-age')).toBe('3600');
    expect(events.length).toBe(before);
  });

  it('allows the console’s origin on answers and no other origin', async () => {
    const allowed = await call('/api/dlqs', {
      headers: { ...bearer(runtime.info.tokens.viewer), origin: consoleOrigin() },
    });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(consoleOrigin());
    const other = await call('/api/dlqs', {
      headers: { ...bearer(runtime.info.tokens.viewer), origin: 'http://127.0.0.1:1' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('the console as CloudFront serves it', () => {
  const site = (path: string) => call(path, {}, (runtime.info.console ?? '').replace(/\/$/, ''));

  it('serves index.html at / and for client-side routes, and its assets, each with the template’s security headers', async () => {
    const index = await site('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html');
    expect(index.text).toContain('<div id="root">');
    const route = await site('/dlqs/standard');
    expect({ status: route.status, text: route.text }).toEqual({ status: 200, text: index.text });
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(index.text)?.[1];
    expect(asset).toBeTruthy();
    const script = await site(asset ?? '');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript');
    for (const answer of [index, route, script]) {
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
      expect(answer.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect(answer.headers.get('x-xss-protection')).toBe('1; mode=block');
      expect(answer.headers.get('content-security-policy')).toBe(index.headers.get('content-security-policy'));
    }
  });

  it('holds the console to the template’s Content-Security-Policy, its AWS hosts replaced by the local endpoints', async () => {
    const csp = (await site('/')).headers.get('content-security-policy') ?? '';
    const directives = Object.fromEntries(
      csp.split('; ').map((directive) => {
        const [name = '', ...sources] = directive.split(' ');
        return [name, sources];
      }),
    );
    expect(directives['default-src']).toEqual(["'self'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['connect-src']).toEqual([
      "'self'",
      runtime.info.opsApi,
      expect.stringMatching(/^https:\/\/orderflow-\d+\.auth\.us-east-1\.amazoncognito\.com$/),
      runtime.front?.cognito.endpoint,
    ]);
    expect(csp).not.toContain('execute-api');
    expect(csp).not.toContain('cognito-idp');
  });

  it('serves config.json pointing at the local API and the local issuer’s pool, signing in with its tokens', async () => {
    const config = JSON.parse((await site('/config.json')).text);
    const pool = runtime.front?.issuer.userPools[0];
    expect(config).toEqual({
      apiBaseUrl: runtime.info.opsApi,
      auth: {
        mode: 'local',
        userPoolId: pool?.userPoolId,
        clientId: pool?.clients[0]?.clientId,
        domain: expect.stringMatching(/^orderflow-\d+\.auth\.us-east-1\.amazoncognito\.com$/),
        region: 'us-east-1',
      },
    });
  });

  it('serves the runbooks deployed next to the console, and refuses what the bucket does not hold as S3 does', async () => {
    const runbook = await site('/docs/runbooks/dlq-has-messages.md');
    expect(runbook.status).toBe(200);
    expect(runbook.headers.get('content-type')).toBe('text/markdown');
    const post = await call('/', { method: 'POST' }, (runtime.info.console ?? '').replace(/\/$/, ''));
    expect(post.status).toBe(403);
  });
});

describe('a redrive through the front', () => {
  it('reads the DLQ and redrives it, the job running in an asynchronous invocation of the function itself', async () => {
    const standardFunction = PIPES.standard.functionId;
    const fault = (method: 'PUT' | 'DELETE', body?: unknown) =>
      fetch(`${runtime.info.endpoints.lambda}/_local/faults/${standardFunction}`, {
        method,
        ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
      });
    const dynamo = new DynamoDBClient({
      region: runtime.info.region,
      credentials: LOCAL_CREDENTIALS,
      endpoint: runtime.info.endpoints.dynamodb,
    });
    try {
      expect((await fault('PUT', { failureRate: 1, mode: 'throw' })).status).toBe(200);
      await dynamo.send(
        new PutItemCommand({
          TableName: runtime.info.resources.ordersTable,
          Item: {
            orderId: { S: 'front-redrive-1' },
            customerEmail: { S: 'front@example.com' },
            orderAmount: { N: '120' },
            orderStatus: { S: 'pending' },
            orderDate: { S: new Date().toISOString() },
          },
        }),
      );
      const viewer = bearer(runtime.info.tokens.viewer);
      const list = async () =>
        (
          JSON.parse(
            (await call('/api/dlqs/standard/messages?limit=100', { headers: viewer })).text,
          ) as ListMessagesResponse
        ).messages;
      const [message] = await until(
        async () => {
          const messages = await list();
          return messages.length > 0 && messages;
        },
        'the failed batch in the standard DLQ',
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      expect((await fault('DELETE')).status).toBeLessThan(300);

      const started = await call('/api/dlqs/standard/redrive', {
        method: 'POST',
        headers: { ...bearer(runtime.info.tokens.operator), 'content-type': 'application/json' },
        body: JSON.stringify({ messageIds: [message?.id], ratePerSecond: 10 }),
      });
      expect(started.status).toBe(202);
      const { jobId } = JSON.parse(started.text) as { jobId: string };
      const job = await until(
        async () => {
          const current = JSON.parse((await call(`/api/redrives/${jobId}`, { headers: viewer })).text) as RedriveJob;
          return current.status !== 'running' && current;
        },
        `redrive job ${jobId} to end`,
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      expect(job).toMatchObject({ status: 'succeeded', actor: LOCAL_USERS.operator });
      expect(job.results.map((result) => result.outcome)).toEqual(['redriven']);
      expect(events).toContainEqual({ orderflowRedriveJob: { jobId } });
      await until(async () => (await list()).length === 0, 'an empty standard DLQ', { timeoutMs: 10_000 });
    } finally {
      await fault('DELETE');
      dynamo.destroy();
    }
  }, 120_000);
});
