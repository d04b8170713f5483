/**
 * Prints the gzip size of the console's initial JavaScript (the entry script and everything it preloads, not the
 * lazily loaded views) as one JSON object, and fails the build above the budget (issue 7: 250 KB gzip).
 * Usage: `npm run build -w console` (runs after `vite build`), or `tsx scripts/report-bundle-size.ts [distDir]`.
 */
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

export const INITIAL_JS_BUDGET_BYTES = 250 * 1024;

export function initialScripts(indexHtml: string): string[] {
  const sources = new Set<string>();
  for (const match of indexHtml.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)) sources.add(match[1] ?? '');
  for (const match of indexHtml.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g))
    sources.add(match[1] ?? '');
  sources.delete('');
  return [...sources];
}

const distDir = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'dist'));
const html = readFileSync(join(distDir, 'index.html'), 'utf8');
const files = initialScripts(html).map((src) => {
  const path = join(distDir, src.replace(/^\.?\//, ''));
  const content = readFileSync(path);
  return { file: src, bytes: statSync(path).size, gzipBytes: gzipSync(content, { level: 9 }).length };
});
if (files.length === 0) {
  console.error(`no module script found in ${join(distDir, 'index.html')}`);
  process.exit(1);
}
const initialJsGzipBytes = files.reduce((sum, file) => sum + file.gzipBytes, 0);
const withinBudget = initialJsGzipBytes <= INITIAL_JS_BUDGET_BYTES;
console.log(
  JSON.stringify({
    metric: 'console initial JavaScript, gzip',
    initialJsGzipBytes,
    initialJsGzipKiB: Math.round((initialJsGzipBytes / 1024) * 10) / 10,
    budgetBytes: INITIAL_JS_BUDGET_BYTES,
    withinBudget,
    files,
    machine: { node: process.version, cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown' },
    reproduce: 'npm run build -w console',
  }),
);
if (!withinBudget) {
  console.error(`initial JavaScript is ${initialJsGzipBytes} bytes gzip, over the ${INITIAL_JS_BUDGET_BYTES} budget`);
  process.exit(1);
}
