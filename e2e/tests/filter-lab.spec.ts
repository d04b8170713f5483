import { expect, test } from '../fixtures.ts';
import { anOrder } from '../support/orders.ts';

test('the filter lab names the clause that stopped an order', async ({ consoleApp, filterLab }) => {
  await consoleApp.signInAs('viewer');
  await filterLab.open();

  await filterLab.tryOrder(anOrder('lab', { orderAmount: 100 }));
  await expect(filterLab.ruleVerdict('standard')).toHaveText('does not match');
  await expect(filterLab.failingClause('standard')).toHaveText(/order amount is greater than 100 \(amount-over-100\)/);
  // An INSERT is never a premium change.
  await expect(filterLab.failingClause('premium')).toHaveText(/the change is a MODIFY \(event-is-modify\)/);
  await consoleApp.recordView('filter-lab');

  await filterLab.tryOrder(anOrder('lab', { customerEmail: 'qa@shop.test.com', orderAmount: 150 }));
  await expect(filterLab.failingClause('standard')).toHaveText(/customer email does not contain test.com/);

  await filterLab.tryOrder(anOrder('lab', { orderAmount: 150 }));
  await expect(filterLab.ruleVerdict('standard')).toHaveText('matches');
  await expect(filterLab.failingClause('standard')).toHaveCount(0);
});
