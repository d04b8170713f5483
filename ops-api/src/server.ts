import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RUNTIME_INFO_FILE } from '@orderflow/pipeline/facts';
import { runtimeInfoSchema } from '@orderflow/pipeline/schemas';
import { buildApp } from './app.ts';
import { ConfigError, configFromRuntimeInfo, loadConfig, type OpsApiConfig } from './config.ts';

/**
 * Listens and closes gracefully; nothing else. Configuration: the local runtime's file (ORDERFLOW_RUNTIME_FILE, or
 * `.orderflow/runtime.json` when it exists), otherwise AWS mode from the environment (see `loadConfig`).
 */
function configFromEnvironment(env: NodeJS.ProcessEnv): OpsApiConfig {
  const file = env.ORDERFLOW_RUNTIME_FILE ?? resolve(process.cwd(), RUNTIME_INFO_FILE);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error: unknown) {
    if (env.ORDERFLOW_RUNTIME_FILE)
      throw new ConfigError([`cannot read ORDERFLOW_RUNTIME_FILE ${file}: ${(error as Error).message}`]);
  }
  if (text === undefined) return loadConfig(env);
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (error: unknown) {
    throw new ConfigError([`${file} is not JSON: ${(error as Error).message}`]);
  }
  return configFromRuntimeInfo(runtimeInfoSchema.parse(info), {
    ...(env.ORDERFLOW_CONSOLE_DIR ? { consoleDir: env.ORDERFLOW_CONSOLE_DIR } : {}),
  });
}

async function main(): Promise<void> {
  let config: OpsApiConfig;
  try {
    config = configFromEnvironment(process.env);
  } catch (error: unknown) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  }
  const app = await buildApp(config, { server: { logger: { level: process.env.LOG_LEVEL ?? 'info' } } });
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  await app.listen({ port, host });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.log.info({ signal }, 'closing');
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

await main();
