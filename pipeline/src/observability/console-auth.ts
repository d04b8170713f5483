/**
 * How the console signs operators in with the Cognito hosted UI (authorization code grant with PKCE). The stack
 * registers the callback and sign-out URLs on the user pool client; the console uses the same path and scopes.
 * https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html
 */
export const CONSOLE_AUTH_CALLBACK_PATH = '/auth/callback';
export const CONSOLE_OAUTH_SCOPES = ['openid', 'email', 'profile'] as const;
