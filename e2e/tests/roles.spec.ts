import { expect, test } from '../fixtures.ts';
import { anOrder } from '../support/orders.ts';

test('a viewer can inspect the DLQ but not redrive or discard, in the console and in the API', async ({
  consoleApp,
  dlqPage,
  deadLetters,
  viewerApi,
}) => {
  const order = anOrder('viewer');
  const [messageId] = await deadLetters.failProcessorFor('standard', [order]);

  await consoleApp.signInAs('viewer');
  await dlqPage.open('standard');
  await dlqPage.showOrder(order.orderId);
  await dlqPage.select(order.orderId);
  await expect(dlqPage.page.getByText('1 message selected')).toBeVisible();
  await expect(dlqPage.dryRunButton).toBeDisabled();
  await expect(dlqPage.redriveButton).toBeDisabled();
  await expect(dlqPage.discardButton).toBeDisabled();
  await expect(dlqPage.page.getByText(/Viewers can inspect but not redrive or discard/)).toBeVisible();

  const redrive = await viewerApi.request('POST', '/api/dlqs/standard/redrive', { messageIds: [messageId] });
  expect(redrive.status).toBe(403);
  const discard = await viewerApi.request('DELETE', `/api/dlqs/standard/messages/${messageId}`, { reason: 'viewer' });
  expect(discard.status).toBe(403);
  expect((await deadLetters.messagesWith('standard', [order.orderId])).map((m) => m.id)).toEqual([messageId]);
});
