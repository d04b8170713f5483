import { alarmName, PIPES } from '@orderflow/pipeline/facts';
import { expect, test } from '../fixtures.ts';
import { anOrder } from '../support/orders.ts';

test('the DLQ alarm fires, shows its runbook, and its deep link opens the DLQ of that pipe', async ({
  consoleApp,
  alarmsPage,
  deadLetters,
  page,
}) => {
  const order = anOrder('oncall');
  await deadLetters.failProcessorFor('standard', [order]);
  const name = alarmName('dlq-has-messages', 'standard');

  await consoleApp.signInAs('viewer');
  await alarmsPage.open();
  await expect(async () => {
    await page.reload();
    await expect(alarmsPage.alarm(name).getByText('ALARM', { exact: true })).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 60_000 });
  await expect(alarmsPage.runbookOf(name)).toHaveAttribute('href', /docs\/runbooks\/dlq-has-messages\.md$/);
  await consoleApp.recordView('alarms');

  await alarmsPage.followDeepLinkOf(name);
  await expect(page).toHaveURL(/\/dlqs\?pipe=standard&window=\d+$/);
  await expect(page.getByRole('heading', { name: `Messages of the ${PIPES.standard.title} pipe` })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Dead-letter messages' }).getByText(order.orderId)).toBeVisible();
});
