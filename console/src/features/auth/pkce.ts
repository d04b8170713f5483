import { CONSOLE_AUTH_CALLBACK_PATH, CONSOLE_OAUTH_SCOPES } from '@orderflow/pipeline/facts';
import type { AuthConfig } from '../../lib/runtime-config.ts';

/**
 * Cognito hosted UI, authorization code grant with PKCE (RFC 7636), with fetch and WebCrypto only.
 * Endpoints: https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html and
 * https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html
 */
export type CognitoConfig = Extract<AuthConfig, { mode: 'cognito' }>;

const PENDING_KEY = 'orderflow.pkce';

export class CognitoSignInError extends Error {
  override readonly name = 'CognitoSignInError';
}

export function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** RFC 7636 §4.1: 43..128 characters from the unreserved set; 32 random bytes give 43. */
export function randomVerifier(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** RFC 7636 §4.2, S256: BASE64URL(SHA256(ASCII(code_verifier))). */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

/** The hosted UI domain: a full host (custom domain) or the prefix of `PREFIX.auth.REGION.amazoncognito.com`. */
export function hostedUiBase(config: CognitoConfig): string {
  const domain = config.domain.replace(/\/+$/, '');
  if (/^https?:\/\//.test(domain)) return domain;
  return domain.includes('.') ? `https://${domain}` : `https://${domain}.auth.${config.region}.amazoncognito.com`;
}

export function redirectUri(origin: string): string {
  return `${origin}${CONSOLE_AUTH_CALLBACK_PATH}`;
}

/**
 * Where the console may go back to after sign-in: a path of this origin, nothing else. `returnTo` comes from the URL
 * the user opened, so a link such as `https://<console>//evil.example/` would otherwise send a freshly signed-in user
 * to evil.example (`//host` is a scheme-relative URL, and browsers read `/\host` the same way). A path must start
 * with exactly one `/` followed by something other than `/` or `\`, and contain no control characters (browsers drop
 * tabs and newlines from URLs, so `/\t/evil.example` is `//evil.example`); anything else goes to `/`.
 */
export function safeReturnTo(returnTo: unknown): string {
  if (typeof returnTo !== 'string') return '/';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused here
  if (!/^\/(?![/\\])/.test(returnTo) || /[\u0000-\u001f\u007f]/.test(returnTo)) return '/';
  return returnTo;
}

export async function authorizeUrl(config: CognitoConfig, origin: string, returnTo: string): Promise<string> {
  const verifier = randomVerifier();
  const state = randomVerifier();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, returnTo: safeReturnTo(returnTo) }));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(origin),
    scope: CONSOLE_OAUTH_SCOPES.join(' '),
    state,
    code_challenge_method: 'S256',
    code_challenge: await codeChallenge(verifier),
  });
  return `${hostedUiBase(config)}/oauth2/authorize?${params}`;
}

/** Exchanges the callback's code for tokens; returns the token to send as bearer and where to go back to. */
export async function completeSignIn(
  config: CognitoConfig,
  origin: string,
  callback: URLSearchParams,
  fetchImpl: typeof fetch = fetch,
): Promise<{ token: string; returnTo: string }> {
  const error = callback.get('error');
  if (error) throw new CognitoSignInError(`Cognito refused the sign-in: ${callback.get('error_description') ?? error}`);
  const pendingText = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (!pendingText) throw new CognitoSignInError('no sign-in in progress in this tab; start again');
  const pending = JSON.parse(pendingText) as { verifier: string; state: string; returnTo: string };
  // The state check defeats login CSRF: the code must answer the request this tab made.
  if (callback.get('state') !== pending.state)
    throw new CognitoSignInError('sign-in state does not match; start again');
  const code = callback.get('code');
  if (!code) throw new CognitoSignInError('the callback carries no authorization code');
  const response = await fetchImpl(`${hostedUiBase(config)}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: config.clientId,
      code,
      redirect_uri: redirectUri(origin),
      code_verifier: pending.verifier,
    }),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    throw new CognitoSignInError(
      `token exchange failed: ${String(body.error_description ?? body.error ?? response.status)}`,
    );
  }
  // The access token carries `cognito:groups`, which the ops API maps to roles.
  if (typeof body.access_token !== 'string') throw new CognitoSignInError('token endpoint returned no access_token');
  // Checked again here: sessionStorage is writable by anything running in this origin's pages.
  return { token: body.access_token, returnTo: safeReturnTo(pending.returnTo) };
}

export function logoutUrl(config: CognitoConfig, origin: string): string {
  const params = new URLSearchParams({ client_id: config.clientId, logout_uri: `${origin}/` });
  return `${hostedUiBase(config)}/logout?${params}`;
}
