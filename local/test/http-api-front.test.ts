/**
 * The local HTTP API front on a small template of its own: an API with path, greedy and `ANY` routes and no
 * `$default`, a JWT authorizer against a user pool, a route with authorization scopes, an integration with a short
 * `TimeoutInMillis`, and a second API with a tiny stage throttle. Real parts: the front's HTTP server, the local Lambda
 * runtime running `fixtures/http-api/index.mjs` in a worker, and the token issuer's keys. The ops API as deployed (the
 * synthesized stack's template and bundle) is in `http-api.test.ts`.
 */
import { fileURLToPath } from 'node:url';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COGNITO_ENDPOINT_VARIABLE } from '../src/http-api/index.ts';
import { type CognitoEndpoint, startCognitoEndpoint, TokenIssuer } from '../src/http-api/issuer.ts';
import { type HttpApiServer, startHttpApiServer } from '../src/http-api/server.ts';
import {
  frontResources,
  HTTP_API_MAX_INTEGRATION_TIMEOUT_MS,
  type HttpApiSpec,
  httpApiSpecs,
  userPoolSpecs,
} from '../src/http-api/template.ts';
import { LambdaService } from '../src/lambda/lambda-service.ts';
import { freePort } from '../src/services/ports.ts';
import type { CloudFormationTemplate, LocalResourceValue } from '../src/template/intrinsics.ts';
import { type LoadedTemplate, TemplateError } from '../src/template/local-plan.ts';

const names = { region: 'us-east-1', account: '000000000000', stackName: 'FrontTest' };
const FUNCTION = 'front-echo';
const codeDir = fileURLToPath(new URL('./fixtures/http-api', import.meta.url));
const SLOW_TIMEOUT_MS = 400;
const CONSOLE_ORIGIN = 'https://console.example';

const integration = (extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::ApiGatewayV2::Integration',
  Properties: {
    ApiId: { Ref: 'Api' },
    IntegrationType: 'AWS_PROXY',
    IntegrationUri: { 'Fn::GetAtt': ['Echo', 'Arn'] },
    PayloadFormatVersion: '2.0',
    ...extra,
  },
});
const route = (routeKey: string, target = 'EchoIntegration', auth: Record<string, unknown> = {}, api = 'Api') => ({
  Type: 'AWS::ApiGatewayV2::Route',
  Properties: {
    ApiId: { Ref: api },
    RouteKey: routeKey,
    Target: { 'Fn::Join': ['', ['integrations/', { Ref: target }]] },
    ...auth,
  },
});
const jwt = (scopes?: string[]) => ({
  AuthorizationType: 'JWT',
  AuthorizerId: { Ref: 'Authorizer' },
  ...(scopes ? { AuthorizationScopes: scopes } : {}),
});

function frontTemplate(overrides: Record<string, unknown> = {}): CloudFormationTemplate {
  return {
    Resources: {
      Echo: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: FUNCTION } },
      Pool: { Type: 'AWS::Cognito::UserPool', Properties: {} },
      Operators: { Type: 'AWS::Cognito::UserPoolGroup', Properties: { UserPoolId: { Ref: 'Pool' }, GroupName: 'ops' } },
      Client: {
        Type: 'AWS::Cognito::UserPoolClient',
        Properties: {
          UserPoolId: { Ref: 'Pool' },
          AccessTokenValidity: 60,
          IdTokenValidity: 60,
          TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes' },
          AllowedOAuthScopes: ['openid', 'orders/read'],
        },
      },
      OtherClient: { Type: 'AWS::Cognito::UserPoolClient', Properties: { UserPoolId: { Ref: 'Pool' } } },
      Api: {
        Type: 'AWS::ApiGatewayV2::Api',
        Properties: {
          Name: 'front-test',
          ProtocolType: 'HTTP',
          CorsConfiguration: {
            AllowOrigins: [CONSOLE_ORIGIN, 'http://*'],
            AllowMethods: ['GET', 'POST'],
            AllowHeaders: ['authorization', 'content-type'],
            ExposeHeaders: ['x-echo'],
            MaxAge: 600,
          },
        },
      },
      Authorizer: {
        Type: 'AWS::ApiGatewayV2::Authorizer',
        Properties: {
          ApiId: { Ref: 'Api' },
          AuthorizerType: 'JWT',
          Name: 'PoolAuthorizer',
          IdentitySource: ['$request.header.Authorization'],
          JwtConfiguration: {
            Audience: [{ Ref: 'Client' }],
            Issuer: {
              'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/', { Ref: 'Pool' }]],
            },
          },
        },
      },
      EchoIntegration: integration(),
      SlowIntegration: integration({ TimeoutInMillis: SLOW_TIMEOUT_MS }),
      ItemRoute: route('GET /items/{id}', 'EchoIntegration', jwt()),
      SpecialItemRoute: route('GET /items/special'),
      AnyItemRoute: route('ANY /items/{id}'),
      FilesRoute: route('GET /files/{path+}'),
      ScopedRoute: route('GET /scoped', 'EchoIntegration', jwt(['orders/write'])),
      ReadScopeRoute: route('GET /read-scoped', 'EchoIntegration', jwt(['orders/read'])),
      OpenRoute: route('ANY /open'),
      SlowRoute: route('GET /slow', 'SlowIntegration'),
      PlainStringRoute: route('GET /plain-string'),
      PlainObjectRoute: route('GET /plain-object'),
      FailRoute: route('GET /fail'),
      MalformedRoute: route('GET /malformed'),
      BytesRoute: route('GET /bytes'),
      Stage: {
        Type: 'AWS::ApiGatewayV2::Stage',
        Properties: { ApiId: { Ref: 'Api' }, StageName: '$default', AutoDeploy: true },
      },
      ThrottledApi: { Type: 'AWS::ApiGatewayV2::Api', Properties: { Name: 'throttled', ProtocolType: 'HTTP' } },
      ThrottledIntegration: {
        ...integration(),
        Properties: { ...integration().Properties, ApiId: { Ref: 'ThrottledApi' } },
      },
      PingRoute: route('GET /plain-string', 'ThrottledIntegration', {}, 'ThrottledApi'),
      ThrottledStage: {
        Type: 'AWS::ApiGatewayV2::Stage',
        Properties: {
          ApiId: { Ref: 'ThrottledApi' },
          StageName: '$default',
          DefaultRouteSettings: { ThrottlingRateLimit: 1, ThrottlingBurstLimit: 2 },
        },
      },
      ...overrides,
    },
  } as CloudFormationTemplate;
}

const loadedOf = (template: CloudFormationTemplate): LoadedTemplate => ({
  file: 'FrontTest.template.json',
  dir: codeDir,
  template,
  assetDirs: new Map(),
});

function contextOf(loaded: LoadedTemplate, endpoints = new Map<string, string>()) {
  const resources = new Map<string, LocalResourceValue>([
    ['Echo', { ref: FUNCTION, attributes: { Arn: `arn:aws:lambda:us-east-1:000000000000:function:${FUNCTION}` } }],
    ...frontResources(loaded, names, { apis: endpoints, distributions: new Map() }),
  ]);
  return { ...names, resources };
}

const loaded = loadedOf(frontTemplate());
let lambda: LambdaService;
let issuer: TokenIssuer;
let api: HttpApiServer;
let throttled: HttpApiServer;
let cognito: CognitoEndpoint;
/** The throttled API's clock: frozen, so its bucket refills only when a test moves it. */
let throttleClock = Date.now();
const logs: string[] = [];
const refusals: string[] = [];

beforeAll(async () => {
  const ports = { Api: await freePort(), ThrottledApi: await freePort() };
  const endpoints = new Map(Object.entries(ports).map(([id, port]) => [id, `http://127.0.0.1:${port}`]));
  const context = contextOf(loaded, endpoints);
  issuer = new TokenIssuer(userPoolSpecs(loaded, context), names.region);
  cognito = await startCognitoEndpoint(issuer, await freePort());
  lambda = new LambdaService(
    [
      {
        name: FUNCTION,
        codeDir,
        handler: 'index.handler',
        timeoutSeconds: 5,
        memoryMb: 128,
        // As the runtime gives every function: where Cognito's JWKS is served locally.
        environment: { [COGNITO_ENDPOINT_VARIABLE]: cognito.endpoint },
      },
    ],
    {
      region: names.region,
      account: names.account,
      baseEnvironment: {},
      publish: () => undefined,
      log: (_name, line) => logs.push(line),
    },
  );
  const specs = new Map(httpApiSpecs(loaded, context).map((spec) => [spec.logicalId, spec]));
  const start = (spec: HttpApiSpec | undefined, port: number, now?: () => number) =>
    startHttpApiServer(
      {
        spec: spec as HttpApiSpec,
        region: names.region,
        account: names.account,
        keysOf: (issuerUrl) => issuer.keysOf(issuerUrl),
        invoke: (name, event) => lambda.invoke(name, event),
        onError: (message) => refusals.push(message),
        ...(now ? { now } : {}),
      },
      port,
    );
  api = await start(specs.get('Api'), ports.Api);
  throttled = await start(specs.get('ThrottledApi'), ports.ThrottledApi, () => throttleClock);
});

afterAll(async () => {
  await api?.stop();
  await throttled?.stop();
  await lambda?.stop();
  await cognito?.stop();
});

const accessToken = (client?: string) =>
  issuer.issue({ username: 'ana', groups: ['ops'], ...(client ? { client } : {}) });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${api.endpoint}${path}`, init);
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body, text: body.toString('utf8') };
}
/** The event the function received, as the echo route answers it. */
const eventOf = (answer: { text: string }) => JSON.parse(answer.text) as Record<string, unknown>;

describe('routes', () => {
  it('selects a full match before path variables, and a method before ANY', async () => {
    const special = eventOf(await call('/items/special'));
    expect(special).toMatchObject({ routeKey: 'GET /items/special' });
    expect(special.pathParameters).toBeUndefined();

    const byVariable = eventOf(await call('/items/42', { headers: bearer(accessToken().token) }));
    expect(byVariable).toMatchObject({ routeKey: 'GET /items/{id}', pathParameters: { id: '42' } });

    const anyMethod = eventOf(await call('/items/42', { method: 'DELETE' }));
    expect(anyMethod).toMatchObject({ routeKey: 'ANY /items/{id}', pathParameters: { id: '42' } });
  });

  it('gives a greedy variable the rest of the path, decoded, and does not match it empty', async () => {
    const event = eventOf(await call('/files/reports/2026/q%204.csv'));
    expect(event).toMatchObject({
      routeKey: 'GET /files/{path+}',
      rawPath: '/files/reports/2026/q%204.csv',
      pathParameters: { path: 'reports/2026/q 4.csv' },
    });
    expect(await call('/files/')).toMatchObject({ status: 404, text: '{"message":"Not Found"}' });
  });

  it('answers 404 {"message":"Not Found"} where no route matches and there is no $default route', async () => {
    for (const [path, method] of [
      ['/nowhere', 'GET'],
      ['/items', 'GET'],
      ['/items/1/more', 'GET'],
      ['/files/a', 'POST'],
    ] as const) {
      const answer = await call(path, { method });
      expect({ path, method, status: answer.status, text: answer.text }).toEqual({
        path,
        method,
        status: 404,
        text: '{"message":"Not Found"}',
      });
      expect(answer.headers.get('content-type')).toBe('application/json');
      expect(answer.headers.get('apigw-requestid')).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    }
  });
});

describe('the payload format 2.0 event', () => {
  it('has the documented fields: raw path and query, cookies, lower-case headers, query parameters, claims', async () => {
    const { token } = accessToken();
    const answer = await call('/items/7?b=2&a=1&a=3&empty=&sp=x%20y', {
      headers: {
        ...bearer(token),
        'X-Custom-Header': 'one',
        Cookie: 'session=abc; theme=dark',
        'User-Agent': 'front-test',
      },
    });
    expect(answer.status).toBe(200);
    const event = eventOf(answer);
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /items/{id}',
      rawPath: '/items/7',
      rawQueryString: 'b=2&a=1&a=3&empty=&sp=x%20y',
      cookies: ['session=abc', 'theme=dark'],
      queryStringParameters: { a: '1,3', b: '2', empty: '', sp: 'x y' },
      pathParameters: { id: '7' },
      isBase64Encoded: false,
    });
    expect(event.body).toBeUndefined();
    const headers = event.headers as Record<string, string>;
    for (const name of Object.keys(headers)) expect(name).toBe(name.toLowerCase());
    expect(headers).toMatchObject({
      'x-custom-header': 'one',
      'user-agent': 'front-test',
      authorization: `Bearer ${token}`,
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
    });
    expect(headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(headers.cookie).toBeUndefined();

    const context = event.requestContext as Record<string, unknown>;
    expect(context).toMatchObject({
      accountId: names.account,
      apiId: api.front.spec.apiId,
      stage: '$default',
      routeKey: 'GET /items/{id}',
      http: { method: 'GET', path: '/items/7', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'front-test' },
    });
    expect(context.requestId).toBe(answer.headers.get('apigw-requestid'));
    expect(context.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(typeof context.timeEpoch).toBe('number');
    // The claims as API Gateway passes them: every value a string, an array as "[a b]".
    const claims = (context.authorizer as { jwt: { claims: Record<string, string>; scopes: unknown } }).jwt;
    expect(claims.scopes).toBeNull();
    expect(claims.claims).toMatchObject({
      username: 'ana',
      'cognito:groups': '[ops]',
      token_use: 'access',
      client_id: issuer.userPools[0]?.clients.find((client) => client.logicalId === 'Client')?.clientId,
      scope: 'openid orders/read',
    });
    for (const value of Object.values(claims.claims)) expect(typeof value).toBe('string');
    expect(claims.claims.exp).toMatch(/^\d+$/);
  });

  it('passes JSON and text bodies as text, anything else base64 encoded', async () => {
    const json = eventOf(
      await call('/open', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":"é"}' }),
    );
    expect(json).toMatchObject({ body: '{"a":"é"}', isBase64Encoded: false });

    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    const binary = eventOf(
      await call('/open', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes }),
    );
    expect(binary).toMatchObject({ body: bytes.toString('base64'), isBase64Encoded: true });

    const form = eventOf(
      await call('/open', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1',
      }),
    );
    expect(form).toMatchObject({ body: Buffer.from('a=1').toString('base64'), isBase64Encoded: true });
  });

  it('joins repeated headers with commas', async () => {
    const headers = new Headers();
    headers.append('x-repeated', 'one');
    headers.append('x-repeated', 'two');
    const event = eventOf(await call('/open', { headers }));
    expect((event.headers as Record<string, string>)['x-repeated']).toBe('one, two');
  });
});

describe('the function answer, as API Gateway reads format 2.0', () => {
  it('makes each cookie a set-cookie header, drops the integration CORS headers and ignores multiValueHeaders', async () => {
    const answer = await call('/open');
    expect(answer.status).toBe(200);
    expect(answer.headers.getSetCookie()).toEqual(['session=abc; Path=/', 'theme=dark']);
    expect(answer.headers.get('x-echo')).toBe('yes');
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(answer.headers.get('x-multi')).toBeNull();
  });

  it('takes an answer without statusCode as a 200 application/json body, a string as it is', async () => {
    expect(await call('/plain-string')).toMatchObject({ status: 200, text: 'Hello from Lambda!' });
    const object = await call('/plain-object');
    expect(object).toMatchObject({ status: 200, text: '{"message":"Hello from Lambda!"}' });
    expect(object.headers.get('content-type')).toBe('application/json');
  });

  it('decodes a base64 body', async () => {
    const answer = await call('/bytes');
    expect([...answer.body]).toEqual([0, 1, 2, 254, 255]);
    expect(answer.headers.get('content-type')).toBe('application/octet-stream');
  });

  it('answers 500 {"message":"Internal Server Error"} for a function error or a malformed answer', async () => {
    for (const path of ['/fail', '/malformed']) {
      expect(await call(path)).toMatchObject({ status: 500, text: '{"message":"Internal Server Error"}' });
    }
    expect(refusals).toEqual(
      expect.arrayContaining([
        expect.stringContaining('TypeError: the function failed'),
        expect.stringContaining('malformed Lambda proxy response'),
      ]),
    );
  });
});

describe('the integration timeout', () => {
  it('answers 503 {"message":"Service Unavailable"} at the integration\'s TimeoutInMillis while the function runs on', async () => {
    const started = Date.now();
    const answer = await call('/slow?ms=1500');
    const waited = Date.now() - started;
    expect(answer).toMatchObject({ status: 503, text: '{"message":"Service Unavailable"}' });
    expect(waited).toBeGreaterThanOrEqual(SLOW_TIMEOUT_MS - 20);
    expect(waited).toBeLessThan(1500);
    // The invocation is not cut short: Lambda runs it to its end (its REPORT line), as in AWS.
    const reports = () => logs.filter((line) => line.startsWith('REPORT')).length;
    const before = reports();
    await until(() => reports() > before, 'the slow invocation to end', { timeoutMs: 5_000 });
    expect(refusals).toContainEqual(expect.stringContaining(`did not answer within ${SLOW_TIMEOUT_MS} ms`));
  });

  it('answers an integration within its timeout', async () => {
    expect(await call('/slow?ms=10')).toMatchObject({ status: 200, text: 'slow answer' });
  });

  it("defaults to AWS's 30 s and refuses TimeoutInMillis outside 50..30000 as CreateIntegration does", () => {
    const echo = api.front.spec.routes.find((r) => r.routeKey === 'ANY /open');
    expect(echo?.integration.timeoutMs).toBe(HTTP_API_MAX_INTEGRATION_TIMEOUT_MS);
    expect(HTTP_API_MAX_INTEGRATION_TIMEOUT_MS).toBe(30_000);
    for (const timeout of [30_001, 49]) {
      const broken = loadedOf(frontTemplate({ SlowIntegration: integration({ TimeoutInMillis: timeout }) }));
      expect(() => httpApiSpecs(broken, contextOf(broken))).toThrow(
        new TemplateError(`integration SlowIntegration: TimeoutInMillis must be 50..30000, got ${timeout}`),
      );
    }
  });
});

describe('the JWT authorizer', () => {
  const refused = async (headers: Record<string, string>, path = '/items/1') => {
    const answer = await call(path, { headers });
    expect(answer.status).toBe(401);
    expect(answer.text).toBe('{"message":"Unauthorized"}');
    return answer.headers.get('www-authenticate');
  };

  it('lets an access token of the audience through, with or without the Bearer prefix', async () => {
    const { token } = accessToken();
    expect((await call('/items/1', { headers: { authorization: token } })).status).toBe(200);
    expect((await call('/items/1', { headers: bearer(token) })).status).toBe(200);
  });

  it('refuses a missing, malformed, foreign, expired or misaddressed token with 401 and a challenge', async () => {
    expect(await refused({})).toBe('Bearer');
    expect(await refused(bearer('not-a-jwt'))).toBe(
      'Bearer scope="" error="invalid_token" error_description="token contains an invalid number of segments"',
    );
    const other = accessToken('OtherClient').token;
    expect(await refused(bearer(other))).toBe(
      'Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"',
    );
    const expired = issuer.issue({ username: 'ana', groups: [] }, Date.now() - 2 * 3600_000).token;
    expect(await refused(bearer(expired))).toMatch(/^Bearer scope="" error="invalid_token" error_description="[^"]+"$/);
    const [header, payload] = accessToken().token.split('.');
    const forged = `${header}.${payload}.${accessToken().token.split('.')[2]}`;
    expect(await refused(bearer(forged))).toContain('error="invalid_token"');
    const foreign = new TokenIssuer(
      issuer.userPools.map((pool) => ({ ...pool, userPoolId: 'us-east-1_Other', issuer: `${pool.issuer}x` })),
      names.region,
    );
    expect(await refused(bearer(foreign.issue({ username: 'ana', groups: [] }).token))).toContain(
      'error="invalid_token"',
    );
  });

  it('needs one of the route scopes in the token', async () => {
    const { token } = accessToken();
    expect(await refused(bearer(token), '/scoped')).toContain('error="invalid_token"');
    const event = eventOf(await call('/read-scoped', { headers: bearer(token) }));
    expect((event.requestContext as { authorizer: { jwt: { scopes: string[] } } }).authorizer.jwt.scopes).toEqual([
      'openid',
      'orders/read',
    ]);
  });

  it('lets an ID token of the app client through: its aud is the client, as API Gateway cannot tell token kinds apart', async () => {
    const id = issuer.issueIdToken({ username: 'ana', groups: ['ops'] }).token;
    const event = eventOf(await call('/items/1', { headers: bearer(id) }));
    const claims = (event.requestContext as { authorizer: { jwt: { claims: Record<string, string> } } }).authorizer.jwt
      .claims;
    expect(claims).toMatchObject({ token_use: 'id', 'cognito:username': 'ana' });
  });
});

describe('CORS', () => {
  it('answers a preflight itself, before routes and the authorizer', async () => {
    const answer = await call('/items/1', {
      method: 'OPTIONS',
      headers: { origin: CONSOLE_ORIGIN, 'access-control-request-method': 'GET' },
    });
    expect(answer.status).toBe(204);
    expect(Object.fromEntries([...answer.headers].filter(([name]) => name.startsWith('access-control-')))).toEqual({
      'access-control-allow-origin': CONSOLE_ORIGIN,
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'authorization,content-type',
      'access-control-max-age': '600',
    });
    // Even where no route exists.
    const nowhere = await call('/nowhere', {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:9', 'access-control-request-method': 'POST' },
    });
    expect(nowhere.status).toBe(204);
    expect(nowhere.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:9');
  });

  it('adds no CORS headers for an origin it does not allow', async () => {
    const answer = await call('/items/1', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(answer.status).toBe(204);
    expect([...answer.headers].filter(([name]) => name.startsWith('access-control-'))).toEqual([]);
    const get = await call('/open', { headers: { origin: 'https://evil.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds the configured headers to an allowed origin, on refusals too', async () => {
    const ok = await call('/open', { headers: { origin: CONSOLE_ORIGIN } });
    expect(ok.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
    expect(ok.headers.get('access-control-expose-headers')).toBe('x-echo');
    const unauthorized = await call('/items/1', { headers: { origin: CONSOLE_ORIGIN } });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
  });
});

describe('stage throttling', () => {
  it('answers 429 {"message":"Too Many Requests"} beyond the burst until the rate refills the bucket', async () => {
    const get = async () => {
      const response = await fetch(`${throttled.endpoint}/plain-string`);
      return { status: response.status, text: await response.text() };
    };
    expect(await get()).toMatchObject({ status: 200 });
    expect(await get()).toMatchObject({ status: 200 });
    expect(await get()).toEqual({ status: 429, text: '{"message":"Too Many Requests"}' });
    throttleClock += 1000; // ThrottlingRateLimit 1: one request a second.
    expect(await get()).toMatchObject({ status: 200 });
    expect(await get()).toMatchObject({ status: 429 });
  });
});

describe('the Lambda runtime’s Cognito redirection', () => {
  it('sends a function’s HTTPS requests for the user pool host to the local Cognito endpoint, and nothing else', async () => {
    const pool = issuer.userPools[0];
    const jwksUrl = `https://cognito-idp.us-east-1.amazonaws.com/${pool?.userPoolId}/.well-known/jwks.json`;
    const notCognito = `https://127.0.0.1:${new URL(cognito.endpoint).port}/${pool?.userPoolId}/.well-known/jwks.json`;
    const result = await lambda.invoke(FUNCTION, {
      fetch: [
        { how: 'https.get', url: jwksUrl },
        { how: 'named get', url: `${pool?.issuer}/.well-known/openid-configuration` },
        { how: 'https.request', url: jwksUrl },
        { how: 'https.get', url: notCognito },
      ],
    });
    expect(result.kind).toBe('success');
    const [byGet, byNamedGet, byRequest, other] = (result as { payload: Record<string, unknown>[] }).payload;
    const jwks = JSON.stringify(issuer.keysOf(pool?.issuer ?? ''));
    expect(byGet).toEqual({ status: 200, body: jwks });
    expect(byRequest).toEqual({ status: 200, body: jwks });
    expect(JSON.parse(String(byNamedGet?.body))).toMatchObject({
      issuer: pool?.issuer,
      jwks_uri: `${pool?.issuer}/.well-known/jwks.json`,
    });
    // Another host keeps HTTPS: the local endpoint speaks plain HTTP, so the TLS handshake fails.
    expect(other).toEqual({ error: expect.stringMatching(/^(EPROTO|ERR_SSL_.+|ECONNRESET)$/) });
  });
});

describe('an invocation in flight when the runtime stops', () => {
  it('ends as cut short by the stop, not as a timeout of the function', async () => {
    const lines: string[] = [];
    const service = new LambdaService(
      [{ name: FUNCTION, codeDir, handler: 'index.handler', timeoutSeconds: 900, memoryMb: 128, environment: {} }],
      {
        region: names.region,
        account: names.account,
        baseEnvironment: {},
        publish: () => undefined,
        log: (_name, line) => lines.push(line),
      },
    );
    const pending = service.invoke(FUNCTION, { rawPath: '/slow', queryStringParameters: { ms: '60000' } });
    await until(() => lines.some((line) => line.startsWith('START')), 'the invocation to start', { timeoutMs: 5_000 });
    await service.stop();
    expect(await pending).toMatchObject({
      kind: 'error',
      timedOut: false,
      error: { errorType: 'LocalRuntimeStopped', errorMessage: expect.stringContaining('the local runtime stopped') },
    });
  });
});
