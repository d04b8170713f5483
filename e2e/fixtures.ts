import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

/**
 * How the runtime runs the ops API and the console (a project option, playwright.config.ts):
 * - `lambda`, as deployed and as `npm start` runs it: the console is the template's console asset served as CloudFront
 *   serves it, under its response headers policy, and every call it makes goes through the template's HTTP API (CORS,
 *   the JWT authorizer against the local Cognito issuer, payload format 2.0) to the bundled OpsApiFunction in the local
 *   Lambda runtime. runtime.json's tokens, which the suites sign in with, are access tokens of that issuer.
 * - `in-process`: the ops API's Fastify app in the test process (`configFromRuntimeInfo`, local mode), serving
 *   console/dist. Kept for the specs that count the filter funnel exactly (happy-path, premium): the deployed function
 *   runs in AWS mode, where the funnel's head is AWS's estimate (DynamoDB's ReturnedRecordsCount over a CloudWatch
 *   SEARCH expression, pipeline's STREAM_ESTIMATE), not the local pipes' exact counts those specs assert; and the local
 *   CloudWatch does not serve SEARCH yet, so that funnel answers 500 through the front.
 */
export type OpsApiPath = 'lambda' | 'in-process';

export interface WorkerOptions {
  opsApiPath: OpsApiPath;
}

interface WorkerFixtures extends WorkerOptions {
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

/**
 * The console under test is the one the stack bundled (stack/cdk.out), not console/dist: a console rebuilt without
 * the stack would be tested as it was. Its index.html names every hashed asset, so equal files mean the same build.
 */
async function consoleIsCurrent(runtime: LocalRuntime): Promise<void> {
  const served = await (await fetch(new URL('/index.html', runtime.info.console))).text();
  if (served !== readFileSync(join(CONSOLE_DIST, 'index.html'), 'utf8'))
    throw new Error(
      'the console in stack/cdk.out is not the build in console/dist: run `npm run build -w stack` (after `npm run build -w console`)',
    );
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  opsApiPath: ['lambda', { scope: 'worker', option: true }],
  runtime: [
    async ({ opsApiPath }, use) => {
      const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-e2e-'));
      const runtime = await startLocalRuntime({
        traffic: 'off',
        ...(opsApiPath === 'lambda'
          ? { opsApi: 'lambda' as const }
          : { opsApi: { buildApp, configFromRuntimeInfo }, consoleDir: CONSOLE_DIST }),
        stateDir,
        // Alarms and queue depths every second and retries 100 ms apart: the on-call and DLQ scenarios take
        // seconds, not minutes. Evaluation itself is the stack's alarm definitions, unchanged.
        observeIntervalMs: 1000,
        pipeTiming: { retryBaseDelayMs: 100 },
      });
      try {
        if (opsApiPath === 'lambda') await consoleIsCurrent(runtime);
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
