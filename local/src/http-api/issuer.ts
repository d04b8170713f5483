import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { refuseBrowser } from '../services/browser-guard.ts';
import { closeServer, listen } from '../services/http.ts';
import { type Jwk, type Jwks, signJwt } from './jwt.ts';
import type { UserPoolClientSpec, UserPoolSpec } from './template.ts';

/**
 * The local stand-in for the Cognito user pools of the template, as far as tokens go: each pool has an RSA key (new
 * per start), publishes its JWKS and OpenID configuration under its issuer path, and signs access tokens with the
 * claims Cognito puts in one (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html):
 * `sub`, `cognito:groups`, `iss`, `version`, `client_id`, `origin_jti`, `event_id`, `token_use: access`, `scope`,
 * `auth_time`, `exp`, `iat`, `jti`, `username`, valid as long as the app client's AccessTokenValidity says.
 *
 * The endpoint mirrors `https://cognito-idp.{region}.amazonaws.com`: `GET /{userPoolId}/.well-known/jwks.json` and
 * `/.well-known/openid-configuration`. Functions reach it through `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER` (the
 * local Lambda runtime sends their HTTPS requests for that host there), the HTTP API front through `keysOf`. Users
 * are not stored: a token names whatever user and groups it is issued for (`issue`, or `POST /_local/tokens`).
 */

export interface IssuedToken {
  readonly token: string;
  readonly expiresAt: number;
}

export interface TokenRequest {
  readonly username: string;
  readonly groups: readonly string[];
  /** The user pool's logical id; default the only pool. */
  readonly userPool?: string;
  /** The app client's logical id or client id; default the pool's first client. */
  readonly client?: string;
}

export class TokenIssuerError extends Error {
  override readonly name = 'TokenIssuerError';
}

interface PoolKeys {
  readonly spec: UserPoolSpec;
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwks: Jwks;
}

export class TokenIssuer {
  private readonly pools = new Map<string, PoolKeys>();

  constructor(
    specs: readonly UserPoolSpec[],
    private readonly region: string,
  ) {
    for (const spec of specs) {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const kid = randomBytes(32).toString('base64');
      const jwk: Jwk = { ...(publicKey.export({ format: 'jwk' }) as object), kid, alg: 'RS256', use: 'sig' };
      this.pools.set(spec.logicalId, { spec, kid, privateKey, jwks: { keys: [jwk] } });
    }
  }

  get userPools(): UserPoolSpec[] {
    return [...this.pools.values()].map((pool) => pool.spec);
  }

  /** The JWKS of the pool whose issuer is `issuer`, or undefined for an issuer that is not a local pool. */
  keysOf(issuer: string): Jwks | undefined {
    return [...this.pools.values()].find((pool) => pool.spec.issuer === issuer)?.jwks;
  }

  private pool(logicalId: string | undefined): PoolKeys {
    if (logicalId === undefined) {
      const [only, ...others] = this.pools.values();
      if (!only || others.length > 0)
        throw new TokenIssuerError(`name the user pool: the template has ${this.pools.size} user pools`);
      return only;
    }
    const pool = this.pools.get(logicalId) ?? [...this.pools.values()].find((p) => p.spec.userPoolId === logicalId);
    if (!pool) throw new TokenIssuerError(`no user pool ${logicalId} in the template`);
    return pool;
  }

  private client(pool: PoolKeys, client: string | undefined): UserPoolClientSpec {
    const found =
      client === undefined
        ? pool.spec.clients[0]
        : pool.spec.clients.find((c) => c.logicalId === client || c.clientId === client);
    if (!found) throw new TokenIssuerError(`user pool ${pool.spec.logicalId} has no app client ${client ?? ''}`.trim());
    return found;
  }

  /** The pool and app client of a request, refused when the user name, pool, client or a group is not the template's. */
  private check(request: TokenRequest): { pool: PoolKeys; client: UserPoolClientSpec } {
    if (!/^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u.test(request.username))
      throw new TokenIssuerError(`username must be 1 to 128 characters without spaces, got ${request.username}`);
    const pool = this.pool(request.userPool);
    const client = this.client(pool, request.client);
    const unknown = request.groups.filter((group) => !pool.spec.groups.includes(group));
    if (unknown.length > 0)
      throw new TokenIssuerError(`user pool ${pool.spec.logicalId} has no group ${unknown.join(', ')}`);
    return { pool, client };
  }

  /** An access token as Cognito issues it after a sign-in through the app client. */
  issue(request: TokenRequest, now = Date.now()): IssuedToken {
    const { pool, client } = this.check(request);
    const iat = Math.floor(now / 1000);
    const exp = iat + client.accessTokenValiditySeconds;
    const payload: Record<string, unknown> = {
      sub: randomUUID(),
      ...(request.groups.length > 0 ? { 'cognito:groups': [...request.groups] } : {}),
      iss: pool.spec.issuer,
      version: 2,
      client_id: client.clientId,
      origin_jti: randomUUID(),
      event_id: randomUUID(),
      token_use: 'access',
      scope: client.scopes.join(' '),
      auth_time: iat,
      exp,
      iat,
      jti: randomUUID(),
      username: request.username,
    };
    return { token: signJwt({ kid: pool.kid }, payload, pool.privateKey), expiresAt: exp * 1000 };
  }

  /**
   * An ID token as Cognito issues it with the access token of a sign-in
   * (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html):
   * `aud` is the app client, `token_use: id`, `cognito:username` instead of `username`, no `scope`. API Gateway's JWT
   * authorizer cannot tell it from an access token (the ops API refuses it); tests present it where an access token is
   * due.
   */
  issueIdToken(request: TokenRequest, now = Date.now()): IssuedToken {
    const { pool, client } = this.check(request);
    const iat = Math.floor(now / 1000);
    const exp = iat + client.idTokenValiditySeconds;
    const payload: Record<string, unknown> = {
      sub: randomUUID(),
      ...(request.groups.length > 0 ? { 'cognito:groups': [...request.groups] } : {}),
      iss: pool.spec.issuer,
      'cognito:username': request.username,
      origin_jti: randomUUID(),
      aud: client.clientId,
      event_id: randomUUID(),
      token_use: 'id',
      auth_time: iat,
      exp,
      iat,
      jti: randomUUID(),
    };
    return { token: signJwt({ kid: pool.kid }, payload, pool.privateKey), expiresAt: exp * 1000 };
  }

  /** The OpenID configuration Cognito publishes for a pool (the fields a JWT verifier reads). */
  openIdConfiguration(spec: UserPoolSpec): Record<string, unknown> {
    return {
      issuer: spec.issuer,
      jwks_uri: `${spec.issuer}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'token'],
      subject_types_supported: ['public'],
      scopes_supported: ['openid', 'email', 'phone', 'profile'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      region: this.region,
    };
  }

  /** `GET /{userPoolId}/.well-known/...` and `POST /_local/tokens`. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const wellKnown = /^\/([^/]+)\/\.well-known\/(jwks\.json|openid-configuration)$/.exec(path);
    if (wellKnown && request.method === 'GET') {
      const pool = [...this.pools.values()].find((p) => p.spec.userPoolId === wellKnown[1]);
      if (!pool) return json(404, { message: `User pool ${wellKnown[1]} does not exist.` });
      return json(200, wellKnown[2] === 'jwks.json' ? pool.jwks : this.openIdConfiguration(pool.spec));
    }
    if (path === '/_local/tokens' && request.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      let body: Partial<TokenRequest>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Partial<TokenRequest>;
      } catch {
        return json(400, { message: 'the body must be JSON {"username": "...", "groups": ["operators"]}' });
      }
      try {
        const issued = this.issue({
          username: String(body.username ?? ''),
          groups: Array.isArray(body.groups) ? body.groups.map(String) : [],
          ...(typeof body.userPool === 'string' ? { userPool: body.userPool } : {}),
          ...(typeof body.client === 'string' ? { client: body.client } : {}),
        });
        return json(200, { accessToken: issued.token, expiresAt: new Date(issued.expiresAt).toISOString() });
      } catch (error: unknown) {
        if (error instanceof TokenIssuerError) return json(400, { message: error.message });
        throw error;
      }
    }
    return json(404, { message: `${request.method} ${path} is not served by the local Cognito endpoint` });
  }
}

export interface CognitoEndpoint {
  readonly endpoint: string;
  readonly server: Server;
  stop(): Promise<void>;
}

/** The issuer's endpoint, the local `https://cognito-idp.{region}.amazonaws.com`. */
export async function startCognitoEndpoint(issuer: TokenIssuer, port: number): Promise<CognitoEndpoint> {
  const server = createServer((request, response) => {
    if (refuseBrowser(request, response, { hostOnly: true })) return;
    issuer.handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: (error as Error).message }));
    });
  });
  await listen(server, port, 'Cognito endpoint (token issuer)');
  return { endpoint: `http://127.0.0.1:${port}`, server, stop: () => closeServer(server) };
}
