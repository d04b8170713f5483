/**
 * `@orderflow/pipeline/schemas`: the domain's records and messages as `zod/mini` schemas with their parsers (orders,
 * stream records, DLQ messages, journal entries, notifications, runtime.json) and the record helpers built on them
 * (`buildStreamRecord`, `unmarshallImage`, `orderIdOf`), the dead-letter store's items, and the idempotency record keys
 * and dead-letter cause keys (Node.js: `node:crypto`).
 */
export * from './dead-letters/dead-letter.ts';
export * from './dlq/dlq-message.ts';
export * from './idempotency/idempotency-key.ts';
export * from './journal/journal-entry.ts';
export * from './notifications/notifications.ts';
export * from './orders/order.ts';
export * from './runtime/runtime-info.ts';
export * from './streams/stream-record.ts';
