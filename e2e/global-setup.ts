import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS_DIR, CONSOLE_DIST, REPO_ROOT, TEMPLATE_FILE } from './support/paths.ts';

/**
 * The suites run what `npm start` runs: the synthesized template (with the bundled handlers) and the built console.
 * `npm test` builds both before this (turbo's `build` tasks); a bare `npx playwright test` builds what is missing.
 */
export default function globalSetup(): void {
  // The console first: the stack uploads console/dist and refuses to synthesize without it.
  const builds: [string, string][] = [
    [join(CONSOLE_DIST, 'index.html'), 'console'],
    [TEMPLATE_FILE, 'stack'],
  ];
  for (const [output, workspace] of builds) {
    if (existsSync(output)) continue;
    console.log(`e2e: ${output} is missing, running npm run build -w ${workspace}`);
    execFileSync('npm', ['run', 'build', '-w', workspace], { cwd: REPO_ROOT, stdio: 'inherit' });
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
}
