import type { RedriveJob, RedriveMessageResult, RedriveOutcome } from '@orderflow/ops-api/schemas';

/** Outcomes that mean the message was (or, on a dry run, would be) handled; everything else stays in the queue. */
const SUCCESS: readonly RedriveOutcome[] = ['redriven', 'would-redrive'];

export const OUTCOME_TEXT: Record<RedriveOutcome, string> = {
  'would-redrive': 'would redrive',
  'would-skip': 'would skip',
  redriven: 'redriven and deleted from the queue',
  kept: 'kept in the queue',
  'already-being-redriven': 'already being redriven by another job',
  'not-found': 'not found (already deleted?)',
  cancelled: 'cancelled',
};

export const STATUS_TEXT: Record<RedriveJob['status'], string> = {
  running: 'Running',
  succeeded: 'Succeeded',
  'partially-succeeded': 'Partially succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function jobCounts(job: RedriveJob): { succeeded: number; failed: number } {
  const succeeded = job.results.filter((result) => SUCCESS.includes(result.outcome)).length;
  return { succeeded, failed: job.results.length - succeeded };
}

/**
 * `Running: 3 of 10 messages done, 2 succeeded, 1 failed.` A job read from another instance's stored copy may lack
 * some results (`resultsOmitted`): the counts then cover the results shown, and the summary says where the rest are.
 */
export function jobSummary(job: RedriveJob): string {
  const { succeeded, failed } = jobCounts(job);
  const noun = job.progress.total === 1 ? 'message' : 'messages';
  const omitted = job.resultsOmitted ?? 0;
  const summary = `${STATUS_TEXT[job.status]}: ${job.progress.done} of ${job.progress.total} ${noun} done, ${succeeded} ${job.dryRun ? 'would succeed' : 'succeeded'}, ${failed} ${job.dryRun ? 'would not' : 'failed'}`;
  if (omitted === 0) return `${summary}.`;
  return `${summary} among the ${job.results.length} results shown; ${omitted} more are not shown here (the audit log lists every message).`;
}

/** The rule's verdict now over the message's records, e.g. `2 pass, 1 reject`. */
export function ruleVerdicts(result: RedriveMessageResult): string {
  if (result.records.length === 0) return '—';
  const pass = result.records.filter((record) => record.ruleVerdict === 'pass').length;
  return `${pass} pass, ${result.records.length - pass} reject`;
}

export function alreadyProcessed(result: RedriveMessageResult): string {
  if (result.records.length === 0) return '—';
  return `${result.records.filter((record) => record.alreadyProcessed).length} of ${result.records.length}`;
}
