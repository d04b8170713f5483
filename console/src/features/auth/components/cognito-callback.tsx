import { useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import { Loading } from '../../../components/query-state.tsx';
import type { RuntimeConfig } from '../../../lib/runtime-config.ts';
import { completeSignIn, safeReturnTo } from '../pkce.ts';
import { writeToken } from '../token-storage.ts';

/** A full navigation, so the auth gate starts with the new token (a prop so that tests can see where it goes). */
function replaceLocation(path: string): void {
  window.location.replace(path);
}

/**
 * The hosted UI redirects here with `?code&state`; exchange it once, keep the token, go back where the user was: a path
 * of this console only (`safeReturnTo`), never another site.
 */
export function CognitoCallback({
  config,
  goTo = replaceLocation,
}: {
  config: RuntimeConfig;
  goTo?: (path: string) => void;
}) {
  const navigate = useNavigate();
  const [problem, setProblem] = useState<string | null>(null);
  const started = useRef(false);
  useEffect(() => {
    // Codes are single-use: React's development double effect must not exchange twice.
    if (started.current) return;
    started.current = true;
    if (config.auth.mode !== 'cognito') {
      setProblem('This console is not configured for Cognito sign-in.');
      return;
    }
    completeSignIn(config.auth, window.location.origin, new URLSearchParams(window.location.search))
      .then(({ token, returnTo }) => {
        writeToken(token);
        goTo(safeReturnTo(returnTo));
      })
      .catch((error: unknown) => setProblem((error as Error).message));
  }, [config.auth, goTo]);
  if (problem) {
    return (
      <main className="login" id="main">
        <h1>Sign-in failed</h1>
        <p role="alert" className="error-text">
          {problem}
        </p>
        <button type="button" onClick={() => navigate('/')}>
          Start again
        </button>
      </main>
    );
  }
  return <Loading what="the sign-in" />;
}
