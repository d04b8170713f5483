import type { PipeKey } from '@orderflow/pipeline/facts';
import { type Order, orderProcessedV1, premiumOrderShippedV1, type StreamRecord } from '@orderflow/pipeline/schemas';
import { describe, expect, it } from 'vitest';
import {
  type GuardedOrder,
  type NotificationSender,
  orderProcessedNotification,
  type PriorityShipments,
  premiumEffects,
  standardEffects,
} from '../src/processing/effects.ts';
import { premiumRecord, standardRecord } from './support.ts';

const order: Order = {
  orderId: 'order-1',
  customerEmail: 'jane@example.org',
  orderAmount: 150.5,
  orderStatus: 'pending',
  orderDate: '2026-11-24T09:00:00Z',
};
const now = () => new Date('2026-11-24T10:00:00Z');

function guarded(record: StreamRecord, pipe: PipeKey, value: Order = order): GuardedOrder {
  return { pipe, eventId: record.eventID, record, order: value };
}

function recordingSender(): NotificationSender & { sent: { queueUrl: string; body: unknown }[] } {
  const sent: { queueUrl: string; body: unknown }[] = [];
  return {
    sent,
    async send(queueUrl, notification) {
      sent.push({ queueUrl, body: notification });
    },
  };
}

describe('standard effects', () => {
  it('sends an OrderProcessed v1 notification with a deterministic id and the change', async () => {
    const sender = recordingSender();
    const record = standardRecord({}, 'MODIFY');
    const result = await standardEffects({ sender, queueUrl: 'q', now })(guarded(record, 'standard'));
    expect(result).toEqual({ notificationId: `standard:${record.eventID}`, notified: true });
    const body = orderProcessedV1.parse(sender.sent[0]?.body);
    expect(body).toMatchObject({
      notificationId: `standard:${record.eventID}`,
      occurredAt: new Date(1_795_000_000 * 1000).toISOString(),
      order,
      change: { eventName: 'MODIFY', previousStatus: 'paid', sequenceNumber: record.dynamodb.SequenceNumber },
    });
  });

  it('refuses to build a notification that breaks the published schema', () => {
    const record = { ...standardRecord(), eventName: 'REMOVE' as const };
    expect(() => orderProcessedNotification(guarded(record, 'standard'), now())).toThrow(/does not match its schema/);
  });
});

describe('premium effects', () => {
  function memoryPriority(): PriorityShipments & { marks: Map<string, { eventId: string; markedAt: string }> } {
    const marks = new Map<string, { eventId: string; markedAt: string }>();
    return {
      marks,
      async mark(value, eventId, markedAt) {
        const existing = marks.get(value.orderId);
        if (!existing) marks.set(value.orderId, { eventId, markedAt });
        const mark = existing ?? { eventId, markedAt };
        return { markedAt: mark.markedAt, alreadyMarkedByOtherEvent: mark.eventId !== eventId };
      },
    };
  }

  it('marks the order for priority shipping, then notifies account managers', async () => {
    const sender = recordingSender();
    const priority = memoryPriority();
    const record = premiumRecord();
    const vip: Order = { ...order, orderAmount: 2500, orderStatus: 'shipped' };
    const result = await premiumEffects({ sender, queueUrl: 'am', priority, now })(guarded(record, 'premium', vip));
    expect(result).toMatchObject({ notified: true, markedAt: '2026-11-24T10:00:00.000Z' });
    expect(priority.marks.get('order-1')?.eventId).toBe(record.eventID);
    const body = premiumOrderShippedV1.parse(sender.sent[0]?.body);
    expect(body.priorityShipping).toEqual({ tier: 'priority', markedAt: '2026-11-24T10:00:00.000Z' });
    expect(body.accountManagerAction).toContain('order-1');
    expect(sender.sent[0]?.queueUrl).toBe('am');
  });

  it('does not announce an order an earlier event already marked', async () => {
    const sender = recordingSender();
    const priority = memoryPriority();
    const effects = premiumEffects({ sender, queueUrl: 'am', priority, now });
    const vip: Order = { ...order, orderAmount: 2500, orderStatus: 'shipped' };
    await effects(guarded(premiumRecord(), 'premium', vip));
    const second = await effects(guarded(premiumRecord(), 'premium', vip));
    expect(second.notified).toBe(false);
    expect(sender.sent).toHaveLength(1);
  });
});
