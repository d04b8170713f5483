import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useCallback, useMemo, useRef, useState } from 'react';
import { Loading, QueryError } from '../../../components/query-state.tsx';
import { ApiError, createApiClient } from '../../../lib/api-client.ts';
import { ApiProvider } from '../../../lib/api-context.tsx';
import type { RuntimeConfig } from '../../../lib/runtime-config.ts';
import { type Session, SessionProvider } from '../../../lib/session.tsx';
import { useMe } from '../api/get-me.ts';
import { logoutUrl } from '../pkce.ts';
import { clearToken, readToken, writeToken } from '../token-storage.ts';
import { LoginPage } from './login-page.tsx';

/**
 * Shows the login until the ops API accepts a token, then provides the API client and the session (actor, role) to
 * everything below. A 401 anywhere drops the token and returns here with the reason.
 */
export function AuthGate({ config, children }: { config: RuntimeConfig; children: ReactNode }) {
  const queryClient = useQueryClient();
  const [token, setToken] = useState<string | null>(readToken);
  const [notice, setNotice] = useState<string | null>(null);
  const tokenRef = useRef(token);
  tokenRef.current = token;

  const dropToken = useCallback(
    (reason: string | null) => {
      clearToken();
      setToken(null);
      setNotice(reason);
      queryClient.clear();
    },
    [queryClient],
  );

  const api = useMemo(
    () =>
      createApiClient({
        baseUrl: config.apiBaseUrl,
        getToken: () => tokenRef.current,
        onUnauthorized: () => dropToken('The ops API rejected the token (401). Sign in again.'),
      }),
    [config.apiBaseUrl, dropToken],
  );
  const me = useMe(api, token);

  const session = useMemo<Session | null>(() => {
    if (!me.isSuccess) return null;
    return {
      actor: me.data?.actor ?? 'unknown',
      role: me.data?.role ?? 'unknown',
      signOut: () => {
        dropToken(null);
        if (config.auth.mode === 'cognito') window.location.assign(logoutUrl(config.auth, window.location.origin));
      },
    };
  }, [me.isSuccess, me.data, dropToken, config.auth]);

  if (token === null) {
    return (
      <LoginPage
        config={config}
        notice={notice}
        onToken={(value) => {
          writeToken(value);
          setNotice(null);
          setToken(value);
        }}
      />
    );
  }
  if (me.isError && !(me.error instanceof ApiError && me.error.status === 401)) {
    return (
      <main className="login" id="main">
        <h1>Orderflow console</h1>
        <QueryError error={me.error} what="your identity" />
        <button type="button" onClick={() => dropToken(null)}>
          Sign out
        </button>
      </main>
    );
  }
  if (!session) return <Loading what="your identity" />;
  return (
    <ApiProvider client={api}>
      <SessionProvider session={session}>{children}</SessionProvider>
    </ApiProvider>
  );
}
