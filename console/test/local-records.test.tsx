import type { Denial, DenialsResponse, InboxMessage, InboxResponse } from '@orderflow/ops-api/schemas';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InboxPage } from '../src/features/inbox/components/inbox-page.tsx';
import { RecentDenials } from '../src/features/overview/components/recent-denials.tsx';
import { FakeOpsApi } from './support/fake-ops-api.ts';
import { renderView } from './support/render.tsx';

const TOPIC = 'arn:aws:sns:us-east-1:000000000000:MonitoringAlarmTopic';

function inboxMessage(id: string, overrides: Partial<InboxMessage> = {}): InboxMessage {
  return {
    id: `20260115T100600000Z_${id}_oncall%40orderflow.local.json`,
    to: 'oncall@orderflow.local',
    deliveredAt: '2026-01-15T10:06:00.000Z',
    subject: 'ALARM: "orderflow-standard-dlq-has-messages" in US East (N. Virginia)',
    topicArn: TOPIC,
    messageId: id,
    body: `{\n  "Type": "Notification",\n  "MessageId": "${id}"\n}`,
    alarm: {
      name: 'orderflow-standard-dlq-has-messages',
      description: 'Runbook: https://example.com/docs/runbooks/dlq-has-messages.md Console: …',
      newState: 'ALARM',
      oldState: 'OK',
      reason: 'Threshold Crossed: 1 out of the last 1 datapoints [1.0] was greater than the threshold (0.0).',
      stateChangeTime: '2026-01-15T10:05:59.000+0000',
      runbookUrl: 'https://example.com/docs/runbooks/dlq-has-messages.md',
      // The console's own origin (jsdom's page): the link navigates inside the console.
      consoleUrl: `${window.location.origin}/dlqs?pipe=standard&window=3600`,
    },
    ...overrides,
  };
}

const denial = (overrides: Partial<Denial> = {}): Denial => ({
  time: '2026-01-15T10:04:00.000Z',
  principal: 'arn:aws:sts::000000000000:assumed-role/OrderProcessorRole/OrderProcessorFunction',
  role: 'OrderProcessorRole',
  action: 'dynamodb:PutItem',
  resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/AuditTable',
  reason: 'no-identity-allow',
  message:
    'User: ... is not authorized to perform: dynamodb:PutItem on resource: ... because no identity-based policy allows the dynamodb:PutItem action',
  policy: null,
  endpoint: 'dynamodb',
  ...overrides,
});

let api: FakeOpsApi;
let inbox: InboxResponse = { available: true, messages: [] };
let denials: DenialsResponse = { available: true, total: 0, denials: [] };
beforeAll(async () => {
  api = (await new FakeOpsApi().start())
    .on('GET /api/local/inbox', () => ({ body: inbox }))
    .on('GET /api/local/denials', () => ({ body: denials }));
});
afterAll(() => api.stop());

describe('on-call inbox', () => {
  const view = () => renderView(<InboxPage />, { path: '/inbox', url: '/inbox', baseUrl: api.baseUrl });

  it('shows each notification with its state change and both links; the console link navigates in place', async () => {
    inbox = {
      available: true,
      messages: [
        inboxMessage('m-2'),
        inboxMessage('m-1', {
          subject: 'OK: "orderflow-standard-dlq-has-messages" in US East (N. Virginia)',
          alarm: { ...(inboxMessage('x').alarm as NonNullable<InboxMessage['alarm']>), newState: 'OK', oldState: null },
        }),
      ],
    };
    view();
    const table = await screen.findByRole('table', { name: 'On-call inbox' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    const alarm = rows[0] as HTMLElement;
    expect(within(alarm).getByText('ALARM', { exact: true })).toBeInTheDocument();
    expect(within(alarm).getByText(/from OK/)).toBeInTheDocument();
    expect(within(alarm).getByText(/Threshold Crossed/)).toBeInTheDocument();
    expect(within(alarm).getByRole('link', { name: /^Runbook/ })).toHaveAttribute(
      'href',
      'https://example.com/docs/runbooks/dlq-has-messages.md',
    );
    expect(within(rows[1] as HTMLElement).getByText('OK', { exact: true })).toBeInTheDocument();

    await userEvent.click(within(alarm).getByText(/^Email as received/));
    expect(within(alarm).getByText(/"Type": "Notification"/)).toBeVisible();
    await userEvent.click(within(alarm).getByRole('link', { name: /^Open in the console/ }));
    expect(screen.getByTestId('location')).toHaveTextContent('/dlqs?pipe=standard&window=3600');
  });

  it('keeps a link to a console elsewhere an ordinary link', async () => {
    const message = inboxMessage('m-3');
    inbox = {
      available: true,
      messages: [
        {
          ...message,
          alarm: {
            ...(message.alarm as NonNullable<InboxMessage['alarm']>),
            consoleUrl: 'https://d111.cloudfront.net/dlqs?pipe=standard&window=3600',
          },
        },
      ],
    };
    view();
    expect(await screen.findByRole('link', { name: /^Open in the console/ })).toHaveAttribute(
      'href',
      'https://d111.cloudfront.net/dlqs?pipe=standard&window=3600',
    );
  });

  it('says why there is nothing to show in AWS', async () => {
    inbox = { available: false, reason: 'Not available in AWS: alarm notifications are emailed …' };
    view();
    expect(await screen.findByText(/^Not available in AWS/)).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('says when nothing has been mailed yet', async () => {
    inbox = { available: true, messages: [] };
    view();
    expect(await screen.findByText(/^No email yet/)).toBeInTheDocument();
  });
});

describe('recent IAM denials on the overview', () => {
  const view = () => renderView(<RecentDenials />, { path: '/', url: '/', baseUrl: api.baseUrl });

  it('lists who was refused what on which resource, why and when, and how many in all', async () => {
    denials = {
      available: true,
      total: 12,
      denials: [denial(), denial({ role: null, principal: 'cloudwatch.amazonaws.com', policy: 'TopicPolicy#0' })],
    };
    view();
    const table = await screen.findByRole('table', { name: 'Recent IAM denials' });
    const [first, second] = within(table).getAllByRole('row').slice(1) as [HTMLElement, HTMLElement];
    expect(within(first).getByText('OrderProcessorRole')).toBeInTheDocument();
    expect(within(first).getByText(/assumed-role\/OrderProcessorRole/)).toBeInTheDocument();
    expect(within(first).getByText('dynamodb:PutItem')).toBeInTheDocument();
    expect(within(first).getByText(/table\/AuditTable$/)).toBeInTheDocument();
    expect(within(first).getByText('no-identity-allow')).toBeInTheDocument();
    expect(within(first).getByRole('time')).toHaveAttribute('datetime', '2026-01-15T10:04:00.000Z');
    expect(within(second).getByText('Denied by TopicPolicy#0')).toBeInTheDocument();
    expect(
      screen.getByText(/12 requests denied since the local runtime started; the latest 2 are listed/),
    ).toBeVisible();
  });

  it('says none were denied, or why they cannot be shown', async () => {
    denials = { available: true, total: 0, denials: [] };
    const { unmount } = view();
    expect(await screen.findByText(/No request has been denied/)).toBeInTheDocument();
    unmount();
    denials = { available: false, reason: 'Not available in AWS: refused calls are recorded by CloudTrail …' };
    view();
    expect(await screen.findByText(/^Not available in AWS: refused calls/)).toBeInTheDocument();
  });
});
