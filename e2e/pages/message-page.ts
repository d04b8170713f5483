import type { Locator, Page } from '@playwright/test';

/** One dead-letter message, resolved to its order records with the failure journal's error. */
export class MessagePage {
  constructor(readonly page: Page) {}

  recordOf(orderId: string): Locator {
    return this.page
      .getByRole('article')
      .filter({ has: this.page.getByRole('heading', { name: `of order ${orderId}` }) });
  }

  /** The journal's error of a record: the definition after the "Error" term. */
  errorOf(orderId: string): Locator {
    return this.recordOf(orderId).getByRole('definition').first();
  }
}
