import type { Locator, Page } from '@playwright/test';

/** The audit log: who did what to which DLQ messages, and how it ended. */
export class AuditPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.goto('/audit');
  }

  entryFor(messageId: string, action: string): Locator {
    return this.page
      .getByRole('table', { name: 'Audit log' })
      .getByRole('row')
      .filter({ hasText: messageId })
      .filter({ has: this.page.getByRole('cell', { name: action, exact: true }) });
  }
}
