import { PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import type { Locator, Page } from '@playwright/test';
import type { OrderInput } from '../support/orders.ts';

/** The filter lab: try an order against both pipes and read which clause stopped it. */
export class FilterLab {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.goto('/filter-lab');
  }

  /** A new order (INSERT) typed into the form, then tested against both pipes. */
  async tryOrder(order: OrderInput): Promise<void> {
    const image = this.page.getByRole('group', { name: 'New image' });
    await image.getByLabel('Order id').fill(order.orderId);
    await image.getByLabel('Customer email').fill(order.customerEmail);
    await image.getByLabel('Order amount').fill(String(order.orderAmount));
    await image.getByLabel('Order status').selectOption(order.orderStatus);
    await image.getByLabel('Order date').fill(order.orderDate);
    await this.page.getByRole('button', { name: 'Test against both pipes' }).click();
  }

  verdict(pipe: PipeKey): Locator {
    return this.page.getByRole('region', { name: PIPES[pipe].title });
  }

  /** The verdict of a pipe's full business rule: "matches" or "does not match" (the first definition). */
  ruleVerdict(pipe: PipeKey): Locator {
    return this.verdict(pipe).getByRole('definition').first();
  }

  /** The highlighted clause of a pipe's rule, "Fails: <description> (<id>)". */
  failingClause(pipe: PipeKey): Locator {
    return this.verdict(pipe).locator('mark');
  }
}
