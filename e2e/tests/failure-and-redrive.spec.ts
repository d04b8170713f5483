import { expect, test } from '../fixtures.ts';
import { anOrder, uniqueOrderId } from '../support/orders.ts';

test('a failing processor fills the DLQ; the console explains, previews and redrives it; effects happen once', async ({
  consoleApp,
  dlqPage,
  messagePage,
  deadLetters,
  effects,
}) => {
  const batch = uniqueOrderId('redrive');
  const first = anOrder(batch, { orderId: `${batch}-1`, orderAmount: 250 });
  const second = anOrder(batch, { orderId: `${batch}-2`, orderAmount: 300 });

  // The fault: the processor runs, but its downstream queue (SQS) refuses every call, so it fails every record and
  // journals why.
  await deadLetters.breakProcessor('standard', 'downstream');
  let repaired = false;
  try {
    await deadLetters.writeAndAwait('standard', [first, second]);

    await consoleApp.signInAs('operator');
    await dlqPage.open('standard');
    await dlqPage.showOrder(batch);
    await expect(dlqPage.messageFor(first.orderId)).toBeVisible();
    await expect(dlqPage.messageFor(second.orderId)).toBeVisible();
    await consoleApp.recordView('dlqs');

    await dlqPage.openMessageFor(first.orderId);
    await expect(messagePage.recordOf(first.orderId)).toBeVisible();
    await expect(messagePage.errorOf(first.orderId)).toContainText(/ECONNREFUSED .*fault injected/);
    await consoleApp.recordView('message');
    await dlqPage.page.goBack();

    await dlqPage.page.getByRole('checkbox', { name: /^Select all \d+ shown messages$/ }).check();
    const preview = await dlqPage.dryRunSelected();
    await expect(preview.getByRole('row').filter({ hasText: 'would redrive' }).first()).toBeVisible();
    await expect(preview.getByRole('row').filter({ hasText: 'kept in the queue' })).toHaveCount(0);
    expect(effects.forOrder(first.orderId)).toEqual([]);

    await deadLetters.repairProcessor('standard');
    repaired = true;
    const results = await dlqPage.redriveSelected();
    await expect(
      results.getByRole('row').filter({ hasText: 'redriven and deleted from the queue' }).first(),
    ).toBeVisible();
    await expect(results.getByRole('row').filter({ hasText: 'kept in the queue' })).toHaveCount(0);
  } finally {
    if (!repaired) await deadLetters.repairProcessor('standard');
  }

  await expect(dlqPage.page.getByText(/^0 messages shown of/)).toBeVisible();
  await expect
    .poll(async () => (await deadLetters.messagesWith('standard', [first.orderId, second.orderId])).length)
    .toBe(0);
  for (const order of [first, second]) {
    await expect.poll(() => effects.forOrder(order.orderId).length, { message: `${order.orderId} notified` }).toBe(1);
    const [notification] = effects.forOrder(order.orderId);
    expect(effects.deliveries().get(notification?.notificationId ?? '')).toBe(1);
  }
});
