import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthGate } from '../src/features/auth/components/auth-gate.tsx';
import { CognitoCallback } from '../src/features/auth/components/cognito-callback.tsx';
import {
  authorizeUrl,
  type CognitoConfig,
  codeChallenge,
  completeSignIn,
  hostedUiBase,
  safeReturnTo,
} from '../src/features/auth/pkce.ts';
import { useCanOperate, useSession } from '../src/lib/session.tsx';
import { FakeOpsApi } from './support/fake-ops-api.ts';

let api: FakeOpsApi;
beforeAll(async () => {
  api = await new FakeOpsApi().start();
});
afterAll(() => api.stop());

function Who() {
  const session = useSession();
  return (
    <p>
      {session.actor} is {session.role}, can operate: {String(useCanOperate())}
    </p>
  );
}

function renderGate() {
  return render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <AuthGate config={{ apiBaseUrl: api.baseUrl, auth: { mode: 'local' } }}>
        <Who />
      </AuthGate>
    </QueryClientProvider>,
  );
}

describe('local sign-in', () => {
  it('asks for a token, checks it with the API and takes the role from /api/me', async () => {
    api.on('GET /api/me', (request) =>
      request.headers.authorization === 'Bearer viewer-token'
        ? { body: { actor: 'local-viewer', role: 'viewer' } }
        : { status: 401, body: { message: 'unknown token' } },
    );
    renderGate();
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByRole('alert')).toHaveTextContent('Paste a token first.');

    await userEvent.type(screen.getByLabelText('Access token'), 'wrong');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The ops API rejected the token (401). Sign in again.');

    await userEvent.clear(screen.getByLabelText('Access token'));
    await userEvent.type(screen.getByLabelText('Access token'), 'viewer-token');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('local-viewer is viewer, can operate: false')).toBeInTheDocument();
    expect(sessionStorage.getItem('orderflow.token')).toBe('viewer-token');
  });

  it('without /api/me in the API, signs in with an unknown role and leaves gating to the API', async () => {
    api.on('GET /api/me', { status: 404, body: { message: 'Route GET:/api/me not found' } });
    sessionStorage.setItem('orderflow.token', 'operator-token');
    renderGate();
    expect(await screen.findByText('unknown is unknown, can operate: true')).toBeInTheDocument();
  });

  it('shows a server error instead of the console, with a way out', async () => {
    api.on('GET /api/me', { status: 500, body: { message: 'Internal Server Error' } });
    sessionStorage.setItem('orderflow.token', 'operator-token');
    renderGate();
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load your identity. Internal Server Error');
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(screen.getByLabelText('Access token')).toBeInTheDocument();
  });
});

describe('Cognito hosted UI with PKCE', () => {
  const config: CognitoConfig = {
    mode: 'cognito',
    userPoolId: 'us-east-1_abc',
    clientId: 'client-1',
    domain: 'orderflow-ops',
    region: 'us-east-1',
  };

  it('derives the S256 challenge as RFC 7636 appendix B does', async () => {
    expect(await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('accepts a domain prefix, a custom host or a full URL', () => {
    expect(hostedUiBase(config)).toBe('https://orderflow-ops.auth.us-east-1.amazoncognito.com');
    expect(hostedUiBase({ ...config, domain: 'auth.shop.example' })).toBe('https://auth.shop.example');
    expect(hostedUiBase({ ...config, domain: 'http://127.0.0.1:9/' })).toBe('http://127.0.0.1:9');
  });

  it('sends the code, verifier and redirect URI to the token endpoint and checks the state', async () => {
    const cognito = { ...config, domain: api.baseUrl };
    api.on('POST /oauth2/token', { body: { access_token: 'jwt-access', id_token: 'jwt-id', token_type: 'Bearer' } });
    // The fake server parses JSON bodies; the token endpoint takes a form, so record it raw through a fetch wrapper.
    let form = new URLSearchParams();
    const recordingFetch: typeof fetch = async (input, init) => {
      form = new URLSearchParams(String(init?.body));
      return fetch(input, { ...init, body: '{}', headers: { 'content-type': 'application/json' } });
    };

    const origin = 'https://console.example';
    await expect(
      completeSignIn(cognito, origin, new URLSearchParams({ code: 'c', state: 's' }), recordingFetch),
    ).rejects.toThrow('no sign-in in progress');

    await authorizeUrl(cognito, origin, '/dlqs');
    await expect(
      completeSignIn(cognito, origin, new URLSearchParams({ code: 'c', state: 'forged' }), recordingFetch),
    ).rejects.toThrow('sign-in state does not match');

    const url = new URL(await authorizeUrl(cognito, origin, '/dlqs?pipe=premium'));
    expect(url.pathname).toBe('/oauth2/authorize');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe('https://console.example/auth/callback');
    expect(url.searchParams.get('scope')).toBe('openid email profile');
    const fresh = JSON.parse(sessionStorage.getItem('orderflow.pkce') ?? '{}') as { verifier: string; state: string };
    expect(url.searchParams.get('state')).toBe(fresh.state);
    expect(url.searchParams.get('code_challenge')).toBe(await codeChallenge(fresh.verifier));
    const result = await completeSignIn(
      cognito,
      'https://console.example',
      new URLSearchParams({ code: 'auth-code', state: fresh.state }),
      recordingFetch,
    );
    expect(result).toEqual({ token: 'jwt-access', returnTo: '/dlqs?pipe=premium' });
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'authorization_code',
      client_id: 'client-1',
      code: 'auth-code',
      redirect_uri: 'https://console.example/auth/callback',
      code_verifier: fresh.verifier,
    });
  });

  it("reports Cognito's refusal in its own words", async () => {
    await expect(
      completeSignIn(
        config,
        'https://c',
        new URLSearchParams({ error: 'access_denied', error_description: 'User is disabled' }),
      ),
    ).rejects.toThrow('Cognito refused the sign-in: User is disabled');
  });
});

describe('after the Cognito sign-in, the console goes back only to its own paths', () => {
  const config: CognitoConfig = {
    mode: 'cognito',
    userPoolId: 'us-east-1_abc',
    clientId: 'client-1',
    domain: 'orderflow-ops',
    region: 'us-east-1',
  };
  afterEach(() => {
    vi.unstubAllGlobals();
    window.history.replaceState(null, '', '/');
  });

  /** Renders the callback page as the hosted UI's redirect opens it; answers where it navigated to. */
  async function callbackGoesTo(returnTo: unknown): Promise<string> {
    sessionStorage.setItem('orderflow.pkce', JSON.stringify({ verifier: 'verifier', state: 'state-1', returnTo }));
    window.history.replaceState(null, '', '/auth/callback?code=code-1&state=state-1');
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => Response.json({ access_token: 'jwt-access', token_type: 'Bearer' })),
    );
    const goTo = vi.fn<(path: string) => void>();
    render(
      <MemoryRouter>
        <CognitoCallback config={{ apiBaseUrl: '', auth: config }} goTo={goTo} />
      </MemoryRouter>,
    );
    await waitFor(() => expect(goTo).toHaveBeenCalledTimes(1));
    expect(sessionStorage.getItem('orderflow.token')).toBe('jwt-access');
    return goTo.mock.calls[0]?.[0] as string;
  }

  it.each([
    ['a scheme-relative URL (a console link like https://<console>//evil.example/)', '//evil.example/'],
    ['a backslash that browsers read as a slash', '/\\evil.example/'],
    ['a tab that browsers drop', '/\t/evil.example'],
    ['an absolute URL', 'https://evil.example/'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a relative path', 'dlqs'],
    ['no string at all', { href: '//evil.example' }],
  ])('lands on / instead of %s', async (_what, returnTo) => {
    expect(await callbackGoesTo(returnTo)).toBe('/');
  });

  it('lands on the view the user was on, query included', async () => {
    expect(await callbackGoesTo('/dlqs?pipe=premium&window=3600')).toBe('/dlqs?pipe=premium&window=3600');
  });

  it('never stores a foreign returnTo when the sign-in starts', async () => {
    await authorizeUrl(config, 'https://console.example', '//evil.example/');
    expect(JSON.parse(sessionStorage.getItem('orderflow.pkce') ?? '{}').returnTo).toBe('/');
    expect(safeReturnTo('/')).toBe('/');
    expect(safeReturnTo('/audit?actor=a//b')).toBe('/audit?actor=a//b');
  });
});
