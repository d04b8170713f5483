/**
 * Which field of a DynamoDB stream record a target returns as `itemIdentifier` in a partial batch response.
 *
 * The EventBridge Pipes guide ("Pipes batching and concurrency", partial batch failure) says that for Kinesis and
 * DynamoDB sources the identifier is the record's `eventID`:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html
 * (Lambda event source mappings use `dynamodb.SequenceNumber` instead; this project is fed by Pipes.)
 * An identifier that matches no record of the batch makes Pipes treat the whole batch as failed; the local pipe
 * emulator follows the same rule.
 */
export const BATCH_ITEM_IDENTIFIER = 'eventID' as const;

export interface BatchItemFailure {
  itemIdentifier: string;
}

export interface PartialBatchResponse {
  batchItemFailures: BatchItemFailure[];
}

export function itemIdentifierOf(record: { eventID: string }): string {
  return record[BATCH_ITEM_IDENTIFIER];
}

/**
 * Reads a target's response the way Pipes does: the set of identifiers to retry, or `'all'` when the response names
 * an identifier that is not in the batch or is malformed (the whole batch counts as failed).
 */
export function failedIdentifiers(response: unknown, batch: readonly { eventID: string }[]): Set<string> | 'all' {
  if (response === null || response === undefined || typeof response !== 'object') return new Set();
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return 'all';
  const known = new Set(batch.map(itemIdentifierOf));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !known.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}
