import { PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import type { Locator, Page } from '@playwright/test';

/** The pipeline diagram: one lane per pipe with the funnel counts of the chosen window; the recent IAM denials. */
export class OverviewPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.goto('/');
  }

  lane(pipe: PipeKey): Locator {
    // The lane is labelled by its heading; its own list items are the stages.
    return this.page.getByRole('listitem', { name: PIPES[pipe].title });
  }

  /** The text of a stage of a lane, e.g. `Guard` → "3 passed, 2 rejected". */
  stage(pipe: PipeKey, stage: 'Pipe filter' | 'Guard' | 'Outcome' | 'Dead-letter queue'): Locator {
    return this.lane(pipe)
      .getByRole('listitem')
      .filter({ has: this.page.getByRole('heading', { name: stage, exact: true }) })
      .getByRole('paragraph')
      .first();
  }

  /** The table of the local runtime's most recent IAM denials. */
  get denials(): Locator {
    return this.page.getByRole('table', { name: 'Recent IAM denials' });
  }

  /** The denials of an action on a resource (the table shows both in full). */
  denialsOf(action: string, resource: string): Locator {
    return this.denials
      .getByRole('row')
      .filter({ has: this.page.getByRole('cell', { name: action, exact: true }) })
      .filter({ has: this.page.getByRole('cell', { name: resource, exact: true }) });
  }
}
