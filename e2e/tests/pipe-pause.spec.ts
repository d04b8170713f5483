import type { AuditResponse } from '@orderflow/ops-api/schemas';
import { PIPES } from '@orderflow/pipeline/facts';
import type { Page } from '@playwright/test';
import { expect, test } from '../fixtures.ts';
import { anOrder } from '../support/orders.ts';

const title = PIPES.standard.title;

/** Pause or Resume on the standard pipe's card: the button, then the confirmation with the reason. */
async function changeStandardPipe(page: Page, verb: 'Pause' | 'Resume', reason: string): Promise<void> {
  const lane = page.getByRole('listitem', { name: title });
  await lane.getByRole('button', { name: `${verb} the ${title} pipe` }).click();
  const dialog = page.getByRole('dialog', { name: `${verb} the ${title} pipe` });
  await dialog.getByLabel('Reason').fill(reason);
  await dialog.getByRole('button', { name: `${verb} pipe` }).click();
  await expect(dialog).toBeHidden();
}

test('an operator pauses the standard pipe: orders written meanwhile wait in the stream, and are processed once it resumes', async ({
  page,
  runtime,
  consoleApp,
  overview,
  orders,
  effects,
  operatorApi,
}) => {
  const pipeName = runtime.info.resources.pipes.standard.name;
  const lane = overview.lane('standard');
  await consoleApp.signInAs('operator');
  await overview.open();
  await expect(lane.getByText('running', { exact: true })).toBeVisible();

  await changeStandardPipe(page, 'Pause', 'e2e: the processor is being repaired');
  let resumed = false;
  try {
    await expect(lane.getByText('paused (stopped)')).toBeVisible();
    expect(runtime.pipes.get(pipeName)?.currentState).toBe('STOPPED');
    await consoleApp.recordView('overview-pipe-paused');

    const waiting = anOrder('paused');
    await orders.put(waiting);
    // The premium pipe reads the same stream and still runs: once it has acted on an order written after `waiting`,
    // the stream has been read past `waiting`, and the standard pipe would have had it, had it been running.
    const witness = anOrder('paused-witness', { orderAmount: 1500 });
    await orders.put(witness);
    await orders.setStatus(witness.orderId, 'shipped');
    await expect
      .poll(() => effects.forOrder(witness.orderId).filter((n) => n.type === 'PremiumOrderShipped').length, {
        message: 'the premium pipe processing the witness order',
      })
      .toBe(1);
    expect(effects.forOrder(waiting.orderId)).toEqual([]);

    await changeStandardPipe(page, 'Resume', 'e2e: repaired');
    resumed = true;
    await expect(lane.getByText('running', { exact: true })).toBeVisible();
    await expect
      .poll(() => effects.forOrder(waiting.orderId).length, { message: 'the waiting order processed' })
      .toBe(1);
    // Processed once: an order written after the resume is processed, and the waiting one still only once.
    const after = anOrder('resumed');
    await orders.put(after);
    await expect.poll(() => effects.forOrder(after.orderId).length).toBe(1);
    const [notification] = effects.forOrder(waiting.orderId);
    expect(notification).toMatchObject({ type: 'OrderProcessed', order: { orderId: waiting.orderId } });
    expect(effects.deliveries().get(notification?.notificationId ?? '')).toBe(1);
  } finally {
    // Leave the pipe running for the other specs of this worker's runtime, whatever failed above.
    if (!resumed) await runtime.pipes.get(pipeName)?.start();
  }

  // Both changes are in the audit log, each with its reason.
  const { entries } = await operatorApi.json<AuditResponse>('GET', '/api/audit');
  const changes = entries
    .filter((entry) => entry.action === 'pipe-stop' || entry.action === 'pipe-start')
    .map((entry) => [entry.action, entry.outcome, entry.detail, entry.actor].join(' | '));
  expect(changes.sort()).toEqual([
    'pipe-start | attempted | e2e: repaired | local-operator',
    'pipe-start | starting | e2e: repaired | local-operator',
    'pipe-stop | attempted | e2e: the processor is being repaired | local-operator',
    'pipe-stop | stopping | e2e: the processor is being repaired | local-operator',
  ]);
});

test('a viewer sees the pipe state, no Pause button, and the API refuses the change', async ({
  runtime,
  consoleApp,
  overview,
  viewerApi,
}) => {
  await consoleApp.signInAs('viewer');
  await overview.open();
  const lane = overview.lane('standard');
  await expect(lane.getByText('running', { exact: true })).toBeVisible();
  await expect(lane.getByRole('button', { name: /Pause|Resume/ })).toHaveCount(0);
  const refused = await viewerApi.request('POST', '/api/pipes/standard/stop', { reason: 'viewer tries' });
  expect(refused.status).toBe(403);
  expect(runtime.pipes.get(runtime.info.resources.pipes.standard.name)?.desiredState).toBe('RUNNING');
});
