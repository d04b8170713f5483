import type { ResolvedRecord } from '@orderflow/ops-api/schemas';

/** DynamoDB stream sequence numbers are decimal strings of varying length: compare them as numbers. */
const before = (a: string, b: string) => (a.length === b.length ? a < b : a.length < b.length);

/**
 * Why a record of a dead-letter message has no failure-journal entry, in words for the message view. The processors
 * journal every record they fail; a record of the message's sequence range can still have none:
 * - the pipe's filter does not match it, so it was in the range but never in the batch;
 * - the processor already applied it: with ParallelizationFactor > 1 the range holds the other lane's records, and a
 *   record may have succeeded in a retry or a redrive;
 * - an earlier change of the same order in the message failed, and an order's changes run in stream order, so the
 *   processor reported this one failed without running it (handlers, "Order of work");
 * - otherwise the handler never got to it: the invocation failed or timed out as a whole.
 */
export function noJournalEntryReason(record: ResolvedRecord, records: readonly ResolvedRecord[]): string {
  if (record.explanation && !record.explanation.pipeFilter)
    return "No failure-journal entry: the pipe's filter does not match this record, so it lies in the batch's sequence range without having been part of the batch.";
  if (record.alreadyProcessed)
    return 'No failure-journal entry needed: the processor already applied this record (it lies in the sequence range of the failed batch); a redrive finds it done and does not apply it again.';
  const blocker = records.find(
    (other) =>
      other.error !== null &&
      other.orderId !== null &&
      other.orderId === record.orderId &&
      before(other.sequenceNumber, record.sequenceNumber),
  );
  if (blocker)
    return `Not run: event ${blocker.eventId}, an earlier change of the same order, failed first, and an order's changes are processed in stream order. Its error above is the reason; a redrive runs this record after it.`;
  return 'No failure-journal entry: the processor did not record a failure for this record; the invocation may have failed or timed out as a whole before reaching it.';
}
