import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalRuntime, startLocalRuntime } from '@orderflow/local';
import { buildApp, configFromRuntimeInfo } from '@orderflow/ops-api';
import { test as base, expect } from '@playwright/test';
import { AlarmsPage } from './pages/alarms-page.ts';
import { AuditPage } from './pages/audit-page.ts';
import { ConsoleApp } from './pages/console-app.ts';
import { DlqPage } from './pages/dlq-page.ts';
import { FilterLab } from './pages/filter-lab.ts';
import { MessagePage } from './pages/message-page.ts';
import { OverviewPage } from './pages/overview-page.ts';
import { DeadLetters } from './support/dead-letters.ts';
import { EffectsLog } from './support/effects.ts';
import { OpsApiClient } from './support/ops-api.ts';
import { OrderWriter } from './support/orders.ts';
import { CONSOLE_DIST } from './support/paths.ts';

interface WorkerFixtures {
  /** The whole pipeline with the ops API and the console, one per worker, stopped after the worker's last test. */
  runtime: LocalRuntime;
  orders: OrderWriter;
  effects: EffectsLog;
  operatorApi: OpsApiClient;
  viewerApi: OpsApiClient;
}

interface TestFixtures {
  deadLetters: DeadLetters;
  consoleApp: ConsoleApp;
  overview: OverviewPage;
  dlqPage: DlqPage;
  messagePage: MessagePage;
  filterLab: FilterLab;
  alarmsPage: AlarmsPage;
  auditPage: AuditPage;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  runtime: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright requires the destructuring pattern
    async ({}, use) => {
      const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-e2e-'));
      const runtime = await startLocalRuntime({
        traffic: 'off',
        opsApi: { buildApp, configFromRuntimeInfo },
        consoleDir: CONSOLE_DIST,
        stateDir,
        // Alarms and queue depths every second and retries 100 ms apart: the on-call and DLQ scenarios take
        // seconds, not minutes. Evaluation itself is the stack's alarm definitions, unchanged.
        observeIntervalMs: 1000,
        pipeTiming: { retryBaseDelayMs: 100 },
      });
      try {
        await use(runtime);
      } finally {
        await runtime.stop();
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  orders: [
    async ({ runtime }, use) => {
      const writer = OrderWriter.forRuntime(runtime.info);
      await use(writer);
      writer.close();
    },
    { scope: 'worker' },
  ],
  effects: [
    async ({ runtime }, use) => {
      const log = EffectsLog.forRuntime(runtime.info);
      await use(log);
      await log.stop();
      // Every notification of the run must match its published schema (docs/NOTIFICATIONS.md).
      expect(log.unreadable).toEqual([]);
    },
    { scope: 'worker' },
  ],
  operatorApi: [
    async ({ runtime }, use) => use(OpsApiClient.forRuntime(runtime.info, 'operator')),
    { scope: 'worker' },
  ],
  viewerApi: [async ({ runtime }, use) => use(OpsApiClient.forRuntime(runtime.info, 'viewer')), { scope: 'worker' }],

  baseURL: async ({ runtime }, use) => use(runtime.info.console),
  deadLetters: async ({ runtime, orders, operatorApi }, use) => {
    const deadLetters = new DeadLetters(runtime.info, orders, operatorApi);
    await use(deadLetters);
    await deadLetters.cleanUp();
  },
  consoleApp: async ({ page, runtime }, use) => use(new ConsoleApp(page, runtime.info.tokens)),
  overview: async ({ page }, use) => use(new OverviewPage(page)),
  dlqPage: async ({ page }, use) => use(new DlqPage(page)),
  messagePage: async ({ page }, use) => use(new MessagePage(page)),
  filterLab: async ({ page }, use) => use(new FilterLab(page)),
  alarmsPage: async ({ page }, use) => use(new AlarmsPage(page)),
  auditPage: async ({ page }, use) => use(new AuditPage(page)),
});

export { expect } from '@playwright/test';
