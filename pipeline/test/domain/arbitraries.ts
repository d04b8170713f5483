import fc from 'fast-check';
import { buildStreamRecord, ORDER_STATUSES, type StreamRecord } from '../../src/index.ts';

/** Order images as a shop writes them, including the edge values the rules care about. */
export const orderImage = fc.record({
  orderId: fc.string({ minLength: 1, maxLength: 12 }).map((s) => `o-${s}`),
  customerEmail: fc.oneof(
    fc.constantFrom('ann@example.org', 'bob@test.com', 'qa@test.com.au', 'x@contest.com', 'ops@shop.io'),
    fc.emailAddress(),
  ),
  orderAmount: fc.oneof(
    fc.constantFrom(0, 99.99, 100, 100.01, 101, 999.99, 1000, 1000.01, 5000),
    fc.integer({ min: 0, max: 2_000_000 }).map((cents) => cents / 100),
  ),
  orderStatus: fc.oneof(fc.constantFrom(...ORDER_STATUSES), fc.constantFrom('PENDING', 'on-hold')),
  orderDate: fc.constant('2026-11-24T10:00:00Z'),
});

/** Records of every event type; images may miss fields to exercise absence. */
export const streamRecord: fc.Arbitrary<StreamRecord> = fc
  .record({
    eventName: fc.constantFrom('INSERT' as const, 'MODIFY' as const, 'REMOVE' as const),
    newImage: fc.option(orderImage, { nil: null }),
    oldImage: fc.option(orderImage, { nil: null }),
    dropField: fc.option(fc.constantFrom('orderStatus', 'orderAmount', 'customerEmail'), { nil: undefined }),
  })
  .map(({ eventName, newImage, oldImage, dropField }) => {
    const image =
      newImage && dropField ? Object.fromEntries(Object.entries(newImage).filter(([k]) => k !== dropField)) : newImage;
    return buildStreamRecord({ eventName, newImage: image, oldImage, eventID: 'e1' });
  });
