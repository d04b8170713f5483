import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { JOBS_KEYS } from '@orderflow/pipeline/facts';
import type { FastifyBaseLogger } from 'fastify';

type Incr = FastifyRateLimitStore['incr'];

/**
 * Rate-limit counters every instance shares, in the ops jobs table: one item per key and fixed window
 * (`rate#<key>#<window start>`), counted with an atomic `ADD` and removed by TTL after the window. In AWS each Lambda
 * instance has its own memory, so in-memory counters would give every warm instance a whole budget per principal.
 * A failed count is logged and lets the request through (the plugin's `skipOnError`): counters that cannot be written
 * must not lock operators out in an incident.
 */
export function tableRateLimitStore(
  dynamodb: DynamoDBDocumentClient,
  table: string,
  log: FastifyBaseLogger,
): FastifyRateLimitStoreCtor {
  class TableRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: Parameters<Incr>[1], timeWindow?: number): void {
      const window = timeWindow ?? 60_000;
      const now = Date.now();
      const start = Math.floor(now / window) * window;
      dynamodb
        .send(
          new UpdateCommand({
            TableName: table,
            Key: { [JOBS_KEYS.partitionKey]: `rate#${key}#${start}` },
            UpdateExpression: 'ADD hits :one SET #ttl = if_not_exists(#ttl, :ttl)',
            ExpressionAttributeNames: { '#ttl': JOBS_KEYS.ttlAttribute },
            ExpressionAttributeValues: { ':one': 1, ':ttl': Math.ceil((start + window) / 1000) + 60 },
            ReturnValues: 'UPDATED_NEW',
          }),
        )
        .then(
          (answer) => callback(null, { current: Number(answer.Attributes?.hits ?? 1), ttl: start + window - now }),
          (error: unknown) => {
            log.warn({ err: error, key }, 'rate-limit counter not written; request let through');
            callback(error as Error, { current: 0, ttl: 0 });
          },
        );
    }

    child(): FastifyRateLimitStore {
      return new TableRateLimitStore();
    }
  }
  return TableRateLimitStore as unknown as FastifyRateLimitStoreCtor;
}
