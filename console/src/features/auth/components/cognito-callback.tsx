import { useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import { Loading } from '../../../components/query-state.tsx';
import type { RuntimeConfig } from '../../../lib/runtime-config.ts';
import { completeSignIn } from '../pkce.ts';
import { writeToken } from '../token-storage.ts';

/** The hosted UI redirects here with `?code&state`; exchange it once, keep the token, go back where the user was. */
export function CognitoCallback({ config }: { config: RuntimeConfig }) {
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
        // A full navigation so the auth gate starts with the new token.
        window.location.replace(returnTo);
      })
      .catch((error: unknown) => setProblem((error as Error).message));
  }, [config.auth]);
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
