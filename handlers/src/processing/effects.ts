import { ORDER_STATUSES, type OrderStatus, type PipeKey } from '@orderflow/pipeline/facts';
import {
  formatIssues,
  type Order,
  type OrderProcessedV1,
  orderProcessedV1,
  type PremiumOrderShippedV1,
  premiumOrderShippedV1,
  type StreamRecord,
  unmarshallImage,
} from '@orderflow/pipeline/schemas';
import type { ZodMiniType } from 'zod/mini';

/** A record that passed the guard, with its validated order: the input of a pipe's effects. */
export interface GuardedOrder {
  readonly pipe: PipeKey;
  readonly eventId: string;
  readonly record: StreamRecord;
  readonly order: Order;
}

/** What the effects did; stored by the idempotency layer and returned again for a repeated record. */
export interface EffectsResult {
  readonly notificationId: string;
  /** False when the effects were skipped on purpose (e.g. the order was already marked by another event). */
  readonly notified: boolean;
  [key: string]: string | boolean;
}

export type Effects = (input: GuardedOrder) => Promise<EffectsResult>;

/** Thrown when an outgoing notification does not satisfy its published schema (a bug, never sent). */
export class NotificationSchemaError extends Error {
  override readonly name = 'NotificationSchemaError';
}

/** Sends one notification downstream; `attributes` let consumers route on type and version without parsing. */
export interface NotificationSender {
  send(queueUrl: string, notification: { type: string; schemaVersion: string; notificationId: string }): Promise<void>;
}

/** The priority-shipping mark of the premium workflow. */
export interface PriorityShipments {
  /**
   * Marks the order once. Returns the mark of this event (also when it is marked again by the same event, e.g. a
   * retry after the notification failed), or `alreadyMarkedByOtherEvent` when an earlier change already marked it.
   */
  mark(
    order: Order,
    eventId: string,
    markedAt: string,
  ): Promise<{ markedAt: string; alreadyMarkedByOtherEvent: boolean }>;
}

/** `${pipe}:${eventID}`: the same for every retry and redrive of a record, so consumers can de-duplicate. */
export function notificationIdOf(input: Pick<GuardedOrder, 'pipe' | 'eventId'>): string {
  return `${input.pipe}:${input.eventId}`;
}

/** When the change happened: the stream's approximate creation time, so retries carry the same value. */
function occurredAt(record: StreamRecord, fallback: Date): string {
  const seconds = record.dynamodb.ApproximateCreationDateTime;
  return (seconds === undefined ? fallback : new Date(seconds * 1000)).toISOString();
}

function previousStatusOf(record: StreamRecord): OrderStatus | null {
  const status = unmarshallImage(record.dynamodb.OldImage)?.orderStatus;
  return (ORDER_STATUSES as readonly unknown[]).includes(status) ? (status as OrderStatus) : null;
}

function conform<T>(schema: ZodMiniType<T>, message: unknown, type: string): T {
  const result = schema.safeParse(message);
  if (!result.success) {
    throw new NotificationSchemaError(
      `${type} notification does not match its schema: ${formatIssues(result.error).join('; ')}`,
      {
        cause: result.error,
      },
    );
  }
  return result.data;
}

export function orderProcessedNotification(input: GuardedOrder, now: Date): OrderProcessedV1 {
  const { record, order } = input;
  return conform(
    orderProcessedV1,
    {
      type: 'OrderProcessed',
      schemaVersion: '1.0',
      notificationId: notificationIdOf(input),
      occurredAt: occurredAt(record, now),
      pipe: 'standard',
      order,
      change: {
        eventName: record.eventName,
        previousStatus: previousStatusOf(record),
        sequenceNumber: record.dynamodb.SequenceNumber,
      },
    },
    'OrderProcessed',
  );
}

export function premiumOrderShippedNotification(
  input: GuardedOrder,
  markedAt: string,
  now: Date,
): PremiumOrderShippedV1 {
  const { order } = input;
  return conform(
    premiumOrderShippedV1,
    {
      type: 'PremiumOrderShipped',
      schemaVersion: '1.0',
      notificationId: notificationIdOf(input),
      occurredAt: occurredAt(input.record, now),
      pipe: 'premium',
      order: {
        orderId: order.orderId,
        customerEmail: order.customerEmail,
        orderAmount: order.orderAmount,
        orderDate: order.orderDate,
      },
      priorityShipping: { tier: 'priority', markedAt },
      accountManagerAction: `Contact the customer of order ${order.orderId} (${order.orderAmount.toFixed(2)}) to confirm priority delivery.`,
    },
    'PremiumOrderShipped',
  );
}

/** Standard pipe: the order is valid (the guard and schema passed); tell notification and analytics consumers. */
export function standardEffects(deps: { sender: NotificationSender; queueUrl: string; now?: () => Date }): Effects {
  const now = deps.now ?? (() => new Date());
  return async (input) => {
    const notification = orderProcessedNotification(input, now());
    await deps.sender.send(deps.queueUrl, notification);
    return { notificationId: notification.notificationId, notified: true };
  };
}

/**
 * Premium pipe, the VIP workflow: mark the order for priority shipping, then notify account managers. The mark is
 * written first and is itself idempotent per event, so a retry after a failed notification re-sends without marking
 * twice; an order an earlier change already marked is not announced again.
 */
export function premiumEffects(deps: {
  sender: NotificationSender;
  queueUrl: string;
  priority: PriorityShipments;
  now?: () => Date;
}): Effects {
  const now = deps.now ?? (() => new Date());
  return async (input) => {
    const at = now();
    const mark = await deps.priority.mark(input.order, input.eventId, at.toISOString());
    const notificationId = notificationIdOf(input);
    if (mark.alreadyMarkedByOtherEvent) return { notificationId, notified: false, markedAt: mark.markedAt };
    const notification = premiumOrderShippedNotification(input, mark.markedAt, at);
    await deps.sender.send(deps.queueUrl, notification);
    return { notificationId, notified: true, markedAt: mark.markedAt };
  };
}
