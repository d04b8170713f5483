import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IDEMPOTENCY_KEYS, ORDERS_PARTITION_KEY, type PipeKey } from '@orderflow/pipeline/facts';
import { IDEMPOTENCY_STATUS, idempotencyRecordId } from '@orderflow/pipeline/schemas';
import { batchGetByKey } from './batch-get.ts';

/** What the tables say about records now: the current order item, and whether the processor already applied it. */
export class RecordState {
  constructor(
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly tables: { readonly orders: string; readonly idempotency: string },
  ) {}

  async currentOrders(orderIds: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    if (orderIds.length === 0) return new Map();
    const items = await batchGetByKey(this.dynamodb, this.tables.orders, ORDERS_PARTITION_KEY, orderIds);
    return new Map(items.map((item) => [String(item[ORDERS_PARTITION_KEY]), item]));
  }

  /** EventIDs whose Powertools idempotency record is COMPLETED and not expired. */
  async alreadyProcessed(pipe: PipeKey, eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const byKey = new Map(eventIds.map((eventId) => [idempotencyRecordId(pipe, eventId), eventId]));
    const items = await batchGetByKey(this.dynamodb, this.tables.idempotency, IDEMPOTENCY_KEYS.partitionKey, [
      ...byKey.keys(),
    ]);
    const now = Date.now() / 1000;
    const done = new Set<string>();
    for (const item of items) {
      const eventId = byKey.get(String(item[IDEMPOTENCY_KEYS.partitionKey]));
      const expiration = Number(item[IDEMPOTENCY_KEYS.ttlAttribute] ?? Number.POSITIVE_INFINITY);
      if (eventId && item.status === IDEMPOTENCY_STATUS.completed && expiration > now) done.add(eventId);
    }
    return done;
  }
}
