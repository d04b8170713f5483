import { defineConfig } from '@playwright/test';
import type { WorkerOptions } from './fixtures.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.ts';

/**
 * Specs that assert the filter funnel's exact counts, which only the in-process ops API (local mode) reports; the ops
 * API as deployed reports AWS's estimate of the funnel's head (fixtures.ts, `OpsApiPath`).
 */
const EXACT_FUNNEL_SPECS = ['**/happy-path.spec.ts', '**/premium.spec.ts'];

/**
 * One worker: each worker starts a whole local runtime (DynamoDB Local, SQS, pipes, processors, ops API), and two
 * cores are shared with the rest of the test run. Tests stay independent (unique orders, own cleanup).
 */
export default defineConfig<object, WorkerOptions>({
  testDir: 'tests',
  globalSetup: './global-setup.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  outputDir: 'test-results',
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    viewport: { width: 1366, height: 900 },
    // The console formats counts with the browser's locale; the assertions spell them the en-US way.
    locale: 'en-US',
  },
  projects: [
    // What `npm start` runs: the console and the ops API as deployed (the template's HTTP API and Lambda function).
    { name: 'as-deployed', testIgnore: EXACT_FUNNEL_SPECS, use: { opsApiPath: 'lambda' } },
    { name: 'in-process', testMatch: EXACT_FUNNEL_SPECS, use: { opsApiPath: 'in-process' } },
  ],
});
