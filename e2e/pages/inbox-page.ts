import type { AlarmState } from '@orderflow/pipeline/facts';
import type { Locator, Page } from '@playwright/test';

/** The on-call inbox: the email the local runtime delivered, each alarm notification with its state and links. */
export class InboxPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.goto('/inbox');
  }

  get messages(): Locator {
    return this.page.getByRole('table', { name: 'On-call inbox' });
  }

  /** The rows of the messages with this subject, newest first. */
  messagesWith(subject: string): Locator {
    return this.messages.getByRole('row').filter({ hasText: subject });
  }

  /** The state badge of a row (`ALARM`, `OK`). */
  state(row: Locator, state: AlarmState): Locator {
    return row.getByText(state, { exact: true });
  }

  runbookLink(row: Locator): Locator {
    return row.getByRole('link', { name: /^Runbook/ });
  }

  consoleLink(row: Locator): Locator {
    return row.getByRole('link', { name: /^Open in the console/ });
  }
}
