/**
 * The bearer token lives in sessionStorage: it survives reloads and in-app navigation but not the tab, which limits
 * how long a pasted operator token or a Cognito token lingers on a shared machine.
 */
const TOKEN_KEY = 'orderflow.token';

export function readToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function writeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}
