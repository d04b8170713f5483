/**
 * `transient`: retrying the same record as is may succeed (throttling, a service or network fault, a concurrent
 * attempt in progress). `permanent`: the record or the configuration must change first (invalid order, malformed
 * record, access denied, missing queue). The processors classify each failure, the journal stores it and the ops API
 * shows it, so operators know whether a plain redrive can help.
 */
export const FAILURE_CLASSIFICATIONS = ['transient', 'permanent'] as const;
export type FailureClassification = (typeof FAILURE_CLASSIFICATIONS)[number];
