import * as z from 'zod/mini';
import { ORDER_STATUSES } from '../orders/order-status.ts';
import '../zod-locale.ts';

/**
 * Messages the processors send downstream. Versioned: consumers must check `schemaVersion`; additive changes keep
 * the major version, anything else bumps it. Documented in docs/NOTIFICATIONS.md.
 */
export const orderProcessedV1 = z.object({
  type: z.literal('OrderProcessed'),
  schemaVersion: z.literal('1.0'),
  /** Deterministic per stream record, so consumers can de-duplicate: `${pipe}:${eventID}`. */
  notificationId: z.string(),
  occurredAt: z.string(),
  pipe: z.literal('standard'),
  order: z.object({
    orderId: z.string(),
    customerEmail: z.string(),
    orderAmount: z.number(),
    orderStatus: z.enum(ORDER_STATUSES),
    orderDate: z.string(),
  }),
  change: z.object({
    eventName: z.enum(['INSERT', 'MODIFY']),
    previousStatus: z.nullable(z.enum(ORDER_STATUSES)),
    sequenceNumber: z.string(),
  }),
});
export type OrderProcessedV1 = z.infer<typeof orderProcessedV1>;

export const premiumOrderShippedV1 = z.object({
  type: z.literal('PremiumOrderShipped'),
  schemaVersion: z.literal('1.0'),
  notificationId: z.string(),
  occurredAt: z.string(),
  pipe: z.literal('premium'),
  order: z.object({
    orderId: z.string(),
    customerEmail: z.string(),
    orderAmount: z.number(),
    orderDate: z.string(),
  }),
  priorityShipping: z.object({ tier: z.literal('priority'), markedAt: z.string() }),
  accountManagerAction: z.string(),
});
export type PremiumOrderShippedV1 = z.infer<typeof premiumOrderShippedV1>;
