import { expect, test } from '../fixtures.ts';
import { funnelDelta, funnelOf } from '../support/metrics.ts';
import { anOrder } from '../support/orders.ts';

test('orders written through the AWS SDK are processed, filtered out or rejected by the guard, and counted', async ({
  consoleApp,
  overview,
  page,
  orders,
  effects,
  operatorApi,
}) => {
  const matched = anOrder('happy', { orderAmount: 101 });
  const testCustomer = anOrder('happy-testcom', { customerEmail: 'qa@shop.test.com' });
  const atThreshold = anOrder('happy-100', { orderAmount: 100 });
  const cancelled = anOrder('happy-cancelled', { orderStatus: 'cancelled', orderAmount: 500 });
  const before = await funnelOf(operatorApi, 'standard');

  for (const order of [matched, testCustomer, atThreshold, cancelled]) await orders.put(order);

  await expect
    .poll(async () => funnelDelta(before, await funnelOf(operatorApi, 'standard')), {
      message: 'the standard pipe counts all four orders',
    })
    .toMatchObject({
      polled: 4,
      matchedByPipeFilter: 3,
      filteredOut: 1,
      guardPassed: 1,
      guardRejected: 2,
      processed: 1,
      rejectedByClause: { 'email-not-test-com': 1, 'amount-over-100': 1 },
    });
  await expect.poll(() => effects.forOrder(matched.orderId).length).toBe(1);
  // The funnel above says every record was evaluated, so no further notification can arrive for these.
  for (const order of [testCustomer, atThreshold, cancelled]) expect(effects.forOrder(order.orderId)).toEqual([]);
  expect(effects.forOrder(matched.orderId)[0]).toMatchObject({
    type: 'OrderProcessed',
    order: { orderId: matched.orderId, orderAmount: 101 },
  });

  const now = await funnelOf(operatorApi, 'standard');
  await consoleApp.signInAs('operator');
  await overview.open();
  await expect(overview.stage('standard', 'Guard')).toHaveText(
    `${now.guardPassed.value.toLocaleString('en-US')} passed, ${now.guardRejected.value.toLocaleString('en-US')} rejected`,
  );
  await expect(overview.stage('standard', 'Pipe filter')).toHaveText(
    `${now.matchedByPipeFilter.value.toLocaleString('en-US')} matched`,
  );
  await consoleApp.recordView('overview');

  await consoleApp.openView('Metrics');
  const standard = page.getByRole('region', { name: 'Standard order processing' });
  for (const clause of now.guardRejectedByClause)
    await expect(
      standard.getByRole('listitem').filter({ hasText: `(${clause.clause}): ${clause.value}` }),
    ).toBeVisible();
  await consoleApp.recordView('metrics');
});
