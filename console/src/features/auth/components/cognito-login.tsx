import { useState } from 'react';
import { authorizeUrl, type CognitoConfig } from '../pkce.ts';

export function CognitoLogin({ config }: { config: CognitoConfig }) {
  const [problem, setProblem] = useState<string | null>(null);
  async function signIn() {
    try {
      const returnTo = `${window.location.pathname}${window.location.search}`;
      window.location.assign(await authorizeUrl(config, window.location.origin, returnTo));
    } catch (error: unknown) {
      setProblem(`Cannot start the sign-in: ${(error as Error).message}`);
    }
  }
  return (
    <div className="stack">
      <p>Sign in with your organisation's account (Amazon Cognito).</p>
      <button type="button" className="primary" onClick={signIn}>
        Sign in with Cognito
      </button>
      {problem && (
        <p className="error-text" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
