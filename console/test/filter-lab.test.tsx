import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilterLabPage } from '../src/features/filter-lab/components/filter-lab-page.tsx';
import { FakeOpsApi } from './support/fake-ops-api.ts';
import { renderView } from './support/render.tsx';

let api: FakeOpsApi;
beforeAll(async () => {
  api = await new FakeOpsApi().start();
});
afterAll(() => api.stop());

describe('filter lab', () => {
  it('sends the order as plain JSON and highlights the failing clause the API names by id', async () => {
    api.on('POST /api/filters/test', {
      body: {
        results: {
          standard: {
            rule: false,
            pipeFilter: true,
            failingClause: { id: 'amount-over-100', description: 'order amount is greater than 100' },
            // The explanation's words mention another clause: highlighting must follow the id, not the text.
            explanation: 'The rule rejects it (status-pending-or-shipped holds): 80 is not > 100',
          },
          premium: {
            rule: false,
            pipeFilter: false,
            failingClause: { id: 'event-is-modify', description: 'the change is a MODIFY' },
            explanation: 'The pipe filter drops the record: eventName is INSERT',
          },
        },
      },
    });
    renderView(<FilterLabPage />, { path: '/filter-lab', url: '/filter-lab', baseUrl: api.baseUrl });
    const amount = screen.getByLabelText('Order amount');
    await userEvent.clear(amount);
    await userEvent.type(amount, '80');
    await userEvent.click(screen.getByRole('button', { name: 'Test against both pipes' }));

    const standard = await screen.findByRole('region', { name: 'Standard order processing' });
    expect(api.requests.at(-1)?.body).toMatchObject({
      eventName: 'INSERT',
      oldImage: null,
      newImage: { orderAmount: 80, orderStatus: 'pending' },
    });
    expect(within(standard).getByText('Fails:').closest('li')).toHaveTextContent('amount-over-100');
    expect(within(standard).getAllByText('Fails:')).toHaveLength(1);
    expect(within(standard).getByText('rejects')).toBeInTheDocument();

    const premium = screen.getByRole('region', { name: 'Premium order processing' });
    expect(within(premium).getByText('Fails:').closest('li')).toHaveTextContent('the change is a MODIFY');
    expect(within(premium).getByText('not reached (the pipe filter drops it)')).toBeInTheDocument();
  });

  it('refuses raw JSON that does not parse, and shows API validation errors', async () => {
    api.on('POST /api/filters/test', { status: 400, body: { message: 'record.dynamodb.Keys: Required' } });
    renderView(<FilterLabPage />, { path: '/filter-lab', url: '/filter-lab', baseUrl: api.baseUrl });
    await userEvent.click(screen.getByRole('radio', { name: 'Raw stream record (JSON)' }));
    const editor = screen.getByLabelText('Stream record JSON');
    await userEvent.clear(editor);
    await userEvent.type(editor, '{{"eventName": ');
    const before = api.requests.length;
    await userEvent.click(screen.getByRole('button', { name: 'Test against both pipes' }));
    expect(screen.getByRole('alert')).toHaveTextContent('The stream record is not valid JSON');
    expect(api.requests.length).toBe(before);

    await userEvent.clear(editor);
    await userEvent.type(editor, '{{"eventName": "INSERT"}');
    await userEvent.click(screen.getByRole('button', { name: 'Test against both pipes' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The ops API refused the test: record.dynamodb.Keys: Required',
    );
    expect(api.requests.at(-1)?.body).toEqual({ record: { eventName: 'INSERT' } });
  });
});
