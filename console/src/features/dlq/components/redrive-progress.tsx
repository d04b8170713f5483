import type { RedriveJob } from '@orderflow/ops-api/schemas';
import type { UseQueryResult } from '@tanstack/react-query';
import { useCancelRedrive } from '../api/cancel-redrive.ts';
import { alreadyProcessed, jobSummary, OUTCOME_TEXT, ruleVerdicts } from '../job-summary.ts';

/** Live progress of a redrive job (polled), with cancel while it runs and per-message results. */
export function RedriveProgress({ jobId, query }: { jobId: string; query: UseQueryResult<RedriveJob> }) {
  const cancel = useCancelRedrive();
  if (query.isPending) return <p role="status">Starting job {jobId}…</p>;
  if (query.isError) {
    return (
      <p role="alert" className="error-text">
        Could not read job {jobId}: {query.error.message}
      </p>
    );
  }
  const job = query.data;
  const title = job.dryRun ? 'Dry-run preview' : 'Redrive progress';
  return (
    <section aria-labelledby="job-heading" className="job">
      <h3 id="job-heading">{title}</h3>
      <p role="status" aria-live="polite">
        {jobSummary(job)}
      </p>
      {job.note && <p className="muted">{job.note}</p>}
      <progress max={Math.max(job.progress.total, 1)} value={job.progress.done} aria-label={title} />
      {job.status === 'running' && (
        <button type="button" onClick={() => cancel.mutate(jobId)} disabled={cancel.isPending}>
          Cancel redrive
        </button>
      )}
      {cancel.isError && (
        <p role="alert" className="error-text">
          Could not cancel: {cancel.error.message}
        </p>
      )}
      {job.results.length > 0 && (
        <table aria-label={job.dryRun ? 'Dry-run results' : 'Redrive results'}>
          <thead>
            <tr>
              <th scope="col">Message</th>
              <th scope="col">Records</th>
              <th scope="col">Stale</th>
              <th scope="col">Rule now</th>
              <th scope="col">Already processed</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {job.results.map((result) => (
              <tr key={result.messageId}>
                <td>{result.messageId}</td>
                <td>{result.records.length}</td>
                <td>{result.stale ? 'yes' : 'no'}</td>
                <td>{ruleVerdicts(result)}</td>
                <td>{alreadyProcessed(result)}</td>
                <td>
                  {OUTCOME_TEXT[result.outcome]}
                  {result.reason ? `: ${result.reason}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
