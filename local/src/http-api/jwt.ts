import { createPublicKey, type JsonWebKey, type KeyObject, sign, verify } from 'node:crypto';

/**
 * JSON Web Tokens with node:crypto only: RS256 signing for the local token issuer, and verification the way API
 * Gateway's JWT authorizer does it (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html,
 * "Authorizing API requests with a JWT authorizer").
 */

export interface Jwk extends JsonWebKey {
  readonly kid: string;
  readonly alg: string;
  readonly use?: string;
}

export interface Jwks {
  readonly keys: readonly Jwk[];
}

const base64Url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export function signJwt(header: { kid: string }, payload: Record<string, unknown>, privateKey: KeyObject): string {
  const input = `${base64Url(JSON.stringify({ kid: header.kid, alg: 'RS256' }))}.${base64Url(JSON.stringify(payload))}`;
  return `${input}.${base64Url(sign('sha256', Buffer.from(input), privateKey))}`;
}

/**
 * Why a token was refused: the `error_description` of the `www-authenticate` header API Gateway answers with. Two
 * wordings are AWS's: "the token does not have a valid audience" (API Gateway developer guide, "Troubleshooting issues
 * with HTTP API JWT authorizers", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html)
 * and "token contains an invalid number of segments" (observed from a deployed HTTP API); the others are local words
 * in the same style, since AWS publishes no list.
 */
export class JwtRejection extends Error {
  override readonly name = 'JwtRejection';
}

/** RSA algorithms only: API Gateway's JWT authorizer supports no other. */
const RSA_HASHES: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };

export interface JwtExpectations {
  readonly issuer: string;
  readonly audience: readonly string[];
  /** The route's authorization scopes; the token must carry one of them (`scope` or `scp`). */
  readonly scopes: readonly string[];
  readonly now?: number;
}

function decodePart(part: string | undefined, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new JwtRejection(`the token's ${what} is not a JSON object`);
}

/**
 * The checks API Gateway makes, in its order: decode; algorithm and signature with the issuer's key named by `kid`;
 * then `iss`, `aud` (or `client_id` when there is no `aud`), `exp`, `nbf`, `iat` and the route's scopes. Returns the
 * claims. `keys` is the issuer's JWKS.
 */
export function verifyJwt(token: string, keys: Jwks, expect: JwtExpectations): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtRejection('token contains an invalid number of segments');
  const header = decodePart(parts[0], 'header');
  const claims = decodePart(parts[1], 'payload');
  const hash = RSA_HASHES[String(header.alg)];
  if (!hash) throw new JwtRejection(`the token's algorithm ${String(header.alg)} is not supported`);
  const jwk = keys.keys.find((key) => key.kid === header.kid);
  if (!jwk) throw new JwtRejection('the token has no kid of the issuer');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new JwtRejection('the issuer key cannot be read');
  }
  const valid = verify(hash, Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2] ?? '', 'base64url'));
  if (!valid) throw new JwtRejection('the token signature is invalid');
  if (claims.iss !== expect.issuer) throw new JwtRejection('the token does not have a valid issuer');
  const audiences = claims.aud === undefined ? [claims.client_id] : [claims.aud].flat();
  if (!audiences.some((audience) => typeof audience === 'string' && expect.audience.includes(audience)))
    throw new JwtRejection('the token does not have a valid audience');
  const now = Math.floor((expect.now ?? Date.now()) / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= now) throw new JwtRejection('the token has expired');
  if (claims.nbf !== undefined && !(typeof claims.nbf === 'number' && claims.nbf <= now))
    throw new JwtRejection('the token is not valid yet');
  if (claims.iat !== undefined && !(typeof claims.iat === 'number' && claims.iat <= now))
    throw new JwtRejection('the token was issued in the future');
  if (expect.scopes.length > 0) {
    const granted = String(claims.scope ?? claims.scp ?? '').split(' ');
    if (!expect.scopes.some((scope) => granted.includes(scope)))
      throw new JwtRejection('the token does not have a valid scope');
  }
  return claims;
}

/**
 * Claims as API Gateway passes them to the integration in `requestContext.authorizer.jwt.claims`: every value a
 * string, arrays as `[a b]` (observed: a Cognito `cognito:groups` claim of two groups arrives as `"[operators viewers]"`).
 */
export function claimsForIntegration(claims: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(claims).map(([name, value]) => [
      name,
      Array.isArray(value)
        ? `[${value.map(String).join(' ')}]`
        : typeof value === 'object' && value !== null
          ? JSON.stringify(value)
          : String(value),
    ]),
  );
}
