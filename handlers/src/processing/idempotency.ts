import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IDEMPOTENCY_KEYS, type PipeKey } from '@orderflow/pipeline/facts';
import { IDEMPOTENCY_EVENT_KEY_JMESPATH, idempotencyKeyPrefix, type StreamRecord } from '@orderflow/pipeline/schemas';
import type { Effects, GuardedOrder } from './effects.ts';
import type { ApplyEffects } from './record.ts';

export interface IdempotentEffects {
  readonly apply: ApplyEffects;
  /** Powertools needs the invocation's context to expire an in-progress record when the function times out. */
  readonly config: IdempotencyConfig;
}

/**
 * A pipe's effects, applied once per stream record (Powertools idempotency, DynamoDB persistence). The key is the
 * pipe and the record's `eventID` (`idempotencyKeyPrefix`, `IDEMPOTENCY_EVENT_KEY_JMESPATH` from pipeline, which the
 * ops API reads too), never the payload: a redrive that falls back to the current item's image still counts as the
 * same event. Completed records are kept as long as the failure journal, so any redrive the toolkit can perform
 * within that window finds them; a replayed record returns the stored result marked `replayed`.
 */
export function idempotentEffects(
  effects: Effects,
  options: { client: DynamoDBClient; tableName: string; pipe: PipeKey; expiresAfterSeconds: number },
): IdempotentEffects {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: IDEMPOTENCY_EVENT_KEY_JMESPATH,
    expiresAfterSeconds: options.expiresAfterSeconds,
    throwOnNoIdempotencyKey: true,
    responseHook: (response) => ({ ...(response as Record<string, unknown>), replayed: true }),
  });
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    keyAttr: IDEMPOTENCY_KEYS.partitionKey,
    expiryAttr: IDEMPOTENCY_KEYS.ttlAttribute,
    awsSdkV3Client: options.client,
  });
  const once = makeIdempotent((_record: StreamRecord, input: GuardedOrder) => effects(input), {
    persistenceStore,
    config,
    keyPrefix: idempotencyKeyPrefix(options.pipe),
    dataIndexArgument: 0,
  });
  return { apply: (input) => once(input.record, input), config };
}
