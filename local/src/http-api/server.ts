import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { InvokeResult } from '../lambda/lambda-service.ts';
import { refuseBrowser } from '../services/browser-guard.ts';
import { closeServer, listen } from '../services/http.ts';
import { claimsForIntegration, type Jwks, JwtRejection, verifyJwt } from './jwt.ts';
import type { CorsSpec, HttpApiSpec, HttpRouteSpec } from './template.ts';

/**
 * One HTTP API of the template, served as API Gateway serves it on its `$default` stage
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api.html):
 *
 * - CORS (`CorsConfiguration`): preflight `OPTIONS` answered by the API itself before any route or authorizer; the
 *   configured headers added to responses for an allowed `Origin`, the integration's own CORS headers dropped.
 * - The stage's default route throttling (token bucket, rate and burst): `429 {"message":"Too Many Requests"}`.
 * - Routes by priority: a full match, then path variables, then a greedy variable, each method before `ANY`, then
 *   `$default`; none: `404 {"message":"Not Found"}`.
 * - JWT authorizers: the token from the identity source (`Bearer ` prefix allowed), checked as `jwt.ts` describes
 *   against the issuer's JWKS; a refusal is `401 {"message":"Unauthorized"}` with AWS's `www-authenticate` header.
 * - Lambda proxy integrations, payload format 2.0 both ways; the function is invoked as `apigateway.amazonaws.com`
 *   with the route's execute-api ARN as `aws:SourceArn`, so its resource policy (AWS::Lambda::Permission) decides.
 *   The integration timeout (30 s at most, docs/AWS-FACTS.md, fact 14) answers `503 {"message":"Service
 *   Unavailable"}` while the invocation runs on to the function's own timeout, as in AWS; a function error, a
 *   refused invocation or a malformed answer is `500 {"message":"Internal Server Error"}`.
 *
 * Every answer carries `apigw-requestid`, the request's `requestContext.requestId`.
 */

export interface HttpApiFrontOptions {
  readonly spec: HttpApiSpec;
  readonly region: string;
  readonly account: string;
  /** The JWKS of an issuer, as API Gateway fetches it from the issuer's OpenID configuration; undefined if unknown. */
  readonly keysOf: (issuer: string) => Jwks | undefined | Promise<Jwks | undefined>;
  /** Invokes a function as API Gateway does (RequestResponse). */
  readonly invoke: (functionName: string, event: unknown) => Promise<InvokeResult>;
  /** Lambda's check of the function's resource policy for `apigateway.amazonaws.com`; absent: allowed. */
  readonly authorize?: (functionName: string, sourceArn: string) => { allowed: boolean; message: string };
  /** Where a refusal or failure is explained (API Gateway writes it to the access log's `$context.*Error`). */
  readonly onError?: (message: string) => void;
  /** The clock, for tests of token expiry. */
  readonly now?: () => number;
}

/**
 * Request bodies an HTTP API passes as text; every other body, one without a `content-type` included, arrives base64
 * encoded with `isBase64Encoded: true`. AWS says only "if the content type of the request is binary, the body is
 * base64-encoded" without a list; this split is the one observed against a deployed HTTP API (payload 2.0), as reported
 * in https://github.com/ministackorg/ministack/pull/766 (form-urlencoded bodies arrive base64 encoded too).
 */
const TEXT_TYPES = /^\s*(text\/[^;\s]+|application\/(json|xml|javascript))\s*(;|$)/i;

function apiError(status: number, message: string) {
  return { status, body: JSON.stringify({ message }) };
}

export const NOT_FOUND = apiError(404, 'Not Found');
export const UNAUTHORIZED = apiError(401, 'Unauthorized');
export const TOO_MANY_REQUESTS = apiError(429, 'Too Many Requests');
export const SERVICE_UNAVAILABLE = apiError(503, 'Service Unavailable');
export const INTERNAL_SERVER_ERROR = apiError(500, 'Internal Server Error');

interface RouteMatch {
  readonly route: HttpRouteSpec;
  readonly pathParameters?: Record<string, string>;
}

/** The route API Gateway selects for a request, with its path variables. */
export function selectRoute(routes: readonly HttpRouteSpec[], method: string, path: string): RouteMatch | undefined {
  const segments = path.split('/').slice(1);
  let best: { match: RouteMatch; rank: number } | undefined;
  for (const route of routes) {
    if (route.routeKey === '$default') continue;
    const [routeMethod = '', routePath = ''] = route.routeKey.split(' ');
    if (routeMethod !== method && routeMethod !== 'ANY') continue;
    const pattern = routePath.split('/').slice(1);
    const parameters: Record<string, string> = {};
    let kind = 0; // 0: full match, 1: path variables, 2: greedy variable
    let matched = true;
    for (let i = 0; i < pattern.length; i++) {
      const part = pattern[i] ?? '';
      const variable = /^\{([^}+]+)(\+?)\}$/.exec(part);
      if (variable?.[2] === '+') {
        const rest = segments.slice(i);
        if (rest.length === 0 || rest.join('/') === '') matched = false;
        else parameters[variable[1] ?? ''] = decodeURIComponent(rest.join('/'));
        kind = 2;
        break;
      }
      const segment = segments[i];
      if (segment === undefined || (i === pattern.length - 1 && segments.length !== pattern.length)) {
        matched = false;
        break;
      }
      if (variable) {
        if (segment === '') {
          matched = false;
          break;
        }
        parameters[variable[1] ?? ''] = decodeURIComponent(segment);
        kind = Math.max(kind, 1);
      } else if (part !== segment) {
        matched = false;
        break;
      }
    }
    if (pattern.length === 0 && segments.length !== 0) matched = false;
    if (!matched) continue;
    const rank = kind * 2 + (routeMethod === 'ANY' ? 1 : 0);
    if (!best || rank < best.rank)
      best = {
        match: { route, ...(Object.keys(parameters).length > 0 ? { pathParameters: parameters } : {}) },
        rank,
      };
  }
  if (best) return best.match;
  const fallback = routes.find((route) => route.routeKey === '$default');
  return fallback ? { route: fallback } : undefined;
}

/** API Gateway's `$context.requestTime` format: `07/Dec/2026:06:52:47 +0000`. */
function requestTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** An X-Ray trace header as API Gateway adds it: `Root=1-<epoch seconds, hex>-<96 random bits, hex>`. */
function traceId(received: Date): string {
  return `Root=1-${Math.floor(received.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}

/** A request id in API Gateway's shape (16 base64 characters ending in `=`). */
function requestId(): string {
  return `${randomBytes(11).toString('base64').slice(0, 15)}=`;
}

/** The payload format 2.0 event API Gateway sends a Lambda proxy integration. */
export function payloadV2(input: {
  readonly request: IncomingMessage;
  readonly body: Buffer;
  readonly match: RouteMatch;
  readonly apiId: string;
  readonly account: string;
  readonly requestId: string;
  readonly received: Date;
  readonly jwt?: { claims: Record<string, string>; scopes: string[] | null };
}): Record<string, unknown> {
  const { request, body, match } = input;
  const url = request.url ?? '/';
  const question = url.indexOf('?');
  const rawPath = question < 0 ? url : url.slice(0, question);
  const rawQueryString = question < 0 ? '' : url.slice(question + 1);
  // Format 2.0 has no multi-value fields: duplicates are joined with commas. Cookies go to `cookies`.
  const headers: Record<string, string> = {};
  let cookies: string[] = [];
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (!values) continue;
    if (name === 'cookie') {
      cookies = values.flatMap((value) => value.split(';').map((cookie) => cookie.trim())).filter(Boolean);
      continue;
    }
    headers[name] = values.join(',');
  }
  const query: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    const values = query[name] ?? [];
    values.push(value);
    query[name] = values;
  }
  // The headers API Gateway adds to what it forwards (seen in events of deployed HTTP APIs): the client's address
  // appended to any X-Forwarded-For, the port and scheme it was reached on, and a trace id.
  const sourceIp = request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-port'] = String(request.socket.localPort ?? '');
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] ??= traceId(input.received);
  const host = headers.host ?? `${input.apiId}.execute-api.amazonaws.com`;
  const contentType = headers['content-type'] ?? '';
  const text = body.length === 0 || TEXT_TYPES.test(contentType);
  return {
    version: '2.0',
    routeKey: match.route.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0
      ? { queryStringParameters: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v.join(',')])) }
      : {}),
    requestContext: {
      accountId: input.account,
      apiId: input.apiId,
      ...(input.jwt ? { authorizer: { jwt: input.jwt } } : {}),
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: request.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: input.requestId,
      routeKey: match.route.routeKey,
      stage: '$default',
      time: requestTime(input.received),
      timeEpoch: input.received.getTime(),
    },
    ...(match.pathParameters ? { pathParameters: match.pathParameters } : {}),
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !text,
  };
}

interface FrontAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer | string;
  /** The function's answer, rather than one of the API's own. */
  readonly fromIntegration?: boolean;
}

/**
 * How API Gateway reads a format 2.0 answer; undefined when it is malformed (then a 500). Without a `statusCode` the
 * answer is the body of a 200 `application/json` response: a string as it is, anything else as JSON. With one, only
 * the documented fields count (`cookies`, `isBase64Encoded`, `statusCode`, `headers`, `body`): format 2.0 has no
 * `multiValueHeaders`, and each cookie becomes a `set-cookie` header (API Gateway developer guide, "Create AWS Lambda
 * proxy integrations for HTTP APIs", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
 */
export function answerFromPayload(payload: unknown): FrontAnswer | undefined {
  if (typeof payload !== 'object' || payload === null || !('statusCode' in payload)) {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload ?? null);
    return { status: 200, headers: { 'content-type': 'application/json' }, body };
  }
  const answer = payload as {
    statusCode: unknown;
    headers?: Record<string, unknown>;
    cookies?: unknown[];
    body?: unknown;
    isBase64Encoded?: unknown;
  };
  const status = Number(answer.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) return undefined;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(answer.headers ?? {}))
    if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
  if (Array.isArray(answer.cookies) && answer.cookies.length > 0) headers['set-cookie'] = answer.cookies.map(String);
  const body = answer.body === undefined || answer.body === null ? '' : String(answer.body);
  return {
    status,
    headers,
    body: answer.isBase64Encoded === true ? Buffer.from(body, 'base64') : body,
  };
}

/** Stage throttling: a token bucket of `burstLimit` tokens refilled at `rateLimit` per second. */
class TokenBucket {
  private tokens: number;
  private updated: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.updated = now();
  }

  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updated) / 1000) * this.rate);
    this.updated = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * The `access-control-allow-origin` for a request's `Origin`: `*` allows every origin, `https://*` or `http://*` every
 * origin of that scheme, anything else that exact origin (API Gateway developer guide, "Configure CORS for HTTP APIs in
 * API Gateway", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html).
 */
function corsOrigin(cors: CorsSpec | undefined, origin: string | undefined): string | undefined {
  if (!cors || !origin) return undefined;
  if (cors.allowOrigins.includes('*')) return cors.allowCredentials ? origin : '*';
  const allowed = cors.allowOrigins.some((allowed) =>
    allowed.endsWith('://*') ? origin.startsWith(allowed.slice(0, -1)) : allowed === origin,
  );
  return allowed ? origin : undefined;
}

export class HttpApiFront {
  private readonly bucket: TokenBucket | undefined;
  private readonly now: () => number;

  constructor(private readonly options: HttpApiFrontOptions) {
    this.now = options.now ?? Date.now;
    const throttle = options.spec.stage.throttle;
    this.bucket = throttle ? new TokenBucket(throttle.rateLimit, throttle.burstLimit, this.now) : undefined;
  }

  get spec(): HttpApiSpec {
    return this.options.spec;
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const id = requestId();
    const received = new Date(this.now());
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const answer = await this.answer(request, Buffer.concat(chunks), id, received);
    const { cors } = this.options.spec;
    const headers: Record<string, string | string[]> = {};
    // With a CORS configuration, the integration's own CORS headers are dropped (API Gateway answers CORS itself); the
    // API's own answers (a preflight's) keep theirs.
    for (const [name, value] of Object.entries(answer.headers))
      if (!(cors && answer.fromIntegration && name.startsWith('access-control-'))) headers[name] = value;
    const origin = corsOrigin(cors, request.headers.origin);
    if (cors && origin && !(request.method === 'OPTIONS' && request.headers['access-control-request-method'])) {
      headers['access-control-allow-origin'] = origin;
      if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
      if (cors.exposeHeaders.length > 0) headers['access-control-expose-headers'] = cors.exposeHeaders.join(',');
    }
    headers['apigw-requestid'] = id;
    const body = typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body;
    response.writeHead(answer.status, { ...headers, 'content-length': String(body.length) });
    response.end(request.method === 'HEAD' ? undefined : body);
  }

  private async answer(request: IncomingMessage, body: Buffer, id: string, received: Date): Promise<FrontAnswer> {
    const json = { 'content-type': 'application/json' };
    const { spec } = this.options;
    const method = request.method ?? 'GET';
    const origin = request.headers.origin;
    const preflightMethod = request.headers['access-control-request-method'];
    if (spec.cors && method === 'OPTIONS' && origin && preflightMethod) {
      const allowed = corsOrigin(spec.cors, origin);
      const headers: Record<string, string> = {};
      if (allowed) {
        headers['access-control-allow-origin'] = allowed;
        if (spec.cors.allowMethods.length > 0)
          headers['access-control-allow-methods'] = spec.cors.allowMethods.join(',');
        if (spec.cors.allowHeaders.length > 0)
          headers['access-control-allow-headers'] = spec.cors.allowHeaders.join(',');
        if (spec.cors.maxAge !== undefined) headers['access-control-max-age'] = String(spec.cors.maxAge);
        if (spec.cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
      }
      return { status: 204, headers, body: '' };
    }
    if (this.bucket && !this.bucket.take()) return { ...TOO_MANY_REQUESTS, headers: json };
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const match = selectRoute(spec.routes, method, path);
    if (!match) return { ...NOT_FOUND, headers: json };
    const { route } = match;

    let jwt: { claims: Record<string, string>; scopes: string[] | null } | undefined;
    if (route.authorization.type === 'JWT') {
      const { authorizer, scopes } = route.authorization;
      const presented = request.headers[authorizer.header];
      const token = (Array.isArray(presented) ? presented[0] : presented)?.replace(/^Bearer\s+/i, '').trim();
      // No token: a bare challenge, no error (as observed from a deployed HTTP API, and as RFC 6750 section 3.1 asks of a
      // request without credentials).
      if (!token) return { ...UNAUTHORIZED, headers: { ...json, 'www-authenticate': 'Bearer' } };
      try {
        const keys = await this.options.keysOf(authorizer.issuer);
        if (!keys) throw new JwtRejection(`the issuer ${authorizer.issuer} cannot be reached`);
        const claims = verifyJwt(token, keys, {
          issuer: authorizer.issuer,
          audience: authorizer.audience,
          scopes,
          now: this.now(),
        });
        const granted = String(claims.scope ?? claims.scp ?? '')
          .split(' ')
          .filter(Boolean);
        jwt = { claims: claimsForIntegration(claims), scopes: scopes.length > 0 ? granted : null };
      } catch (error: unknown) {
        if (!(error instanceof JwtRejection)) throw error;
        return {
          ...UNAUTHORIZED,
          headers: {
            ...json,
            'www-authenticate': `Bearer scope="" error="invalid_token" error_description="${error.message}"`,
          },
        };
      }
    }

    const { integration } = route;
    const sourceArn = `arn:aws:execute-api:${this.options.region}:${this.options.account}:${spec.apiId}/$default/${method}${path}`;
    const permitted = this.options.authorize?.(integration.functionName, sourceArn);
    if (permitted && !permitted.allowed) {
      this.options.onError?.(`${spec.name}: ${integration.functionName} refused the invocation: ${permitted.message}`);
      return { ...INTERNAL_SERVER_ERROR, headers: json };
    }
    const event = payloadV2({
      request,
      body,
      match,
      apiId: spec.apiId,
      account: this.options.account,
      requestId: id,
      received,
      ...(jwt ? { jwt } : {}),
    });
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      this.options.invoke(integration.functionName, event),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), integration.timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (result === 'timeout') {
      this.options.onError?.(
        `${spec.name}: ${integration.functionName} did not answer within ${integration.timeoutMs} ms (integration timeout)`,
      );
      return { ...SERVICE_UNAVAILABLE, headers: json };
    }
    if (result.kind !== 'success') {
      this.options.onError?.(
        `${spec.name}: ${integration.functionName} failed: ${result.kind === 'throttled' ? result.message : `${result.error.errorType}: ${result.error.errorMessage}`}`,
      );
      return { ...INTERNAL_SERVER_ERROR, headers: json };
    }
    const answer = answerFromPayload(result.payload);
    if (!answer) {
      this.options.onError?.(`${spec.name}: ${integration.functionName} answered a malformed Lambda proxy response`);
      return { ...INTERNAL_SERVER_ERROR, headers: json };
    }
    return { ...answer, fromIntegration: true };
  }
}

export interface HttpApiServer {
  readonly endpoint: string;
  readonly front: HttpApiFront;
  readonly server: Server;
  stop(): Promise<void>;
}

export async function startHttpApiServer(options: HttpApiFrontOptions, port: number): Promise<HttpApiServer> {
  const front = new HttpApiFront(options);
  const server = createServer((request, response) => {
    if (refuseBrowser(request, response, { hostOnly: true })) return;
    front.handle(request, response).catch((error: unknown) => {
      options.onError?.(`${options.spec.name}: ${(error as Error).message}`);
      if (!response.headersSent)
        response.writeHead(INTERNAL_SERVER_ERROR.status, { 'content-type': 'application/json' });
      response.end(INTERNAL_SERVER_ERROR.body);
    });
  });
  // An HTTP API keeps no connection open longer than the integration may take.
  server.requestTimeout = 0;
  await listen(server, port, `HTTP API ${options.spec.name}`);
  return { endpoint: `http://127.0.0.1:${port}`, front, server, stop: () => closeServer(server) };
}
