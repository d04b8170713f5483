import type { DlqMessage, RedriveMessageResult, ResolvedRecord } from '@orderflow/ops-api/schemas';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DlqPage } from '../src/features/dlq/components/dlq-page.tsx';
import { dlqFiltersFrom, filterMessages, recordCount } from '../src/features/dlq/filters.ts';
import { FakeOpsApi } from './support/fake-ops-api.ts';
import { job, message, record } from './support/fixtures.ts';
import { renderView } from './support/render.tsx';

const MESSAGES: DlqMessage[] = [
  message('m-1', { batchSize: 3, records: [record({ orderId: 'A-100' }), record({ orderId: 'A-101' })] }),
  message('m-2', {
    batchSize: 2,
    stale: true,
    sentAt: '2026-01-14T08:00:00.000Z',
    records: [
      record({
        orderId: 'B-200',
        newImage: { orderId: 'B-200', customerEmail: 'grace@shop.io' },
        error: {
          ...(record().error as NonNullable<ResolvedRecord['error']>),
          name: 'ValidationError',
          message: 'orderAmount: must be >= 0',
        },
      }),
    ],
  }),
  message('m-3', { records: [record({ orderId: 'C-300', error: null })], condition: 'RecordAgeExceeded' }),
];

function redriven(messageId: string): RedriveMessageResult {
  return { messageId, outcome: 'redriven', reason: null, stale: false, records: [recordResult('pass', false)] };
}

function recordResult(
  ruleVerdict: 'pass' | 'reject',
  alreadyProcessed: boolean,
): RedriveMessageResult['records'][number] {
  return {
    eventId: `e-${Math.random()}`,
    orderId: 'A-100',
    source: 'stream',
    ruleVerdict,
    ruleExplanation: null,
    alreadyProcessed,
    succeeded: null,
    error: null,
  };
}

let api: FakeOpsApi;
beforeEach(async () => {
  api = await new FakeOpsApi().start();
  api.on('GET /api/dlqs', {
    body: {
      dlqs: [
        { pipe: 'standard', queueUrl: 'http://sqs/std', visible: 3, inFlight: 0, oldestMessageAgeSeconds: 7200 },
        { pipe: 'premium', queueUrl: 'http://sqs/prem', visible: 0, inFlight: 0, oldestMessageAgeSeconds: null },
      ],
    },
  });
  api.on('GET /api/dlqs/standard/messages', { body: { messages: MESSAGES, cursor: null } });
});
afterEach(() => api.stop());

function rows() {
  const table = screen.getByRole('table', { name: 'Dead-letter messages' });
  return within(table)
    .getAllByRole('checkbox', { name: /^Select message / })
    .map((box) => box.getAttribute('aria-label')?.replace('Select message ', ''));
}

describe('dead-letter filters', () => {
  it('match order id, email (any image), error text or condition, staleness and time, all together', () => {
    const run = (query: string) =>
      filterMessages(MESSAGES, dlqFiltersFrom(new URLSearchParams(query))).map((m) => m.id);
    expect(run('')).toEqual(['m-1', 'm-2', 'm-3']);
    expect(run('orderId=a-10')).toEqual(['m-1']);
    expect(run('email=GRACE@')).toEqual(['m-2']);
    expect(run('error=must be')).toEqual(['m-2']);
    expect(run('error=recordage')).toEqual(['m-3']);
    expect(run('stale=stale')).toEqual(['m-2']);
    expect(run('stale=fresh&orderId=b')).toEqual([]);
    expect(run('from=2026-01-15T00:00:00Z')).toEqual(['m-1', 'm-3']);
    expect(run('to=2026-01-15T00:00:00Z')).toEqual(['m-2']);
    expect(recordCount(MESSAGES)).toBe(6);
  });

  it("shows a record's journal error as the error, and the pipe's DLQ condition only as a condition", async () => {
    renderView(<DlqPage />, { path: '/dlqs', url: '/dlqs?pipe=standard', baseUrl: api.baseUrl });
    await waitFor(() => expect(rows()).toHaveLength(3));
    const errorCell = (id: string) => {
      const row = screen.getByRole('checkbox', { name: `Select message ${id}` }).closest('tr') as HTMLElement;
      const column = within(screen.getByRole('table', { name: 'Dead-letter messages' }))
        .getAllByRole('columnheader')
        .findIndex((header) => header.textContent === 'Error');
      return within(row).getAllByRole('cell')[column] as HTMLElement;
    };
    expect(errorCell('m-2')).toHaveTextContent(/^ValidationError: orderAmount: must be >= 0$/);
    // m-3 has no journal error: RecordAgeExceeded is why the pipe gave up, not what the processor threw.
    expect(errorCell('m-3')).toHaveTextContent(/^no journal error \(DLQ condition: RecordAgeExceeded\)$/);
    expect(within(errorCell('m-3')).getByTitle(/the pipe's reason for sending the batch to the DLQ/)).toBeVisible();
  });

  it('applies the filters in the URL and writes typed filters back to it', async () => {
    renderView(<DlqPage />, { path: '/dlqs', url: '/dlqs?pipe=standard&stale=fresh', baseUrl: api.baseUrl });
    await waitFor(() => expect(rows()).toEqual(['m-1', 'm-3']));
    expect(screen.getByText('2 messages shown of 3 loaded.')).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText('Order id'), 'C-3');
    await waitFor(() => expect(rows()).toEqual(['m-3']));
    expect(screen.getByTestId('location')).toHaveTextContent('/dlqs?pipe=standard&stale=fresh&orderId=C-3');

    await userEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(rows()).toEqual(['m-1', 'm-2', 'm-3']));
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/dlqs\?pipe=standard$/);
  });

  it('shows depth and oldest age per pipe, and an empty state for an empty queue', async () => {
    api.on('GET /api/dlqs/premium/messages', { body: { messages: [], cursor: null } });
    renderView(<DlqPage />, { path: '/dlqs', url: '/dlqs?pipe=premium', baseUrl: api.baseUrl });
    expect(await screen.findByText('The Premium order processing dead-letter queue is empty.')).toBeInTheDocument();
    const standard = screen.getByRole('heading', { name: 'Standard order processing' }).closest('li') as HTMLElement;
    expect(standard).toHaveTextContent('Messages3');
    expect(standard).toHaveTextContent('Oldest message2 h 0 min');
  });

  it('follows the cursor until the whole queue is loaded', async () => {
    api.on('GET /api/dlqs/standard/messages', (request) =>
      request.query.get('cursor') === 'page-2'
        ? { body: { messages: [MESSAGES[2]], cursor: null } }
        : { body: { messages: MESSAGES.slice(0, 2), cursor: 'page-2' } },
    );
    renderView(<DlqPage />, { path: '/dlqs', url: '/dlqs', baseUrl: api.baseUrl });
    await waitFor(() => expect(rows()).toEqual(['m-1', 'm-2', 'm-3']));
    expect(api.requestsTo('GET', '/api/dlqs/standard/messages').map((r) => r.query.get('cursor'))).toEqual([
      null,
      'page-2',
    ]);
  });
});

describe('virtualized message table', () => {
  it('keeps only the visible rows of 10,000 in the DOM and moves them on scroll', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => message(`x-${i}`));
    api.on('GET /api/dlqs/standard/messages', { body: { messages: many, cursor: null } });
    renderView(<DlqPage />, { path: '/dlqs', url: '/dlqs', baseUrl: api.baseUrl });
    const table = await screen.findByRole('table', { name: 'Dead-letter messages' }, { timeout: 10_000 });
    expect(table).toHaveAttribute('aria-rowcount', '10001');
    const first = rows();
    expect(first.length).toBeGreaterThan(5);
    expect(first.length).toBeLessThan(60);
    expect(first[0]).toBe('x-0');

    const scroller = screen.getByRole('region', { name: 'Dead-letter messages, scrollable' });
    scroller.scrollTop = 36 * 5000;
    fireEvent.scroll(scroller);
    await waitFor(() => expect(rows()).toContain('x-5000'));
    expect(rows()).not.toContain('x-0');
    expect(rows().length).toBeLessThan(60);
  });
});

describe('redrive and discard', () => {
  async function selectTwo() {
    renderView(<DlqPage />, { path: '/dlqs', url: '/dlqs?pipe=standard', baseUrl: api.baseUrl });
    await waitFor(() => expect(rows()).toHaveLength(3));
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select message m-1' }));
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select message m-2' }));
  }

  it('confirms with the number of messages and records, then shows live progress and can cancel', async () => {
    let polls = 0;
    api.on('POST /api/dlqs/standard/redrive', { status: 202, body: { jobId: 'job-1' } });
    api.on('GET /api/redrives/job-1', () => {
      polls++;
      return { body: job({ progress: { total: 2, done: 1 }, results: [redriven('m-1')] }) };
    });
    api.on('DELETE /api/redrives/job-1', () => {
      const cancelled = job({ status: 'cancelled', progress: { total: 2, done: 1 }, results: [redriven('m-1')] });
      api.on('GET /api/redrives/job-1', { body: cancelled });
      return { body: cancelled };
    });
    await selectTwo();
    expect(screen.getByText('2 messages selected (5 records).')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Redrive selected' }));
    const dialog = screen.getByRole('dialog', { name: 'Confirm redrive' });
    expect(dialog).toHaveTextContent(
      'Redrive 2 messages (5 records) from the Standard order processing dead-letter queue?',
    );
    expect(api.requestsTo('POST', '/api/dlqs/standard/redrive')).toHaveLength(0);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Confirm redrive' }));

    await screen.findByText('Running: 1 of 2 messages done, 1 succeeded, 0 failed.');
    expect(api.requestsTo('POST', '/api/dlqs/standard/redrive')[0]?.body).toEqual({
      messageIds: ['m-1', 'm-2'],
      dryRun: false,
    });
    expect(screen.getByRole('progressbar', { name: 'Redrive progress' })).toHaveAttribute('value', '1');
    expect(polls).toBeGreaterThan(0);

    await userEvent.click(screen.getByRole('button', { name: 'Cancel redrive' }));
    await screen.findByText('Cancelled: 1 of 2 messages done, 1 succeeded, 0 failed.');
    expect(api.requestsTo('DELETE', '/api/redrives/job-1')).toHaveLength(1);
    expect(screen.queryByRole('button', { name: 'Cancel redrive' })).not.toBeInTheDocument();
  });

  it('says when a job read from another instance shows only part of its results', async () => {
    api.on('POST /api/dlqs/standard/redrive', { status: 202, body: { jobId: 'job-2' } });
    api.on('GET /api/redrives/job-2', {
      body: job({
        jobId: 'job-2',
        status: 'partially-succeeded',
        progress: { total: 2, done: 2 },
        results: [redriven('m-1')],
        resultsOmitted: 1,
      }),
    });
    await selectTwo();
    await userEvent.click(screen.getByRole('button', { name: 'Redrive selected' }));
    await userEvent.click(
      within(screen.getByRole('dialog', { name: 'Confirm redrive' })).getByRole('button', { name: 'Confirm redrive' }),
    );
    await screen.findByText(
      'Partially succeeded: 2 of 2 messages done, 1 succeeded, 0 failed among the 1 results shown; 1 more are not shown here (the audit log lists every message).',
    );
  });

  it('previews a dry run per message without asking for confirmation', async () => {
    api.on('POST /api/dlqs/standard/redrive', { status: 202, body: { jobId: 'dry-1' } });
    api.on('GET /api/redrives/dry-1', {
      body: job({
        jobId: 'dry-1',
        dryRun: true,
        status: 'succeeded',
        progress: { total: 2, done: 2 },
        results: [
          {
            messageId: 'm-1',
            outcome: 'would-redrive',
            reason: null,
            stale: false,
            records: [recordResult('pass', false)],
          },
          {
            messageId: 'm-2',
            outcome: 'would-skip',
            reason: 'the rule rejects every record now',
            stale: true,
            records: [recordResult('reject', true), recordResult('reject', false)],
          },
        ],
      }),
    });
    await selectTwo();
    await userEvent.click(screen.getByRole('button', { name: 'Dry run' }));
    const results = await screen.findByRole('table', { name: 'Dry-run results' });
    expect(api.requestsTo('POST', '/api/dlqs/standard/redrive')[0]?.body).toEqual({
      messageIds: ['m-1', 'm-2'],
      dryRun: true,
    });
    const m2 = within(results).getByText('m-2').closest('tr') as HTMLElement;
    expect(
      within(m2)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['m-2', '2', 'yes', '0 pass, 2 reject', '1 of 2', 'would skip: the rule rejects every record now']);
    expect(screen.getByText('Succeeded: 2 of 2 messages done, 1 would succeed, 1 would not.')).toBeInTheDocument();
  });

  it('requires a reason to discard, and sends it for each selected message', async () => {
    api.on('DELETE /api/dlqs/standard/messages/:id', (request) => ({
      body: { discarded: true, id: request.path.split('/').at(-1), auditId: 'a-1' },
    }));
    await selectTwo();
    await userEvent.click(screen.getByRole('button', { name: 'Discard' }));
    const dialog = screen.getByRole('dialog', { name: 'Discard 2 messages' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Discard 2 messages' }));
    expect(within(dialog).getByRole('alert')).toHaveTextContent('A reason is required');
    expect(api.requestsTo('DELETE', '/api/dlqs/standard/messages/m-1')).toHaveLength(0);

    await userEvent.type(within(dialog).getByLabelText('Reason'), 'test orders from QA');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Discard 2 messages' }));
    await screen.findByText('Discarded 2 messages.');
    expect(api.requestsTo('DELETE', '/api/dlqs/standard/messages/m-2')[0]?.body).toEqual({
      reason: 'test orders from QA',
    });
  });

  it('shows the API refusal (e.g. 403, 409) instead of failing silently', async () => {
    api.on('POST /api/dlqs/standard/redrive', {
      status: 409,
      body: { message: 'message m-1 is already being redriven' },
    });
    await selectTwo();
    await userEvent.click(screen.getByRole('button', { name: 'Dry run' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not start the redrive: message m-1 is already being redriven',
    );
  });
});

describe('role gating', () => {
  it('gives viewers no enabled redrive or discard, and says why', async () => {
    renderView(<DlqPage />, { path: '/dlqs', url: '/dlqs', baseUrl: api.baseUrl, role: 'viewer' });
    await waitFor(() => expect(rows()).toHaveLength(3));
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select message m-1' }));
    for (const name of ['Dry run', 'Redrive selected', 'Discard']) {
      expect(screen.getByRole('button', { name })).toBeDisabled();
    }
    expect(screen.getByText(/Viewers can inspect but not redrive or discard/)).toBeInTheDocument();
  });

  it('enables the actions for operators once something is selected', async () => {
    renderView(<DlqPage />, { path: '/dlqs', url: '/dlqs', baseUrl: api.baseUrl, role: 'operator' });
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(screen.getByRole('button', { name: 'Redrive selected' })).toBeDisabled();
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select all 3 shown messages' }));
    expect(screen.getByRole('button', { name: 'Redrive selected' })).toBeEnabled();
    expect(screen.getByText('3 messages selected (6 records).')).toBeInTheDocument();
  });
});
