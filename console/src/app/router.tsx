import { CONSOLE_AUTH_CALLBACK_PATH, CONSOLE_ROUTES } from '@orderflow/pipeline/facts';
import { createBrowserRouter, type RouteObject } from 'react-router';
import { AuthGate } from '../features/auth/components/auth-gate.tsx';
import { CognitoCallback } from '../features/auth/components/cognito-callback.tsx';
import type { RuntimeConfig } from '../lib/runtime-config.ts';
import { RouteError } from './error-boundary.tsx';
import { Layout } from './layout.tsx';

/** Views are loaded on first visit (code splitting keeps the initial JavaScript small) and switch without reloads. */
export function consoleRoutes(config: RuntimeConfig): RouteObject[] {
  return [
    { path: CONSOLE_AUTH_CALLBACK_PATH, element: <CognitoCallback config={config} /> },
    {
      element: (
        <AuthGate config={config}>
          <Layout />
        </AuthGate>
      ),
      errorElement: <RouteError />,
      children: [
        {
          errorElement: <RouteError />,
          children: [
            {
              path: CONSOLE_ROUTES.overview,
              lazy: async () => ({
                Component: (await import('../features/overview/components/overview-page.tsx')).OverviewPage,
              }),
            },
            {
              path: CONSOLE_ROUTES.dlqs,
              lazy: async () => ({ Component: (await import('../features/dlq/components/dlq-page.tsx')).DlqPage }),
            },
            {
              path: CONSOLE_ROUTES.message,
              lazy: async () => ({
                Component: (await import('../features/messages/components/message-detail-page.tsx')).MessageDetailPage,
              }),
            },
            {
              path: CONSOLE_ROUTES.metrics,
              lazy: async () => ({
                Component: (await import('../features/metrics/components/metrics-page.tsx')).MetricsPage,
              }),
            },
            {
              path: CONSOLE_ROUTES.alarms,
              lazy: async () => ({
                Component: (await import('../features/alarms/components/alarms-page.tsx')).AlarmsPage,
              }),
            },
            {
              path: CONSOLE_ROUTES.filterLab,
              lazy: async () => ({
                Component: (await import('../features/filter-lab/components/filter-lab-page.tsx')).FilterLabPage,
              }),
            },
            {
              path: CONSOLE_ROUTES.audit,
              lazy: async () => ({
                Component: (await import('../features/audit/components/audit-page.tsx')).AuditPage,
              }),
            },
            {
              path: CONSOLE_ROUTES.inbox,
              lazy: async () => ({
                Component: (await import('../features/inbox/components/inbox-page.tsx')).InboxPage,
              }),
            },
            { path: '*', element: <RouteError /> },
          ],
        },
      ],
    },
  ];
}

export function createConsoleRouter(config: RuntimeConfig) {
  return createBrowserRouter(consoleRoutes(config));
}
