import { type FormEvent, useState } from 'react';

/** Local mode: paste the operator or viewer token that `npm start` printed (also in `.orderflow/runtime.json`). */
export function LocalLogin({ onToken }: { onToken(token: string): void }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = token.trim();
    if (!trimmed) {
      setProblem('Paste a token first.');
      return;
    }
    onToken(trimmed);
  }
  return (
    <form onSubmit={submit} className="stack" noValidate>
      <p>
        Paste the <strong>operator</strong> or <strong>viewer</strong> token that <code>npm start</code> printed. It is
        also in <code>.orderflow/runtime.json</code> under <code>tokens</code>.
      </p>
      <label htmlFor="login-token">Access token</label>
      <input
        id="login-token"
        type="password"
        autoComplete="off"
        value={token}
        onChange={(event) => setToken(event.target.value)}
        aria-describedby={problem ? 'login-token-problem' : undefined}
        aria-invalid={problem ? true : undefined}
      />
      {problem && (
        <p id="login-token-problem" className="error-text" role="alert">
          {problem}
        </p>
      )}
      <button type="submit" className="primary">
        Sign in
      </button>
    </form>
  );
}
