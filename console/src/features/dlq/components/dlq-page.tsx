import { PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import { useEffect, useMemo, useState } from 'react';
import { PipeSelect } from '../../../components/pipe-select.tsx';
import { Empty, Loading, QueryError } from '../../../components/query-state.tsx';
import { formatCount, plural } from '../../../lib/format.ts';
import { useViewState } from '../../../lib/view-state.ts';
import { useDlqMessages } from '../api/get-dlq-messages.ts';
import { dlqFiltersFrom, filterMessages, hasActiveFilters } from '../filters.ts';
import { DlqFiltersForm } from './dlq-filters-form.tsx';
import { DlqSummary } from './dlq-summary.tsx';
import { MessageTable } from './message-table.tsx';
import { RedriveActions } from './redrive-actions.tsx';

/** Stop following cursors past this many messages; the filters and redrive-all cover larger backlogs. */
const MAX_LOADED_MESSAGES = 20_000;

export function DlqPage() {
  const { params, update, pipe: pipeParam } = useViewState();
  const pipe: PipeKey = pipeParam ?? 'standard';
  return (
    <>
      <h1>Dead-letter queues</h1>
      <DlqSummary />
      <section aria-labelledby="messages-heading">
        <h2 id="messages-heading">Messages of the {PIPES[pipe].title} pipe</h2>
        <div className="toolbar">
          <PipeSelect value={pipe} allowAll={false} onChange={(value) => update({ pipe: value })} />
        </div>
        <DlqFiltersForm filters={dlqFiltersFrom(params)} onChange={update} />
        {/* Keyed by pipe: a new pipe starts with an empty selection. */}
        <PipeMessages key={pipe} pipe={pipe} params={params} />
      </section>
    </>
  );
}

function PipeMessages({ pipe, params }: { pipe: PipeKey; params: URLSearchParams }) {
  const query = useDlqMessages(pipe);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const all = useMemo(() => query.data?.pages.flatMap((page) => page.messages) ?? [], [query.data]);
  const filters = dlqFiltersFrom(params);
  const filterKey = JSON.stringify(filters);
  // biome-ignore lint/correctness/useExhaustiveDependencies: filterKey stands for the filters' value
  const shown = useMemo(() => filterMessages(all, filters), [all, filterKey]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = query;

  useEffect(() => {
    // Read the whole queue page by page so search and selection cover every message, not just the first page.
    if (hasNextPage && !isFetchingNextPage && all.length < MAX_LOADED_MESSAGES) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, all.length]);

  // Actions apply to what is selected and still shown, so a filter change never acts on hidden messages.
  const selection = useMemo(() => shown.filter((message) => selected.has(message.id)), [shown, selected]);

  if (query.isPending) return <Loading what="dead-letter messages" />;
  // A failed later page keeps the pages already loaded; only a failed first page replaces the table.
  if (query.isError && !query.data) {
    return <QueryError error={query.error} what="dead-letter messages" onRetry={() => query.refetch()} />;
  }
  return (
    <>
      <p className="muted" aria-live="polite">
        {plural(shown.length, 'message')} shown of {formatCount(all.length)} loaded
        {hasNextPage ? (all.length < MAX_LOADED_MESSAGES ? ', loading more…' : ', more in the queue') : ''}.
      </p>
      {query.isError && <QueryError error={query.error} what="more messages" onRetry={() => void fetchNextPage()} />}
      <RedriveActions pipe={pipe} selection={selection} onDone={() => setSelected(new Set())} />
      {all.length === 0 ? (
        <Empty>The {PIPES[pipe].title} dead-letter queue is empty.</Empty>
      ) : shown.length === 0 ? (
        <Empty>No message matches the filters{hasActiveFilters(filters) ? '; clear them to see all' : ''}.</Empty>
      ) : (
        <MessageTable
          messages={shown}
          selected={selected}
          onToggle={(id) =>
            setSelected((current) => {
              const next = new Set(current);
              if (!next.delete(id)) next.add(id);
              return next;
            })
          }
          onToggleAll={(select) => setSelected(select ? new Set(shown.map((message) => message.id)) : new Set())}
        />
      )}
    </>
  );
}
