import { screen, within } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageDetailPage } from '../src/features/messages/components/message-detail-page.tsx';
import { FakeOpsApi } from './support/fake-ops-api.ts';
import { message, messageDetail, record } from './support/fixtures.ts';
import { renderView } from './support/render.tsx';

let api: FakeOpsApi;
beforeAll(async () => {
  api = (await new FakeOpsApi().start()).on('GET /api/audit', { body: { entries: [] } });
});
afterAll(() => api.stop());

const view = (id: string) =>
  renderView(<MessageDetailPage />, {
    path: '/dlqs/:pipe/messages/:messageId',
    url: `/dlqs/standard/messages/${id}`,
    baseUrl: api.baseUrl,
  });

describe('message detail', () => {
  it('shows the body the API received from SQS, not one rebuilt from the parsed fields', async () => {
    const detail = messageDetail(message('m-raw'));
    // A field the console's types do not know: only the real body can contain it.
    const body = JSON.stringify({ ...JSON.parse(detail.body), extraField: 'from-the-pipe' });
    api.on('GET /api/dlqs/standard/messages/m-raw', { body: { ...detail, body } });
    view('m-raw');
    const shown = await screen.findByText(/"extraField": "from-the-pipe"/);
    expect(shown.textContent).toBe(JSON.stringify(JSON.parse(body), null, 2));
    // The condition is the pipe's reason for the DLQ, worded as in the DLQ table, never as the processor's error.
    expect(screen.getByText('DLQ condition').nextElementSibling).toHaveTextContent(
      "RetryAttemptsExhausted: the pipe's reason for sending the batch to the DLQ",
    );
  });

  it('shows a body that is not JSON exactly as received', async () => {
    const detail = messageDetail(message('m-text', { malformed: 'the body is not JSON', batch: null, records: [] }));
    api.on('GET /api/dlqs/standard/messages/m-text', { body: { ...detail, body: 'plain <text> body' } });
    view('m-text');
    expect(await screen.findByText('plain <text> body')).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent('the body is not JSON');
  });

  it('says why a record has no journal entry: not run behind a failed change of its order, filtered out, or not reached', async () => {
    const failed = record({ orderId: 'order-a', eventId: 'a-1', sequenceNumber: '99' });
    const failedThenApplied = record({
      orderId: 'order-d',
      eventId: 'd-1',
      sequenceNumber: '98',
      alreadyProcessed: true,
    });
    const blocked = record({ orderId: 'order-a', eventId: 'a-2', sequenceNumber: '100', error: null });
    const filteredOut = record({
      orderId: 'order-b',
      eventId: 'b-1',
      sequenceNumber: '101',
      error: null,
      explanation: {
        pipeFilter: false,
        rule: false,
        failingClause: { id: 'status', description: 'status is pending or shipped' },
        explanation: 'orderStatus is "cancelled"',
      },
    });
    // A later change of order-b than a failure of order-a: not blocked by it.
    const notReached = record({ orderId: 'order-b', eventId: 'b-2', sequenceNumber: '102', error: null });
    const done = record({
      orderId: 'order-c',
      eventId: 'c-1',
      sequenceNumber: '103',
      error: null,
      alreadyProcessed: true,
    });
    const detail = messageDetail(
      message('m-why', { records: [failedThenApplied, failed, blocked, filteredOut, notReached, done] }),
    );
    api.on('GET /api/dlqs/standard/messages/m-why', { body: detail });
    view('m-why');
    const article = async (eventId: string) =>
      (await screen.findByRole('heading', { name: new RegExp(`event ${eventId},`) })).closest('article') as HTMLElement;
    expect(await article('a-2')).toHaveTextContent(
      "Not run: event a-1, an earlier change of the same order, failed first, and an order's changes are processed in stream order.",
    );
    expect(await article('b-1')).toHaveTextContent("the pipe's filter does not match this record");
    expect(await article('b-2')).toHaveTextContent('the processor did not record a failure for this record');
    expect(await article('a-1')).toHaveTextContent('DownstreamError: notification queue unavailable');
    expect(await article('c-1')).toHaveTextContent('the processor already applied this record');
    expect(within(await article('d-1')).getByText(/^applied by a later retry or redrive/)).toBeInTheDocument();
    expect(await article('a-1')).not.toHaveTextContent('Since then');
  });
});
