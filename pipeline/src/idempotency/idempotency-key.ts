import { createHash } from 'node:crypto';
import type { PipeKey } from '../pipes/definitions.ts';

/**
 * How the processors key Powertools idempotency records, shared with the ops API (whose redrive dry run reads the
 * idempotency table to say whether a record's effects were already applied).
 *
 * Keyed by pipe + eventID, so a retried or redriven record applies its effects once. The processors pass
 * `keyPrefix: idempotencyKeyPrefix(pipe)` and `eventKeyJmesPath: IDEMPOTENCY_EVENT_KEY_JMESPATH` to `makeIdempotent`
 * over the per-record function; Powertools then stores the record under
 * `<keyPrefix>#<base64 md5 of JSON.stringify(the selected value)>` (BasePersistenceLayer.getHashedIdempotencyKey,
 * default `hashFunction` md5), in the `id` attribute, with `status` and `expiration` (epoch seconds).
 */
export const IDEMPOTENCY_EVENT_KEY_JMESPATH = 'eventID' as const;

export function idempotencyKeyPrefix(pipe: PipeKey): string {
  return `orderflow-${pipe}`;
}

/** The `id` Powertools writes for a record of this pipe (a string selected by the JMESPath hashes as its JSON). */
export function idempotencyRecordId(pipe: PipeKey, eventId: string): string {
  const hash = createHash('md5').update(JSON.stringify(eventId)).digest('base64');
  return `${idempotencyKeyPrefix(pipe)}#${hash}`;
}

/** Powertools' record status values (`IdempotencyRecordStatus`). */
export const IDEMPOTENCY_STATUS = { inProgress: 'INPROGRESS', completed: 'COMPLETED' } as const;
