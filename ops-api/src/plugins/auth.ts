import { createHash, timingSafeEqual } from 'node:crypto';
import { OPS_API_GROUPS } from '@orderflow/pipeline/facts';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { CognitoJwtVerifierSingleUserPool } from 'aws-jwt-verify/cognito-verifier';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AuthConfig } from '../config.ts';
import { OpsApiError } from '../errors.ts';
import type { Role } from '../schemas/index.ts';
import type { Actor } from '../services/redrive.ts';

/**
 * What a route demands: `none` (health), `viewer` (read) or `operator` (redrive, discard). Default: `viewer` under
 * `/api/`, `none` elsewhere (the OpenAPI document and UI, the console's static files and its `/config.json`).
 */
export type Access = 'none' | Role;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    actor: Actor | null;
  }
}

export type Authenticate = (token: string) => Promise<Actor>;

function localAuthenticator(auth: Extract<AuthConfig, { mode: 'local' }>): Authenticate {
  // Compare digests in constant time so the tokens cannot be guessed byte by byte from response times.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  const operator = digest(auth.operatorToken);
  const viewer = digest(auth.viewerToken);
  return async (token) => {
    const presented = digest(token);
    if (timingSafeEqual(presented, operator)) return { name: 'local-operator', role: 'operator' };
    if (timingSafeEqual(presented, viewer)) return { name: 'local-viewer', role: 'viewer' };
    throw new OpsApiError(401, 'the bearer token is not valid for this runtime (see `npm start` output)');
  };
}

/**
 * Cognito: access tokens of the pool's app client only (`token_use: access`, `client_id`), the token API Gateway's JWT
 * authorizer and the console send. An ID token is refused: it is meant for the client that signed in, carries the
 * user's profile, and its `aud` check is the only thing tying it to this app. The claims read are the access token's:
 * `cognito:groups` for the role and `username` for the actor (an access token has no `cognito:username` or email).
 */
export function cognitoAuthenticator(
  auth: Extract<AuthConfig, { mode: 'cognito' }>,
  options: { jwks?: Parameters<CognitoJwtVerifierSingleUserPool<{ userPoolId: string }>['cacheJwks']>[0] } = {},
): Authenticate {
  const verifier = CognitoJwtVerifier.create({
    userPoolId: auth.userPoolId,
    clientId: auth.clientId,
    tokenUse: 'access',
  });
  if (options.jwks) verifier.cacheJwks(options.jwks);
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      payload = (await verifier.verify(token)) as Record<string, unknown>;
    } catch (error: unknown) {
      throw new OpsApiError(401, `the bearer token was rejected: ${(error as Error).message}`, { cause: error });
    }
    const groups = Array.isArray(payload['cognito:groups']) ? payload['cognito:groups'] : [];
    if (typeof payload.username !== 'string' || payload.username.length === 0) {
      throw new OpsApiError(401, 'the bearer token was rejected: the access token has no username claim');
    }
    const name = payload.username;
    if (groups.includes(OPS_API_GROUPS.operator)) return { name, role: 'operator' };
    if (groups.includes(OPS_API_GROUPS.viewer)) return { name, role: 'viewer' };
    throw new OpsApiError(
      403,
      `user '${name}' is in neither the '${OPS_API_GROUPS.operator}' nor the '${OPS_API_GROUPS.viewer}' Cognito group`,
    );
  };
}

export interface AuthOptions {
  readonly auth: AuthConfig;
  /** Requests per minute per authenticated principal (the Cognito username, or the local operator/viewer). */
  readonly perPrincipalPerMinute: number;
  /**
   * Requests per minute per source address that fail authentication (no token, a wrong one) or hit no route: far
   * fewer, so that guessing tokens is slow, and kept apart from the principals' budgets.
   */
  readonly unauthenticatedPerMinute: number;
}

/**
 * Bearer-token authentication on every route but those with `config.access: 'none'`: 401 without a valid token,
 * 403 when a viewer calls an operator route; and the rate limit, which needs to know who is asking (see
 * `security.ts` for the counters' store).
 *
 * The limit is keyed on what the caller cannot choose: an authenticated request counts against its verified principal
 * (`user:<name>`), so a client rotating `X-Forwarded-For` gains nothing; a request that fails authentication or names
 * no route counts against its source address (`anon:<ip>`, the socket's peer, which behind API Gateway is the event's
 * `requestContext.http.sourceIp`; see `buildApp`'s `trustProxy`) with a much smaller budget; the few routes open to
 * all (OpenAPI, console files, `/config.json`; not health) count per source address (`ip:<ip>`). Over the limit the
 * answer is 429 with `retry-after`; a failed authentication over its limit is a 429 too, not a 401, so a token guesser
 * learns nothing from it.
 */
export default fp(
  async (app: FastifyInstance, options: AuthOptions) => {
    const authenticate =
      options.auth.mode === 'local' ? localAuthenticator(options.auth) : cognitoAuthenticator(options.auth);
    const minute = 60_000;
    const limiter = (max: number, prefix: string, keyOf: (request: FastifyRequest) => string) =>
      app.createRateLimit({ max, timeWindow: minute, keyGenerator: (request) => `${prefix}:${keyOf(request)}` });
    const principal = limiter(options.perPrincipalPerMinute, 'user', (request) => request.actor?.name ?? '');
    const unauthenticated = limiter(options.unauthenticatedPerMinute, 'anon', (request) => request.ip);
    const open = limiter(options.perPrincipalPerMinute, 'ip', (request) => request.ip);

    /** Counts the request; sets the rate-limit headers; throws a 429 once over the limit. */
    async function count(
      limit: ReturnType<FastifyInstance['createRateLimit']>,
      request: FastifyRequest,
      reply: FastifyReply,
      who: () => string,
    ): Promise<void> {
      const result = await limit(request);
      if (result.isAllowed) return;
      reply.header('x-ratelimit-limit', result.max);
      reply.header('x-ratelimit-remaining', result.remaining);
      reply.header('x-ratelimit-reset', result.ttlInSeconds);
      if (!result.isExceeded) return;
      reply.header('retry-after', result.ttlInSeconds);
      throw new OpsApiError(
        429,
        `rate limit exceeded: more than ${result.max} requests a minute ${who()}; retry in ${result.ttlInSeconds} s`,
      );
    }

    app.decorateRequest('actor', null);
    app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const url = request.routeOptions.url;
      if (!url) {
        await count(unauthenticated, request, reply, () => `without a route from ${request.ip}`);
        return;
      }
      const access = request.routeOptions.config?.access ?? (url.startsWith('/api/') ? 'viewer' : 'none');
      if (access === 'none') {
        if (url !== '/api/health') await count(open, request, reply, () => `from ${request.ip}`);
        return;
      }
      let actor: Actor;
      try {
        const header = request.headers.authorization;
        const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
        if (!match?.[1]) throw new OpsApiError(401, 'missing "Authorization: Bearer <token>" header');
        actor = await authenticate(match[1]);
      } catch (error: unknown) {
        if (error instanceof OpsApiError && error.statusCode === 401) {
          await count(unauthenticated, request, reply, () => `without a valid token from ${request.ip}`);
        }
        throw error;
      }
      request.actor = actor;
      await count(principal, request, reply, () => `for ${actor.name}`);
      if (access === 'operator' && actor.role !== 'operator') {
        throw new OpsApiError(403, `${actor.name} is a viewer; only operators may do this`);
      }
    });
  },
  { name: 'ops-auth', dependencies: ['ops-security'] },
);
