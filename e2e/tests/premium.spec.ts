import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PRIORITY_SHIPMENT_KEYS } from '@orderflow/pipeline';
import { expect, test } from '../fixtures.ts';
import { anOrder, type OrderInput } from '../support/orders.ts';

test('a pending order above 1,000 that ships reaches the premium processor; one at exactly 1,000 does not', async ({
  runtime,
  orders,
  effects,
}) => {
  const premium = anOrder('premium', { orderAmount: 1500 });
  const atThreshold = anOrder('premium-1000', { orderAmount: 1000 });
  // Written last: the stream is one shard, read in order, so once its effects are seen the premium pipe has
  // evaluated the order at the threshold too.
  const sentinel = anOrder('premium-sentinel', { orderAmount: 1000.01 });

  const ship = async (order: OrderInput) => {
    await orders.put(order);
    await orders.setStatus(order.orderId, 'shipped');
  };
  for (const order of [premium, atThreshold, sentinel]) await ship(order);

  const premiumNotices = (orderId: string) => effects.forOrder(orderId).filter((n) => n.type === 'PremiumOrderShipped');
  await expect.poll(() => premiumNotices(premium.orderId).length).toBe(1);
  await expect.poll(() => premiumNotices(sentinel.orderId).length).toBe(1);
  expect(premiumNotices(atThreshold.orderId)).toEqual([]);

  const priorityMark = async (orderId: string) =>
    (
      await orders.client.send(
        new GetItemCommand({
          TableName: runtime.info.resources.priorityShipmentsTable,
          Key: { [PRIORITY_SHIPMENT_KEYS.partitionKey]: { S: orderId } },
          ConsistentRead: true,
        }),
      )
    ).Item;
  expect(await priorityMark(premium.orderId)).toMatchObject({ tier: { S: 'priority' } });
  expect(await priorityMark(atThreshold.orderId)).toBeUndefined();
});
