import { expect, test } from '../fixtures.ts';
import { anOrder } from '../support/orders.ts';

test('a redrive and a discard appear in the audit log with actor and outcome', async ({
  consoleApp,
  dlqPage,
  auditPage,
  deadLetters,
}) => {
  const toRedrive = anOrder('audit-redrive');
  const toDiscard = anOrder('audit-discard');
  // Two separate failures, so the orders land in two DLQ messages.
  const [redriveId] = await deadLetters.failProcessorFor('standard', [toRedrive]);
  const [discardId] = await deadLetters.failProcessorFor('standard', [toDiscard]);
  if (!redriveId || !discardId) throw new Error('expected one DLQ message per order');

  await consoleApp.signInAs('operator');
  await dlqPage.open('standard');
  await dlqPage.showOrder(toRedrive.orderId);
  await dlqPage.select(toRedrive.orderId);
  const results = await dlqPage.redriveSelected();
  await expect(results.getByRole('row').filter({ hasText: 'redriven and deleted from the queue' })).toHaveCount(1);

  await dlqPage.showOrder(toDiscard.orderId);
  await dlqPage.select(toDiscard.orderId);
  await dlqPage.discardSelected('e2e: duplicate order, refunded by hand');

  await auditPage.open();
  await expect(auditPage.entryFor(redriveId, 'redrive').filter({ hasText: 'succeeded' })).toContainText(
    'local-operator (operator)',
  );
  // A discard is audited before the message is deleted (`attempted`), then its outcome.
  const discardEntries = auditPage.entryFor(discardId, 'discard');
  await expect(discardEntries).toHaveCount(2);
  await expect(discardEntries.filter({ hasText: 'attempted: e2e: duplicate order, refunded by hand' })).toContainText(
    'local-operator (operator)',
  );
  await expect(discardEntries.filter({ hasText: 'discarded: e2e: duplicate order, refunded by hand' })).toContainText(
    'local-operator (operator)',
  );
  await consoleApp.recordView('audit');
});
