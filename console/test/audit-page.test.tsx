import type { AuditEntry } from '@orderflow/ops-api/schemas';
import { screen, within } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditPage } from '../src/features/audit/components/audit-page.tsx';
import { FakeOpsApi } from './support/fake-ops-api.ts';
import { renderView } from './support/render.tsx';

const entry = (id: string, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  id,
  at: '2026-01-15T10:06:00.000Z',
  actor: 'local-operator',
  role: 'operator',
  action: 'redrive',
  pipe: 'standard',
  messageIds: [`m-${id}`],
  outcome: 'succeeded',
  detail: null,
  jobId: 'job-1',
  ...overrides,
});

let api: FakeOpsApi;
let entries: AuditEntry[] = [];
beforeAll(async () => {
  api = (await new FakeOpsApi().start()).on('GET /api/audit', (request) => ({
    // As the ops API does: `actor` keeps only entries of exactly that actor, `limit` cuts the newest first.
    body: {
      entries: entries
        .filter((e) => !request.query.get('actor') || e.actor === request.query.get('actor'))
        .slice(0, Number(request.query.get('limit') ?? 100)),
    },
  }));
});
afterAll(() => api.stop());

const view = (url: string) => renderView(<AuditPage />, { path: '/audit', url, baseUrl: api.baseUrl });

describe('audit log', () => {
  it('finds an actor from part of the name, as the action filter does', async () => {
    entries = [entry('1', { actor: 'alice.smith' }), entry('2', { actor: 'bob' })];
    view('/audit?actor=Alice');
    const table = await screen.findByRole('table', { name: 'Audit log' });
    expect(within(table).getByText(/alice\.smith/)).toBeInTheDocument();
    expect(within(table).queryByText(/bob/)).not.toBeInTheDocument();
  });

  it('says the filters hide the entries, not that nobody did anything', async () => {
    entries = [entry('1')];
    view('/audit?action=discard');
    expect(await screen.findByText(/No audit entry matches the filters/)).toBeInTheDocument();
    expect(screen.queryByText(/nobody has redriven/i)).not.toBeInTheDocument();
  });

  it('says nobody did anything when the range is empty, filters or not', async () => {
    entries = [];
    view('/audit?action=discard');
    expect(await screen.findByText(/Nobody has redriven or discarded anything in this range/)).toBeInTheDocument();
  });

  it('says when the range holds more entries than one page shows', async () => {
    entries = Array.from({ length: 600 }, (_, index) => entry(String(index)));
    view('/audit');
    expect(await screen.findByText(/only the newest 500 are searched/)).toBeInTheDocument();
  });
});
