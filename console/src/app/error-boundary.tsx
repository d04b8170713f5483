import { Component, type ErrorInfo, type ReactNode } from 'react';
import { isRouteErrorResponse, useRouteError } from 'react-router';

/** Last line of defence: a render error shows its message instead of a blank page. */
export class AppErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('console render error', error, info.componentStack);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return <CrashMessage message={this.state.error.message} />;
  }
}

/** The router's error element (a failed lazy view load, an unknown route, a render error inside a view). */
export function RouteError() {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && error.status === 404) {
    return (
      <main id="main" className="content">
        <h1>Page not found</h1>
        <p>
          There is no console view at this address. <a href="/">Go to the overview</a>.
        </p>
      </main>
    );
  }
  return <CrashMessage message={error instanceof Error ? error.message : String(error)} />;
}

function CrashMessage({ message }: { message: string }) {
  return (
    <main id="main" className="content">
      <h1>Something went wrong</h1>
      <div role="alert" className="error-box">
        <p>{message}</p>
      </div>
      <button type="button" onClick={() => window.location.reload()}>
        Reload the console
      </button>
    </main>
  );
}
