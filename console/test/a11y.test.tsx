import { render, screen } from '@testing-library/react';
import axe from 'axe-core';
import type { ReactNode } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlarmsPage } from '../src/features/alarms/components/alarms-page.tsx';
import { AuditPage } from '../src/features/audit/components/audit-page.tsx';
import { LoginPage } from '../src/features/auth/components/login-page.tsx';
import { DlqPage } from '../src/features/dlq/components/dlq-page.tsx';
import { FilterLabPage } from '../src/features/filter-lab/components/filter-lab-page.tsx';
import { InboxPage } from '../src/features/inbox/components/inbox-page.tsx';
import { MessageDetailPage } from '../src/features/messages/components/message-detail-page.tsx';
import { MetricsPage } from '../src/features/metrics/components/metrics-page.tsx';
import { OverviewPage } from '../src/features/overview/components/overview-page.tsx';
import { FakeOpsApi } from './support/fake-ops-api.ts';
import { message, messageDetail, record } from './support/fixtures.ts';
import { renderView } from './support/render.tsx';

const stage = (label: string, value: number) => ({ label, value, estimate: false });
const METRICS = {
  pipe: 'standard',
  from: '2026-01-15T10:00:00.000Z',
  to: '2026-01-15T11:00:00.000Z',
  period: 60,
  exact: true,
  funnel: {
    polled: stage('Read from the stream', 40),
    matchedByPipeFilter: stage('Matched by the pipe filter', 20),
    filteredOut: stage('Filtered out', 20),
    guardPassed: stage('Passed the guard', 15),
    guardRejected: stage('Rejected by the guard', 5),
    guardRejectedByClause: [{ clause: 'amount-over-100', description: 'order amount is greater than 100', value: 5 }],
    processed: stage('Processed', 14),
    failed: stage('Failed', 1),
    sentToDlq: stage('Sent to the DLQ', 1),
  },
  series: [
    {
      stage: 'RecordsProcessed',
      points: [
        { timestamp: '2026-01-15T10:00:00.000Z', value: 4 },
        { timestamp: '2026-01-15T10:01:00.000Z', value: 10 },
      ],
    },
  ],
};

let api: FakeOpsApi;
beforeAll(async () => {
  api = await new FakeOpsApi().start();
  const m = message('m-1', {
    batchSize: 2,
    records: [record({ oldImage: { orderId: 'order-1', orderStatus: 'paid' } })],
  });
  api
    .on('GET /api/dlqs', {
      body: {
        dlqs: [{ pipe: 'standard', queueUrl: 'http://q', visible: 1, inFlight: 0, oldestMessageAgeSeconds: 60 }],
      },
    })
    .on('GET /api/dlqs/standard/messages', { body: { messages: [m], cursor: null } })
    .on('GET /api/dlqs/standard/messages/m-1', { body: messageDetail(m) })
    .on('GET /api/metrics/filter', (request) => ({ body: { ...METRICS, pipe: request.query.get('pipe') } }))
    .on('GET /api/alarms', {
      body: {
        alarms: [
          {
            name: 'orderflow-standard-dlq-has-messages',
            pipe: 'standard',
            slug: 'dlq-has-messages',
            title: 'Dead-letter queue has messages',
            state: 'ALARM',
            reason: 'Threshold crossed: 1 datapoint [1.0] was greater than the threshold (0.0).',
            since: '2026-01-15T10:05:00.000Z',
            runbookUrl: 'https://example.com/docs/runbooks/dlq-has-messages.md',
            consoleUrl: null,
          },
        ],
      },
    })
    .on('GET /api/local/denials', {
      body: {
        available: true,
        total: 1,
        denials: [
          {
            time: '2026-01-15T10:04:00.000Z',
            principal: 'arn:aws:sts::000000000000:assumed-role/OrderProcessorRole/OrderProcessorFunction',
            role: 'OrderProcessorRole',
            action: 'dynamodb:PutItem',
            resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/AuditTable',
            reason: 'no-identity-allow',
            message: 'User: ... is not authorized to perform: dynamodb:PutItem',
            policy: null,
            endpoint: 'dynamodb',
          },
        ],
      },
    })
    .on('GET /api/local/inbox', {
      body: {
        available: true,
        messages: [
          {
            id: 'f-1',
            to: 'oncall@orderflow.local',
            deliveredAt: '2026-01-15T10:06:00.000Z',
            subject: 'ALARM: "orderflow-standard-dlq-has-messages" in US East (N. Virginia)',
            topicArn: 'arn:aws:sns:us-east-1:000000000000:AlarmTopic',
            messageId: 'n-1',
            body: '{"Type":"Notification"}',
            alarm: {
              name: 'orderflow-standard-dlq-has-messages',
              description: null,
              newState: 'ALARM',
              oldState: 'OK',
              reason: 'Threshold Crossed',
              stateChangeTime: '2026-01-15T10:05:59.000+0000',
              runbookUrl: 'https://example.com/docs/runbooks/dlq-has-messages.md',
              consoleUrl: 'https://example.com/dlqs?pipe=standard&window=3600',
            },
          },
        ],
      },
    })
    .on('GET /api/audit', {
      body: {
        entries: [
          {
            id: 'a-1',
            at: '2026-01-15T10:06:00.000Z',
            actor: 'local-operator',
            role: 'operator',
            action: 'redrive',
            pipe: 'standard',
            messageIds: ['m-1'],
            outcome: 'succeeded',
            detail: null,
            jobId: 'job-1',
          },
        ],
      },
    });
});
afterAll(() => api.stop());

/** Serious and critical violations; colour contrast needs layout and real styles, so the e2e suite checks it. */
async function seriousViolations(): Promise<string[]> {
  const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
}

const VIEWS: { name: string; ui: ReactNode; path: string; url: string; ready: string }[] = [
  { name: 'overview', ui: <OverviewPage />, path: '/', url: '/', ready: 'healthy|unhealthy' },
  { name: 'dead-letter queues', ui: <DlqPage />, path: '/dlqs', url: '/dlqs?pipe=standard', ready: '1 message shown' },
  {
    name: 'message detail',
    ui: <MessageDetailPage />,
    path: '/dlqs/:pipe/messages/:messageId',
    url: '/dlqs/standard/messages/m-1',
    ready: 'Old and new image',
  },
  { name: 'metrics', ui: <MetricsPage />, path: '/metrics', url: '/metrics?pipe=standard', ready: 'Records over time' },
  { name: 'alarms', ui: <AlarmsPage />, path: '/alarms', url: '/alarms', ready: 'Dead-letter queue has messages' },
  { name: 'filter lab', ui: <FilterLabPage />, path: '/filter-lab', url: '/filter-lab', ready: 'Filter lab' },
  { name: 'audit log', ui: <AuditPage />, path: '/audit', url: '/audit', ready: 'local-operator' },
  { name: 'on-call inbox', ui: <InboxPage />, path: '/inbox', url: '/inbox', ready: 'Threshold Crossed' },
];

describe('accessibility (axe-core, serious and critical)', () => {
  it.each(VIEWS)('$name has none', async ({ ui, path, url, ready }) => {
    renderView(<main>{ui}</main>, { path, url, baseUrl: api.baseUrl });
    expect((await screen.findAllByText(new RegExp(ready), {}, { timeout: 5000 })).length).toBeGreaterThan(0);
    expect(await seriousViolations()).toEqual([]);
  });

  it('the check itself finds a serious violation (an unlabelled input)', async () => {
    render(<input type="text" />);
    expect((await seriousViolations()).join('\n')).toMatch(/^label: input/);
  });

  it('the login has none', async () => {
    render(
      <LoginPage
        config={{ apiBaseUrl: '', auth: { mode: 'local' } }}
        notice="Token rejected"
        onToken={() => undefined}
      />,
    );
    expect(await seriousViolations()).toEqual([]);
  });
});
