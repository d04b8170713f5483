import { PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import { expect, type Locator, type Page } from '@playwright/test';

/** The dead-letter queue view: find the messages of some orders, preview, redrive or discard them. */
export class DlqPage {
  constructor(readonly page: Page) {}

  async open(pipe: PipeKey): Promise<void> {
    await this.page.goto(`/dlqs?pipe=${pipe}`);
    await expect(this.page.getByRole('heading', { name: `Messages of the ${PIPES[pipe].title} pipe` })).toBeVisible();
  }

  get messages(): Locator {
    return this.page.getByRole('table', { name: 'Dead-letter messages' });
  }

  async showOrder(orderId: string): Promise<void> {
    await this.page.getByLabel('Order id').fill(orderId);
  }

  messageFor(orderId: string): Locator {
    return this.messages.getByRole('row').filter({ hasText: orderId });
  }

  async select(orderId: string): Promise<void> {
    await this.messageFor(orderId).getByRole('checkbox').check();
  }

  async openMessageFor(orderId: string): Promise<void> {
    await this.messageFor(orderId)
      .getByRole('link', { name: /^Open message/ })
      .click();
  }

  get dryRunButton(): Locator {
    return this.page.getByRole('button', { name: 'Dry run' });
  }
  get redriveButton(): Locator {
    return this.page.getByRole('button', { name: 'Redrive selected' });
  }
  get discardButton(): Locator {
    return this.page.getByRole('button', { name: 'Discard' });
  }

  /** Runs a dry run of the selection and answers the preview table once the job finished. */
  async dryRunSelected(): Promise<Locator> {
    await this.dryRunButton.click();
    const results = this.page.getByRole('table', { name: 'Dry-run results' });
    await expect(results).toBeVisible();
    return results;
  }

  /** Redrives the selection after the confirmation and answers the results table once the job finished. */
  async redriveSelected(): Promise<Locator> {
    await this.redriveButton.click();
    const dialog = this.page.getByRole('dialog', { name: 'Confirm redrive' });
    await dialog.getByRole('button', { name: 'Confirm redrive' }).click();
    const results = this.page.getByRole('table', { name: 'Redrive results' });
    await expect(results).toBeVisible();
    return results;
  }

  async discardSelected(reason: string): Promise<void> {
    await this.discardButton.click();
    const dialog = this.page.getByRole('dialog', { name: /^Discard/ });
    await dialog.getByLabel('Reason').fill(reason);
    await dialog.getByRole('button', { name: /^Discard \d+ message/ }).click();
    await expect(this.page.getByRole('status').filter({ hasText: /^Discarded \d+ message/ })).toBeVisible();
  }
}
