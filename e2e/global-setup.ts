import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ON_CALL_EMAIL } from '@orderflow/local';
import { ARTIFACTS_DIR, CONSOLE_DIST, REPO_ROOT, TEMPLATE_FILE } from './support/paths.ts';

/** Whether a synthesized template subscribes an email address (`email` or `email-json`) to a topic. */
function subscribesEmail(templateFile: string): boolean {
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as {
    Resources?: Record<string, { Type?: string; Properties?: { Protocol?: unknown } }>;
  };
  return Object.values(template.Resources ?? {}).some(
    (resource) =>
      resource.Type === 'AWS::SNS::Subscription' &&
      (resource.Properties?.Protocol === 'email' || resource.Properties?.Protocol === 'email-json'),
  );
}

/**
 * The suites run what `npm start` runs: the synthesized template (with the bundled handlers) and the built console.
 * `npm test` builds both before this (turbo's `build` tasks); a bare `npx playwright test` builds what is missing.
 *
 * Like `npm start`, the template subscribes the on-call address to the alarm topic (`-c alarmEmail=`, default
 * `DEFAULT_ON_CALL_EMAIL`), so the on-call scenario can read the alarm notifications from the outbox. `npm run build
 * -w stack` synthesizes without one (a deploy subscribes whom it is told), so a template without an email
 * subscription is synthesized again here, as `npm start` would: stack/cdk.out then holds what `npm start` writes. One
 * AWS::SNS::Subscription more changes nothing else a spec sees.
 */
export default function globalSetup(): void {
  // The console first: the stack uploads console/dist and refuses to synthesize without it.
  if (!existsSync(join(CONSOLE_DIST, 'index.html'))) {
    console.log(`e2e: ${CONSOLE_DIST} is missing, running npm run build -w console`);
    execFileSync('npm', ['run', 'build', '-w', 'console'], { cwd: REPO_ROOT, stdio: 'inherit' });
  }
  if (!existsSync(TEMPLATE_FILE) || !subscribesEmail(TEMPLATE_FILE)) {
    console.log(
      `e2e: ${TEMPLATE_FILE} is missing or subscribes no email address, synthesizing it as npm start does (alarms to ${DEFAULT_ON_CALL_EMAIL})`,
    );
    execFileSync('npm', ['run', 'build', '-w', 'stack', '--', '-c', `alarmEmail=${DEFAULT_ON_CALL_EMAIL}`], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
}
