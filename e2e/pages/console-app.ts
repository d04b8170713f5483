import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';
import { ARTIFACTS_DIR } from '../support/paths.ts';

export type Role = 'operator' | 'viewer';

/** The console as an operator meets it: sign in with a token, move between views, and leave evidence of each view. */
export class ConsoleApp {
  constructor(
    readonly page: Page,
    private readonly tokens: Readonly<Record<Role, string>>,
  ) {}

  async signInAs(role: Role): Promise<void> {
    await this.page.goto('/');
    await this.page.getByLabel('Access token').fill(this.tokens[role]);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    await expect(this.page.getByRole('navigation', { name: 'Views' })).toBeVisible();
    await expect(this.page.getByText(`local-${role}`)).toBeVisible();
  }

  /** Goes to a view by its navigation link, as an operator would. */
  async openView(
    name: 'Overview' | 'Dead-letter queues' | 'Metrics' | 'Alarms' | 'Filter lab' | 'Audit log' | 'On-call inbox',
  ) {
    await this.page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name }).click();
  }

  /**
   * The console's accessibility gate and the run's picture of a view: axe-core finds no serious or critical
   * violation, and a full-page screenshot goes to `e2e/artifacts/<name>.png`.
   */
  async recordView(name: string): Promise<void> {
    await expect(this.page.getByRole('main')).not.toHaveAttribute('aria-busy', 'true');
    const results = await new AxeBuilder({ page: this.page }).analyze();
    const blocking = results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(' | ')})`);
    expect(blocking, `accessibility violations on the ${name} view`).toEqual([]);
    await this.page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
  }
}
