import type { Locator, Page } from '@playwright/test';

/** The alarms view: state, reason, runbook and the console view each alarm points to. */
export class AlarmsPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.goto('/alarms');
  }

  alarm(name: string): Locator {
    // Exact: the composite alarm's reason names the alarms it is made of.
    return this.page
      .getByRole('table', { name: 'Alarms' })
      .getByRole('row')
      .filter({ has: this.page.getByText(name, { exact: true }) });
  }

  runbookOf(name: string): Locator {
    return this.page.getByRole('link', { name: `Runbook for ${name}` });
  }

  async followDeepLinkOf(name: string): Promise<void> {
    await this.page.getByRole('link', { name: `Open view for ${name}` }).click();
  }
}
