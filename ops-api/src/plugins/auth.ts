import { createHash, timingSafeEqual } from 'node:crypto';
import { OPS_API_GROUPS } from '@orderflow/pipeline';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
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

type Authenticate = (token: string) => Promise<Actor>;

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

function cognitoAuthenticator(auth: Extract<AuthConfig, { mode: 'cognito' }>): Authenticate {
  // Access or ID tokens of the pool's app client; both carry `cognito:groups`.
  const verifier = CognitoJwtVerifier.create({ userPoolId: auth.userPoolId, clientId: auth.clientId, tokenUse: null });
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      payload = (await verifier.verify(token)) as Record<string, unknown>;
    } catch (error: unknown) {
      throw new OpsApiError(401, `the bearer token was rejected: ${(error as Error).message}`, { cause: error });
    }
    const groups = Array.isArray(payload['cognito:groups']) ? payload['cognito:groups'] : [];
    const name = String(payload.username ?? payload['cognito:username'] ?? payload.email ?? payload.sub);
    if (groups.includes(OPS_API_GROUPS.operator)) return { name, role: 'operator' };
    if (groups.includes(OPS_API_GROUPS.viewer)) return { name, role: 'viewer' };
    throw new OpsApiError(
      403,
      `user '${name}' is in neither the '${OPS_API_GROUPS.operator}' nor the '${OPS_API_GROUPS.viewer}' Cognito group`,
    );
  };
}

/**
 * Bearer-token authentication on every route but those with `config.access: 'none'`: 401 without a valid token,
 * 403 when a viewer calls an operator route.
 */
export default fp(
  async (app: FastifyInstance, options: { auth: AuthConfig }) => {
    const authenticate =
      options.auth.mode === 'local' ? localAuthenticator(options.auth) : cognitoAuthenticator(options.auth);
    app.decorateRequest('actor', null);
    app.addHook('onRequest', async (request: FastifyRequest) => {
      const url = request.routeOptions.url;
      if (!url) return;
      const access = request.routeOptions.config?.access ?? (url.startsWith('/api/') ? 'viewer' : 'none');
      if (access === 'none') return;
      const header = request.headers.authorization;
      const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
      if (!match?.[1]) throw new OpsApiError(401, 'missing "Authorization: Bearer <token>" header');
      request.actor = await authenticate(match[1]);
      if (access === 'operator' && request.actor.role !== 'operator') {
        throw new OpsApiError(403, `${request.actor.name} is a viewer; only operators may do this`);
      }
    });
  },
  { name: 'ops-auth' },
);
