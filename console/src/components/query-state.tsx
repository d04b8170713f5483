import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';

/** Loading, error and empty states, the same in every view (nothing fails silently: errors show the API's message). */
export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function QueryError({ error, what, onRetry }: { error: unknown; what: string; onRetry?(): void }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="error-box" role="alert">
      <p>
        <strong>Could not load {what}.</strong> {message}
      </p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function QueryView<T>({
  query,
  what,
  isEmpty,
  empty,
  children,
}: {
  query: UseQueryResult<T>;
  what: string;
  isEmpty?(data: T): boolean;
  empty?: ReactNode;
  children(data: T): ReactNode;
}) {
  if (query.isPending) return <Loading what={what} />;
  if (query.isError) return <QueryError error={query.error} what={what} onRetry={() => query.refetch()} />;
  if (isEmpty?.(query.data)) return <Empty>{empty ?? `No ${what}.`}</Empty>;
  return <>{children(query.data)}</>;
}
