import type { RuntimeConfig } from '../../../lib/runtime-config.ts';
import { CognitoLogin } from './cognito-login.tsx';
import { LocalLogin } from './local-login.tsx';

export function LoginPage({
  config,
  notice,
  onToken,
}: {
  config: RuntimeConfig;
  notice: string | null;
  onToken(token: string): void;
}) {
  return (
    <main className="login" id="main">
      <h1>Orderflow console</h1>
      <h2>Sign in</h2>
      {notice && (
        <p className="error-text" role="alert">
          {notice}
        </p>
      )}
      {config.auth.mode === 'local' ? <LocalLogin onToken={onToken} /> : <CognitoLogin config={config.auth} />}
    </main>
  );
}
