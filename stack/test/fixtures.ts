import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A minimal built console (what `npm run build -w console` leaves in console/dist), so the stack tests do not depend
 * on the console's build having run; the real build is uploaded the same way.
 */
export function fakeConsoleBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Orderflow</title><div id="root"></div>');
  writeFileSync(join(dir, 'assets', 'index.js'), 'console.log("orderflow");');
  return dir;
}
