import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RUNTIME_INFO_FILE } from '@orderflow/pipeline/facts';
import { runtimeInfoSchema } from '@orderflow/pipeline/schemas';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The dev server proxies the API and the runtime config to the ops API: `ORDERFLOW_OPS_API` when set, otherwise the
 * `opsApi` the local runtime wrote to `.orderflow/runtime.json` at the repository root.
 */
function opsApiTarget(): string | undefined {
  if (process.env.ORDERFLOW_OPS_API) return process.env.ORDERFLOW_OPS_API;
  try {
    const text = readFileSync(resolve(import.meta.dirname, '..', RUNTIME_INFO_FILE), 'utf8');
    return runtimeInfoSchema.parse(JSON.parse(text)).opsApi;
  } catch {
    // No local runtime running yet: the dev server still starts, and the console shows the config error.
    return undefined;
  }
}

const target = opsApiTarget();

export default defineConfig({
  plugins: [react()],
  // Served at `/` by the ops API with an SPA fallback, so absolute asset paths keep deep links working.
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: target
    ? { proxy: { '/api': { target, changeOrigin: true }, '/config.json': { target, changeOrigin: true } } }
    : {},
});
