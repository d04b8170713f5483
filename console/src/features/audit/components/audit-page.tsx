import type { AuditEntry } from '@orderflow/ops-api/schemas';
import { PIPES } from '@orderflow/pipeline/facts';
import { useMemo } from 'react';
import { PipeSelect } from '../../../components/pipe-select.tsx';
import { QueryView } from '../../../components/query-state.tsx';
import { TimeRangePicker } from '../../../components/time-range-picker.tsx';
import { formatTime } from '../../../lib/format.ts';
import { useViewState } from '../../../lib/view-state.ts';
import { AUDIT_LIMIT, useAudit } from '../api/get-audit.ts';

const AUDIT_DEFAULT_WINDOW_SECONDS = 24 * 3600;

export function AuditPage() {
  const { params, pipe, timeRange, update } = useViewState(AUDIT_DEFAULT_WINDOW_SECONDS);
  const actor = params.get('actor') ?? '';
  const action = params.get('action') ?? '';
  const audit = useAudit(timeRange);
  const filter = useMemo(
    () => (entry: AuditEntry) =>
      (!pipe || entry.pipe === pipe) &&
      (!actor.trim() || entry.actor.toLowerCase().includes(actor.trim().toLowerCase())) &&
      (!action || entry.action.toLowerCase().includes(action.toLowerCase())),
    [pipe, actor, action],
  );
  // Filters can only be what hides entries when the range has some.
  const filtered = Boolean(pipe || actor.trim() || action) && (audit.data?.entries.length ?? 0) > 0;
  return (
    <>
      <h1>Audit log</h1>
      <search className="toolbar" aria-label="Audit filters">
        <TimeRangePicker value={timeRange} onChange={update} />
        <PipeSelect value={pipe} onChange={(value) => update({ pipe: value })} />
        <span className="field">
          <label htmlFor="audit-actor">Actor</label>
          <input
            id="audit-actor"
            type="search"
            value={actor}
            onChange={(event) => update({ actor: event.target.value })}
          />
        </span>
        <span className="field">
          <label htmlFor="audit-action">Action</label>
          <input
            id="audit-action"
            type="search"
            value={action}
            onChange={(event) => update({ action: event.target.value })}
          />
        </span>
      </search>
      {(audit.data?.entries.length ?? 0) >= AUDIT_LIMIT && (
        <p className="muted" role="status">
          This range has at least {AUDIT_LIMIT} entries: only the newest {AUDIT_LIMIT} are searched and shown. Narrow
          the time range to see older ones.
        </p>
      )}
      <QueryView
        query={audit}
        what="audit entries"
        isEmpty={(data) => !data.entries.some(filter)}
        empty={
          filtered
            ? 'No audit entry matches the filters; clear them to see every entry of this range.'
            : 'Nobody has redriven or discarded anything in this range.'
        }
      >
        {(data) => (
          <table aria-label="Audit log">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Pipe</th>
                <th scope="col">Messages</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {data.entries.filter(filter).map((entry) => (
                <tr key={entry.id}>
                  <td>{formatTime(entry.at)}</td>
                  <td>
                    {entry.actor} ({entry.role})
                  </td>
                  <td>{entry.action}</td>
                  <td>{PIPES[entry.pipe].title}</td>
                  <td className="truncate">{entry.messageIds.join(', ') || '—'}</td>
                  <td>
                    {entry.outcome}
                    {entry.detail ? `: ${entry.detail}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryView>
    </>
  );
}
