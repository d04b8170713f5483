import { screen } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageDetailPage } from '../src/features/messages/components/message-detail-page.tsx';
import { FakeOpsApi } from './support/fake-ops-api.ts';
import { message, messageDetail } from './support/fixtures.ts';
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
  });

  it('shows a body that is not JSON exactly as received', async () => {
    const detail = messageDetail(message('m-text', { malformed: 'the body is not JSON', batch: null, records: [] }));
    api.on('GET /api/dlqs/standard/messages/m-text', { body: { ...detail, body: 'plain <text> body' } });
    view('m-text');
    expect(await screen.findByText('plain <text> body')).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent('the body is not JSON');
  });
});
