import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PRIORITY_SHIPMENT_KEYS } from '@orderflow/pipeline/facts';
import { expect, test } from '../fixtures.ts';
import { funnelDelta, funnelOf } from '../support/metrics.ts';
import { anOrder, type OrderInput } from '../support/orders.ts';

test('a pending order above 1,000 that ships reaches the premium processor; one at exactly 1,000 does not', async ({
  runtime,
  orders,
  effects,
  operatorApi,
}) => {
  const premium = anOrder('premium', { orderAmount: 1500 });
  const atThreshold = anOrder('premium-1000', { orderAmount: 1000 });
  const before = await funnelOf(operatorApi, 'premium');

  const ship = async (order: OrderInput) => {
    await orders.put(order);
    await orders.setStatus(order.orderId, 'shipped');
  };
  for (const order of [premium, atThreshold]) await ship(order);

  // Pipes cannot compare DynamoDB numbers, so both MODIFYs pass the pipe filter; the guard stops the one at 1,000.
  await expect
    .poll(async () => funnelDelta(before, await funnelOf(operatorApi, 'premium')), {
      message: 'the premium pipe counts both changes',
    })
    .toMatchObject({ filteredOut: 2, guardPassed: 1, guardRejected: 1, rejectedByClause: { 'amount-over-1000': 1 } });

  const premiumNotices = (orderId: string) => effects.forOrder(orderId).filter((n) => n.type === 'PremiumOrderShipped');
  await expect.poll(() => premiumNotices(premium.orderId).length).toBe(1);
  expect(premiumNotices(premium.orderId)[0]).toMatchObject({ order: { orderAmount: 1500 } });
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
